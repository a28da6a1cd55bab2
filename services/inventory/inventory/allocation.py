"""Allocation: reserve an order's lines (FEFO) or backorder it, serve the backorder queue
oldest first when stock arrives, hold the orders of a merchant on hold and serve them
oldest first on its release, take packed orders out and release cancelled ones.

One scheme keeps an order's reservations right while several attempts run at once (a
redelivered order_received, passes over the queue after each arrival): the allocation
record decides. Reserving needs no coordination: a stock document holds at most one
reservation per order, so two attempts share it and never double it. Giving back does,
because reservations are keyed by order, not by attempt: units one attempt reserved may
be counted by another. So an outcome is recorded by one conditional write on the order's
allocation document, and what is given back follows that record: an allocated order
keeps the reservations in its recorded lines (any other is surplus, which its attempt
releases); a cancelled or rejected order keeps none; and a waiting order is worked on,
to allocate it or to give back what it holds, only by the holder of its claim
(conditional update, stale after a minute), so no attempt counts units while another
gives them back. An attempt that finds the claim taken leaves its reservations to the
holder, which counts them or, once it has recorded the allocation, releases the surplus.
"""

import uuid

from gudang_common.clock import today_wib
from gudang_common.events import new_event

from .domain import held_by, merge_lines, plan_reservation
from .low_stock import check_low_stock

ORDER_KEYS = ("order_id", "merchant_id", "external_id", "lines", "occurred_at")
RESERVE_ROUNDS = 5  # re-read and plan again after losing a race, a bounded number of times


def allocate_order(repo, order):
    """order_received: allocate, backorder or reject, exactly once per order. An order for a
    SKU that older backorders wait for joins the queue behind them instead of taking their
    stock."""
    if repo.get_allocation(order["order_id"]) is not None:
        return "duplicate"
    # the buyer's details stay with the gateway and shipping; allocation needs the lines
    order = {k: order[k] for k in ORDER_KEYS}
    merchant_id, skus = order["merchant_id"], {line["sku"] for line in order["lines"]}
    unknown = sorted(skus - repo.known_skus(merchant_id, skus))
    if unknown:
        return _reject(repo, order, unknown)
    if repo.merchant_on_hold(merchant_id) or repo.has_held_orders(merchant_id):
        return _hold(repo, order)
    queued = skus & repo.backordered_skus(merchant_id)
    if queued and not _holds_reservations(repo, order):
        return _backorder(
            repo, order, [], [ln for ln in merge_lines(order["lines"]) if ln["sku"] in queued]
        )
    takes, short = reserve_order(repo, order)
    if short:
        return _backorder(repo, order, takes, short)
    if not repo.save_allocation(
        order, "allocated", takes, "order_allocated", allocated_event(repo, order, takes)
    ):
        _give_back(repo, order, takes)  # a concurrent delivery recorded it first
    check_low_stock(repo, merchant_id, skus)
    return "allocated"


def _reject(repo, order, unknown):
    event = new_event(
        "order_rejected",
        merchant_id=order["merchant_id"],
        order_id=order["order_id"],
        reason=f"unknown SKU: {', '.join(unknown)}",
        skus=unknown,
    )
    repo.save_allocation(order, "rejected", [], "order_rejected", event)
    return "rejected"


def _hold(repo, order):
    """Record the order waiting for its merchant's release. An order that arrives while
    older held orders are still being released waits behind them (oldest first)."""
    merchant_id = order["merchant_id"]
    held = repo.merchant_on_hold(merchant_id)
    event = new_event(
        "order_held",
        merchant_id=merchant_id,
        order_id=order["order_id"],
        reason="merchant_on_hold" if held else "older_orders_held",
    )
    repo.save_allocation(order, "on_hold", [], "order_held", event)
    # a release handled while this order was being recorded did not see it
    if not repo.merchant_on_hold(merchant_id):
        release_held_orders(repo, merchant_id)
    return "on_hold"


def record_hold(repo, event, on_hold):
    """merchant_on_hold / merchant_released: keep the merchant's hold; on release, its held
    orders go on. Run again on a redelivery: serving finds nothing left to do."""
    repo.record_hold(event["merchant_id"], on_hold, event["crossing"], event["event_id"])
    if not on_hold:
        release_held_orders(repo, event["merchant_id"])


def release_held_orders(repo, merchant_id):
    """Serve the merchant's held orders oldest first, as if each arrived now: allocated, or
    backordered behind older orders waiting for the same SKUs. Stops if the merchant is
    held again meanwhile. The orders allocated already were never held: the hold stops
    new work, it does not pull parcels back."""
    served = 0
    for doc in repo.held_orders(merchant_id):
        if repo.merchant_on_hold(merchant_id):
            break
        done = _serve_held(repo, doc["order"])
        if done is None:
            # another pass is serving this order: it goes on to the younger ones, and
            # serving them here could let one take the stock this older one needs
            break
        served += done
    return served


def _serve_held(repo, order):
    """Allocate or backorder one held order, under its claim (see the module docstring).
    Returns 1 when served, 0 when it no longer waits, None while another pass holds it."""
    token, order_id, merchant_id = uuid.uuid4().hex, order["order_id"], order["merchant_id"]
    if repo.claim_backorder(order_id, token, status="on_hold") is None:
        record = repo.get_allocation(order_id)
        return None if record["status"] == "on_hold" else 0  # being served, or cancelled
    queued = {line["sku"] for line in order["lines"]} & repo.backordered_skus(merchant_id)
    if queued:
        takes, short = [], [ln for ln in merge_lines(order["lines"]) if ln["sku"] in queued]
    else:
        takes, short = reserve_order(repo, order)
    if not short:
        event = allocated_event(repo, order, takes)
        if repo.allocate_claimed(order_id, token, takes, event, status="on_hold"):
            _give_back(repo, order, _held(repo, order))
            check_low_stock(repo, merchant_id, {t["sku"] for t in takes})
            return 1
    else:
        event = new_event(
            "order_backordered", merchant_id=merchant_id, order_id=order_id, short=short
        )
        if repo.backorder_claimed_held(order_id, token, merchant_id, event):
            _give_back(repo, order, takes)
            allocate_backorders(repo, merchant_id, {line["sku"] for line in short})
            return 1
    # cancelled meanwhile: give back what the record says is not held
    _give_back(repo, order, takes, token)
    repo.unclaim(order_id, token)
    return 0


def _backorder(repo, order, takes, short):
    """Record the order waiting, give back what it holds, then let the queue move at once:
    stock may have arrived while giving back kept passes away (the claim)."""
    event = new_event(
        "order_backordered",
        merchant_id=order["merchant_id"],
        order_id=order["order_id"],
        short=short,
    )
    repo.save_allocation(order, "backordered", [], "order_backordered", event)
    _give_back(repo, order, takes)
    allocate_backorders(repo, order["merchant_id"], {line["sku"] for line in short})
    return "backordered"


def _holds_reservations(repo, order):
    return any(
        repo.reservations_of(order["merchant_id"], line["sku"], order["order_id"])
        for line in merge_lines(order["lines"])
    )


def _take(stock, sku, qty):
    keys = ("bin", "pick_sequence", "lot", "expiry")
    return {"sku": sku, "qty": qty} | {k: stock.get(k) for k in keys} | {"stock_id": stock["_id"]}


def _reserve_line(repo, order, sku, qty, today):
    """Reserve up to `qty` of `sku` for the order; returns (takes, units still missing).
    A redelivery finds the reservations a crashed attempt already made and keeps them."""
    merchant_id, order_id = order["merchant_id"], order["order_id"]
    stocks = repo.stock_for(merchant_id, sku)
    takes = [_take(stock, sku, held) for stock, held in held_by(stocks, order_id)]
    remaining = qty - sum(t["qty"] for t in takes)
    for _ in range(RESERVE_ROUNDS):
        plan = plan_reservation(stocks, remaining, order_id, today) if remaining > 0 else []
        if not plan:
            break
        won = [
            _take(stock, sku, units)
            for stock, units in plan
            if repo.try_reserve(stock["_id"], order_id, units) is not None
        ]
        takes += won
        remaining -= sum(t["qty"] for t in won)
        if remaining > 0:
            stocks = repo.stock_for(merchant_id, sku)
    return takes, remaining


def reserve_order(repo, order, today=None):
    """Reserve what can be reserved of every line; returns (takes in pick order, the lines
    short). Gives nothing back: that follows the recorded outcome."""
    today = today or today_wib()
    takes, short = [], []
    for line in merge_lines(order["lines"]):
        line_takes, missing = _reserve_line(repo, order, line["sku"], line["qty"], today)
        takes += line_takes
        if missing > 0:
            short.append({"sku": line["sku"], "qty": missing})
    return sorted(takes, key=lambda t: (t["pick_sequence"], t["bin"], t["sku"])), short


def _release(repo, order_id, takes):
    for take in takes:
        repo.release(take["stock_id"], order_id, take["qty"])


def _held(repo, order):
    return [
        _take(stock, line["sku"], qty)
        for line in merge_lines(order["lines"])
        for stock, qty in repo.reservations_of(order["merchant_id"], line["sku"], order["order_id"])
    ]


def _give_back(repo, order, takes, token=None):
    """Once the order's outcome is on record, release what the record says is not held
    (the scheme in this module's docstring)."""
    order_id = order["order_id"]
    record = repo.get_allocation(order_id)
    if record["status"] in ("allocated", "packed"):
        kept = {line["stock_id"] for line in record["lines"]}
        _release(repo, order_id, [t for t in takes if t["stock_id"] not in kept])
    elif record["status"] != "backordered":
        _release(repo, order_id, takes)
    else:
        token = token or uuid.uuid4().hex
        if repo.claim_backorder(order_id, token) is not None:
            _release(repo, order_id, _held(repo, order))
            repo.unclaim(order_id, token)


def allocated_event(repo, order, takes):
    # the packer needs the lot FEFO chose, not just the bin; the walk needs the bin's
    # floor coordinates where ops set them (else packing places the bin by its code)
    keys = ("sku", "qty", "bin", "pick_sequence", "lot", "expiry")
    placed = repo.bin_coordinates({t["bin"] for t in takes})
    return new_event(
        "order_allocated",
        merchant_id=order["merchant_id"],
        order_id=order["order_id"],
        external_id=order["external_id"],
        lines=[_allocated_line(t, keys, placed.get(t["bin"], (None, None))) for t in takes],
    )


def _allocated_line(take, keys, coordinates):
    return {k: take.get(k) for k in keys} | {"x_m": coordinates[0], "y_m": coordinates[1]}


def allocate_backorders(repo, merchant_id, skus):
    """After stock arrives: allocate waiting orders for these SKUs, oldest first.

    Strict per SKU: once an older order is short of a SKU, younger orders needing that SKU
    wait too (they must not take the units the older one waits for). An order another
    worker holds the claim of counts as short for this pass."""
    allocated, blocked = 0, set()
    for doc in repo.backorders(merchant_id):
        order_skus = {line["sku"] for line in doc["order"]["lines"]}
        if not skus & order_skus or order_skus & blocked:
            continue
        done, short_skus = _serve_backorder(repo, doc["order"])
        allocated += done
        blocked |= short_skus
    if allocated:
        check_low_stock(repo, merchant_id, skus)
    return allocated


def _serve_backorder(repo, order):
    """Allocate one waiting order if it can be filled completely. Returns (allocated, the
    SKUs it still waits for: all of them while another worker holds its claim)."""
    token = uuid.uuid4().hex
    if repo.claim_backorder(order["order_id"], token) is None:
        return False, {line["sku"] for line in order["lines"]}
    takes, short = reserve_order(repo, order)
    event = allocated_event(repo, order, takes)
    if not short and repo.allocate_claimed(order["order_id"], token, takes, event):
        # an attempt that found the claim taken left its reservations to the holder
        _give_back(repo, order, _held(repo, order))
        return True, set()
    # short, or cancelled meanwhile: give back what the record says is not held
    _give_back(repo, order, takes, token)
    repo.unclaim(order["order_id"], token)
    return False, {line["sku"] for line in short}


def serve_again(repo, order):
    """An allocated order put back in its merchant's queue (a short pick): give back what it
    holds, as any backordered order does, then serve the queue, this order at its age."""
    _give_back(repo, order, _held(repo, order))
    skus = {line["sku"] for line in order["lines"]}
    allocate_backorders(repo, order["merchant_id"], skus)
    check_low_stock(repo, order["merchant_id"], skus)


def ship_out(repo, event):
    """order_packed: the reserved units leave on-hand (once: the reservation is the key)."""
    allocation = repo.get_allocation(event["order_id"])
    if allocation is None:
        raise LookupError(f"order {event['order_id']} packed before it was allocated here")
    for line in allocation["lines"]:
        repo.ship_out(line["stock_id"], event["order_id"], line["qty"])
    repo.move_allocation(event["order_id"], ["allocated"], "packed")


def cancel(repo, event):
    """order_cancelled: release whatever the order holds; never allocate it later."""
    allocation = repo.get_allocation(event["order_id"])
    if allocation is None:
        repo.cancel_unseen(event["order_id"], event["merchant_id"])
        return
    if allocation["status"] in ("packed", "rejected"):
        return  # the units left already, or were never held
    # release what the order holds on the stock documents, not only its recorded lines:
    # an attempt that crashed may have left reservations, and a redelivered cancel
    # finishes a release a crash interrupted
    order = allocation.get("order") or dict(event, lines=[])
    repo.move_allocation(event["order_id"], ["allocated", "backordered", "on_hold"], "cancelled")
    _release(repo, event["order_id"], _held(repo, order))
    skus = {line["sku"] for line in order["lines"]}
    if skus:
        allocate_backorders(repo, event["merchant_id"], skus)
        check_low_stock(repo, event["merchant_id"], skus)
