"""Picking by scan: totes, units counted against their stop, refusals with stable codes,
short picks back to inventory, and the work a packer or supervisor sees."""

import itertools

import pytest

from gudang_common.errors import FloorRefusal
from gudang_common.events import new_event
from packing import catalog, floor, operations, picking

SCAN_IDS = itertools.count()


def product(repo, sku, barcode):
    event = new_event("sku_registered", merchant_id="mer_a", sku=sku, name=sku, barcode=barcode)
    catalog.remember_sku(repo, event)


def allocate(repo, order_id, lines, event_id=None):
    event = new_event(
        "order_allocated",
        merchant_id="mer_a",
        order_id=order_id,
        external_id=f"X-{order_id}",
        lines=[dict({"pick_sequence": 1, "lot": None}, **ln) for ln in lines],
    )
    operations.accept_allocation(repo, dict(event, event_id=event_id or event["event_id"]))
    return event


@pytest.fixture
def floor_list(repo):
    """Three orders: KAOS-02 x2 and x1 in bin A (two SKUs there), JAMU in two lots in bin B."""
    product(repo, "KAOS-02", "8991234567907")
    product(repo, "TOPI-01", "TOPI01-C128")
    product(repo, "JAMU", "8990000000017")
    allocate(
        repo,
        "o1",
        [{"sku": "KAOS-02", "qty": 2, "bin": "A"}, {"sku": "TOPI-01", "qty": 1, "bin": "A"}],
    )
    allocate(repo, "o2", [{"sku": "KAOS-02", "qty": 1, "bin": "A"}])
    allocate(
        repo,
        "o3",
        [
            {"sku": "JAMU", "qty": 1, "bin": "B", "pick_sequence": 2, "lot": "L1"},
            {"sku": "JAMU", "qty": 1, "bin": "B", "pick_sequence": 2, "lot": "L2"},
        ],
    )
    return operations.next_pick_list(repo, "stf_1", size=3)


def scan(repo, pl, code, qty=1, lot=None, scan_id=None, packer="stf_1"):
    data = {"code": code, "qty": qty, "lot": lot, "scan_id": scan_id or f"s{next(SCAN_IDS)}"}
    return picking.scan(repo, pl["pick_list_id"], packer, data)


def refused(code, fn, *args, **kw):
    with pytest.raises(FloorRefusal) as caught:
        fn(*args, **kw)
    assert caught.value.code == code, caught.value.args
    return caught.value


def with_totes(repo, pl):
    for n in (1, 2, 3):
        scan(repo, pl, f"TOTE-{n:03d}")


def test_totes_are_bound_by_scan_first_and_a_tote_holds_one_order(repo, floor_list):
    refused("TOTES_NOT_READY", scan, repo, floor_list, "A")
    refused("TOTE_INVALID", scan, repo, floor_list, "TOTE-ABC")
    assert scan(repo, floor_list, "tote-001")["order_id"] == "o1"
    assert scan(repo, floor_list, "TOTE-001")["order_id"] == "o1"  # scanned twice: same order
    allocate(repo, "o9", [{"sku": "KAOS-02", "qty": 1, "bin": "A"}])
    other = operations.next_pick_list(repo, "stf_2", size=3)
    refused("TOTE_BUSY", scan, repo, other, "TOTE-001", packer="stf_2")
    assert repo.get_task("o1")["tote"] == "TOTE-001"


def test_units_by_barcode_fill_the_orders_totes_and_a_bin_opens_one_stop(repo, floor_list):
    with_totes(repo, floor_list)
    refused("NO_BIN_SCANNED", scan, repo, floor_list, "8991234567907")
    opened = scan(repo, floor_list, "A")
    assert opened["kind"] == "bin"
    refused("WRONG_PRODUCT", scan, repo, floor_list, "TOPI01-C128")  # the other SKU in bin A
    refused("UNKNOWN_CODE", scan, repo, floor_list, "8990000000000")
    first = scan(repo, floor_list, "8991234567907", scan_id="k1")
    assert first["placed"] == [{"order_id": "o1", "tote": "TOTE-001", "qty": 1}]
    assert scan(repo, floor_list, "8991234567907", scan_id="k1")["repeated"]  # a retry
    refused("TOO_MANY_UNITS", scan, repo, floor_list, "KAOS-02", qty=3)
    rest = scan(repo, floor_list, "KAOS-02", qty=2)  # scan one, confirm the count
    assert rest["placed"] == [
        {"order_id": "o1", "tote": "TOTE-001", "qty": 1},
        {"order_id": "o2", "tote": "TOTE-002", "qty": 1},
    ]
    # the next SKU in the same bin opens by itself
    assert scan(repo, floor_list, "TOPI01-C128")["placed"][0]["tote"] == "TOTE-001"
    view = operations.next_pick_list(repo, "stf_1", size=3)
    assert [s["done"] for s in view["stops"]] == [True, True, False, False]
    assert view["units_scanned"] == 4 and view["units"] == 6


def test_two_lots_in_one_bin_are_two_stops_and_the_wrong_lot_is_refused(repo, floor_list):
    with_totes(repo, floor_list)
    scan(repo, floor_list, "B")
    refused("WRONG_LOT", scan, repo, floor_list, "JAMU", lot="L2")
    assert scan(repo, floor_list, "JAMU", lot="L1")["placed"][0]["tote"] == "TOTE-003"
    assert scan(repo, floor_list, "8990000000017")["stop_id"] != ""
    refused("BIN_DONE", scan, repo, floor_list, "B")


def test_a_list_is_confirmed_only_when_every_unit_is_scanned_or_short(repo, floor_list):
    with_totes(repo, floor_list)
    error = refused(
        "PICK_INCOMPLETE", picking.confirm_picked, repo, floor_list["pick_list_id"], "stf_1"
    )
    assert len(error.fields) == 4 and all(k.startswith("stops.") for k in error.fields)
    scan(repo, floor_list, "A")
    scan(repo, floor_list, "KAOS-02", qty=3)
    scan(repo, floor_list, "TOPI-01")
    scan(repo, floor_list, "B")
    scan(repo, floor_list, "JAMU")
    error = refused(
        "PICK_INCOMPLETE", picking.confirm_picked, repo, floor_list["pick_list_id"], "stf_1"
    )
    assert list(error.fields.values()) == [
        ["1 x JAMU in bin B (lot L2) not scanned or short-picked."]
    ]
    stop = [s for s in floor_list["stops"] if s.get("lot") == "L2"][0]
    done = picking.short_pick(
        repo,
        floor_list["pick_list_id"],
        "stf_1",
        {"stop_id": stop["stop_id"], "qty": 1, "reason": "not_in_bin"},
    )
    assert done["left_the_list"] == [{"order_id": "o3", "tote": "TOTE-003", "qty_missing": 1}]
    short = repo.get_task("o3")
    assert short["status"] == "short_picked"
    event = short["_outbox"][-1]
    assert event["type"] == "order_short_picked"
    assert {k: event["body"][k] for k in ("bin", "sku", "lot", "qty_missing", "reason")} == {
        "bin": "B",
        "sku": "JAMU",
        "lot": "L2",
        "qty_missing": 1,
        "reason": "not_in_bin",
    }
    view = picking.confirm_picked(repo, floor_list["pick_list_id"], "stf_1")
    assert [o["status"] for o in view["orders"]] == ["picked", "picked", "short_picked"]


def test_a_short_picked_order_comes_back_on_its_new_allocation_once(repo, floor_list):
    with_totes(repo, floor_list)
    first = repo.get_task("o2")["allocations"][0]
    stop = floor_list["stops"][0]
    picking.short_pick(
        repo,
        floor_list["pick_list_id"],
        "stf_1",
        {"stop_id": stop["stop_id"], "qty": 1, "reason": "damaged"},
    )
    assert repo.get_task("o2")["status"] == "short_picked"  # the last order of the stop misses it
    allocate(repo, "o2", [{"sku": "KAOS-02", "qty": 1, "bin": "C"}], event_id=first)  # redelivered
    assert repo.get_task("o2")["status"] == "short_picked"
    allocate(repo, "o2", [{"sku": "KAOS-02", "qty": 1, "bin": "C"}])
    task = repo.get_task("o2")
    assert task["status"] == "waiting" and task["lines"][0]["bin"] == "C" and "tote" not in task
    # its tote is free for another order
    allocate(repo, "o5", [{"sku": "KAOS-02", "qty": 1, "bin": "A"}])
    nxt = operations.next_pick_list(repo, "stf_2", size=3)
    assert scan(repo, nxt, "TOTE-002", packer="stf_2")["order_id"] == "o2"


def test_picked_orders_stay_visible_and_a_supervisor_can_hand_over_or_release(repo, floor_list):
    with_totes(repo, floor_list)
    floor_view = floor.floor(repo)
    assert floor_view["pick_lists"][0]["packer_id"] == "stf_1"
    assert [o["tote"] for o in floor_view["pick_lists"][0]["orders"]] == [
        "TOTE-001",
        "TOTE-002",
        "TOTE-003",
    ]
    floor.reassign(repo, floor_list["pick_list_id"], "stf_2")
    assert floor.my_work(repo, "stf_1")["pick_list"] is None
    mine = floor.my_work(repo, "stf_2")["pick_list"]
    assert mine["pick_list_id"] == floor_list["pick_list_id"] and mine["next_tote_for"] is None
    floor.release(repo, floor_list["pick_list_id"])
    assert repo.get_task("o1")["status"] == "waiting" and "tote" not in repo.get_task("o1")
    refused("PICK_LIST_CLOSED", picking.confirm_picked, repo, floor_list["pick_list_id"], "stf_2")
    assert floor.floor(repo)["pick_lists"] == []


def test_my_work_lists_what_i_picked_and_did_not_pack(repo, floor_list):
    with_totes(repo, floor_list)
    for code, qty in (("A", 1), ("KAOS-02", 3), ("TOPI-01", 1), ("B", 1), ("JAMU", 1), ("JAMU", 1)):
        scan(repo, floor_list, code, qty=qty)
    picking.confirm_picked(repo, floor_list["pick_list_id"], "stf_1")
    work = floor.my_work(repo, "stf_1")
    assert work["pick_list"] is None
    assert [(o["order_id"], o["tote"]) for o in work["picked"]] == [
        ("o1", "TOTE-001"),
        ("o2", "TOTE-002"),
        ("o3", "TOTE-003"),
    ]
    assert repo.task_in_tote("TOTE-002", ("picked",))["_id"] == "o2"
