"""Packing rules, pure: how a wave of orders becomes one walk through the bins."""

OPEN_STATUSES = ("waiting", "picking", "picked")
# a short-picked order waits for inventory to allocate it again: still cancellable
CANCELLABLE = OPEN_STATUSES + ("short_picked",)


def pick_walk(tasks):
    """Merge the orders' lines into one walk: per bin, SKU and lot, in pick sequence.

    Each stop says how many units to take and how they split over the orders
    (the packer sorts them into the orders' totes)."""
    stops = {}
    for task in tasks:
        for line in task["lines"]:
            lot = line.get("lot") or ""
            key = (line["pick_sequence"], line["bin"], line["sku"], lot)
            stop = stops.setdefault(
                key,
                {
                    "bin": line["bin"],
                    "sku": line["sku"],
                    "pick_sequence": line["pick_sequence"],
                    "lot": line.get("lot"),
                    "expiry": line.get("expiry"),
                    "qty": 0,
                    "orders": [],
                },
            )
            stop["qty"] += line["qty"]
            stop["orders"].append({"order_id": task["_id"], "qty": line["qty"]})
    return [stops[key] for key in sorted(stops)]
