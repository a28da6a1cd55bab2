"""The packer's tablet in a real browser (Debian Chromium, Playwright), scanning with a
keyboard-wedge scanner only: open picked orders at the pack station, check every unit by
scanning (a foreign product and one unit too many refused, in the packer's language; a
reload keeps the progress), pack in the suggested box with the weight a scale types, the
label opens in a new tab; hand the parcels to the courier by scanning their AWBs and close
the pickup; receive an inbound by scanning, with a damaged unit and an over-receipt reason.

With UPDATE_SCREENSHOTS=1 the screens replace docs/screenshots/tablet-*.png."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.simulate import ean13, eventually, place_order, register_world
from tests.conftest import ADMIN_KEY
from tests.tablet_driver import picked_orders_via_api

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


def run_driver(api, staff_key, shots, plan):
    (shots / "plan.json").write_text(json.dumps(plan))
    driver = Path(__file__).with_name("tablet_driver.py")
    base = api.base.rsplit("/api/v1", 1)[0]
    run = subprocess.run(
        [sys.executable, str(driver), base, staff_key, str(shots), str(shots / "plan.json")],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_a_packer_checks_packs_hands_over_and_receives_by_scanning(api, tmp_path):
    world = register_world(api, ADMIN_KEY, skus=2, units=20)
    key, staff = world.merchant["api_key"], world.staff["api_key"]
    barcodes = {sku: ean13(f"899{i:09d}") for i, sku in enumerate(world.skus)}
    orders = [
        place_order(api, world, 0, sku=world.skus[0], qty=2, cod_amount=125_000),
        place_order(api, world, 1, sku=world.skus[1], qty=1),
    ]
    for order_id in orders:
        eventually(lambda o=order_id: api.ok("GET", f"/orders/{o}", key)["status"] == "allocated")
    picked = picked_orders_via_api(api, staff, orders)
    for order, sku, qty in zip(picked, world.skus, (2, 1)):
        order["units"] = [{"barcode": barcodes[sku], "qty": qty}]
    inbound = api.ok("POST", "/inbounds", key, {"lines": [{"sku": world.skus[0], "qty": 5}]})
    before = {s["sku"]: s for s in api.ok("GET", "/stock", key)["stock"]}[world.skus[0]]

    plan = {
        "orders": picked,
        "foreign": barcodes[world.skus[1]],
        "inbound_id": inbound["inbound_id"],
        "receive": barcodes[world.skus[0]],
    }
    report = run_driver(api, staff, tmp_path, plan)
    shots = sorted(tmp_path.glob("tablet-*.png"))
    assert len(shots) == 7 and all(shot.stat().st_size > 5000 for shot in shots)
    if os.environ.get("UPDATE_SCREENSHOTS"):
        for shot in shots:
            shutil.copy(shot, SCREENSHOTS / shot.name)

    assert report["title_id"] == "Tablet Packer" and report["title_en"] == "Packer Tablet"
    assert report["bad_key_message"] == "API key tidak dikenal."
    # the reload showed the unit already checked, and packing waited for the rest
    assert report["after_reload"] == ["1 / 2"] and report["pack_disabled_midway"]
    assert report["wrong_product"] == "Barang ini bukan bagian pesanan ini."
    assert report["wrong_product_en"] == "This item is not in this order."
    assert report["checked_label_en"] == "checked"
    assert report["extra_unit"] == "Kelebihan: semua unit barang ini sudah dicek."
    assert report["suggested"] == ["BOX-M", "BOX-M"]  # 30 x 20 x 3 cm batik lies in a BOX-M

    # each packed order's label answered as a PDF and opened in a tab of its own
    assert len(report["awbs"]) == 2 and all(" JN" in awb for awb in report["awbs"])
    base = api.base.rsplit("/api/v1", 1)[0]
    labels = [p for p in report["pdfs"] if "/label.pdf" in p["url"]]
    for order_id in orders:
        url = f"{base}/api/v1/warehouse/orders/{order_id}/label.pdf"
        assert any(p["url"] == url for p in labels), (url, labels)
    assert all(p["status"] == 200 and p["type"] == "application/pdf" for p in report["pdfs"])
    assert all(u.startswith("blob:") for u in report["label_tabs"])
    assert report["reprint_message"] == "Resi dibuka di tab baru: cetak dari sana."
    assert report["reprinted"][0]["url"].endswith("/label.pdf")
    for order_id in orders:
        packed = api.ok("GET", f"/orders/{order_id}", key)
        assert packed["status"] in ("packed", "booked", "dispatched"), packed["status"]

    # hand-over: an unknown AWB refused, both parcels scanned, the pickup closed
    assert report["unknown_awb"] == "Resi tidak dikenal."
    awbs = sorted(a.split()[-1] for a in report["awbs"])
    assert sorted(report["handover_scanned"]) == awbs
    assert report["handover_closed"].startswith("Diserahkan ke kurir: 2 paket.")
    for order_id in orders:
        eventually(
            lambda o=order_id: api.ok("GET", f"/orders/{o}", key)["status"] == "dispatched",
            what="the parcel handed over",
        )

    # receiving by scan: 5 good (one over, with its reason), 1 damaged
    assert report["counted"] == ["5", "1"]
    assert report["over_message"].endswith("Lebih dari yang dikirim: isi alasannya.")
    assert report["receive_label_en"] == "Good"
    assert report["receive_message"].startswith("Penerimaan disimpan.")
    after = {s["sku"]: s for s in api.ok("GET", "/stock", key)["stock"]}[world.skus[0]]
    assert after["available"] == before["available"] + 5
    assert after["quarantined"] == before["quarantined"] + 1
