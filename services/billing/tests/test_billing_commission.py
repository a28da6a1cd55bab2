"""Commission rules: the share, the period after sign-up, pending until the fee is paid."""

import pytest
from billing_samples import memory_repository, register_merchant, register_promoter

from billing import domain, operations
from tests.sample_events import stock_received

CARD = domain.RateCard()
SIGN_UP = "2026-01-31T10:00:00.000Z"


@pytest.fixture
def repo():
    repo = memory_repository()
    register_promoter(repo)
    register_merchant(repo, promoter_id="pro_1", at=SIGN_UP, name="Siti")
    return repo


def receipt(receipt_id, units, when):
    event = stock_received(units=units, receipt_id=receipt_id, damaged=0)
    return dict(event, occurred_at=when)


def topup(repo, amount, reference):
    operations.record_topup(repo, "mer_1", {"amount": amount, "reference": reference})


def test_commission_is_the_configured_share_rounded_down():
    assert domain.commission(CARD, 4500) == 450
    assert domain.commission(domain.RateCard(commission_bps=333), 1000) == 33


def test_period_ends_after_the_configured_months_clamped_to_the_month():
    assert domain.commission_until(SIGN_UP, 12) == "2027-01-31T10:00:00.000Z"
    assert domain.commission_until(SIGN_UP, 1) == "2026-02-28T10:00:00.000Z"
    assert domain.commission_until("2027-11-30T00:00:00.000Z", 3) == "2028-02-29T00:00:00.000Z"


def test_fees_after_the_period_earn_nothing(repo):
    operations.charge_inbound(repo, CARD, receipt("rcp_1", 10, "2027-01-31T09:59:59.999Z"))
    operations.charge_inbound(repo, CARD, receipt("rcp_2", 10, "2027-01-31T10:00:00.000Z"))
    assert repo.get_posting("inbound:rcp_1:commission") is not None
    assert repo.get_posting("inbound:rcp_2") is not None  # the fee is still charged
    assert repo.get_posting("inbound:rcp_2:commission") is None
    assert operations.promoter_earnings(repo, "pro_1")["total"] == 500


def test_period_is_fixed_at_sign_up():
    merchant = {"promoter_id": "pro_1", "registered_at": SIGN_UP}
    assert domain.earns_commission(merchant, "2027-01-31T09:00:00.000Z")
    short = dict(merchant, commission_until=domain.commission_until(SIGN_UP, 3))
    assert not domain.earns_commission(short, "2026-05-01T00:00:00.000Z")
    assert not domain.earns_commission(dict(merchant, promoter_id=None), SIGN_UP)


def test_oldest_charges_are_paid_first():
    entries = [("a", -300), ("t1", 500), ("b", -300), ("c", -100)]
    assert domain.paid_charges(entries) == {"a"}
    assert domain.paid_charges(entries + [("t2", 200)]) == {"a", "b", "c"}
    assert domain.paid_charges([("a", -1)]) == set()


def test_commission_pending_until_the_fee_is_paid_then_available(repo):
    operations.charge_inbound(repo, CARD, receipt("rcp_1", 10, "2026-02-01T00:00:00.000Z"))
    operations.charge_inbound(repo, CARD, receipt("rcp_2", 20, "2026-02-02T00:00:00.000Z"))
    earnings = operations.promoter_earnings(repo, "pro_1")
    assert (earnings["total"], earnings["pending"], earnings["available"]) == (1500, 1500, 0)
    topup(repo, 5000, "BCA-1")  # pays rcp_1 (5000), not rcp_2 (10000) too
    earnings = operations.promoter_earnings(repo, "pro_1")
    assert (earnings["pending"], earnings["available"]) == (1000, 500)
    status = {e["fee_posting_id"]: e["status"] for e in earnings["entries"]}
    assert status == {"inbound:rcp_1": "available", "inbound:rcp_2": "pending"}
    assert {e["fee_type"] for e in earnings["entries"]} == {"inbound"}
    topup(repo, 10000, "BCA-2")
    earnings = operations.promoter_earnings(repo, "pro_1")
    assert (earnings["pending"], earnings["available"]) == (0, 1500)
