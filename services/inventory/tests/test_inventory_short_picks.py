"""Short picks: the missing units are held for the bin's count, the order is allocated
again from other stock or backordered, once per short pick, and the ledger stays exact."""

import pytest
from inventory_samples import embedded_repository
from inventory_samples import order_received as order
from test_inventory_stock import BIN_A, BIN_B, add_sku, ledger_matches, receive

from gudang_common.events import new_event
from inventory import allocation, short_picks, staff_changes


@pytest.fixture
def repo(tmp_path):
    """Two bins of one SKU, A walked before B."""
    with embedded_repository(tmp_path) as repo:
        for n, code in enumerate((BIN_A, BIN_B)):
            repo.add_bin({"code": code, "pick_sequence": n + 1})
        yield repo


def short_picked(order_id="ord_0001", qty=1, bin_code=BIN_A):
    return new_event(
        "order_short_picked",
        merchant_id="mer_a",
        order_id=order_id,
        pick_list_id="pl_1",
        packer_id="stf_1",
        bin=bin_code,
        sku="SKU-1",
        lot=None,
        qty_missing=qty,
        reason="not_in_bin",
    )


def outbox(repo, order_id="ord_0001"):
    return list(repo.get_allocation(order_id).get("_outbox", []))


def stock_in(repo, bin_code):
    return next(d for d in repo.db.stock.find({"bin": bin_code}))


def test_a_short_pick_holds_the_missing_units_and_allocates_again_from_another_bin(repo):
    add_sku(repo)
    receive(
        repo, [{"sku": "SKU-1", "qty": 2, "bin": BIN_A}, {"sku": "SKU-1", "qty": 2, "bin": BIN_B}]
    )
    allocation.allocate_order(repo, order(1, [{"sku": "SKU-1", "qty": 2}]))
    event = short_picked()
    assert short_picks.record_short_pick(repo, event) == "allocated"
    assert short_picks.record_short_pick(repo, event) == "allocated"  # a redelivery
    types = [e["type"] for e in outbox(repo)]
    assert types == ["order_allocated", "order_backordered", "order_allocated"]
    again = outbox(repo)[-1]["body"]
    assert sorted((ln["bin"], ln["qty"]) for ln in again["lines"]) == [(BIN_A, 1), (BIN_B, 1)]
    a = stock_in(repo, BIN_A)
    assert (a["on_hand"], a["reserved"], a["available"]) == (2, 2, 0)  # 1 for the order, 1 held
    assert ledger_matches(repo)
    # the count finds one unit: the hold is settled, the order keeps its unit
    count = {"bin": BIN_A, "lines": [{"merchant_id": "mer_a", "sku": "SKU-1", "counted": 1}]}
    assert staff_changes.cycle_count(repo, count, "stf_2")["lines"][0]["difference"] == -1
    a = stock_in(repo, BIN_A)
    assert (a["on_hand"], a["reserved"], a["available"]) == (1, 1, 0)
    assert ledger_matches(repo)


def test_a_short_pick_with_no_other_stock_backorders_the_order_until_stock_arrives(repo):
    add_sku(repo)
    receive(repo, [{"sku": "SKU-1", "qty": 2, "bin": BIN_A}])
    allocation.allocate_order(repo, order(1, [{"sku": "SKU-1", "qty": 2}]))
    assert short_picks.record_short_pick(repo, short_picked(qty=2)) == "backordered"
    a = stock_in(repo, BIN_A)
    assert (a["on_hand"], a["reserved"], a["available"]) == (2, 2, 0)  # all held for the count
    # nobody else gets the units that are not there
    assert allocation.allocate_order(repo, order(2, [{"sku": "SKU-1", "qty": 1}])) == "backordered"
    receive(repo, [{"sku": "SKU-1", "qty": 2, "bin": BIN_B}])
    allocation.allocate_backorders(repo, "mer_a", {"SKU-1"})
    assert repo.get_allocation("ord_0001")["status"] == "allocated"  # the older order first
    assert repo.get_allocation("ord_0002")["status"] == "backordered"
    assert ledger_matches(repo)
