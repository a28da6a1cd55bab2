"""Inventory's rules without I/O: reservation planning, quarantine arithmetic, receipts,
inspections and stock levels."""

from inventory.domain import (
    QUARANTINE,
    check_inspection,
    check_receipt,
    held_by,
    plan_reservation,
    receipt_discrepancies,
    stock_levels,
    takeable,
    units_change,
)

TODAY = "2026-11-24"


def stock(bin_code, available, seq, expiry=None, reservations=(), on_hand=None):
    return {
        "_id": f"mer_a:S:{bin_code}:{expiry}",
        "sku": "S",
        "bin": bin_code,
        "pick_sequence": seq,
        "expiry": expiry,
        "on_hand": available if on_hand is None else on_hand,
        "reserved": sum(r["qty"] for r in reservations),
        "available": available,
        "reservations": list(reservations),
    }


def test_a_reservation_plan_takes_the_earliest_expiry_first_then_the_pick_sequence():
    stocks = [
        stock("A", 5, 1, expiry="2027-01-01"),
        stock("B", 2, 2, expiry="2026-12-01"),
        stock("C", 9, 3),
        stock("D", 9, 0, expiry="2026-11-23"),  # expired yesterday
        stock(QUARANTINE, 9, 10**9),
    ]
    plan = plan_reservation(stocks, 8, "ord_1", TODAY)
    assert [(s["bin"], units) for s, units in plan] == [("B", 2), ("A", 5), ("C", 1)]
    assert sum(units for _, units in plan_reservation(stocks, 99, "ord_1", TODAY)) == 16


def test_a_reservation_plan_skips_stock_the_order_already_holds():
    held = stock("A", 3, 1, reservations=[{"order_id": "ord_1", "qty": 2}])
    stocks = [held, stock("B", 3, 2)]
    assert held_by(stocks, "ord_1") == [(held, 2)]
    assert [(s["bin"], n) for s, n in plan_reservation(stocks, 2, "ord_1", TODAY)] == [("B", 2)]


def test_quarantined_units_count_on_hand_but_are_never_available():
    assert units_change(QUARANTINE, 3) == {"on_hand": 3}
    assert units_change("A-01-01-1-01", -2) == {"on_hand": -2, "available": -2}
    assert (takeable(QUARANTINE), takeable("A-01-01-1-01")) == ("on_hand", "available")


def test_a_receipt_over_the_announcement_needs_a_reason_and_names_the_line():
    inbound = {"lines": [{"sku": "S", "qty": 5}], "received": []}
    skus = {"S": {"sku": "S"}}
    line = {"sku": "S", "lot": None, "expiry": None, "qty_good": 6, "qty_damaged": 0}
    accepted, _, errors = check_receipt(inbound, [line], skus, [("A-01-01-1-01", None)])
    assert accepted == [] and list(errors) == ["lines.0.over_reason"]
    line["over_reason"] = "one extra"
    accepted, received, errors = check_receipt(inbound, [line], skus, [("A-01-01-1-01", None)])
    assert errors == {} and accepted[0]["bin"] == "A-01-01-1-01"
    [row] = receipt_discrepancies(inbound["lines"], received)
    assert (row["over"], row["over_reasons"]) == (1, ["one extra"])


def test_a_receipt_line_for_an_unknown_bin_or_an_unannounced_sku_is_refused():
    inbound = {"lines": [{"sku": "S", "qty": 5}], "received": []}
    lines = [
        {"sku": "S", "lot": None, "expiry": None, "qty_good": 1, "qty_damaged": 0},
        {"sku": "T", "lot": None, "expiry": None, "qty_good": 1, "qty_damaged": 0},
    ]
    places = [(None, "Unknown bin."), ("A-01-01-1-01", None)]
    _, _, errors = check_receipt(inbound, lines, {"S": {}, "T": {}}, places)
    assert errors == {
        "lines.0.bin": ["Unknown bin."],
        "lines.1.sku": ["Not on this inbound; give an over_reason to accept it."],
    }


def test_an_inspection_accounts_for_every_unit_returned():
    returned = [{"sku": "S", "lot": None, "expiry": None, "bin": "A-01-01-1-01", "qty": 3}]
    good = [{"sku": "S", "qty_good": 2, "qty_damaged": 1}]
    lines, errors = check_inspection(returned, good, set())
    assert errors == {} and lines[0]["bin"] == "A-01-01-1-01"
    _, errors = check_inspection(returned, [dict(good[0], qty_damaged=0)], set())
    assert "lines" in errors
    _, errors = check_inspection(returned, good, {"A-01-01-1-01"})
    assert "lines.0.bin" in errors


def test_stock_levels_keep_quarantine_and_expired_units_out_of_available():
    stocks = [
        stock("A", 4, 1, reservations=[{"order_id": "o", "qty": 1}], on_hand=5),
        stock("B", 3, 2, expiry="2026-11-01"),
        dict(stock(QUARANTINE, 0, 10**9, on_hand=2)),
    ]
    [level] = stock_levels(stocks, [{"sku": "S", "low_stock_threshold": 4}], TODAY)
    assert (level["on_hand"], level["reserved"], level["available"]) == (8, 1, 4)
    assert (level["quarantined"], level["expired"], level["low_stock"]) == (2, 3, True)
