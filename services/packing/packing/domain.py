"""Packing rules, pure: how a wave of orders becomes one walk through the bins."""

from .walk import DEFAULT_LAYOUT, position, walk_in_route_order

OPEN_STATUSES = ("waiting", "picking", "picked")
# a short-picked order waits for inventory to allocate it again: still cancellable
CANCELLABLE = OPEN_STATUSES + ("short_picked",)


def pick_walk(tasks, layout=DEFAULT_LAYOUT):
    """Merge the orders' lines into one walk: a stop per bin, SKU and lot, in the order of
    the layout's route from the pack station (pick sequence only breaks ties and orders the
    stops whose bin has no known position, walked last).

    Each stop says how many units to take and how they split over the orders
    (the packer sorts them into the orders' totes), and where the bin is (x_m, y_m)."""
    stops = {}
    for task in tasks:
        for line in task["lines"]:
            lot = line.get("lot") or ""
            key = (line["pick_sequence"], line["bin"], line["sku"], lot)
            stop = stops.get(key) or stops.setdefault(key, _stop(line, layout))
            stop["qty"] += line["qty"]
            stop["orders"].append({"order_id": task["_id"], "qty": line["qty"]})
    return walk_in_route_order([stops[key] for key in sorted(stops)], layout)


def _stop(line, layout):
    spot = position(line["bin"], line.get("x_m"), line.get("y_m"), layout)
    return {
        "bin": line["bin"],
        "sku": line["sku"],
        "pick_sequence": line["pick_sequence"],
        "lot": line.get("lot"),
        "expiry": line.get("expiry"),
        "qty": 0,
        "orders": [],
        "x_m": None if spot is None else spot[0],
        "y_m": None if spot is None else spot[1],
    }
