"""Short picks: units a packer did not find in their bin (packing's order_short_picked).

The missing units stay reserved, held for the bin's count (a reservation named after the
short pick, so a redelivery holds nothing twice and nobody can be allocated units that are
not there); the cycle count settles them. The order joins its merchant's backorder queue
at its own age and the queue is served at once, by the allocation module's scheme: the
order is allocated again from other bins or lots (FEFO), with a new order_allocated, or
waits for stock."""

from gudang_common.events import new_event

from .allocation import serve_again
from .domain import COUNT_HOLD, stock_id
from .store import movement


def record_short_pick(repo, event):
    order_id = event["order_id"]
    record = repo.get_allocation(order_id)
    if record is None:
        raise LookupError(f"order {order_id} short-picked before it was allocated here")
    hold_for_count(repo, event)
    if record["status"] == "allocated" and event["event_id"] not in record.get("short_picks", []):
        backordered = new_event(
            "order_backordered",
            merchant_id=event["merchant_id"],
            order_id=order_id,
            short=[{"sku": event["sku"], "qty": event["qty_missing"]}],
        )
        repo.requeue_short_picked(order_id, event["event_id"], backordered)
    record = repo.get_allocation(order_id)
    if record["status"] != "backordered":
        return record["status"]  # allocated again already (a redelivery), or cancelled
    serve_again(repo, record["order"])
    return repo.get_allocation(order_id)["status"]


def hold_for_count(repo, event):
    sid = stock_id(event["merchant_id"], event["sku"], event["bin"], event.get("lot") or None)
    if repo.get_stock(sid) is None:
        raise LookupError(f"no stock {sid} for a short pick")
    reason = f"short pick ({event['reason']}): count the bin"
    mv = movement("count_hold", 0, ref=event["order_id"], reason=reason, by=event["packer_id"])
    hold_key = f"{COUNT_HOLD}{event['event_id']}"
    return repo.hold_for_count(sid, event["order_id"], hold_key, event["qty_missing"], mv)
