"""What the promoter page reads: earnings per WIB month, entries of one merchant or month,
and one fee that earned commission, never another promoter's and never the fee's amount."""

import pytest
from test_billing_ledger import order_packed, repo, world  # noqa: F401

from billing import domain, operations
from gudang_common.errors import NotFound, ValidationFailed

CARD = domain.RateCard()


def packed(ledger, order_id, when, merchant_id="mer_1"):
    event = dict(order_packed(merchant_id, order_id, qty=1), occurred_at=when)
    operations.charge_pick_pack(ledger, CARD, event)


def test_per_month_and_filtered_entries(world):  # noqa: F811
    packed(world, "ord_1", "2026-09-30T16:59:00.000Z")  # 23:59 WIB, September
    packed(world, "ord_2", "2026-09-30T17:00:00.000Z")  # 00:00 WIB, October
    packed(world, "ord_3", "2026-10-05T03:00:00.000Z")
    earnings = operations.promoter_earnings(world, "pro_1")
    assert earnings["per_month"] == [
        {"month": "2026-10", "amount": 600},
        {"month": "2026-09", "amount": 300},
    ]
    october = operations.promoter_earnings(world, "pro_1", month="2026-10")["entries"]
    assert [e["ref"] for e in october] == ["ord_3", "ord_2"]
    assert operations.promoter_earnings(world, "pro_1", merchant_id="mer_2")["entries"] == []
    for month in ("2026-13", "10-2026", 202610):
        with pytest.raises(ValidationFailed):
            operations.promoter_earnings(world, "pro_1", month=month)


def test_one_commission_and_its_fee(world):  # noqa: F811
    packed(world, "ord_1", "2026-10-05T03:00:00.000Z")
    seen = operations.promoter_commission(world, "pro_1", "pick_pack:ord_1")
    assert seen["fee_type"] == "pick_pack" and seen["ref"] == "ord_1"
    assert seen["merchant_name"] == "Toko Siti" and seen["amount"] == 300
    assert seen["status"] == "pending" and seen["reversed_at"] is None
    assert seen["rate_card_version"] == 1
    assert "fee" not in seen and 3000 not in seen.values()  # the merchant's fee stays its own
    for promoter_id, fee_id in (("pro_2", "pick_pack:ord_1"), ("pro_1", "pick_pack:ord_9")):
        with pytest.raises(NotFound):
            operations.promoter_commission(world, promoter_id, fee_id)
