"""Packing: pick lists from waiting orders, the pick walk, pack and cancel rules."""

import pytest

from gudang_common.errors import Conflict, NotFound
from gudang_common.events import new_event
from packing import catalog, operations, picking
from packing.domain import pick_walk

PACKAGE = {"weight_g": 700, "length_cm": 30, "width_cm": 20, "height_cm": 10, "box": None}


def allocated(repo, n, lines=None):
    event = new_event(
        "order_allocated",
        merchant_id="mer_a",
        order_id=f"ord_{n}",
        external_id=f"X-{n}",
        lines=lines or [{"sku": "S1", "qty": 1, "bin": "A-01-01-1-01", "pick_sequence": 1}],
    )
    operations.accept_allocation(repo, event)
    for line in event["lines"]:
        sku = new_event(
            "sku_registered",
            merchant_id="mer_a",
            sku=line["sku"],
            name=line["sku"],
            barcode=f"899{line['sku']}",
        )
        catalog.remember_sku(repo, sku)
    return event


def pick_all(repo, pick_list, packer="stf_1"):
    """Tote labels for every order, then every stop: its bin, then its units as one count."""
    list_id, n = pick_list["pick_list_id"], 0

    def scan(code, qty=1):
        nonlocal n
        n += 1
        data = {"code": code, "qty": qty, "lot": None, "scan_id": f"{list_id}-{n}"}
        return picking.scan(repo, list_id, packer, data)

    for i, _ in enumerate(pick_list["orders"]):
        scan(f"TOTE-{i + 1:03d}")
    for stop in pick_list["stops"]:
        scan(stop["bin"])
        scan(stop["sku"], stop["qty"])
    return picking.confirm_picked(repo, list_id, packer)


def outbox_types(repo, order_id):
    return [e["type"] for e in repo.get_task(order_id).get("_outbox", [])]


def test_pick_walk_merges_orders_per_bin_in_sequence():
    tasks = [
        {
            "_id": "o1",
            "lines": [
                {"sku": "S2", "qty": 1, "bin": "B", "pick_sequence": 5},
                {"sku": "S1", "qty": 2, "bin": "A", "pick_sequence": 1},
            ],
        },
        {"_id": "o2", "lines": [{"sku": "S1", "qty": 1, "bin": "A", "pick_sequence": 1}]},
    ]
    walk = pick_walk(tasks)
    assert [(s["bin"], s["sku"], s["qty"]) for s in walk] == [("A", "S1", 3), ("B", "S2", 1)]
    assert walk[0]["orders"] == [{"order_id": "o1", "qty": 2}, {"order_id": "o2", "qty": 1}]


def test_a_pick_list_takes_the_oldest_orders_and_no_order_is_in_two_lists(repo):
    for n in range(5):
        allocated(repo, n)
    first = operations.next_pick_list(repo, "stf_1", size=3)
    second = operations.next_pick_list(repo, "stf_2", size=3)
    ids1 = [o["order_id"] for o in first["orders"]]
    ids2 = [o["order_id"] for o in second["orders"]]
    assert ids1 == ["ord_0", "ord_1", "ord_2"] and ids2 == ["ord_3", "ord_4"]
    # asking again returns the packer's open list, not a new one
    assert operations.next_pick_list(repo, "stf_1", size=3)["pick_list_id"] == first["pick_list_id"]
    assert operations.next_pick_list(repo, "stf_3", size=3) is None


def test_pick_then_pack_once_with_one_event_each(repo):
    allocated(repo, 1)
    pick_list = operations.next_pick_list(repo, "stf_1", size=10)
    with pytest.raises(Conflict):
        operations.pack(repo, "ord_1", "stf_1", PACKAGE)  # not picked yet
    pick_all(repo, pick_list)
    picking.confirm_picked(repo, pick_list["pick_list_id"], "stf_1")
    operations.pack(repo, "ord_1", "stf_1", PACKAGE)
    operations.pack(repo, "ord_1", "stf_1", PACKAGE)  # a double tap
    assert outbox_types(repo, "ord_1") == ["order_picked", "order_packed"]


def test_another_packers_pick_list_is_not_yours(repo):
    allocated(repo, 1)
    pick_list = operations.next_pick_list(repo, "stf_1", size=10)
    with pytest.raises(NotFound):
        picking.confirm_picked(repo, pick_list["pick_list_id"], "stf_2")


def test_cancel_until_packed_only(repo):
    allocated(repo, 1)
    allocated(repo, 2)
    operations.cancel(repo, "mer_a", "ord_1", "buyer")
    assert outbox_types(repo, "ord_1") == ["order_cancelled"]
    pick_list = operations.next_pick_list(repo, "stf_1", size=10)
    assert [o["order_id"] for o in pick_list["orders"]] == ["ord_2"]
    pick_all(repo, pick_list)
    operations.pack(repo, "ord_2", "stf_1", PACKAGE)
    with pytest.raises(Conflict):
        operations.cancel(repo, "mer_a", "ord_2", "too late")
    with pytest.raises(NotFound):
        operations.cancel(repo, "mer_other", "ord_1", "not mine")


def test_a_cancel_before_allocation_leaves_a_tombstone(repo):
    operations.cancel(repo, "mer_a", "ord_9", "early")
    allocated(repo, 9)
    assert repo.get_task("ord_9")["status"] == "cancelled"
    assert operations.next_pick_list(repo, "stf_1", size=10) is None


def test_two_lots_in_one_bin_are_two_stops_so_the_packer_takes_the_right_one():
    lines = [
        {
            "sku": "JAMU",
            "qty": 1,
            "bin": "A",
            "pick_sequence": 1,
            "lot": "L2",
            "expiry": "2027-01-01",
        },
        {
            "sku": "JAMU",
            "qty": 2,
            "bin": "A",
            "pick_sequence": 1,
            "lot": "L1",
            "expiry": "2026-12-01",
        },
    ]
    walk = pick_walk([{"_id": "o1", "lines": lines}])
    assert [(s["lot"], s["qty"]) for s in walk] == [("L1", 2), ("L2", 1)]


def test_a_picked_list_is_done_and_the_next_one_takes_the_next_orders(repo):
    allocated(repo, 0)
    allocated(repo, 1)
    first = operations.next_pick_list(repo, "stf_1", size=1)
    pick_all(repo, first)
    second = operations.next_pick_list(repo, "stf_1", size=1)
    assert second["pick_list_id"] != first["pick_list_id"]
    assert [o["order_id"] for o in second["orders"]] == ["ord_1"]


def test_a_pick_list_walks_its_stops_in_route_order_and_says_how_far(repo):
    # hand-set sequences that would send the picker to the far aisle first
    allocated(repo, 1, [{"sku": "FAR", "qty": 1, "bin": "A-05-01-1-01", "pick_sequence": 1}])
    allocated(repo, 2, [{"sku": "NEAR", "qty": 2, "bin": "A-01-01-1-01", "pick_sequence": 9}])
    # the default floor: the pack station 3 m in front of aisle 1, aisles 3 m apart
    pick_list = operations.next_pick_list(repo, "stf_1", size=10)
    assert [(s["sku"], s["qty"], s["x_m"]) for s in pick_list["stops"]] == [
        ("NEAR", 2, 0.0),
        ("FAR", 1, 12.0),
    ]
    # 3 + 1.25 in, 1.25 + 12 + 1.25 across the front, 1.25 + 12 + 3 home
    assert pick_list["walking_distance_m"] == 35.0
    # the list read again (after a reload, on another tablet) walks the same metres
    again = picking.view_of(repo, repo.get_list(pick_list["pick_list_id"]))
    assert again["walking_distance_m"] == 35.0


def test_an_idle_packer_asking_for_work_writes_nothing(repo):
    for _ in range(3):
        assert operations.next_pick_list(repo, "stf_1", 10) is None
    assert repo.db.pick_lists.count_documents({}) == 0
    allocated(repo, 1)
    pick_list = operations.next_pick_list(repo, "stf_1", 10)
    assert [o["order_id"] for o in pick_list["orders"]] == ["ord_1"]
    assert operations.next_pick_list(repo, "stf_1", 10)["pick_list_id"] == pick_list["pick_list_id"]
    assert operations.next_pick_list(repo, "stf_2", 10) is None  # the only order is taken
    assert repo.db.pick_lists.count_documents({}) == 1
