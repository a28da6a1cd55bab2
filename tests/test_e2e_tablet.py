"""The packer's tablet in a real browser (Debian Chromium, Playwright): sign in, scan
the pick list, confirm the pick, pack and see the AWB and the label open in a new tab,
reprint a label, hand parcels to the courier with a manifest and print it, receive an
inbound; in Bahasa Indonesia."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.simulate import eventually, place_order, register_world
from tests.conftest import ADMIN_KEY

pytestmark = pytest.mark.e2e


def test_a_packer_picks_and_packs_on_the_tablet(api, tmp_path):
    world = register_world(api, ADMIN_KEY, skus=2, units=5)
    key = world.merchant["api_key"]
    orders = [place_order(api, world, n) for n in range(2)]
    for order_id in orders:
        eventually(lambda o=order_id: api.ok("GET", f"/orders/{o}", key)["status"] == "allocated")

    inbound = api.ok("POST", "/inbounds", key, {"lines": [{"sku": world.skus[0], "qty": 5}]})
    before = {s["sku"]: s for s in api.ok("GET", "/stock", key)["stock"]}[world.skus[0]]

    driver = Path(__file__).with_name("tablet_driver.py")
    base = api.base.rsplit("/api/v1", 1)[0]
    run = subprocess.run(
        [
            sys.executable,
            str(driver),
            base,
            world.staff["api_key"],
            str(tmp_path),
            inbound["inbound_id"],
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])

    assert report["title_id"] == "Tablet Packer" and report["title_en"] == "Packer Tablet"
    assert report["bad_key_message"] == "API key tidak dikenal."
    assert report["stops"] >= 1 and report["stops_done"] == report["stops"]
    assert len(report["awbs"]) == 2 and all(" JN" in awb for awb in report["awbs"])
    assert report["final_message"] == "Semua pesanan dikemas."
    for order_id in orders:
        assert api.ok("GET", f"/orders/{order_id}", key)["status"] in ("booked", "packed")
    assert (tmp_path / "tablet-pick-list.png").stat().st_size > 5000

    # packing opened each order's label, answered as a PDF, in a tab of its own
    labels = [p for p in report["pdfs"] if "/label.pdf" in p["url"]]
    for order_id in orders:
        url = f"{base}/api/v1/warehouse/orders/{order_id}/label.pdf"
        assert any(p["url"] == url for p in labels), (url, labels)
    assert all(p["status"] == 200 and p["type"] == "application/pdf" for p in report["pdfs"])
    assert sum(u.startswith("blob:") for u in report["popups"]) == len(report["pdfs"])
    # the last packed order comes first in the reprint list; its label opens again
    assert len(report["recent"]) == 2 and report["awbs"][-1].split()[-1] in report["recent"][0]
    assert report["reprint_message"] == "Resi dibuka di tab baru: cetak dari sana."
    [reprinted] = report["reprinted"]
    assert reprinted["url"].endswith("/label.pdf") and reprinted["type"] == "application/pdf"
    assert any(
        "/warehouse/manifests/" in p["url"] and p["url"].endswith(".pdf") for p in report["pdfs"]
    )

    # the manifest lists the two parcels just packed
    assert sorted(report["manifest_awbs"]) == sorted(a.split()[-1] for a in report["awbs"])
    # the receipt: 4 good units sellable, 1 damaged in quarantine, counted once
    assert report["receive_message"].startswith("Penerimaan disimpan.")
    after = {s["sku"]: s for s in api.ok("GET", "/stock", key)["stock"]}[world.skus[0]]
    assert after["available"] == before["available"] + 4
    assert after["quarantined"] == before["quarantined"] + 1
