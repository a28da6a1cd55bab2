"""A merchant works the dashboard in real Chromium on a phone, against the real processes:
signs up and in, imports a Shopee export (two bad rows named by line), imports it again
(nothing new), follows an order to the buyer's door, revokes an API key (401 at once).

Screenshots go to a temporary directory; with UPDATE_SCREENSHOTS=1 they replace the ones
in docs/screenshots (names, ids and times differ on every run)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.conftest import ADMIN_KEY, COURIER_SECRET

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
FIXTURES = Path(__file__).resolve().parent.parent / "gateway" / "tests" / "fixtures" / "imports"
SHOTS = (
    "dashboard-landing-id.png",
    "dashboard-signup-id.png",
    "dashboard-inbounds-id.png",
    "dashboard-webhooks-id.png",
    "dashboard-home-id.png",
    "dashboard-skus-id.png",
    "dashboard-order-new-id.png",
    "dashboard-import-id.png",
    "dashboard-orders-id.png",
    "dashboard-orders-en.png",
    "dashboard-order-id.png",
    "dashboard-order-en.png",
    "dashboard-wallet-id.png",
    "dashboard-wallet-held-id.png",
    "dashboard-keys-id.png",
)


def test_a_merchant_works_the_dashboard_on_a_phone(api, tmp_path):
    shots = SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path
    base = api.base.rsplit("/api/v1", 1)[0]
    driver = Path(__file__).with_name("dashboard_driver.py")
    xlsx = FIXTURES / "shopee_orders.xlsx"
    run = subprocess.run(
        [sys.executable, str(driver), base, ADMIN_KEY, COURIER_SECRET, str(shots), str(xlsx)],
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])

    assert report["signed_up"] == "Akun Anda sudah dibuat. Silakan masuk."
    assert report["landed"] == f"{base}/dashboard"
    # the preview names the two bad rows by the line a spreadsheet shows, creates nothing
    preview = report["preview"]
    assert [row.split("\n")[0].split(" ")[:2] for row in preview["bad_rows"]] == [
        ["Baris", "6"],
        ["Baris", "7"],
    ]
    assert "Jumlah" in preview["bad_rows"][0] and "No. Telepon" in preview["bad_rows"][1]
    assert "Bukan bilangan bulat: '1,5'." in preview["bad_rows"][0]
    assert preview["can_confirm"] and "Buat 3 pesanan" in preview["text"]
    assert "Dibuat\n3" in report["applied"]
    # the same file again: three already there, nothing to confirm, nothing new
    again = report["again"]
    assert not again["can_confirm"] and "Tidak ada pesanan baru di file ini." in again["text"]
    assert "Sudah ada\n3" in again["counts"]
    assert report["orders_after"] == 3

    # the order, followed to the buyer's door, with its timeline in WIB
    order_page = report["order_page"]
    assert "2611240AAA0001" in order_page and "Terkirim" in order_page
    assert "Paket diterima pembeli" in order_page and "WIB" in order_page
    assert f"/track/{report['followed']}" in order_page
    assert "Delivered" in report["order_page_en"] and "Parcel history" in report["order_page_en"]
    assert "Terkirim" in report["orders_page"]
    assert report["label"] == [200, "application/pdf"]  # the session opens the merchant's copy
    assert "Rp 1.000.000" in report["wallet"] or "Isi saldo" in report["wallet"]

    # stock: BTK-000 is down to 15 of 20 with a mark at 15; a typed order's errors in place
    assert "Stok menipis" in report["skus_page"]
    assert len(report["bad_order"]) == 2, report["bad_order"]

    assert "Pesanan diterima dan diteruskan ke gudang." in report["fixed_order"]
    assert "WA-0012" in report["fixed_order"] and "Rp 150.000" in report["fixed_order"]
    assert "Pembeli batal" in report["cancelled"] and "Batalkan pesanan" not in report["cancelled"]

    # the webhook: its secret shown once, then its deliveries (to a port nobody listens on)
    assert "whsec_" in report["webhook"] and "whsec_" not in report["webhooks_page"]
    assert "Paket dikemas" in report["webhooks_page"]

    # a seller with no credit: held, told why, its order waiting
    held = report["held_wallet"]
    assert "Akun ditahan" in held and "Pesanan menunggu: 1" in held and "di bawah batas" in held

    # the revoked key: it worked, then 401 at once
    assert report["key_works"] == 200 and report["key_after_revoke"] == 401
    assert "dicabut" in report["keys_page"]

    for name in SHOTS:
        assert (shots / name).stat().st_size > 10_000, name
        assert report["widths"][name] <= 360, (name, report["widths"][name])

    # the pages carry the same safe headers as the tracking page
    landing = requests.get(base + "/", timeout=10)
    assert landing.status_code == 200 and "unsafe" not in landing.headers["Content-Security-Policy"]
    assert requests.get(base + "/dashboard", allow_redirects=False, timeout=10).status_code == 303
