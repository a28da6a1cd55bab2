"""A promoter on a phone, through the real processes: signs in, sees what it earned and the
fee behind each commission, asks for a payout; it sees only its own merchants, and a
merchant never reaches the page.

With UPDATE_SCREENSHOTS=1 the phone's screenshots replace docs/screenshots/promoter-*.png."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from scripts.simulate import eventually, register_world
from tests.conftest import ADMIN_KEY

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
PASSWORD = "Kopi-Tubruk-Pagi-2026"
BANK = {"bank": "BCA", "account_number": "1234567890", "account_name": "Rina Wulandari"}


@pytest.fixture(scope="module")
def referred(api):
    """A promoter with a password whose merchant received 1,200 units (a Rp 600,000 fee, so
    Rp 60,000 commission) and paid for it; and another promoter with a merchant of its own."""
    world = register_world(api, ADMIN_KEY, skus=1, units=1200)
    promoter_key = world.promoter["api_key"]
    api.ok("POST", "/promoters/me/password", promoter_key, {"password": PASSWORD})
    api.ok("PUT", "/promoters/me/bank-account", promoter_key, BANK)
    merchant_id = world.merchant["merchant_id"]
    topup = {"amount": 1_000_000, "reference": "BCA-PROMO-1"}
    api.ok("POST", f"/merchants/{merchant_id}/topups", ADMIN_KEY, topup)
    eventually(
        lambda: api.ok("GET", "/promoters/me/earnings", promoter_key)["available"] == 60_000,
        what="the commission available",
    )
    other = register_world(api, ADMIN_KEY, skus=0, units=0)
    return world, other


def name_of(api, account):
    return api.ok("GET", "/merchants/me", account["api_key"])["name"]


def promoter_email(api, world):
    earnings = api.ok("GET", "/promoters/me/earnings", world.promoter["api_key"])
    return earnings["name"].replace("Rina ", "rina.") + "@example.id"


def test_a_promoter_signs_in_on_a_phone_and_asks_for_a_payout(api, referred, tmp_path):
    world, other = referred
    shots = SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path
    base = api.base.rsplit("/api/v1", 1)[0]
    driver = Path(__file__).with_name("promoter_driver.py")
    email = promoter_email(api, world)
    run = subprocess.run(
        [sys.executable, str(driver), base, email, PASSWORD, "50.000", str(shots)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])

    assert "/signin" in report["signed_out"]["url"] and report["signed_out"]["status"] == 200
    assert report["id"]["url"].split("?")[0] == f"{base}/promoter"  # where signing in led
    page = report["id"]["text"]
    code = world.promoter["referral_code"]
    mine = name_of(api, world.merchant)
    for word in ("Bisa dicairkan", "Rp 60.000", "Penerimaan stok", mine):
        assert word in page, word
    assert report["share"] == {"code": code, "link": f"{base}/signup?referral_code={code}"}
    assert name_of(api, other.merchant) not in page  # another promoter's merchant
    assert report["copied"] == {"button": "Tersalin", "clipboard": code}

    fee = report["fee"]["text"]
    assert "/promoter/fees/inbound" in report["fee"]["url"]
    assert "Penerimaan stok" in fee and mine in fee and "Rp 600.000" not in fee
    assert "Rp 60.000" in fee  # the commission, never the merchant's fee

    after = report["after_payout"]["text"]
    assert "Permintaan pencairan terkirim." in after and "Diminta" in after
    assert "Rp 10.000" in after  # what is left to pay out
    english = report["en"]["text"]
    for word in ("Available to pay out", "Requested", "Commission history", "Rp 50,000"):
        assert word in english, word
    assert "below the Rp 50,000 minimum" in english and report["payout_disabled"]
    assert report["signup_code"] == code  # the share link fills in the sign-up form
    assert "/signin" in report["after_signout"]  # signed out from its own page
    for view in ("id", "fee", "after_payout", "en"):
        assert report[view]["scroll_width"] <= 360, view  # nothing wider than the phone
    assert all(url.startswith(report["origin"]) for url in report["requests"])
    for name in ("promoter-id.png", "promoter-en.png"):
        assert (shots / name).stat().st_size > 10_000

    payouts = api.ok("GET", "/payouts", world.promoter["api_key"])["payouts"]
    assert [(p["amount"], p["status"]) for p in payouts] == [(50_000, "requested")]


def test_only_its_own_merchants_and_never_for_a_merchant(api, referred):
    world, other = referred
    base = api.base.rsplit("/api/v1", 1)[0]
    entries = api.ok("GET", "/promoters/me/earnings", world.promoter["api_key"])["entries"]
    fee_page = f"{base}/promoter/fees/{entries[-1]['fee_posting_id']}"
    mine = requests.get(fee_page, headers=_bearer(world.promoter), timeout=10)
    assert mine.status_code == 200 and "Penerimaan stok" in mine.text
    # another promoter: not found; a merchant: sent to sign in, no commission shown
    theirs = requests.get(fee_page, headers=_bearer(other.promoter), timeout=10)
    assert theirs.status_code == 404 and "Rp" not in theirs.text
    for path in ("/promoter", fee_page.removeprefix(base)):
        merchant = requests.get(
            base + path, headers=_bearer(world.merchant), timeout=10, allow_redirects=False
        )
        assert merchant.status_code == 303 and merchant.headers["Location"].startswith("/signin")
    page = requests.get(f"{base}/promoter", headers=_bearer(other.promoter), timeout=10)
    assert page.status_code == 200 and name_of(api, other.merchant) in page.text
    assert name_of(api, world.merchant) not in page.text
    assert world.merchant["merchant_id"] not in page.text


def _bearer(account):
    return {"Authorization": f"Bearer {account['api_key']}"}
