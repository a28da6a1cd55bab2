"""Pick rules, pure: what a scan on a pick list means, which tote each unit goes into,
which orders a short pick takes off the list, and what is still to be scanned.

A list's progress is `{"open_stop": stop id or None, "picked": {stop id: {order id: n}}}`.
Units of a stop fill its orders in the stop's order (oldest allocation first), so the
tote of every unit follows from the count alone."""

import hashlib
import re

from gudang_common.errors import FloorRefusal

from .domain import pick_walk
from .walk import DEFAULT_LAYOUT

TOTE_CODE = re.compile(r"^TOTE-\d{1,6}$")
# why a unit was not there; the tablet shows one button per reason
SHORT_REASONS = ("not_in_bin", "damaged", "wrong_item_in_bin", "expired")
EMPTY_PROGRESS = {"open_stop": None, "picked": {}}


def refuse(code, field, message):
    raise FloorRefusal(message, {field: [message]}, code)


def stop_id(stop):
    """A stable name for a stop (bin, SKU, lot), safe as a document key."""
    raw = "\x1f".join((stop["bin"], stop["sku"], stop.get("lot") or ""))
    return "st_" + hashlib.sha1(raw.encode()).hexdigest()[:12]


def walk_stops(tasks, layout=DEFAULT_LAYOUT):
    """The walk over the orders still on the list, each stop named by its id."""
    return [dict(stop, stop_id=stop_id(stop)) for stop in pick_walk(tasks, layout)]


def picked_of(progress, stop):
    return progress["picked"].get(stop["stop_id"], {})


def remaining(progress, stop):
    """Units of the stop not scanned yet (scans of orders that left the list do not count)."""
    picked = picked_of(progress, stop)
    return stop["qty"] - sum(picked.get(o["order_id"], 0) for o in stop["orders"])


def stops_view(stops, progress, totes):
    """The walk as the tablet shows it: per stop what is scanned, what is left, which tote."""
    view = []
    for stop in stops:
        done = picked_of(progress, stop)
        orders = [
            dict(o, tote=totes.get(o["order_id"]), picked=done.get(o["order_id"], 0))
            for o in stop["orders"]
        ]
        left = remaining(progress, stop)
        view.append(
            dict(
                stop,
                orders=orders,
                picked=stop["qty"] - left,
                remaining=left,
                done=left == 0,
                open=left > 0 and progress.get("open_stop") == stop["stop_id"],
            )
        )
    return view


def unfinished(stops, progress):
    """Every stop with units neither scanned nor short-picked (what blocks confirming)."""
    return [
        {k: s[k] for k in ("stop_id", "bin", "sku", "lot")} | {"remaining": remaining(progress, s)}
        for s in stops
        if remaining(progress, s) > 0
    ]


def next_tote_order(orders, totes):
    """The first order of the list (oldest first) still without a tote, or None."""
    return next((o for o in orders if not totes.get(o)), None)


def check_tote_code(code):
    if not TOTE_CODE.match(code):
        refuse("TOTE_INVALID", "code", f"{code} is not a tote label (TOTE- and digits).")


def open_bin(stops, progress, bin_code):
    """A bin scan opens the first stop at that bin with units left (walking order)."""
    for stop in stops:
        if stop["bin"] == bin_code and remaining(progress, stop) > 0:
            return dict(progress, open_stop=stop["stop_id"]), stop
    return refuse("BIN_DONE", "code", f"Nothing left to pick in bin {bin_code}.")


def place_units(stop, picked, qty):
    """[(order id, units)] for `qty` more units of the stop, filling its orders in turn."""
    placed = []
    for order in stop["orders"]:
        take = min(qty, order["qty"] - picked.get(order["order_id"], 0))
        if take > 0:
            placed.append((order["order_id"], take))
            qty -= take
    return placed


def _open_stop(stops, progress):
    found = [s for s in stops if s["stop_id"] == progress.get("open_stop")]
    if not found or remaining(progress, found[0]) == 0:
        refuse("NO_BIN_SCANNED", "code", "Scan the bin first.")
    return found[0]


def _after(stops, progress, stop):
    """Once a stop is done, the next stop at the same bin (another SKU or lot) opens."""
    if remaining(progress, stop) > 0:
        return progress
    nxt = next(
        (s for s in stops if s["bin"] == stop["bin"] and remaining(progress, s) > 0),
        None,
    )
    return dict(progress, open_stop=nxt["stop_id"] if nxt else None)


def count_units(stops, progress, sku, qty, lot=None):
    """A unit scan (qty > 1: one unit scanned, the count confirmed) on the open stop.
    Returns (progress after, [(order id, units)])."""
    stop = _open_stop(stops, progress)
    if sku != stop["sku"]:
        refuse("WRONG_PRODUCT", "code", f"This is {sku}; bin {stop['bin']} needs {stop['sku']}.")
    if lot and lot != (stop.get("lot") or ""):
        refuse("WRONG_LOT", "lot", f"This is lot {lot}; take lot {stop.get('lot') or '-'}.")
    left = remaining(progress, stop)
    if qty > left:
        refuse("TOO_MANY_UNITS", "qty", f"Only {left} more of {stop['sku']} here.")
    picked = dict(picked_of(progress, stop))
    placed = place_units(stop, picked, qty)
    for order_id, units in placed:
        picked[order_id] = picked.get(order_id, 0) + units
    after = dict(progress, picked=dict(progress["picked"], **{stop["stop_id"]: picked}))
    return _after(stops, after, stop), placed


def short_split(stop, progress, qty_missing):
    """{order id: units it misses} when `qty_missing` of the stop's units are not there:
    the units still there fill the orders in turn, the orders left unfilled are short."""
    left = remaining(progress, stop)
    if not 1 <= qty_missing <= left:
        refuse("SHORT_QTY", "qty", f"Between 1 and {left} units can be missing here.")
    there, short = left - qty_missing, {}
    picked = picked_of(progress, stop)
    for order in stop["orders"]:
        need = order["qty"] - picked.get(order["order_id"], 0)
        take = min(need, there)
        there -= take
        if need > take:
            short[order["order_id"]] = need - take
    return short


def without_orders(progress, order_ids):
    """Progress with the scans of orders that left the list dropped (their units go back)."""
    picked = {
        sid: {o: n for o, n in per_order.items() if o not in order_ids}
        for sid, per_order in progress["picked"].items()
    }
    return dict(progress, picked=picked)
