"""Commission money out against an in-memory store: payouts, their guard and their steps."""

import pytest
from billing_samples import memory_repository, register_merchant, register_promoter

from billing import domain, operations, payouts
from gudang_common.errors import Conflict, NotFound, Unprocessable, ValidationFailed
from tests.sample_events import stock_received

CARD = domain.RateCard()
MINIMUM = 50_000
BANK = {"bank": "BNI", "account_number": "0987654321", "account_name": "Budi Santoso"}


@pytest.fixture
def repo():
    """pro_1 referred mer_1, whose 1,000,000 inbound fee earned 100,000, paid by a top-up."""
    repo = memory_repository()
    register_promoter(repo)
    register_merchant(repo, promoter_id="pro_1", at=None, name="Siti")
    operations.charge_inbound(repo, CARD, stock_received(units=2000, damaged=0))
    operations.record_topup(repo, "mer_1", {"amount": 1_000_000, "reference": "BCA-1"})
    payouts.set_bank_account(repo, "pro_1", BANK)
    return repo


def ask(repo, amount):
    return payouts.request_payout(repo, "pro_1", amount, MINIMUM)


def step(repo, pid, name, **data):
    return payouts.take_step(repo, pid, name, data, "fin_1")


def available(repo):
    return payouts.availability(repo, "pro_1")["available"]


def trial_total(repo):
    return operations.trial_balance(repo)["total"]


def test_a_payout_reserves_available_commission_at_once(repo):
    assert available(repo) == 100_000
    payout = ask(repo, 60_000)
    assert payout["status"] == "requested" and payout["promoter_id"] == "pro_1"
    assert payout["bank_account"]["account_number"] == "******4321"
    assert available(repo) == 40_000
    earnings = operations.promoter_earnings(repo, "pro_1")
    assert (earnings["total"], earnings["pending"], earnings["available"]) == (100_000, 0, 40_000)
    assert [e["posting_id"] for e in earnings["entries"]] == ["inbound:rcp_1:commission"]
    assert trial_total(repo) == 0


def test_pending_commission_cannot_be_paid_out(repo):
    unpaid = stock_received(units=2000, receipt_id="rcp_2", damaged=0)
    operations.charge_inbound(repo, CARD, unpaid)
    assert payouts.availability(repo, "pro_1") == {"pending": 100_000, "available": 100_000}
    with pytest.raises(Conflict) as err:
        ask(repo, 100_001)
    assert "amount" in err.value.fields


def test_the_minimum_and_the_bank_account_are_required(repo):
    with pytest.raises(Unprocessable) as err:
        ask(repo, MINIMUM - 1)
    assert "amount" in err.value.fields
    repo.db.promoter_bank_accounts.delete_many({})
    with pytest.raises(Conflict) as err:
        ask(repo, MINIMUM)
    assert "bank_account" in err.value.fields


def test_two_concurrent_payouts_for_the_same_money_one_wins(repo, monkeypatch):
    """The second request runs entirely between the first's reading and its claim."""
    claim = repo.claim_request_guard
    rivals = []

    def claim_after_a_rival(guards, promoter_id, version, holder):
        if not rivals:
            rivals.append(holder["_id"])
            ask(repo, 70_000)
        return claim(guards, promoter_id, version, holder)

    monkeypatch.setattr(repo, "claim_request_guard", claim_after_a_rival)
    with pytest.raises(Conflict) as err:
        ask(repo, 70_000)
    assert "amount" in err.value.fields
    assert [p["amount"] for p in payouts.list_payouts(repo, "pro_1")["payouts"]] == [70_000]
    assert available(repo) == 30_000
    assert trial_total(repo) == 0


def test_approve_then_pay_each_once(repo):
    pid = ask(repo, 80_000)["id"]
    approved = step(repo, pid, "approve")
    assert approved["status"] == "approved" and approved["approved_by"] == "fin_1"
    paid = step(repo, pid, "pay", transfer_reference="BNI-TRF-1")
    assert step(repo, pid, "pay", transfer_reference="BNI-TRF-1") == paid
    assert paid["status"] == "paid" and paid["transfer_reference"] == "BNI-TRF-1"
    with pytest.raises(Conflict) as err:
        step(repo, pid, "pay", transfer_reference="BNI-TRF-2")
    assert "transfer_reference" in err.value.fields
    ids = sorted(p["_id"] for p in repo.db.postings.find({"ref": pid}))
    assert ids == [f"payout:{pid}:pay", f"payout:{pid}:request"]
    accounts = operations.trial_balance(repo)["accounts"]
    assert accounts[domain.PAYOUT_PENDING] == 0
    assert accounts[domain.promoter_account("pro_1")] == 20_000
    assert available(repo) == 20_000
    assert trial_total(repo) == 0


def test_reject_returns_the_money_once(repo):
    pid = ask(repo, 80_000)["id"]
    rejected = step(repo, pid, "reject", reason="Name does not match the account")
    step(repo, pid, "reject", reason="Name does not match the account")
    assert rejected["status"] == "rejected" and rejected["reason"].startswith("Name")
    assert available(repo) == 100_000
    with pytest.raises(Conflict) as err:
        step(repo, pid, "approve")
    assert "status" in err.value.fields
    assert trial_total(repo) == 0


def test_a_paid_payout_cannot_be_rejected_and_unknown_ones_are_not_found(repo):
    pid = ask(repo, 80_000)["id"]
    with pytest.raises(Conflict):
        step(repo, pid, "pay", transfer_reference="T1")  # not approved yet
    step(repo, pid, "approve")
    step(repo, pid, "pay", transfer_reference="T1")
    with pytest.raises(Conflict):
        step(repo, pid, "reject", reason="late")
    with pytest.raises(NotFound):
        step(repo, "pay_nope", "approve")


def test_lists_by_promoter_and_status(repo):
    pid = ask(repo, 60_000)["id"]
    assert payouts.list_payouts(repo, "pro_2")["payouts"] == []
    assert [p["id"] for p in payouts.list_payouts(repo, None, "requested")["payouts"]] == [pid]
    assert payouts.list_payouts(repo, None, "paid")["payouts"] == []
    with pytest.raises(ValidationFailed):
        payouts.list_payouts(repo, None, "lost")
