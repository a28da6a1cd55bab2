"""Inventory rules and reservations, on the embedded store the service runs on."""

import eventlet
import pytest
from inventory_samples import embedded_repository, sample_sku
from inventory_samples import order_received as order_event

from inventory import allocation, receiving, reports
from inventory.domain import (
    barcode_problem,
    ean13_check_digit,
    inbound_status,
    receipt_discrepancies,
)


@pytest.fixture
def repo(tmp_path):
    with embedded_repository(tmp_path) as repo:
        yield repo


def stock_up(repo, units, sku="SKU-1", merchant="mer_a", bins=(("A-01-01-1-01", 1),)):
    repo.add_sku(merchant, sample_sku(sku))
    for code, seq in bins:
        if repo.get_bin(code) is None:
            repo.add_bin({"code": code, "pick_sequence": seq})
    inbound = receiving.create_inbound(repo, merchant, {"lines": [{"sku": sku, "qty": units}]})
    per_bin = units // len(bins)
    lines = [{"sku": sku, "qty_good": per_bin, "qty_damaged": 0, "bin": code} for code, _ in bins]
    view = receiving.receive_inbound(repo, inbound["inbound_id"], {"lines": lines}, "stf_1")
    event = repo.get_inbound(view["inbound_id"])["_outbox"][-1]["body"]
    receiving.put_away(repo, event)
    return event


def levels(repo, sku="SKU-1", merchant="mer_a"):
    return {lvl["sku"]: lvl for lvl in reports.stock_levels(repo, merchant)}[sku]


def test_ean13_and_code128():
    assert ean13_check_digit("899123456789") == 1
    assert barcode_problem("8991234567891") is None
    assert barcode_problem("8991234567890") == "EAN-13 check digit is wrong."
    assert barcode_problem("BTK-001/M") is None
    assert barcode_problem("é") is not None


def test_discrepancies_show_short_and_over():
    lines = [{"sku": "A", "qty": 10}, {"sku": "B", "qty": 5}]
    got = receipt_discrepancies(
        lines,
        [
            {"sku": "A", "lot": None, "qty_good": 8, "qty_damaged": 1},
            {"sku": "B", "lot": None, "qty_good": 7, "qty_damaged": 0},
        ],
    )
    assert got[0]["short"] == 1 and got[0]["over"] == 0
    assert got[1]["short"] == 0 and got[1]["over"] == 2
    assert inbound_status(got) == "partially_received"


def test_fifty_concurrent_orders_for_ten_units_allocate_exactly_ten(repo, monkeypatch):
    stock_up(repo, 10)
    real_reserve = repo.try_reserve

    def yielding_reserve(*args):
        eventlet.sleep(0)  # let the other workers read the same stock before this write
        return real_reserve(*args)

    monkeypatch.setattr(repo, "try_reserve", yielding_reserve)
    pool = eventlet.GreenPool(20)  # the service's worker pool size
    results = list(
        pool.imap(
            lambda n: allocation.allocate_order(repo, order_event(n, [{"sku": "SKU-1", "qty": 1}])),
            range(50),
        )
    )
    assert results.count("allocated") == 10 and results.count("backordered") == 40
    level = levels(repo)
    assert (level["on_hand"], level["reserved"], level["available"]) == (10, 10, 0)


def test_backorders_are_allocated_oldest_first_when_stock_arrives(repo):
    stock_up(repo, 1)
    for n in range(4):
        allocation.allocate_order(repo, order_event(n, [{"sku": "SKU-1", "qty": 1}]))
    event = stock_up_more(repo, 2)
    assert allocation.allocate_backorders(repo, "mer_a", {"SKU-1"}) == 2
    statuses = [repo.get_allocation(f"ord_{n:04d}")["status"] for n in range(4)]
    assert statuses == ["allocated", "allocated", "allocated", "backordered"]
    assert event["units_good"] == 2


def stock_up_more(repo, units):
    inbound = receiving.create_inbound(repo, "mer_a", {"lines": [{"sku": "SKU-1", "qty": units}]})
    receiving.receive_inbound(
        repo,
        inbound["inbound_id"],
        {"lines": [{"sku": "SKU-1", "qty_good": units, "qty_damaged": 0, "bin": None}]},
        "stf_1",
    )
    event = repo.get_inbound(inbound["inbound_id"])["_outbox"][-1]["body"]
    receiving.put_away(repo, event)
    return event


def test_a_redelivered_receipt_puts_stock_away_once(repo):
    event = stock_up(repo, 7)
    receiving.put_away(repo, event)
    receiving.put_away(repo, event)
    assert levels(repo)["on_hand"] == 7


def test_an_order_spans_bins_in_pick_sequence_and_ships_out_once(repo):
    stock_up(repo, 6, bins=(("B-01-01-1-01", 2), ("A-01-01-1-01", 1)))
    order = order_event(1, [{"sku": "SKU-1", "qty": 4}])
    assert allocation.allocate_order(repo, order) == "allocated"
    lines = repo.get_allocation("ord_0001")["lines"]
    assert [(line["bin"], line["qty"]) for line in lines] == [
        ("A-01-01-1-01", 3),
        ("B-01-01-1-01", 1),
    ]
    packed = {"order_id": "ord_0001", "merchant_id": "mer_a"}
    allocation.ship_out(repo, packed)
    allocation.ship_out(repo, packed)  # a duplicate order_packed
    level = levels(repo)
    assert (level["on_hand"], level["reserved"], level["available"]) == (2, 0, 2)


def test_a_redelivered_order_is_not_reserved_twice(repo):
    stock_up(repo, 5)
    order = order_event(1, [{"sku": "SKU-1", "qty": 2}])
    allocation.allocate_order(repo, order)
    assert allocation.allocate_order(repo, order) == "duplicate"
    assert levels(repo)["reserved"] == 2


def test_a_crash_mid_allocation_is_finished_by_the_redelivery(repo):
    stock_up(repo, 5)
    order = order_event(1, [{"sku": "SKU-1", "qty": 2}])
    allocation.reserve_order(repo, order)  # reserved, then the process died before recording it
    assert allocation.allocate_order(repo, order) == "allocated"
    assert levels(repo)["reserved"] == 2


def test_unknown_skus_reject_the_order_and_other_merchants_skus_are_unknown(repo):
    stock_up(repo, 5, merchant="mer_b")
    assert (
        allocation.allocate_order(
            repo, order_event(1, [{"sku": "SKU-1", "qty": 1}], merchant="mer_a")
        )
        == "rejected"
    )
    assert levels(repo, merchant="mer_b")["reserved"] == 0


def test_cancel_releases_and_a_cancel_before_the_order_prevents_allocation(repo):
    stock_up(repo, 5)
    allocation.allocate_order(repo, order_event(1, [{"sku": "SKU-1", "qty": 2}]))
    allocation.cancel(repo, {"order_id": "ord_0001", "merchant_id": "mer_a"})
    assert levels(repo)["available"] == 5
    allocation.cancel(repo, {"order_id": "ord_0002", "merchant_id": "mer_a"})
    assert (
        allocation.allocate_order(repo, order_event(2, [{"sku": "SKU-1", "qty": 1}])) == "duplicate"
    )
    assert levels(repo)["available"] == 5


def test_received_stock_is_sellable_when_the_receipt_call_returns(repo):
    repo.add_sku(
        "mer_a",
        {
            "sku": "SKU-9",
            "name": "x",
            "barcode": "SKU-9",
            "weight_g": 1,
            "length_cm": 1,
            "width_cm": 1,
            "height_cm": 1,
        },
    )
    repo.add_bin({"code": "C-01-01-1-01", "pick_sequence": 9})
    inbound = receiving.create_inbound(repo, "mer_a", {"lines": [{"sku": "SKU-9", "qty": 3}]})
    line = {"sku": "SKU-9", "qty_good": 3, "qty_damaged": 0, "bin": "C-01-01-1-01"}
    receiving.receive_inbound(repo, inbound["inbound_id"], {"lines": [line]}, "stf_1")
    # no stock_received handler has run: the receipt itself put the units away
    assert levels(repo, sku="SKU-9")["available"] == 3
