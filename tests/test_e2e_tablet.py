"""The packer's whole day on the tablet in a real browser (Debian Chromium, Playwright),
scanning with a keyboard-wedge scanner only: pick a batch of three orders into three totes
(a wrong product refused in red, a count confirmed, a short pick, a reload in the middle
that shows the same progress); at the pack station open each picked order by its tote and
check every unit by scanning (a foreign product and one unit too many refused, in the
packer's language; a reload keeps the progress), pack in the suggested box with the weight
a scale types, the label opens in a new tab; hand the parcels to the courier by scanning
their AWBs and close the pickup; receive an inbound by scanning, with a damaged unit and an
over-receipt reason.

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


def test_a_packer_picks_packs_hands_over_and_receives_by_scanning(api, tmp_path):
    world = register_world(api, ADMIN_KEY, skus=2, units=5)
    key, staff = world.merchant["api_key"], world.staff["api_key"]
    barcodes = {sku: ean13(f"899{i:09d}") for i, sku in enumerate(world.skus)}
    # BTK-000 x1 and x2 (one stop of 3 units), BTK-001 x2 (a count of 2)
    orders = [place_order(api, world, n, qty=q) for n, q in ((0, 1), (1, 2))]
    short_order = place_order(api, world, 2, qty=2)
    for order_id in [*orders, short_order]:
        eventually(lambda o=order_id: api.ok("GET", f"/orders/{o}", key)["status"] == "allocated")
    placed = {o: api.ok("GET", f"/orders/{o}", key) for o in [*orders, short_order]}
    totes = {orders[0]: "TOTE-101", orders[1]: "TOTE-102", short_order: "TOTE-103"}
    # packed in the order the floor takes them: the order of two units first
    to_pack = [
        {
            "order_id": o,
            "external_id": placed[o]["external_id"],
            "tote": totes[o],
            "units": [
                {"barcode": barcodes[ln["sku"]], "qty": ln["qty"]} for ln in placed[o]["lines"]
            ],
        }
        for o in (orders[1], orders[0])
    ]
    inbound = api.ok("POST", "/inbounds", key, {"lines": [{"sku": world.skus[0], "qty": 5}]})
    before = {s["sku"]: s for s in api.ok("GET", "/stock", key)["stock"]}[world.skus[0]]
    plan = {
        "pick": {
            "totes": [totes[o] for o in (*orders, short_order)],
            "barcodes": barcodes,
            "wrong": {"BTK-000": barcodes["BTK-001"]},
            "short": "BTK-000",
            "reload_after": "BTK-000",
        },
        "orders": to_pack,
        "foreign": barcodes[world.skus[0]],  # not in the first order packed
        "inbound_id": inbound["inbound_id"],
        "receive": barcodes[world.skus[0]],
    }
    report = run_driver(api, staff, tmp_path, plan)
    shots = sorted(tmp_path.glob("tablet-*.png"))
    assert len(shots) == 11 and all(shot.stat().st_size > 5000 for shot in shots)
    if os.environ.get("UPDATE_SCREENSHOTS"):
        for shot in shots:
            shutil.copy(shot, SCREENSHOTS / shot.name)

    assert report["title_id"] == "Tablet Packer" and report["title_en"] == "Packer Tablet"
    assert report["bad_key_message"] == "API key tidak dikenal."

    # the pick walk: three totes, a wrong product refused in red, one short pick
    pick = report["pick"]
    assert pick["totes"][0] == f"Tote TOTE-101 untuk pesanan {placed[orders[0]]['external_id']}"
    assert pick["refused"]["state"] == "card state error"
    assert pick["refused"]["message"].startswith("Barang salah")
    short_ext = placed[short_order]["external_id"]
    assert pick["short"].startswith(f"Pesanan {short_ext} keluar dari list")
    assert pick["before_reload"] == pick["after_reload"]
    assert pick["done"]["text"] == "3 dari 3 barang terpindai"
    eventually(
        lambda: (
            "order_short_picked"
            in [s["event"] for s in api.ok("GET", f"/orders/{short_order}", key)["timeline"]]
        )
    )

    # the pack station: the reload showed the unit already checked, packing waited for the rest
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

    # receiving by scan: 5 good (one over, with its reason), 1 damaged. Of the units there
    # before, the 2 short-picked are held for the bin's count and the short order took 2
    # more when it was allocated again
    assert report["counted"] == ["5", "1"]
    assert report["over_message"].endswith("Lebih dari yang dikirim: isi alasannya.")
    assert report["receive_label_en"] == "Good"
    assert report["receive_message"].startswith("Penerimaan disimpan.")

    def stock_after():
        return {s["sku"]: s for s in api.ok("GET", "/stock", key)["stock"]}[world.skus[0]]

    eventually(lambda: stock_after()["available"] == before["available"] + 5 - 2)
    assert stock_after()["quarantined"] == before["quarantined"] + 1
