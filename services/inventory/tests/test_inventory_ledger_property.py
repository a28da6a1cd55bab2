"""Property: over random operation sequences, on-hand per SKU, bin and lot equals the sum of
its movements, nothing goes negative, nothing is oversold, no expired lot is reserved.

Runs on mongomock (in memory) so that many sequences stay fast; the code paths are the
repository's own, the same the service runs on the embedded store or MongoDB."""

from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from inventory_samples import RECIPIENT, ledger_matches, sample_sku

from gudang_common.clock import today_wib
from gudang_common.errors import GudangError
from gudang_common.events import new_event
from inventory import allocation, returns, staff_changes
from inventory.domain import QUARANTINE
from inventory.store import InventoryRepository
from tests.repositories import memory_repository

BINS = ("A-01-01-1-01", "B-01-01-1-01")
TODAY = date.fromisoformat(today_wib())
LOTS = {
    "FRESH": (TODAY + timedelta(days=60)).isoformat(),
    "OLD": (TODAY - timedelta(days=1)).isoformat(),
}
SKUS = ("PLAIN", "LOTS")


def fresh_repo():
    repo = memory_repository(InventoryRepository)
    for seq, code in enumerate(BINS, 1):
        repo.add_bin({"code": code, "pick_sequence": seq})
    for sku in SKUS:
        repo.add_sku("mer_a", sample_sku(sku, tracks_lots=sku == "LOTS", low_stock_threshold=2))
    return repo


def lot_of(sku, lot):
    return (lot, LOTS[lot]) if sku == "LOTS" else (None, None)


def order_event(n, sku, qty):
    return new_event(
        "order_received",
        merchant_id="mer_a",
        order_id=f"ord_{n}",
        external_id=f"X-{n}",
        channel="api",
        courier="jne",
        recipient=RECIPIENT,
        lines=[{"sku": sku, "qty": qty}],
        cod_amount=0,
    )


sku_st = st.sampled_from(SKUS)
bin_st = st.sampled_from(BINS)
lot_st = st.sampled_from(("FRESH", "FRESH", "FRESH", "OLD"))
qty_st = st.integers(min_value=1, max_value=6)
order_st = st.integers(min_value=0, max_value=9)  # which of the orders in the right state
receive_op = st.tuples(st.just("receive"), sku_st, bin_st, lot_st, st.integers(1, 12))
reserve_op = st.tuples(st.just("reserve"), sku_st, st.integers(1, 4))
pick_op = st.tuples(st.just("pick"), order_st)
return_op = st.tuples(st.just("return"), order_st, st.integers(0, 4))

# weighted towards the order's life (receive, reserve, pick, return) so sequences get far
OPS = st.one_of(
    receive_op,
    receive_op,
    st.tuples(st.just("put_away"), sku_st, bin_st, lot_st, qty_st),
    reserve_op,
    reserve_op,
    reserve_op,
    st.tuples(st.just("release"), order_st),
    pick_op,
    pick_op,
    st.tuples(st.just("adjust"), sku_st, bin_st, lot_st, st.integers(-4, 4).filter(bool)),
    return_op,
    return_op,
    st.tuples(st.just("quarantine"), sku_st, bin_st, lot_st, qty_st),
)


def nth_order(repo, k, *statuses):
    """The k-th (cyclically) order in one of `statuses`, so every step acts on a real order."""
    ids = sorted(d["_id"] for d in repo.db.allocations.find({"status": {"$in": list(statuses)}}))
    return ids[k % len(ids)] if ids else None


def apply(repo, op, step):
    kind = op[0]
    if kind == "receive":
        _, sku, bin_code, lot_name, qty = op
        lot, expiry = lot_of(sku, lot_name)
        repo.add_units(
            "mer_a",
            sku,
            repo.get_bin(bin_code),
            qty,
            f"rcp_{step}",
            "receive",
            lot=lot,
            expiry=expiry,
        )
        allocation.allocate_backorders(repo, "mer_a", {sku})
    elif kind in ("put_away", "quarantine"):
        _, sku, bin_code, lot_name, qty = op
        other = QUARANTINE if kind == "quarantine" else BINS[1 - BINS.index(bin_code)]
        move = {
            "merchant_id": "mer_a",
            "sku": sku,
            "lot": lot_of(sku, lot_name)[0],
            "from_bin": bin_code,
            "to_bin": other,
            "qty": qty,
        }
        staff_changes.move_stock(repo, move, "stf_1")
    elif kind == "reserve":
        _, sku, qty = op
        event = order_event(step, sku, qty)
        allocation.allocate_order(repo, event)
        allocation.allocate_order(repo, event)  # a duplicate order_received
    elif kind == "release":
        order_id = nth_order(repo, op[1], "allocated", "backordered")
        if order_id:
            allocation.cancel(repo, {"order_id": order_id, "merchant_id": "mer_a"})
    elif kind == "pick":
        order_id = nth_order(repo, op[1], "allocated")
        if order_id:
            packed = {"order_id": order_id, "merchant_id": "mer_a"}
            allocation.ship_out(repo, packed)
            allocation.ship_out(repo, packed)  # a duplicate order_packed
    elif kind == "adjust":
        _, sku, bin_code, lot_name, qty = op
        lot, expiry = lot_of(sku, lot_name)
        staff_changes.adjust_stock(
            repo,
            {
                "merchant_id": "mer_a",
                "sku": sku,
                "bin": bin_code,
                "lot": lot,
                "expiry": expiry,
                "qty": qty,
                "reason": "count_correction",
                "note": "",
            },
            "stf_1",
        )
    elif kind == "return":
        _, k, good = op
        order_id = nth_order(repo, k, "packed")
        if not order_id or repo.get_return(f"ret_{order_id}"):
            return
        event = new_event(
            "parcel_returned",
            merchant_id="mer_a",
            order_id=order_id,
            awb="JN1",
            courier="jne",
            courier_status="returned",
        )
        returns.open_return(repo, event)
        returns.open_return(repo, event)  # a duplicate delivery
        ret = repo.get_return(f"ret_{order_id}")
        lines = [
            {
                "sku": line["sku"],
                "lot": line.get("lot"),
                "qty_good": min(good, line["qty"]),
                "qty_damaged": line["qty"] - min(good, line["qty"]),
                "bin": None,
            }
            for line in ret["lines"]
        ]
        returns.inspect_return(repo, ret["_id"], {"lines": lines}, "stf_1")
        inspected = repo.get_return(ret["_id"])
        body = {"return_id": ret["_id"], "merchant_id": "mer_a", "order_id": order_id}
        returns.restock_return(repo, body)
        returns.restock_return(repo, body)  # a duplicate return_inspected
        assert inspected["status"] == "inspected"


def check_invariants(repo):
    ledger_matches(repo)
    for doc in repo.db.stock.find({}):
        assert doc["reserved"] == sum(r["qty"] for r in doc["reservations"])
        if doc["bin"] == QUARANTINE:
            assert doc["available"] == 0 and doc["reserved"] == 0
        else:
            assert doc["available"] == doc["on_hand"] - doc["reserved"]
        if doc.get("lot") == "OLD":
            assert doc["reserved"] == 0, "an expired lot was reserved"
    for alloc in repo.db.allocations.find({"status": "allocated"}):
        ordered = sum(line["qty"] for line in alloc["order"]["lines"])
        assert sum(line["qty"] for line in alloc["lines"]) == ordered


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(OPS, min_size=10, max_size=40))
def test_on_hand_always_equals_the_sum_of_movements_and_nothing_is_oversold(ops):
    repo = fresh_repo()
    for step, op in enumerate(ops):
        try:
            apply(repo, op, step)
        except GudangError:
            pass  # refused (not enough units, bad lot...): must have changed nothing
        check_invariants(repo)
