"""COD money out against an in-memory store: settlement, the bank account, withdrawals."""

from datetime import UTC, datetime, timedelta

import pytest
from billing_samples import memory_repository, register_merchant

from billing import domain, money_out, operations, withdrawals
from billing.schemas import BankAccountSchema
from gudang_common.clock import iso
from gudang_common.errors import Conflict, NotFound, Unprocessable, ValidationFailed, load
from tests.sample_events import outcome_corrected, parcel_delivered

CARD = domain.RateCard(cod_fee_bps=0)  # no COD fee: the sums below stay round
NOW = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)
MINIMUM = 50_000
DAYS = 3


@pytest.fixture
def repo():
    repo = memory_repository()
    register_merchant(repo)
    return repo


def deliver(repo, order_id, cod, days_ago):
    event = parcel_delivered(order_id=order_id, cod=cod)
    operations.settle_cod(repo, CARD, dict(event, occurred_at=iso(NOW - timedelta(days=days_ago))))


def with_bank(repo):
    data = {"bank": "BCA", "account_number": "1234567890", "account_name": "Siti Aminah"}
    withdrawals.set_bank_account(repo, "mer_1", data, NOW)


def ask(repo, amount):
    return withdrawals.request_withdrawal(repo, "mer_1", amount, MINIMUM, DAYS, NOW)


def available(repo):
    return withdrawals.availability(repo, "mer_1", DAYS, NOW)


def trial_total(repo):
    return operations.trial_balance(repo)["total"]


# --- availability ---------------------------------------------------------------------


def test_cod_becomes_available_after_the_settlement_period(repo):
    deliver(repo, "ord_old", 200_000, days_ago=4)
    deliver(repo, "ord_new", 150_000, days_ago=1)
    assert available(repo) == {
        "balance": 350_000,
        "cod_pending": 150_000,
        "withdrawals_pending": 0,
        "available": 200_000,
        "cod_settlement_days": DAYS,
    }
    later = withdrawals.availability(repo, "mer_1", DAYS, NOW + timedelta(days=2, hours=1))
    assert later["cod_pending"] == 0 and later["available"] == 350_000


def test_the_refusals_name_their_rule():
    assert domain.withdrawal_refusal(49_999, 100_000, MINIMUM)[0] == "minimum"
    assert domain.withdrawal_refusal(100_001, 100_000, MINIMUM)[0] == "available"
    assert domain.withdrawal_refusal(100_000, 100_000, MINIMUM) is None


def test_available_is_never_below_zero():
    assert domain.available_to_withdraw(-5_000, 0) == 0
    assert domain.available_to_withdraw(100_000, 150_000) == 0
    assert domain.available_to_withdraw(100_000, -20_000) == 100_000


def test_a_cod_reversed_inside_the_period_is_not_pending(repo):
    deliver(repo, "ord_1", 150_000, days_ago=1)
    correction = outcome_corrected(1, "returned", cod=150_000, decided_at=iso(NOW))
    operations.correct_cod(repo, CARD, dict(correction, occurred_at=iso(NOW)))
    assert available(repo)["cod_pending"] == 0
    assert available(repo)["balance"] == 0


# --- the bank account -------------------------------------------------------------------


def test_the_bank_account_is_shown_masked(repo):
    with_bank(repo)
    shown = withdrawals.get_bank_account(repo, "mer_1")["bank_account"]
    assert shown["bank"] == "BCA" and shown["account_number"] == "******7890"
    assert withdrawals.get_bank_account(repo, "mer_2") == {"bank_account": None}


@pytest.mark.parametrize(
    "field,value",
    [
        ("bank", "BANK-X"),
        ("account_number", "12345"),
        ("account_number", "1" * 21),
        ("account_number", "12345a789"),
        ("account_name", "S"),
        ("account_name", "S" * 101),
    ],
)
def test_a_bad_bank_account_names_its_field(field, value):
    data = {"bank": "BNI", "account_number": "0012345678", "account_name": "Agus"}
    with pytest.raises(ValidationFailed) as err:
        load(BankAccountSchema(), dict(data, **{field: value}))
    assert field in err.value.fields


# --- requesting -------------------------------------------------------------------------


def test_a_withdrawal_reserves_the_money_at_once(repo):
    deliver(repo, "ord_1", 200_000, days_ago=5)
    with_bank(repo)
    made = ask(repo, 120_000)
    assert made["status"] == "requested" and made["amount"] == 120_000
    assert made["bank_account"]["account_number"] == "******7890"
    view = available(repo)
    assert (view["balance"], view["withdrawals_pending"], view["available"]) == (
        80_000,
        120_000,
        80_000,
    )
    assert trial_total(repo) == 0


def test_the_minimum_is_refused_with_422(repo):
    deliver(repo, "ord_1", 200_000, days_ago=5)
    with_bank(repo)
    with pytest.raises(Unprocessable) as err:
        ask(repo, MINIMUM - 1)
    assert "amount" in err.value.fields
    assert ask(repo, MINIMUM)["amount"] == MINIMUM


def test_more_than_available_is_refused_with_409(repo):
    deliver(repo, "ord_1", 100_000, days_ago=5)
    deliver(repo, "ord_2", 100_000, days_ago=1)  # not settled yet
    with_bank(repo)
    with pytest.raises(Conflict) as err:
        ask(repo, 100_001)
    assert "amount" in err.value.fields
    assert available(repo)["withdrawals_pending"] == 0


def test_no_bank_account_is_refused(repo):
    deliver(repo, "ord_1", 100_000, days_ago=5)
    with pytest.raises(Conflict) as err:
        ask(repo, 60_000)
    assert "bank_account" in err.value.fields


def test_two_concurrent_withdrawals_for_the_same_money_one_wins(repo, monkeypatch):
    """The second request runs entirely between the first's reading of the ledger and its
    claim: both saw 100,000 available; only one 70,000 may leave."""
    deliver(repo, "ord_1", 100_000, days_ago=5)
    with_bank(repo)
    claim = repo.claim_request_guard
    rivals = []

    def claim_after_a_rival(guards, merchant_id, version, holder):
        if not rivals:
            rivals.append(holder["_id"])
            ask(repo, 70_000)  # the rival, served first
        return claim(guards, merchant_id, version, holder)

    monkeypatch.setattr(repo, "claim_request_guard", claim_after_a_rival)
    with pytest.raises(Conflict) as err:
        ask(repo, 70_000)
    assert "amount" in err.value.fields
    assert [w["amount"] for w in withdrawals.list_withdrawals(repo, "mer_1")["withdrawals"]] == [
        70_000
    ]
    assert available(repo)["available"] == 30_000


def test_a_claim_whose_posting_was_lost_is_posted_by_the_next_request(repo, monkeypatch):
    """A crash between claiming the guard and posting: the next request posts it first."""
    deliver(repo, "ord_1", 100_000, days_ago=5)
    with_bank(repo)
    reserve = money_out._reserve
    crashed = []

    def crash_once(repo_, flow, holder):
        if holder is not None and not crashed:
            crashed.append(holder["_id"])
            raise RuntimeError("process died")
        return reserve(repo_, flow, holder)

    monkeypatch.setattr(money_out, "_reserve", crash_once)
    with pytest.raises(RuntimeError):
        ask(repo, 70_000)
    with pytest.raises(Conflict):
        ask(repo, 70_000)  # heals the first, then finds only 30,000 left
    assert repo.get_request("withdrawals", crashed[0])["status"] == "requested"
    assert available(repo)["available"] == 30_000
    assert trial_total(repo) == 0


# --- finance's steps ----------------------------------------------------------------------


def requested(repo, amount=80_000):
    deliver(repo, "ord_1", 200_000, days_ago=5)
    with_bank(repo)
    return ask(repo, amount)["id"]


def step(repo, wid, name, **data):
    return withdrawals.take_step(repo, wid, name, data, "fin_1", NOW)


def wallet_postings(repo):
    return sorted(p["_id"] for p in repo.db.postings.find({"ref": {"$regex": "^wdr_"}}))


def test_approve_then_pay_each_once(repo):
    wid = requested(repo)
    approved = step(repo, wid, "approve")
    assert approved["status"] == "approved" and approved["approved_by"] == "fin_1"
    assert step(repo, wid, "approve") == approved
    paid = step(repo, wid, "pay", transfer_reference="BCA-TRF-1")
    assert paid["status"] == "paid" and paid["transfer_reference"] == "BCA-TRF-1"
    assert step(repo, wid, "pay", transfer_reference="BCA-TRF-1") == paid
    assert wallet_postings(repo) == [f"withdrawal:{wid}:pay", f"withdrawal:{wid}:request"]
    view = available(repo)
    assert (view["balance"], view["withdrawals_pending"]) == (120_000, 0)
    accounts = operations.trial_balance(repo)["accounts"]
    assert accounts[domain.BANK_CLEARING] == 80_000
    assert trial_total(repo) == 0


def test_paying_again_under_another_reference_is_refused(repo):
    wid = requested(repo)
    step(repo, wid, "approve")
    step(repo, wid, "pay", transfer_reference="BCA-TRF-1")
    with pytest.raises(Conflict) as err:
        step(repo, wid, "pay", transfer_reference="BCA-TRF-2")
    assert "transfer_reference" in err.value.fields


@pytest.mark.parametrize("approve_first", [False, True])
def test_reject_returns_the_money_once(repo, approve_first):
    wid = requested(repo)
    if approve_first:
        step(repo, wid, "approve")
    rejected = step(repo, wid, "reject", reason="Name does not match the account")
    assert rejected["status"] == "rejected" and rejected["reason"].startswith("Name")
    step(repo, wid, "reject", reason="Name does not match the account")
    view = available(repo)
    assert (view["balance"], view["withdrawals_pending"], view["available"]) == (
        200_000,
        0,
        200_000,
    )
    assert f"withdrawal:{wid}:reject" in wallet_postings(repo)
    assert trial_total(repo) == 0


@pytest.mark.parametrize(
    "before,refused",
    [
        ([], "pay"),
        ([("reject", {"reason": "x"})], "approve"),
        ([("reject", {"reason": "x"})], "pay"),
        ([("approve", {}), ("pay", {"transfer_reference": "T1"})], "reject"),
        ([("approve", {}), ("pay", {"transfer_reference": "T1"})], "approve"),
    ],
)
def test_the_state_machine_refuses_with_409(repo, before, refused):
    wid = requested(repo)
    for name, data in before:
        step(repo, wid, name, **data)
    postings = wallet_postings(repo)
    data = {"approve": {}, "pay": {"transfer_reference": "T9"}, "reject": {"reason": "late"}}
    with pytest.raises(Conflict) as err:
        step(repo, wid, refused, **data[refused])
    assert "status" in err.value.fields
    assert wallet_postings(repo) == postings


def test_an_unknown_withdrawal_is_not_found(repo):
    with pytest.raises(NotFound):
        step(repo, "wdr_nope", "approve")


def test_lists_by_merchant_and_by_status(repo):
    wid = requested(repo)
    other = ask(repo, 60_000)["id"]
    step(repo, wid, "approve")
    mine = withdrawals.list_withdrawals(repo, "mer_1")["withdrawals"]
    assert {w["id"] for w in mine} == {other, wid}  # both asked at NOW: no order between them
    approved = withdrawals.list_withdrawals(repo, status="approved")["withdrawals"]
    assert [w["id"] for w in approved] == [wid]
    assert withdrawals.list_withdrawals(repo, "mer_2")["withdrawals"] == []
    with pytest.raises(ValidationFailed):
        withdrawals.list_withdrawals(repo, status="lost")


def test_withdrawal_postings_stay_out_of_the_invoice(repo):
    from billing import invoices

    wid = requested(repo)
    step(repo, wid, "reject", reason="x")
    rows = repo.wallet_sums("mer_1", domain.wallet_account("mer_1"), "2026-11-20")
    summary = invoices.summarize(rows)
    assert summary["cod_collected"]["count"] == 0 and summary["fee_subtotal"] == 0
