"""Picking by scan through the real processes: totes, a wrong product refused, a retried
scan counted once, a confirm refused while units are unscanned, a short pick that sends
the order back to inventory (held units, a new allocation from another bin), the
packer's own work after the pick, the supervisor's floor, and the packers' metrics."""

import uuid

import pytest
import requests

from scripts.simulate import ean13, eventually, order_body, register_world, scan_on
from tests.conftest import ADMIN_KEY

pytestmark = pytest.mark.e2e

BIN_1, BIN_2 = "A-01-01-1-01", "A-01-01-1-02"


def error_code(answer):
    return answer["error"]["code"]


def stock_up(api, world):
    staff = world.staff["api_key"]
    api.request("POST", "/bins", staff, {"code": BIN_2, "pick_sequence": 2})
    key = world.merchant["api_key"]
    lines = [("BTK-000", 2, BIN_1), ("BTK-000", 2, BIN_2), ("BTK-001", 5, BIN_1)]
    announced = [{"sku": "BTK-000", "qty": 4}, {"sku": "BTK-001", "qty": 5}]
    inbound = api.ok("POST", "/inbounds", key, {"lines": announced})
    received = [{"sku": s, "qty_good": q, "qty_damaged": 0, "bin": b} for s, q, b in lines]
    api.ok(
        "POST",
        f"/warehouse/inbounds/{inbound['inbound_id']}/receive",
        staff,
        {"lines": received},
    )


def place(api, world, n, sku, qty):
    body = order_body(world, n, sku=sku, qty=qty)
    order_id = api.ok("POST", "/orders", world.merchant["api_key"], body)["order_id"]
    eventually(
        lambda: (
            api.ok("GET", f"/orders/{order_id}", world.merchant["api_key"])["status"] == "allocated"
        )
    )
    return order_id


def test_a_batch_is_picked_by_scan_and_a_short_pick_goes_back_to_inventory(api, platform):
    world = register_world(api, ADMIN_KEY, skus=2, units=0)
    stock_up(api, world)
    staff, key = world.staff["api_key"], world.merchant["api_key"]
    a = place(api, world, 0, "BTK-000", 2)
    b = place(api, world, 1, "BTK-001", 1)
    c = place(api, world, 2, "BTK-001", 1)
    pick_list = api.ok("GET", "/warehouse/pick-lists/next", staff)["pick_list"]
    list_id = pick_list["pick_list_id"]
    assert [o["order_id"] for o in pick_list["orders"]] == [a, b, c]
    assert [(s["bin"], s["sku"], s["qty"]) for s in pick_list["stops"]] == [
        (BIN_1, "BTK-000", 2),
        (BIN_1, "BTK-001", 2),
    ]
    # the server checks, not the screen: nothing scanned, nothing confirmed
    status, answer = api.request("POST", f"/warehouse/pick-lists/{list_id}/picked", staff)
    assert status == 409 and error_code(answer) == "PICK_INCOMPLETE"
    assert sorted(answer["error"]["fields"]) == sorted(
        f"stops.{s['stop_id']}" for s in pick_list["stops"]
    )
    status, answer = scan_on(api, staff, list_id, BIN_1)
    assert status == 409 and error_code(answer) == "TOTES_NOT_READY"
    for n, order_id in zip((101, 102, 103), (a, b, c), strict=True):
        assert scan_on(api, staff, list_id, f"TOTE-{n}")[1]["order_id"] == order_id
    assert scan_on(api, staff, list_id, BIN_1)[1]["kind"] == "bin"

    barcode_0, barcode_1 = ean13("899000000000"), ean13("899000000001")
    status, answer = scan_on(api, staff, list_id, barcode_1)  # the other SKU in the bin
    assert status == 409 and error_code(answer) == "WRONG_PRODUCT"
    assert answer["error"]["fields"]["code"]
    path = f"/warehouse/pick-lists/{list_id}/scans"
    once = {"code": barcode_0, "qty": 1}
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    first = api.request(
        "POST", path, None, once, headers=dict(headers, Authorization=f"Bearer {staff}")
    )
    again = api.request(
        "POST", path, None, once, headers=dict(headers, Authorization=f"Bearer {staff}")
    )
    assert first[1]["placed"] == [{"order_id": a, "tote": "TOTE-101", "qty": 1}]
    assert again[1]["repeated"] and again[1]["placed"] == first[1]["placed"]

    # the second unit of order a is not in its bin
    stop = pick_list["stops"][0]
    short = {"stop_id": stop["stop_id"], "qty": 1, "reason": "not_in_bin"}
    done = api.ok("POST", f"/warehouse/pick-lists/{list_id}/short", staff, short)
    assert done["left_the_list"] == [{"order_id": a, "tote": "TOTE-101", "qty_missing": 1}]
    scan_on(api, staff, list_id, BIN_1)
    placed = scan_on(api, staff, list_id, barcode_1, qty=2)[1]["placed"]
    assert [p["tote"] for p in placed] == ["TOTE-102", "TOTE-103"]
    confirmed = api.ok("POST", f"/warehouse/pick-lists/{list_id}/picked", staff)["pick_list"]
    # order a left the list (it may be allocated again already, so no longer on it)
    assert [o["order_id"] for o in confirmed["orders"] if o["status"] == "picked"] == [b, c]

    # a reload, or another tablet: the packer's picked, unpacked orders in their totes
    work = api.ok("GET", "/warehouse/my-work", staff)
    assert [(o["order_id"], o["tote"]) for o in work["picked"]] == [
        (b, "TOTE-102"),
        (c, "TOTE-103"),
    ]

    # inventory held the missing unit for a count and allocated order a again
    def allocated_again():
        timeline = api.ok("GET", f"/orders/{a}", key)["timeline"]
        events = [step["event"] for step in timeline]
        return events.count("order_allocated") == 2 and "order_short_picked" in events

    eventually(allocated_again, what="order a allocated again after the short pick")
    eventually(lambda: api.ok("GET", "/warehouse/pick-lists/next", staff)["pick_list"])
    again_list = api.ok("GET", "/warehouse/pick-lists/next", staff)["pick_list"]
    assert [o["order_id"] for o in again_list["orders"]] == [a]
    assert sorted((s["bin"], s["qty"]) for s in again_list["stops"]) == [(BIN_1, 1), (BIN_2, 1)]
    levels = {s["sku"]: s for s in api.ok("GET", "/stock", key)["stock"]}["BTK-000"]
    assert levels["on_hand"] == 4 and levels["available"] == 1  # 2 for a, 1 held for the count
    [held] = api.ok("GET", "/movements?type=count_hold", key)["movements"]
    assert (held["bin"], held["ref"], held["by"]) == (BIN_1, a, world.staff["staff_id"])

    supervisor = api.ok("POST", "/staff", ADMIN_KEY, {"name": "Sari", "role": "supervisor"})
    status, _ = api.request("GET", "/warehouse/floor", staff)
    assert status == 403
    floor = api.ok("GET", "/warehouse/floor", supervisor["api_key"])
    assert [o["order_id"] for o in floor["pick_lists"][0]["orders"]] == [a]
    packers = {p["packer_id"]: p["orders"] for p in floor["picked_not_packed"]}
    assert [o["tote"] for o in packers[world.staff["staff_id"]]] == ["TOTE-102", "TOTE-103"]

    metrics = requests.get(platform.url("packing") + "/metrics", timeout=10).text
    packer = world.staff["staff_id"]
    assert f'gudang_packer_units_picked_total{{packer="{packer}"}} 3.0' in metrics
    assert f'gudang_packer_short_picks_total{{packer="{packer}"}} 1.0' in metrics
    wrong = f'gudang_scan_errors_total{{code="WRONG_PRODUCT",packer="{packer}",station="pick"}} 1.0'
    assert wrong in metrics
