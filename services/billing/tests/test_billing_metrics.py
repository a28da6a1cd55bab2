"""The money ops watch in Prometheus: fees posted, holds, COD awaiting settlement, and the
withdrawals and payouts not paid yet."""

from datetime import timedelta

from test_billing_ledger import order_packed, parcel_delivered, repo, world  # noqa: F401

from billing import domain, operations, payouts, withdrawals
from billing.store import BillingRepository
from gudang_common.clock import iso, utcnow

CARD = domain.RateCard()
BANK = {"bank": "BCA", "account_number": "1234567890", "account_name": "Siti"}


def gauges(ledger):
    found = {}
    for name, _, _, fn in BillingRepository.gauges(ledger.db, {}):
        for labels, value in fn():
            found[(name, *labels)] = value
    return found


def delivered(ledger, order_id, cod, days_ago):
    event = parcel_delivered("mer_1", order_id, cod)
    when = iso(utcnow() - timedelta(days=days_ago))
    operations.settle_cod(ledger, CARD, dict(event, occurred_at=when))


def test_fees_are_counted_once_per_cause(world):  # noqa: F811
    counted = []
    world.on_fee_posted = lambda fee_type, rupiah: counted.append((fee_type, rupiah))
    operations.charge_pick_pack(world, CARD, order_packed(qty=3))
    operations.charge_pick_pack(world, CARD, order_packed(qty=3))  # redelivered
    assert counted == [("pick_pack", 4000)]  # not its commission, not the repeat


def test_the_money_gauges(world):  # noqa: F811
    assert gauges(world)[("gudang_billing_merchants_on_hold",)] == 0
    operations.charge_pick_pack(world, CARD, order_packed("mer_2", "ord_9"))
    operations.review_hold(world, "mer_2")
    delivered(world, "ord_1", 200_000, days_ago=5)  # settled by now
    delivered(world, "ord_2", 150_000, days_ago=1)
    withdrawals.set_bank_account(world, "mer_1", BANK)
    withdrawals.request_withdrawal(world, "mer_1", 60_000, 50_000, 3)
    operations.record_topup(world, "mer_1", {"amount": 2_000_000, "reference": "BCA-1"})
    operations.charge_inbound(
        world, CARD, {**order_packed(), "receipt_id": "rcp_1", "units_good": 2000}
    )
    payouts.set_bank_account(world, "pro_1", BANK)
    payouts.request_payout(world, "pro_1", 60_000, 50_000)
    found = gauges(world)
    assert found[("gudang_billing_merchants_on_hold",)] == 1
    assert found[("gudang_billing_cod_awaiting_settlement_rupiah",)] == 150_000
    assert found[("gudang_billing_withdrawals_pending", "requested")] == 1
    assert found[("gudang_billing_withdrawals_pending_rupiah", "requested")] == 60_000
    assert found[("gudang_billing_withdrawals_pending", "approved")] == 0
    assert found[("gudang_billing_payouts_pending_rupiah", "requested")] == 60_000
    assert found[("gudang_billing_payouts_pending", "approved")] == 0
