"""End to end: a promoter's commission on a referred merchant's fees, pending until the
merchant pays, then paid out through finance, and kept apart from the merchant's views."""

import json

import pytest

from scripts.simulate import eventually, register_world
from tests.conftest import ADMIN_KEY

pytestmark = pytest.mark.e2e

UNITS = 1200  # inbound at Rp 500 a unit: a fee of 600,000, a commission of 60,000
BANK = {"bank": "BRI", "account_number": "0021019876543", "account_name": "Rina Wati"}


def earnings(api, world):
    return api.ok("GET", "/promoters/me/earnings", world.promoter["api_key"])


@pytest.fixture(scope="module")
def world(api):
    world = register_world(api, ADMIN_KEY, skus=1, units=UNITS)
    eventually(lambda: earnings(api, world)["total"] == 60_000, what="commission")
    return world


def test_commission_is_pending_until_the_merchant_pays_then_paid_out(api, world):
    promoter = world.promoter["api_key"]
    before = earnings(api, world)
    assert (before["pending"], before["available"]) == (60_000, 0)
    [entry] = before["entries"]
    assert entry["fee_type"] == "inbound" and entry["fee_posting_id"].startswith("inbound:")
    assert entry["status"] == "pending"
    merchant_id = world.merchant["merchant_id"]
    topup = {"amount": 600_000, "reference": "BCA-E2E-1"}
    api.ok("POST", f"/merchants/{merchant_id}/topups", ADMIN_KEY, topup)
    eventually(lambda: earnings(api, world)["available"] == 60_000, what="available")

    status, body = api.request("POST", "/payouts", promoter, {"amount": 50_000})
    assert status == 409 and "bank_account" in body["error"]["fields"]
    api.ok("PUT", "/promoters/me/bank-account", promoter, BANK)
    status, body = api.request("POST", "/payouts", promoter, {"amount": 49_999})
    assert status == 422 and "amount" in body["error"]["fields"]
    made = api.ok("POST", "/payouts", promoter, {"amount": 50_000})
    assert made["status"] == "requested"
    assert earnings(api, world)["available"] == 10_000

    finance = api.ok("POST", "/staff", ADMIN_KEY, {"name": "Budi", "role": "finance"})["api_key"]
    waiting = api.ok("GET", "/admin/payouts?status=requested", finance)["payouts"]
    assert made["id"] in [p["id"] for p in waiting]
    path = f"/admin/payouts/{made['id']}"
    for key in (world.staff["api_key"], world.merchant["api_key"], promoter):
        status, _ = api.request("POST", f"{path}/approve", key)
        assert status == 403
    assert api.ok("POST", f"{path}/approve", finance)["status"] == "approved"
    paid = api.ok("POST", f"{path}/paid", finance, {"transfer_reference": "BRI-TRF-9"})
    assert paid["status"] == "paid" and paid["transfer_reference"] == "BRI-TRF-9"
    mine = api.ok("GET", "/payouts", promoter)["payouts"]
    assert [(p["id"], p["status"]) for p in mine] == [(made["id"], "paid")]
    assert earnings(api, world)["available"] == 10_000


def test_a_merchant_sees_no_commission(api, world):
    merchant = world.merchant["api_key"]
    for path in ("/wallet?limit=500", "/merchants/me", "/invoices", "/withdrawals"):
        text = json.dumps(api.ok("GET", path, merchant)).lower()
        assert "commission" not in text and "payout" not in text, path
    for path in ("/promoters/me/earnings", "/payouts", "/admin/payouts"):
        status, _ = api.request("GET", path, merchant)
        assert status == 403, path


def test_a_self_referral_signs_up_unreferred(api, world):
    promoter = api.ok("GET", "/promoters/me/earnings", world.promoter["api_key"])
    body = {
        "name": "Toko Rina",
        "email": "rina.own.shop@example.id",
        "phone": "081234567890",  # the promoter's own number, written locally
        "referral_code": promoter["referral_code"],
    }
    signed_up = api.ok("POST", "/merchants", body=body)
    assert signed_up["promoter_id"] is None
    assert signed_up["referral_refused"] == "self_referral"
