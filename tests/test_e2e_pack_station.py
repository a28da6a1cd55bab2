"""The pack station and the hand-over through the real processes: packing refuses an order
until every unit is scanned again, takes the sizes and fee from the catalog box (billing
charges that fee), and the courier's pickup hands over only the parcels scanned onto it.
Packer productivity shows in packing's /metrics."""

import re
import shutil
import subprocess

import pytest

from scripts.simulate import ean13, eventually, place_order, register_world
from tests.conftest import ADMIN_KEY
from tests.tablet_driver import picked_orders_via_api

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def world(api):
    return register_world(api, ADMIN_KEY, skus=2, units=20)


def allocated(api, world, *orders):
    key = world.merchant["api_key"]
    for order_id in orders:
        eventually(lambda o=order_id: api.ok("GET", f"/orders/{o}", key)["status"] == "allocated")
    return orders


def refused(api, method, path, key, body, status, code):
    got, answer = api.request(method, path, key, body)
    assert (got, answer["error"]["code"]) == (status, code), answer
    return answer["error"]


def test_packing_waits_for_every_unit_and_charges_the_box_fee(api, world):
    staff, key = world.staff["api_key"], world.merchant["api_key"]
    [order_id] = allocated(api, world, place_order(api, world, 0, sku=world.skus[0], qty=2))
    [picked] = picked_orders_via_api(api, staff, [order_id])
    pack = f"/warehouse/orders/{order_id}/pack"
    error = refused(
        api, "POST", pack, staff, {"box": "BOX-M", "weight_g": 800}, 409, "UNVERIFIED_UNITS"
    )
    assert error["fields"] == {f"items.{world.skus[0]}": ["0 of 2 units checked."]}

    opened = api.ok("POST", "/warehouse/pack-station/open", staff, {"code": picked["external_id"]})
    assert opened["order_id"] == order_id and opened["suggested_box"] == "BOX-M"
    assert [(i["sku"], i["qty"], i["verified"]) for i in opened["items"]] == [(world.skus[0], 2, 0)]
    verify = f"/warehouse/orders/{order_id}/verify"
    barcode = ean13("899000000000")
    assert api.ok("POST", verify, staff, {"code": barcode})["items"][0]["verified"] == 1
    refused(api, "POST", verify, staff, {"code": ean13("899000000001")}, 409, "NOT_IN_ORDER")
    refused(api, "POST", verify, staff, {"code": "NO-SUCH"}, 422, "UNKNOWN_PRODUCT")
    refused(api, "POST", verify, staff, {"code": barcode, "qty": 2}, 409, "EXTRA_UNIT")
    assert api.ok("POST", verify, staff, {"code": barcode})["all_verified"]

    error = refused(
        api,
        "POST",
        pack,
        staff,
        {"box": "BOX-M", "weight_g": 800, "height_cm": 9},
        400,
        "VALIDATION_ERROR",
    )
    assert list(error["fields"]) == ["height_cm"]
    refused(api, "POST", pack, staff, {"box": "BOX-M", "weight_g": 20}, 422, "WEIGHT_BELOW_BOX")
    done = api.ok("POST", pack, staff, {"box": "BOX-M", "weight_g": 800})
    assert done["awb"] and done["package"] == {
        "weight_g": 800, "length_cm": 30, "width_cm": 25, "height_cm": 15,
        "box": "BOX-M", "packaging_fee": 2500,
    }  # fmt: skip

    # billing charges the fee the box had in the catalog when packed
    def packaging():
        entries = api.ok("GET", "/wallet?limit=100", key)["entries"]
        return [e for e in entries if e["kind"] == "packaging" and e.get("ref") == order_id]

    [fee] = eventually(packaging, what="the packaging fee")
    assert fee["amount"] == -2500


def test_ops_keep_the_box_catalog(api, world):
    staff, key = world.staff["api_key"], world.merchant["api_key"]
    box = {"code": "POLY-A4", "length_cm": 35, "width_cm": 25, "height_cm": 2, "weight_g": 10}
    created = api.ok("POST", "/warehouse/boxes", ADMIN_KEY, dict(box, packaging_fee=800))
    assert created == dict(box, packaging_fee=800, active=True)
    refused(api, "POST", "/warehouse/boxes", staff, dict(box, packaging_fee=1), 409, "BOX_EXISTS")
    changed = api.ok("PATCH", "/warehouse/boxes/POLY-A4", staff, {"packaging_fee": 900})
    assert changed["packaging_fee"] == 900
    refused(api, "PATCH", "/warehouse/boxes/NOPE", staff, {"active": False}, 404, "UNKNOWN_BOX")
    codes = [b["code"] for b in api.ok("GET", "/warehouse/boxes", staff)["boxes"]]
    assert {"BOX-S", "BOX-M", "BOX-L", "BOX-XL", "POLY-A4"} <= set(codes)
    status, _ = api.request("GET", "/warehouse/boxes", key)
    assert status == 403


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs pdftotext (make test-tools)")
def test_the_courier_takes_only_the_parcels_scanned_onto_the_pickup(api, world, tmp_path):
    staff, key = world.staff["api_key"], world.merchant["api_key"]
    orders = allocated(
        api,
        world,
        place_order(api, world, 0, cod_amount=40_000),
        place_order(api, world, 1),
        place_order(api, world, 0, courier="sicepat"),
    )
    picked_orders_via_api(api, staff, list(orders))
    for order_id in orders:
        api.ok("POST", "/warehouse/pack-station/open", staff, {"code": order_id})
        sku = api.ok("GET", f"/orders/{order_id}", key)["lines"][0]["sku"]
        api.ok("POST", f"/warehouse/orders/{order_id}/verify", staff, {"code": sku})
        api.ok(
            "POST", f"/warehouse/orders/{order_id}/pack", staff, {"box": "BOX-S", "weight_g": 400}
        )
    awbs = [
        eventually(lambda o=o: api.ok("GET", f"/orders/{o}", key)["awb"], what="AWB")
        for o in orders
    ]
    manifest = api.ok("POST", "/warehouse/manifests", staff, {"courier": "jne"})
    mid = manifest["manifest_id"]
    assert set(awbs[:2]) <= set(manifest["not_scanned"])
    scans = f"/warehouse/manifests/{mid}/scans"
    refused(api, "POST", f"/warehouse/manifests/{mid}/close", staff, None, 422, "NOTHING_SCANNED")
    scanned = api.ok("POST", scans, staff, {"awb": awbs[0]})
    assert scanned["scanned"] == awbs[0] and awbs[0] not in scanned["not_scanned"]
    refused(api, "POST", scans, staff, {"awb": awbs[2]}, 409, "WRONG_COURIER")
    refused(api, "POST", scans, staff, {"awb": "JN999999999999"}, 404, "UNKNOWN_AWB")

    closed = api.ok("POST", f"/warehouse/manifests/{mid}/close", staff)
    assert closed["status"] == "closed" and [p["awb"] for p in closed["parcels"]] == [awbs[0]]
    assert closed["parcel_count"] == 1 and closed["cod_total"] == 40_000
    eventually(lambda: api.ok("GET", f"/orders/{orders[0]}", key)["status"] == "dispatched")
    # the sheet the courier signs lists what was handed over, not what stayed behind
    pdf = api.http.get(
        f"{api.base}/warehouse/manifests/{mid}.pdf",
        headers={"Authorization": f"Bearer {staff}"},
        timeout=30,
    )
    (tmp_path / "manifest.pdf").write_bytes(pdf.content)
    text = subprocess.run(
        ["pdftotext", "-layout", "manifest.pdf", "-"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert awbs[0] in text and awbs[1] not in text
    assert "Jumlah paket: 1" in text and "Total COD: Rp 40.000" in text
    refused(api, "POST", scans, staff, {"awb": awbs[1]}, 409, "MANIFEST_CLOSED")
    # the parcel left behind goes with the next pickup; the one handed over cannot again
    following = api.ok("POST", "/warehouse/manifests", staff, {"courier": "jne"})
    assert awbs[1] in following["not_scanned"] and following["manifest_id"] != mid
    again = f"/warehouse/manifests/{following['manifest_id']}/scans"
    refused(api, "POST", again, staff, {"awb": awbs[0]}, 409, "HANDED_OVER")
    assert api.ok("GET", f"/orders/{orders[1]}", key)["status"] == "booked"


def test_packer_productivity_in_prometheus(api, platform, world):
    text = api.http.get(platform.url("packing") + "/metrics", timeout=10).text
    assert 'gudang_orders_packed_total{packer_id="' in text
    assert "gudang_allocated_to_packed_seconds_bucket" in text
    assert re.search(
        r'gudang_scan_errors_total\{code="EXTRA_UNIT",packer="stf_\w+",station="verify"\}', text
    )
