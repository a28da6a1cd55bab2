"""The credit limit: a merchant is held when fees take its wallet below the limit's floor
and released when money brings it back, each crossing announced once."""

from datetime import UTC, datetime

import pytest
from billing_samples import memory_repository, register_merchant

from billing import domain, operations
from gudang_common.events import new_event, validate_event
from gudang_common.store import OUTBOX

CARD = domain.RateCard()


@pytest.fixture
def repo():
    repo = memory_repository()
    register_merchant(repo)
    return repo


def order_packed(order_id):
    return new_event(
        "order_packed",
        merchant_id="mer_1",
        order_id=order_id,
        packer_id="stf_1",
        package={"weight_g": 900, "length_cm": 20, "width_cm": 15, "height_cm": 10},
        lines=[{"sku": "KAOS-M", "qty": 1, "bin": "A-01-01-1-01", "pick_sequence": 1}],
    )


def pack(repo, order_id):
    """The billing handler's steps for order_packed: the fee, then the hold's review."""
    operations.charge_pick_pack(repo, CARD, order_packed(order_id))
    return operations.review_hold(repo, "mer_1")


def topup(repo, amount, reference):
    operations.record_topup(repo, "mer_1", {"amount": amount, "reference": reference})
    return operations.review_hold(repo, "mer_1")


def announced(repo):
    """The hold events waiting in the outbox, in the order they were written."""
    doc = repo.db.holds.find_one({"_id": "mer_1"}) or {}
    return [(e["type"], e["body"]) for e in doc.get(OUTBOX, [])]


def test_hold_change_rule():
    assert domain.hold_change(False, -1, 0) == "hold"
    assert domain.hold_change(False, 0, 0) is None
    assert domain.hold_change(True, 0, 0) == "release"
    assert domain.hold_change(True, -1, 0) is None
    assert domain.hold_change(False, -50000, 50000) is None
    assert domain.hold_change(False, -50001, 50000) == "hold"
    assert domain.hold_change(True, -50000, 50000) == "release"


def test_a_fee_below_the_limit_holds_the_merchant_once(repo):
    assert pack(repo, "ord_1")["on_hold"] is True  # Rp 3,000 below a limit of 0
    assert pack(repo, "ord_2")["on_hold"] is True
    pack(repo, "ord_1")  # a redelivered order_packed
    events = announced(repo)
    assert [t for t, _ in events] == ["merchant_on_hold"]
    body = events[0][1]
    validate_event("merchant_on_hold", body)
    assert (body["balance"], body["credit_limit"], body["crossing"]) == (-3000, 0, 1)
    wallet = operations.wallet(repo, "mer_1")
    assert (wallet["balance"], wallet["on_hold"], wallet["credit_limit"]) == (-6000, True, 0)


def test_a_topup_back_to_the_limit_releases_once(repo):
    pack(repo, "ord_1")
    pack(repo, "ord_2")
    assert topup(repo, 5000, "BCA-1")["on_hold"] is True  # -1,000: still below
    assert topup(repo, 1000, "BCA-2")["on_hold"] is False  # exactly at the limit
    topup(repo, 1000, "BCA-2")  # the same transfer sent again
    topup(repo, 9000, "BCA-3")
    events = announced(repo)
    assert [t for t, _ in events] == ["merchant_on_hold", "merchant_released"]
    released = events[1][1]
    validate_event("merchant_released", released)
    assert (released["balance"], released["crossing"]) == (0, 2)


def test_a_credit_limit_lets_the_wallet_go_below_zero(repo):
    operations.set_credit_limit(repo, "mer_1", {"credit_limit": 5000}, "stf_fin")
    assert pack(repo, "ord_1")["on_hold"] is False  # -3,000: within the credit
    assert pack(repo, "ord_2")["on_hold"] is True  # -6,000: beyond it
    # ops raising the limit releases the merchant at once
    view = operations.set_credit_limit(repo, "mer_1", {"credit_limit": 6000}, "stf_fin")
    assert (view["on_hold"], view["credit_limit"]) == (False, 6000)
    assert [t for t, _ in announced(repo)] == ["merchant_on_hold", "merchant_released"]


def test_a_stale_reviewer_announces_nothing(repo):
    pack(repo, "ord_1")
    stale = repo.hold_of("mer_1") | {"crossing": 0, "on_hold": False}
    event = new_event(
        "merchant_on_hold", merchant_id="mer_1", balance=-3000, credit_limit=0, crossing=1
    )
    assert repo.cross_hold(stale, True, -3000, "merchant_on_hold", event) is None
    assert len(announced(repo)) == 1


def test_a_limit_set_before_billing_knows_the_merchant_holds_for_its_first_fees(repo):
    operations.set_credit_limit(repo, "mer_new", {"credit_limit": 100_000}, "stf_fin")
    assert repo.hold_of("mer_new")["credit_limit"] == 100_000


def test_an_invoices_ppn_below_the_limit_holds_the_merchant(repo):
    operations.set_credit_limit(repo, "mer_1", {"credit_limit": 3000}, "stf_fin")
    packed = dict(order_packed("ord_1"), occurred_at="2026-10-10T03:00:00.000Z")
    operations.charge_pick_pack(repo, CARD, packed)
    assert operations.review_hold(repo, "mer_1")["on_hold"] is False  # exactly at the floor
    now = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
    operations.issue_invoices(repo, "2026-10", "Gudang", "mer_1", now)  # PPN Rp 330
    assert repo.hold_of("mer_1")["on_hold"] is True
    assert [t for t, _ in announced(repo)] == ["merchant_on_hold"]
