"""End to end, over HTTP only: stock truth through the gateway and the real inventory
process. Never oversell under 50 concurrent orders, backorders served oldest first,
lots and FEFO, returns, staff adjustments, merchant views, tenant isolation, bad input."""

import os
import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
import requests

from scripts.simulate import (
    courier_update,
    ean13,
    eventually,
    order_body,
    receive_stock,
    register_world,
    work_pick_lists,
)
from tests.conftest import ADMIN_KEY, COURIER_SECRET

pytestmark = pytest.mark.e2e

BIN_2 = "A-01-01-1-02"


def order_status(api, world, order_id):
    return api.ok("GET", f"/orders/{order_id}", world.merchant["api_key"])["status"]


def stock_of(api, world, sku):
    levels = api.ok("GET", "/stock", world.merchant["api_key"])["stock"]
    return {s["sku"]: s for s in levels}[sku]


def place_concurrently(api, world, n, sku):
    def place(i):
        return api.ok("POST", "/orders", world.merchant["api_key"], order_body(world, i, sku=sku))[
            "order_id"
        ]

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(place, range(n)))


def statuses(api, world, order_ids):
    return {oid: order_status(api, world, oid) for oid in order_ids}


def settled(api, world, order_ids, expected_allocated):
    def check():
        now = statuses(api, world, order_ids)
        done = sum(s == "allocated" for s in now.values())
        waiting = sum(s == "backordered" for s in now.values())
        return done + waiting == len(order_ids) and done == expected_allocated and now

    return eventually(check, timeout=60, what=f"{expected_allocated} orders allocated")


def oldest_first(api, world, order_ids):
    orders = [api.ok("GET", f"/orders/{o}", world.merchant["api_key"]) for o in order_ids]
    return [o["order_id"] for o in sorted(orders, key=lambda o: (o["received_at"], o["order_id"]))]


def never_oversold_then_served_oldest_first(api, world):
    sku = world.skus[0]
    order_ids = place_concurrently(api, world, 50, sku)
    now = settled(api, world, order_ids, 10)
    assert list(now.values()).count("backordered") == 40
    level = stock_of(api, world, sku)
    assert (level["on_hand"], level["reserved"], level["available"]) == (10, 10, 0)

    waiting = oldest_first(api, world, [o for o, s in now.items() if s == "backordered"])
    receive_stock(api, world, 15)  # part of the inbound first: the 15 oldest are served
    now = settled(api, world, order_ids, 25)
    assert [now[o] for o in waiting] == ["allocated"] * 15 + ["backordered"] * 25
    receive_stock(api, world, 25)  # the rest of the 40
    now = settled(api, world, order_ids, 50)
    level = stock_of(api, world, sku)
    assert (level["on_hand"], level["reserved"], level["available"]) == (50, 50, 0)


@pytest.fixture(scope="module")
def crowd(api):
    return register_world(api, ADMIN_KEY, skus=1, units=10)


def test_fifty_concurrent_orders_for_ten_units_then_an_inbound_serves_the_oldest_first(api, crowd):
    never_oversold_then_served_oldest_first(api, crowd)


@pytest.fixture(scope="module")
def world(api):
    world = register_world(api, ADMIN_KEY, skus=2, units=20)
    status, _ = api.request(
        "POST", "/bins", world.staff["api_key"], {"code": BIN_2, "pick_sequence": 2}
    )
    assert status in (201, 409)
    return world


def register_lot_sku(api, world, code, **extra):
    body = {
        "sku": code,
        "name": "Jamu kunyit asam",
        "barcode": ean13("899777000001"),
        "weight_g": 250,
        "length_cm": 10,
        "width_cm": 6,
        "height_cm": 6,
        "tracks_lots": True,
    }
    return api.ok("POST", "/skus", world.merchant["api_key"], body | extra)


def test_lots_are_allocated_first_expiry_first_and_movements_show_it(api, world):
    code = f"JMU-{uuid.uuid4().hex[:4]}"
    register_lot_sku(api, world, code)
    key, staff = world.merchant["api_key"], world.staff["api_key"]
    soon = (date.today() + timedelta(days=20)).isoformat()
    late = (date.today() + timedelta(days=200)).isoformat()
    # a lot-tracked line without lot and expiry is refused, naming the fields
    status, error = api.request("POST", "/inbounds", key, {"lines": [{"sku": code, "qty": 4}]})
    assert status == 400 and {"lines.0.lot", "lines.0.expiry"} <= set(error["error"]["fields"])
    inbound = api.ok(
        "POST",
        "/inbounds",
        key,
        {
            "lines": [
                {"sku": code, "qty": 4, "lot": "LATE-1", "expiry": late},
                {"sku": code, "qty": 4, "lot": "SOON-1", "expiry": soon},
            ]
        },
    )
    api.ok(
        "POST",
        f"/warehouse/inbounds/{inbound['inbound_id']}/receive",
        staff,
        {
            "lines": [
                {
                    "sku": code,
                    "lot": "LATE-1",
                    "qty_good": 4,
                    "qty_damaged": 0,
                    "bin": "A-01-01-1-01",
                },
                {"sku": code, "lot": "SOON-1", "qty_good": 3, "qty_damaged": 1, "bin": BIN_2},
            ]
        },
    )
    eventually(lambda: stock_of(api, world, code)["available"] == 7, what="lots put away")
    level = stock_of(api, world, code)
    assert level["quarantined"] == 1 and level["nearest_expiry"] == soon
    order_id = api.ok("POST", "/orders", key, order_body(world, 7, sku=code, qty=2))["order_id"]
    eventually(lambda: order_status(api, world, order_id) == "allocated", what="allocated")
    reserved = api.ok("GET", f"/movements?sku={code}&type=reserve", key)["movements"]
    assert [(m["lot"], m["reserved"], m["ref"]) for m in reserved] == [("SOON-1", 2, order_id)]
    discrepancies = api.ok("GET", f"/inbounds/{inbound['inbound_id']}", key)["discrepancies"]
    assert {(d["lot"], d["short"]) for d in discrepancies} == {("LATE-1", 0), ("SOON-1", 0)}


def test_a_returned_parcel_is_inspected_and_its_good_units_are_sellable_again(api, world):
    key, staff = world.merchant["api_key"], world.staff["api_key"]
    sku = world.skus[1]
    before = stock_of(api, world, sku)["on_hand"]
    order_id = api.ok("POST", "/orders", key, order_body(world, 11, sku=sku, qty=2))["order_id"]
    eventually(lambda: order_status(api, world, order_id) == "allocated", what="allocated")
    assert order_id in work_pick_lists(api, staff)
    awb = eventually(lambda: api.ok("GET", f"/orders/{order_id}", key)["awb"], what="AWB")
    for status, reason in (("picked_up", None), ("failed", "alamat tidak ditemukan")):
        assert courier_update(api, COURIER_SECRET, "jne", awb, status, reason=reason)[0] == 200
    assert courier_update(api, COURIER_SECRET, "jne", awb, "returned")[0] == 200
    assert courier_update(api, COURIER_SECRET, "jne", awb, "returned")[0] == 200  # repeated
    eventually(lambda: stock_of(api, world, sku)["on_hand"] == before - 2, what="shipped out")

    def waiting_return():
        found = api.ok("GET", "/warehouse/returns", staff)["returns"]
        return next((r for r in found if r["order_id"] == order_id), None)

    ret = eventually(waiting_return, what="the return to wait for inspection")
    path = f"/warehouse/returns/{ret['return_id']}/inspect"
    body = {"lines": [{"sku": sku, "qty_good": 1, "qty_damaged": 1}]}
    assert api.ok("POST", path, staff, body)["status"] == "inspected"
    assert api.ok("POST", path, staff, body)["status"] == "inspected"  # sent twice
    eventually(
        lambda: (
            (lvl := stock_of(api, world, sku))["on_hand"] == before - 1 and lvl["quarantined"] == 1
        ),
        what="good unit back, damaged in quarantine",
    )
    returns = api.ok("GET", "/returns", key)["returns"]
    assert [r["status"] for r in returns if r["order_id"] == order_id] == ["inspected"]


def test_ops_place_a_bin_on_the_floor_plan_and_clear_it(api, world):
    staff = world.staff["api_key"]
    placed = api.ok("PATCH", f"/bins/{BIN_2}", staff, {"x_m": 6, "y_m": 1.25})
    assert (placed["x_m"], placed["y_m"], placed["pick_sequence"]) == (6, 1.25, 2)
    status, error = api.request("PATCH", f"/bins/{BIN_2}", staff, {"x_m": 6})
    assert status == 400 and list(error["error"]["fields"]) == ["y_m"]
    status, error = api.request("PATCH", f"/bins/{BIN_2}", staff, {})
    assert status == 400 and list(error["error"]["fields"]) == ["pick_sequence"]
    api.ok("PATCH", f"/bins/{BIN_2}", staff, {"x_m": None, "y_m": None})
    bins = {b["code"]: b for b in api.ok("GET", "/bins", staff)["bins"]}
    assert (bins[BIN_2]["x_m"], bins[BIN_2]["y_m"]) == (None, None)


def test_staff_adjust_count_and_move_with_reasons_and_the_ledger_adds_up(api, world):
    key, staff = world.merchant["api_key"], world.staff["api_key"]
    mid, sku = world.merchant["merchant_id"], world.skus[0]
    start = stock_of(api, world, sku)
    base = {"merchant_id": mid, "sku": sku}
    assert api.ok("PATCH", f"/bins/{BIN_2}", staff, {"pick_sequence": 2})["pick_sequence"] == 2
    assert api.request("PATCH", "/bins/Z-09-09-9-09", staff, {"pick_sequence": 2})[0] == 404
    status, error = api.request(
        "POST", "/warehouse/adjustments", staff, base | {"bin": "A-01-01-1-01", "qty": -1}
    )
    assert status == 400 and "reason" in error["error"]["fields"]
    api.ok(
        "POST",
        "/warehouse/adjustments",
        staff,
        base | {"bin": "A-01-01-1-01", "qty": 3, "reason": "found"},
    )
    api.ok(
        "POST",
        "/warehouse/moves",
        staff,
        base | {"from_bin": "A-01-01-1-01", "to_bin": BIN_2, "qty": 2, "reason": "put away"},
    )
    result = api.ok(
        "POST",
        "/warehouse/cycle-counts",
        staff,
        {"bin": BIN_2, "lines": [base | {"counted": 1}], "note": "rak 2"},
    )
    assert result["lines"][0]["difference"] == -1
    assert stock_of(api, world, sku)["on_hand"] == start["on_hand"] + 2
    ledger = api.ok("GET", f"/movements?sku={sku}&limit=1000", key)["movements"]
    assert sum(m["qty"] for m in ledger) == start["on_hand"] + 2
    assert {"receive", "adjust", "put_away"} <= {m["type"] for m in ledger}


def test_merchant_views_csv_slow_moving_and_low_stock_alerts(api, world):
    key = world.merchant["api_key"]
    code = f"LOW-{uuid.uuid4().hex[:4]}"
    api.ok(
        "POST",
        "/skus",
        key,
        {
            "sku": code,
            "name": "Kaos polos",
            "barcode": code,
            "weight_g": 200,
            "length_cm": 30,
            "width_cm": 20,
            "height_cm": 2,
        },
    )
    assert (
        api.ok("PATCH", f"/skus/{code}", key, {"low_stock_threshold": 2})["low_stock_threshold"]
        == 2
    )
    status, error = api.request("PATCH", f"/skus/{code}", key, {"tracks_lots": True})
    assert status == 400 and "tracks_lots" in error["error"]["fields"]
    inbound = api.ok("POST", "/inbounds", key, {"lines": [{"sku": code, "qty": 4}]})
    api.ok(
        "POST",
        f"/warehouse/inbounds/{inbound['inbound_id']}/receive",
        world.staff["api_key"],
        {"lines": [{"sku": code, "qty_good": 4, "qty_damaged": 0}]},
    )
    eventually(lambda: stock_of(api, world, code)["available"] == 4, what="put away")
    for n in range(3):
        api.ok("POST", "/orders", key, order_body(world, 100 + n, sku=code))
    alerts = eventually(
        lambda: [a for a in api.ok("GET", "/alerts/low-stock", key)["alerts"] if a["sku"] == code],
        what="a low-stock alert",
    )
    eventually(lambda: stock_of(api, world, code)["available"] == 1, what="three allocated")
    assert (
        len([a for a in api.ok("GET", "/alerts/low-stock", key)["alerts"] if a["sku"] == code]) == 1
    )
    assert alerts[0]["threshold"] == 2
    resp = requests.get(
        f"{api.base}/stock.csv", headers={"Authorization": f"Bearer {key}"}, timeout=10
    )
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/csv")
    assert resp.text.splitlines()[0].startswith("sku,on_hand,reserved,available")
    assert any(line.startswith(f"{code},4,3,1,") for line in resp.text.splitlines())
    report = api.ok("GET", "/reports/slow-moving?days=30", key)
    assert code in {row["sku"] for row in report["skus"]}


def test_merchant_b_cannot_read_change_or_reserve_merchant_a_stock(api, world):
    other = register_world(api, ADMIN_KEY, skus=0, units=0)
    a_sku, b_key = world.skus[0], other.merchant["api_key"]
    assert api.request("GET", f"/skus/{a_sku}", b_key)[0] == 404
    assert api.request("PATCH", f"/skus/{a_sku}", b_key, {"name": "punya saya"})[0] == 404
    assert api.ok("GET", "/stock", b_key)["stock"] == []
    assert api.ok("GET", f"/movements?sku={a_sku}", b_key)["movements"] == []
    body = order_body(world, 500, sku=a_sku)
    assert api.request("POST", "/orders", b_key, body)[0] == 422


def test_bad_receipts_get_a_4xx_naming_the_field_and_change_nothing(api, world):
    key, staff = world.merchant["api_key"], world.staff["api_key"]
    sku = world.skus[1]
    inbound = api.ok("POST", "/inbounds", key, {"lines": [{"sku": sku, "qty": 2}]})
    path = f"/warehouse/inbounds/{inbound['inbound_id']}/receive"
    before = stock_of(api, world, sku)
    cases = [
        ({"sku": sku, "qty_good": -1, "qty_damaged": 0}, 400, "lines.0.qty_good"),
        ({"sku": sku, "qty_good": 1, "qty_damaged": 0, "bin": "Z-99-99-9-99"}, 400, "lines.0.bin"),
        ({"sku": sku, "qty_good": 3, "qty_damaged": 0}, 400, "lines.0.over_reason"),
        ({"sku": world.skus[0], "qty_good": 1, "qty_damaged": 0}, 400, "lines.0.sku"),
    ]
    for line, expected, field in cases:
        status, error = api.request("POST", path, staff, {"lines": [line]})
        assert status == expected and field in error["error"]["fields"], (line, error)
    assert api.ok("GET", f"/inbounds/{inbound['inbound_id']}", key)["receipts"] == []
    status, error = api.request(
        "POST",
        "/warehouse/adjustments",
        staff,
        {
            "merchant_id": world.merchant["merchant_id"],
            "sku": sku,
            "bin": "A-01-01-1-01",
            "qty": -10_000,
            "reason": "lost",
        },
    )
    assert status == 422 and "qty" in error["error"]["fields"]
    assert stock_of(api, world, sku) == before


def test_inventory_metrics_show_backorders_returns_and_pending_movements(platform, world):
    text = requests.get(platform.url("inventory") + "/metrics", timeout=10).text
    for name in (
        "gudang_inventory_backordered_orders",
        "gudang_inventory_returns_awaiting_inspection",
        "gudang_inventory_movements_pending 0.0",
    ):
        assert name in text, name


# --- two inventory processes on a real MongoDB ------------------------------------------


@pytest.mark.skipif(
    not os.environ.get("MONGO_URI"),
    reason="two inventory processes need a real MongoDB (MONGO_URI): the embedded store "
    "serves one process per service database (docs/architecture.md, Storage)",
)
def test_two_inventory_processes_never_oversell_on_mongodb(platform, api):
    # a second competing consumer of the same queues and database, on its own HTTP port
    env = platform.environment("inventory") | {"WEB_SERVER_ADDRESS": "0.0.0.0:8191"}
    log = open(platform.log_dir / "inventory-2.log", "ab")
    second = subprocess.Popen(
        [platform.nameko, "run", "--config", "services/inventory/config.yml", "inventory.service"],
        cwd=platform.root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        eventually(
            lambda: requests.get("http://127.0.0.1:8191/health", timeout=2).ok,
            timeout=60,
            what="the second inventory process",
        )
        world = register_world(api, ADMIN_KEY, skus=1, units=10)
        never_oversold_then_served_oldest_first(api, world)
    finally:
        second.terminate()
        try:
            second.wait(timeout=20)
        except subprocess.TimeoutExpired:
            second.kill()
            second.wait()
        log.close()
