"""Lots and FEFO, receiving discrepancies, quarantine, returns, adjustments, counts, moves,
low stock, tenant isolation and the movement ledger, on the embedded store."""

from datetime import UTC, date, datetime, timedelta

import pytest
from inventory_samples import embedded_repository, ledger_matches, sample_sku
from inventory_samples import order_received as order
from marshmallow import ValidationError

from gudang_common.clock import today_wib
from gudang_common.errors import Conflict, NotFound, Unprocessable, ValidationFailed
from gudang_common.events import new_event
from gudang_common.store import OUTBOX
from inventory import allocation, ledger, receiving, reports, returns, staff_changes
from inventory.domain import QUARANTINE, is_expired
from inventory.schemas import BinSchema, BinUpdateSchema, InboundSchema, ReceiveSchema, SkuSchema
from tests.sample_events import outcome_corrected

BIN_A, BIN_B = "A-01-01-1-01", "B-01-01-1-01"


@pytest.fixture
def repo(tmp_path):
    with embedded_repository(tmp_path) as repo:
        repo.add_bin({"code": BIN_A, "pick_sequence": 1})
        repo.add_bin({"code": BIN_B, "pick_sequence": 2})
        yield repo


def add_sku(repo, sku="SKU-1", merchant="mer_a", **extra):
    data = SkuSchema().load(sample_sku(sku, **extra))
    return repo.add_sku(merchant, data)


def receive(repo, lines, merchant="mer_a", receive_lines=None):
    """Announce `lines`, receive them (or `receive_lines`), put away; returns the inbound id."""
    announced = [{k: v for k, v in line.items() if k != "bin"} for line in lines]
    inbound = receiving.create_inbound(repo, merchant, InboundSchema().load({"lines": announced}))
    if receive_lines is None:
        receive_lines = [
            {
                "sku": line["sku"],
                "qty_good": line["qty"],
                "qty_damaged": 0,
                "bin": line.get("bin", BIN_A),
                "lot": line.get("lot"),
            }
            for line in lines
        ]
    body = ReceiveSchema().load(
        {"lines": [{k: v for k, v in line.items() if v is not None} for line in receive_lines]}
    )
    receiving.receive_inbound(repo, inbound["inbound_id"], body, "stf_1")
    event = repo.get_inbound(inbound["inbound_id"])[OUTBOX][-1]["body"]
    receiving.put_away(repo, event)
    return inbound["inbound_id"]


def level(repo, sku="SKU-1", merchant="mer_a"):
    return {lvl["sku"]: lvl for lvl in reports.stock_levels(repo, merchant)}[sku]


def days(n):
    return (date.fromisoformat(today_wib()) + timedelta(days=n)).isoformat()


# --- lots, expiry, FEFO ------------------------------------------------------------


def test_expiry_is_judged_by_the_date_in_wib():
    late_evening_utc = datetime(2026, 11, 23, 17, 30, tzinfo=UTC)  # 00:30 on the 24th in WIB
    assert today_wib(late_evening_utc) == "2026-11-24"
    assert is_expired("2026-11-23", "2026-11-24")
    assert not is_expired("2026-11-24", "2026-11-24")  # good through its expiry date
    assert not is_expired(None, "2026-11-24")


def test_fefo_allocates_the_lot_expiring_first_even_from_a_later_bin(repo):
    add_sku(repo, tracks_lots=True)
    receive(
        repo,
        [
            {"sku": "SKU-1", "qty": 3, "lot": "LATE", "expiry": days(90), "bin": BIN_A},
            {"sku": "SKU-1", "qty": 3, "lot": "SOON", "expiry": days(10), "bin": BIN_B},
        ],
    )
    assert allocation.allocate_order(repo, order(1, [{"sku": "SKU-1", "qty": 4}])) == "allocated"
    lines = repo.get_allocation("ord_0001")["lines"]
    assert sorted((line["lot"], line["qty"]) for line in lines) == [("LATE", 1), ("SOON", 3)]
    stock = level(repo)
    assert stock["nearest_expiry"] == days(10) and stock["available"] == 2


def test_an_expired_lot_is_never_allocated(repo):
    add_sku(repo, tracks_lots=True)
    receive(repo, [{"sku": "SKU-1", "qty": 5, "lot": "OLD", "expiry": days(-1)}])
    assert allocation.allocate_order(repo, order(1, [{"sku": "SKU-1", "qty": 1}])) == "backordered"
    stock = level(repo)
    assert (stock["on_hand"], stock["expired"], stock["available"], stock["reserved"]) == (
        5,
        5,
        0,
        0,
    )


def test_a_lot_tracked_inbound_must_name_lot_and_expiry_and_nothing_is_stored(repo):
    add_sku(repo, tracks_lots=True)
    add_sku(repo, sku="PLAIN")
    with pytest.raises(ValidationFailed) as err:
        receiving.create_inbound(
            repo,
            "mer_a",
            InboundSchema().load(
                {"lines": [{"sku": "SKU-1", "qty": 1}, {"sku": "PLAIN", "qty": 1, "lot": "L1"}]}
            ),
        )
    assert {"lines.0.lot", "lines.0.expiry", "lines.1.lot"} <= set(err.value.fields)
    assert repo.list_inbounds("mer_a") == ([], None)


# --- receiving --------------------------------------------------------------------


def test_receiving_more_than_announced_needs_an_over_reason_and_changes_nothing(repo):
    add_sku(repo)
    inbound = receiving.create_inbound(repo, "mer_a", {"lines": [{"sku": "SKU-1", "qty": 5}]})
    line = {"sku": "SKU-1", "qty_good": 6, "qty_damaged": 0, "bin": BIN_A}
    with pytest.raises(ValidationFailed) as err:
        receiving.receive_inbound(repo, inbound["inbound_id"], {"lines": [line]}, "stf_1")
    assert "lines.0.over_reason" in err.value.fields
    assert repo.get_inbound(inbound["inbound_id"])["receipts"] == []
    view = receiving.receive_inbound(
        repo,
        inbound["inbound_id"],
        {"lines": [dict(line, over_reason="supplier sent one extra")]},
        "stf_1",
    )
    assert view["discrepancies"][0]["over"] == 1
    assert view["discrepancies"][0]["over_reasons"] == ["supplier sent one extra"]


def test_damaged_units_go_to_quarantine_and_are_never_sellable(repo):
    add_sku(repo)
    receive(
        repo,
        [{"sku": "SKU-1", "qty": 5}],
        receive_lines=[{"sku": "SKU-1", "qty_good": 3, "qty_damaged": 2, "bin": BIN_A}],
    )
    stock = level(repo)
    assert (stock["on_hand"], stock["available"], stock["quarantined"]) == (3, 3, 2)
    assert allocation.allocate_order(repo, order(1, [{"sku": "SKU-1", "qty": 4}])) == "backordered"
    assert ledger_matches(repo)


def test_a_partial_receipt_shows_short_until_the_rest_arrives(repo):
    add_sku(repo)
    inbound = receiving.create_inbound(repo, "mer_a", {"lines": [{"sku": "SKU-1", "qty": 10}]})
    part = {"sku": "SKU-1", "qty_good": 4, "qty_damaged": 0, "bin": BIN_A}
    view = receiving.receive_inbound(repo, inbound["inbound_id"], {"lines": [part]}, "stf_1")
    assert view["status"] == "partially_received" and view["discrepancies"][0]["short"] == 6
    view = receiving.receive_inbound(
        repo, inbound["inbound_id"], {"lines": [dict(part, qty_good=6)]}, "stf_1"
    )
    assert view["status"] == "received" and view["discrepancies"][0]["short"] == 0


# --- orders: queue, duplicates -----------------------------------------------------


def test_a_new_order_does_not_jump_older_backorders(repo):
    add_sku(repo)
    assert allocation.allocate_order(repo, order(1, [{"sku": "SKU-1", "qty": 5}])) == "backordered"
    receive(repo, [{"sku": "SKU-1", "qty": 2}])
    allocation.allocate_backorders(repo, "mer_a", {"SKU-1"})
    # two units are free, but the older order waits for them
    assert allocation.allocate_order(repo, order(2, [{"sku": "SKU-1", "qty": 1}])) == "backordered"
    assert level(repo)["available"] == 2
    receive(repo, [{"sku": "SKU-1", "qty": 4}])
    assert allocation.allocate_backorders(repo, "mer_a", {"SKU-1"}) == 2
    assert repo.get_allocation("ord_0001")["status"] == "allocated"
    assert repo.get_allocation("ord_0002")["status"] == "allocated"


def test_a_duplicate_order_packed_takes_stock_out_once(repo):
    add_sku(repo)
    receive(repo, [{"sku": "SKU-1", "qty": 5}])
    allocation.allocate_order(repo, order(1, [{"sku": "SKU-1", "qty": 2}]))
    packed = {"order_id": "ord_0001", "merchant_id": "mer_a"}
    allocation.ship_out(repo, packed)
    allocation.ship_out(repo, packed)
    assert (level(repo)["on_hand"], level(repo)["reserved"]) == (3, 0)
    picks = reports.movements(repo, "mer_a", {"type": "pick"}, 100)[0]
    assert [m["qty"] for m in picks] == [-2]
    assert ledger_matches(repo)


# --- returns ----------------------------------------------------------------------


def returned(order_id="ord_0001"):
    return new_event(
        "parcel_returned",
        merchant_id="mer_a",
        order_id=order_id,
        awb="JN0001",
        courier="jne",
        courier_status="returned",
    )


def packed_order(repo, qty=3):
    add_sku(repo)
    receive(repo, [{"sku": "SKU-1", "qty": 5}])
    allocation.allocate_order(repo, order(1, [{"sku": "SKU-1", "qty": qty}]))
    allocation.ship_out(repo, {"order_id": "ord_0001", "merchant_id": "mer_a"})


def test_a_returned_parcel_is_inspected_good_to_a_bin_damaged_to_quarantine_once(repo):
    packed_order(repo)
    event = returned()
    assert returns.open_return(repo, event) is True
    assert returns.open_return(repo, event) is False  # duplicate parcel_returned
    [ret], _ = repo.list_returns("mer_a")
    assert ret["status"] == "awaiting_inspection" and ret["lines"][0]["qty"] == 3
    body = {"lines": [{"sku": "SKU-1", "qty_good": 2, "qty_damaged": 1, "bin": BIN_B}]}
    view = returns.inspect_return(repo, ret["_id"], body, "stf_1")
    assert view["status"] == "inspected"
    assert returns.inspect_return(repo, ret["_id"], body, "stf_1") == view  # resent
    inspected = repo.get_return(ret["_id"])[OUTBOX][-1]["body"]
    returns.restock_return(repo, inspected)
    returns.restock_return(repo, inspected)  # duplicate return_inspected
    stock = level(repo)
    assert (stock["on_hand"], stock["available"], stock["quarantined"]) == (4, 4, 1)
    with pytest.raises(Conflict):
        other = {"lines": [{"sku": "SKU-1", "qty_good": 3, "qty_damaged": 0, "bin": BIN_B}]}
        returns.inspect_return(repo, ret["_id"], other, "stf_1")
    assert ledger_matches(repo)


def test_an_inspection_must_account_for_every_unit_and_changes_nothing_otherwise(repo):
    packed_order(repo)
    returns.open_return(repo, returned())
    [ret], _ = repo.list_returns("mer_a")
    short = {"lines": [{"sku": "SKU-1", "qty_good": 1, "qty_damaged": 0}]}
    with pytest.raises(ValidationFailed) as err:
        returns.inspect_return(repo, ret["_id"], short, "stf_1")
    assert "lines" in err.value.fields
    bad_bin = {"lines": [{"sku": "SKU-1", "qty_good": 3, "qty_damaged": 0, "bin": "Z-09-09-9-09"}]}
    with pytest.raises(ValidationFailed) as err:
        returns.inspect_return(repo, ret["_id"], bad_bin, "stf_1")
    assert "lines.0.bin" in err.value.fields
    assert repo.get_return(ret["_id"])["status"] == "awaiting_inspection"


# --- staff: adjustments, counts, moves ---------------------------------------------


def adjustment(qty, **kw):
    return {
        "merchant_id": "mer_a",
        "sku": "SKU-1",
        "bin": BIN_A,
        "qty": qty,
        "reason": "lost",
        "note": "",
    } | kw


def test_adjustments_need_units_to_take_and_never_touch_reserved_units(repo):
    add_sku(repo)
    receive(repo, [{"sku": "SKU-1", "qty": 5}])
    allocation.allocate_order(repo, order(1, [{"sku": "SKU-1", "qty": 3}]))
    with pytest.raises(Unprocessable) as err:
        staff_changes.adjust_stock(repo, adjustment(-3), "stf_1")
    assert "qty" in err.value.fields
    assert level(repo)["on_hand"] == 5
    view = staff_changes.adjust_stock(repo, adjustment(-2), "stf_1")
    assert (view["on_hand"], view["available"], view["reserved"]) == (3, 0, 3)
    staff_changes.adjust_stock(repo, adjustment(4, reason="found", bin=BIN_B), "stf_1")
    assert level(repo)["on_hand"] == 7
    [found] = reports.movements(repo, "mer_a", {"type": "adjust", "bin": BIN_B}, 10)[0]
    assert found["reason"] == "found" and found["by"] == "stf_1"
    assert ledger_matches(repo)


def test_a_cycle_count_sets_on_hand_and_records_the_difference(repo):
    add_sku(repo)
    receive(repo, [{"sku": "SKU-1", "qty": 5}])
    allocation.allocate_order(repo, order(1, [{"sku": "SKU-1", "qty": 2}]))
    count = {"bin": BIN_A, "lines": [{"merchant_id": "mer_a", "sku": "SKU-1", "counted": 1}]}
    with pytest.raises(ValidationFailed) as err:
        staff_changes.cycle_count(repo, count, "stf_1")
    assert "lines.0.counted" in err.value.fields
    count["lines"][0]["counted"] = 4
    result = staff_changes.cycle_count(repo, count, "stf_1")
    assert result["lines"][0]["difference"] == -1
    assert (level(repo)["on_hand"], level(repo)["available"]) == (4, 2)
    assert ledger_matches(repo)


def test_moves_put_away_and_quarantine_and_survive_a_crash_before_landing(repo, monkeypatch):
    add_sku(repo)
    receive(repo, [{"sku": "SKU-1", "qty": 5}])
    move = {"merchant_id": "mer_a", "sku": "SKU-1", "from_bin": BIN_A, "qty": 2}
    staff_changes.move_stock(repo, move | {"to_bin": BIN_B}, "stf_1")
    staff_changes.move_stock(repo, move | {"to_bin": QUARANTINE, "qty": 1}, "stf_1")
    assert (level(repo)["on_hand"], level(repo)["quarantined"]) == (4, 1)
    # the process dies right after taking units out, before the ledger copy and landing
    real_flush = repo.flush_movements
    monkeypatch.setattr(repo, "flush_movements", lambda sid, doc=None: 0)
    monkeypatch.setattr(staff_changes, "land_moves", lambda repo, sid: 0)
    staff_changes.move_stock(repo, move | {"to_bin": BIN_B}, "stf_1")
    monkeypatch.setattr(repo, "flush_movements", real_flush)
    assert level(repo)["on_hand"] == 2  # in flight
    ledger.finish_pending(repo)
    ledger.finish_pending(repo)
    assert level(repo)["on_hand"] == 4
    with pytest.raises(Unprocessable):
        staff_changes.move_stock(repo, move | {"to_bin": BIN_B, "qty": 99}, "stf_1")
    assert ledger_matches(repo)


# --- low stock --------------------------------------------------------------------


def low_events(repo, sku="SKU-1", merchant="mer_a"):
    doc = repo.db.skus.find_one({"_id": f"{merchant}:{sku}"})
    return [e["body"] for e in doc.get(OUTBOX, []) if e["type"] == "stock_low"]


def test_stock_low_is_emitted_once_per_crossing(repo):
    add_sku(repo, low_stock_threshold=3)
    receive(repo, [{"sku": "SKU-1", "qty": 6}])
    assert low_events(repo) == []
    for n in range(5):
        allocation.allocate_order(repo, order(n, [{"sku": "SKU-1", "qty": 1}]))
    events = low_events(repo)
    assert len(events) == 1 and events[0]["available"] == 3 and events[0]["threshold"] == 3
    receive(repo, [{"sku": "SKU-1", "qty": 10}])  # back above: the next fall alerts again
    for n in range(5, 14):
        allocation.allocate_order(repo, order(n, [{"sku": "SKU-1", "qty": 1}]))
    assert len(low_events(repo)) == 2
    assert level(repo)["low_stock"] is True


# --- tenants ----------------------------------------------------------------------


def test_merchants_see_and_change_only_their_own_skus_stock_and_movements(repo):
    add_sku(repo, merchant="mer_b")
    receive(repo, [{"sku": "SKU-1", "qty": 5}], merchant="mer_b")
    with pytest.raises(NotFound):
        repo.get_sku("mer_a", "SKU-1")
    with pytest.raises(NotFound):
        repo.update_sku("mer_a", "SKU-1", {"name": "mine now"})
    assert reports.stock_levels(repo, "mer_a") == []
    assert reports.movements(repo, "mer_a", {}, 100)[0] == []
    assert len(reports.movements(repo, "mer_b", {}, 100)[0]) == 1
    with pytest.raises(Unprocessable):
        staff_changes.adjust_stock(repo, adjustment(-1), "stf_1")  # mer_a has no SKU-1
    assert allocation.allocate_order(repo, order(1, [{"sku": "SKU-1", "qty": 1}])) == "rejected"
    assert level(repo, merchant="mer_b")["available"] == 5


# --- reports ----------------------------------------------------------------------


def test_slow_moving_report_counts_days_in_storage(repo):
    add_sku(repo)
    add_sku(repo, sku="SKU-2")
    receive(repo, [{"sku": "SKU-1", "qty": 5}, {"sku": "SKU-2", "qty": 5}])
    allocation.allocate_order(repo, order(1, [{"sku": "SKU-2", "qty": 1}]))
    allocation.ship_out(repo, {"order_id": "ord_0001", "merchant_id": "mer_a"})
    later = days(45)
    report = reports.slow_moving_report(repo, "mer_a", 30, today=later)
    rows = {r["sku"]: r for r in report["skus"]}
    assert rows["SKU-1"]["days_in_storage"] == 45 and rows["SKU-1"]["unit_days"] == 225
    assert rows["SKU-1"]["slow"] is True and rows["SKU-2"]["units"] == 4


def test_stock_csv_has_a_header_and_one_row_per_sku(repo):
    add_sku(repo)
    receive(repo, [{"sku": "SKU-1", "qty": 5}])
    text = reports.stock_csv(reports.stock_levels(repo, "mer_a"))
    rows = text.strip().split("\r\n")
    assert rows[0].startswith("sku,on_hand,reserved,available,quarantined")
    assert rows[1].startswith("SKU-1,5,0,5,0")


def test_concurrent_backorder_passes_never_release_a_winners_reservation(repo, monkeypatch):
    import eventlet

    add_sku(repo)
    for n in range(12):
        allocation.allocate_order(repo, order(n, [{"sku": "SKU-1", "qty": 2}]))
    # stock arrives in two bins, then several workers walk the queue at once, switching
    # between each other at every reservation
    repo.add_units("mer_a", "SKU-1", repo.get_bin(BIN_A), 9, "rcp_a", "receive")
    repo.add_units("mer_a", "SKU-1", repo.get_bin(BIN_B), 8, "rcp_b", "receive")
    real_reserve = repo.try_reserve

    def yielding_reserve(*args):
        eventlet.sleep(0)
        return real_reserve(*args)

    monkeypatch.setattr(repo, "try_reserve", yielding_reserve)
    pool = eventlet.GreenPool(6)
    list(pool.imap(lambda _: allocation.allocate_backorders(repo, "mer_a", {"SKU-1"}), range(6)))
    allocated = [repo.get_allocation(f"ord_{n:04d}") for n in range(12)]
    statuses = [a["status"] for a in allocated]
    assert statuses == ["allocated"] * 8 + ["backordered"] * 4  # oldest first
    for alloc in allocated:
        held = sum(q for _, q in repo.reservations_of("mer_a", "SKU-1", alloc["_id"]))
        assert held == (2 if alloc["status"] == "allocated" else 0), alloc["_id"]
    assert level(repo)["reserved"] == 16
    assert ledger_matches(repo)


def test_movements_filter_by_type_sku_and_time_window(repo):
    from inventory.schemas import MovementQuerySchema

    add_sku(repo)
    receive(repo, [{"sku": "SKU-1", "qty": 5}])
    allocation.allocate_order(repo, order(1, [{"sku": "SKU-1", "qty": 2}]))
    query = MovementQuerySchema().load({"sku": "SKU-1", "since": "2000-01-01T00:00:00Z"})
    query.pop("limit")
    found = reports.movements(repo, "mer_a", query, 10)[0]
    assert sorted(m["type"] for m in found) == ["receive", "reserve"]
    query = MovementQuerySchema().load({"until": "2000-01-01T00:00:00+07:00"})
    query.pop("limit")
    assert reports.movements(repo, "mer_a", query, 10)[0] == []
    with pytest.raises(ValidationError):
        MovementQuerySchema().load({"since": "yesterday"})


def test_renumbering_a_bin_changes_where_orders_are_picked_from(repo):
    add_sku(repo)
    receive(repo, [{"sku": "SKU-1", "qty": 2, "bin": BIN_A}])
    receive(repo, [{"sku": "SKU-1", "qty": 2, "bin": BIN_B}])
    repo.update_bin(BIN_B, {"pick_sequence": 0})  # B is now walked first
    allocation.allocate_order(repo, order(1, [{"sku": "SKU-1", "qty": 1}]))
    assert repo.get_allocation("ord_0001")["lines"][0]["bin"] == BIN_B
    with pytest.raises(NotFound):
        repo.update_bin("Z-09-09-9-09", {"pick_sequence": 1})


def test_ops_place_a_bin_on_the_floor_and_the_allocated_lines_say_where(repo):
    add_sku(repo)
    receive(repo, [{"sku": "SKU-1", "qty": 2, "bin": BIN_A}])
    receive(repo, [{"sku": "SKU-1", "qty": 2, "bin": BIN_B}])
    placed = repo.update_bin(BIN_B, BinUpdateSchema().load({"x_m": 12.5, "y_m": 4}))
    assert (placed["x_m"], placed["y_m"], placed["pick_sequence"]) == (12.5, 4.0, 2)
    allocation.allocate_order(repo, order(1, [{"sku": "SKU-1", "qty": 3}]))
    event = repo.get_allocation("ord_0001")["_outbox"][-1]["body"]
    where = {line["bin"]: (line["x_m"], line["y_m"]) for line in event["lines"]}
    # an unplaced bin goes without: packing places it by its code
    assert where == {BIN_A: (None, None), BIN_B: (12.5, 4.0)}
    repo.update_bin(BIN_B, BinUpdateSchema().load({"x_m": None, "y_m": None}))
    assert repo.bin_coordinates({BIN_A, BIN_B}) == {}


@pytest.mark.parametrize(
    "body, field",
    [
        ({"x_m": 3.0}, "y_m"),  # one coordinate without the other
        ({"x_m": None, "y_m": 2}, "x_m"),
        ({"x_m": "3", "y_m": 2}, "x_m"),  # text is not a number
        ({"x_m": True, "y_m": 2}, "x_m"),
        ({"x_m": -1, "y_m": 2}, "x_m"),
        ({"x_m": 1, "y_m": 10_001}, "y_m"),
        ({}, "pick_sequence"),  # nothing to change
    ],
)
def test_a_bin_update_names_the_coordinate_that_is_wrong(body, field):
    with pytest.raises(ValidationError) as err:
        BinUpdateSchema().load(body)
    assert list(err.value.messages) == [field]


def test_a_new_bin_may_come_with_its_coordinates_or_without():
    bare = BinSchema().load({"code": BIN_A, "pick_sequence": 1})
    assert (bare["x_m"], bare["y_m"]) == (None, None)
    placed = BinSchema().load({"code": BIN_A, "pick_sequence": 1, "x_m": 0, "y_m": 1.5})
    assert (placed["x_m"], placed["y_m"]) == (0, 1.5)
    with pytest.raises(ValidationError):
        BinSchema().load({"code": BIN_A, "pick_sequence": 1, "y_m": 1.5})


def test_a_concurrent_duplicate_order_that_comes_up_short_keeps_the_winners_reservation(
    repo, monkeypatch
):
    add_sku(repo)
    repo.add_units("mer_a", "SKU-1", repo.get_bin(BIN_A), 1, "rcp_a", "receive")
    repo.add_units("mer_a", "SKU-1", repo.get_bin(BIN_B), 2, "rcp_b", "receive")
    event = order(1, [{"sku": "SKU-1", "qty": 3}])
    real_reserve = repo.try_reserve
    interleaved = []

    def reserve_then_let_the_duplicate_run(*args):
        done = real_reserve(*args)
        if not interleaved:  # right after the first delivery's first reservation
            interleaved.append("running")
            interleaved[0] = allocation.allocate_order(repo, event)
        return done

    monkeypatch.setattr(repo, "try_reserve", reserve_then_let_the_duplicate_run)
    first = allocation.allocate_order(repo, event)
    assert interleaved == ["allocated"] and first == "backordered"  # it came up short
    assert repo.get_allocation("ord_0001")["status"] == "allocated"
    held = sum(q for _, q in repo.reservations_of("mer_a", "SKU-1", "ord_0001"))
    assert held == 3 and level(repo)["reserved"] == 3
    assert ledger_matches(repo)


def test_a_new_sku_and_its_sku_registered_event_are_one_write_once(repo):
    add_sku(repo)
    with pytest.raises(Conflict):
        add_sku(repo)
    doc = repo.db.skus.find_one({"_id": "mer_a:SKU-1"})
    [event] = [e["body"] for e in doc[OUTBOX] if e["type"] == "sku_registered"]
    assert (event["merchant_id"], event["sku"], event["name"], event["barcode"]) == (
        "mer_a",
        "SKU-1",
        "SKU-1",
        "SKU-1",
    )


def test_a_pass_over_the_queue_never_counts_what_a_new_backorder_is_giving_back(repo, monkeypatch):
    import eventlet

    add_sku(repo)
    repo.add_units("mer_a", "SKU-1", repo.get_bin(BIN_A), 1, "rcp_a", "receive")
    real_save, real_reserve, passes = repo.save_allocation, repo.try_reserve, []

    def save_then_stock_arrives(order, status, *args):
        saved = real_save(order, status, *args)
        if status == "backordered" and not passes:  # recorded short, still holding a unit
            repo.add_units("mer_a", "SKU-1", repo.get_bin(BIN_B), 1, "rcp_b", "receive")
            passes.append(eventlet.spawn(allocation.allocate_backorders, repo, "mer_a", {"SKU-1"}))
            eventlet.sleep(0)  # the pass starts on the waiting order
        return saved

    def yielding_reserve(*args):
        eventlet.sleep(0)
        return real_reserve(*args)

    monkeypatch.setattr(repo, "save_allocation", save_then_stock_arrives)
    monkeypatch.setattr(repo, "try_reserve", yielding_reserve)
    assert allocation.allocate_order(repo, order(1, [{"sku": "SKU-1", "qty": 2}])) == "backordered"
    passes[0].wait()
    held = sum(q for _, q in repo.reservations_of("mer_a", "SKU-1", "ord_0001"))
    status = repo.get_allocation("ord_0001")["status"]
    assert (status, held) in (("allocated", 2), ("backordered", 0))
    assert level(repo)["reserved"] == held
    assert ledger_matches(repo)


def corrected(n, outcome, order_id="ord_0001"):
    when = "2025-01-03T08:00:00Z"
    return outcome_corrected(
        n, outcome, 0, "mer_a", order_id=order_id, awb="JN0001", decided_at=when
    )


def test_a_return_is_withdrawn_when_the_parcel_was_in_fact_delivered(repo):
    packed_order(repo)
    returns.open_return(repo, returned())
    returns.follow_correction(repo, corrected(1, "delivered"))
    assert repo.get_return("ret_ord_0001")["status"] == "withdrawn"
    assert repo.list_returns(status="awaiting_inspection") == ([], None)
    # a later correction brings the parcel back; an older one arriving late changes nothing
    returns.follow_correction(repo, corrected(2, "returned"))
    returns.follow_correction(repo, corrected(1, "delivered"))
    assert repo.get_return("ret_ord_0001")["status"] == "awaiting_inspection"


def test_a_correction_to_returned_opens_the_return_once(repo):
    packed_order(repo)
    returns.follow_correction(repo, corrected(1, "returned"))
    returns.follow_correction(repo, corrected(1, "returned"))  # a duplicate
    [ret], _ = repo.list_returns("mer_a")
    assert ret["status"] == "awaiting_inspection" and ret["lines"][0]["qty"] == 3


def test_an_inspected_return_stays_inspected_whatever_the_correction(repo):
    packed_order(repo)
    returns.open_return(repo, returned())
    body = {"lines": [{"sku": "SKU-1", "qty_good": 3, "qty_damaged": 0, "bin": BIN_B}]}
    returns.inspect_return(repo, "ret_ord_0001", body, "stf_1")
    returns.follow_correction(repo, corrected(1, "delivered"))
    assert repo.get_return("ret_ord_0001")["status"] == "inspected"
