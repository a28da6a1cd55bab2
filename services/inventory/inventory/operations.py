"""Inventory use cases: receive, allocate, release, ship out, returns, counts, moves, reports."""

import csv
import io
import logging
import uuid

from gudang_common.errors import Conflict, NotFound, Unprocessable, ValidationFailed
from gudang_common.events import iso, new_event, utcnow

from .domain import (
    QUARANTINE,
    crossed_low,
    inbound_status,
    line_key,
    lot_discrepancies,
    lot_problems,
    merge_lines,
    merge_lot_lines,
    sellable_fefo,
    slow_moving,
    stock_id,
    today_wib,
)
from .store import LOW, movement, new_stock_received

QUARANTINE_SEQUENCE = 10**9  # never walked by pickers: quarantine is not sellable

log = logging.getLogger(__name__)


def _iso_date(value):
    return value.isoformat() if value is not None and hasattr(value, "isoformat") else value


def create_inbound(repo, merchant_id, data):
    raw = [
        dict(line, lot=line.get("lot") or None, expiry=_iso_date(line.get("expiry")))
        for line in data["lines"]
    ]
    skus = repo.sku_docs(merchant_id, {line["sku"] for line in raw})
    unknown = [i for i, line in enumerate(raw) if line["sku"] not in skus]
    if unknown:
        raise Unprocessable(
            "inbound names SKUs you have not registered",
            {f"lines.{i}.sku": ["Unknown SKU."] for i in unknown},
        )
    errors = {}
    for i, line in enumerate(raw):
        errors.update(lot_problems(line, skus[line["sku"]].get("tracks_lots", False), i))
    lines, merge_errors = merge_lot_lines(raw)
    errors.update(merge_errors)
    if errors:
        raise ValidationFailed("inbound lines need lots and expiry dates", errors)
    lines = [
        {k: line[k] for k in ("sku", "qty", "lot", "expiry") if line.get(k) is not None}
        for line in lines
    ]
    now = iso(utcnow())
    doc = {
        "_id": f"inb_{uuid.uuid4().hex[:20]}",
        "merchant_id": merchant_id,
        "status": "announced",
        "lines": lines,
        "expected_at": _iso_date(data.get("expected_at")),
        "note": data.get("note", ""),
        "receipts": [],
        "receipt_count": 0,
        "received": [],
        "discrepancies": lot_discrepancies(lines, []),
        "created_at": now,
    }
    repo.add_inbound(doc)
    return inbound_view(doc)


def inbound_view(doc):
    return {
        "inbound_id": doc["_id"],
        "merchant_id": doc["merchant_id"],
        "status": doc["status"],
        "lines": doc["lines"],
        "expected_at": doc.get("expected_at"),
        "created_at": doc["created_at"],
        "receipts": doc.get("receipts", []),
        "discrepancies": doc.get("discrepancies", []),
    }


def _received_so_far(inbound):
    received = inbound.get("received") or []
    if isinstance(received, dict):  # inbounds stored before lots kept a dict per SKU
        received = [dict(v, sku=k, lot=None) for k, v in received.items()]
    return {line_key(r): dict(r, over_reasons=list(r.get("over_reasons", []))) for r in received}


def receive_inbound(repo, inbound_id, data, staff_id):
    """Record a (partial) receipt; good units become sellable through stock_received,
    damaged units go to quarantine. Counting more than announced needs an over_reason."""
    inbound = repo.get_inbound(inbound_id)
    if inbound is None:
        raise NotFound(f"inbound {inbound_id} not found", {"inbound_id": ["Unknown inbound."]})
    merchant_id = inbound["merchant_id"]
    announced = {line_key(line): line for line in inbound["lines"]}
    announced_skus = {line["sku"] for line in inbound["lines"]}
    skus = repo.sku_docs(merchant_id, {line["sku"] for line in data["lines"]})
    received = _received_so_far(inbound)
    errors = {}
    lines = []
    for i, raw in enumerate(data["lines"]):
        line = dict(raw, lot=raw.get("lot") or None, expiry=_iso_date(raw.get("expiry")))
        sku_doc = skus.get(line["sku"])
        if line["sku"] not in announced_skus and not line.get("over_reason"):
            errors[f"lines.{i}.sku"] = ["Not on this inbound; give an over_reason to accept it."]
            continue
        if sku_doc is None:
            errors[f"lines.{i}.sku"] = ["Unknown SKU."]
            continue
        key = line_key(line)
        tracks = sku_doc.get("tracks_lots", False)
        problems = lot_problems(line, tracks, i, need_expiry=key not in announced)
        if tracks and key in announced:
            line["expiry"] = line.get("expiry") or announced[key].get("expiry")
            if line["expiry"] != announced[key].get("expiry"):
                problems[f"lines.{i}.expiry"] = ["Differs from the announced expiry."]
        if problems:
            errors.update(problems)
            continue
        if line["bin"]:
            bin_doc = repo.get_bin(line["bin"])
            if bin_doc is None:
                errors[f"lines.{i}.bin"] = ["Unknown bin."]
                continue
        else:
            located = [
                s for s in repo.stock_for(merchant_id, line["sku"]) if s["bin"] != QUARANTINE
            ]
            bin_doc = repo.get_bin(located[0]["bin"]) if located else repo.first_bin()
            if bin_doc is None and line["qty_good"]:
                errors[f"lines.{i}.bin"] = ["No bin given and none exists yet; create a bin first."]
                continue
        got = received.setdefault(
            key, {"sku": key[0], "lot": key[1], "qty_good": 0, "qty_damaged": 0, "over_reasons": []}
        )
        got["qty_good"] += line["qty_good"]
        got["qty_damaged"] += line["qty_damaged"]
        expected = announced[key]["qty"] if key in announced else 0
        if got["qty_good"] + got["qty_damaged"] > expected:
            if not line.get("over_reason"):
                errors[f"lines.{i}.over_reason"] = [
                    f"More than announced ({expected}); give an over_reason to accept it."
                ]
                continue
            got["over_reasons"].append(line["over_reason"])
        lines.append(dict(line, bin=bin_doc["_id"] if bin_doc else ""))
    if errors:
        raise ValidationFailed("receipt does not match the inbound", errors)
    discrepancies = lot_discrepancies(inbound["lines"], list(received.values()))
    receipt_id = f"rcp_{uuid.uuid4().hex[:20]}"
    units_good = sum(line["qty_good"] for line in lines)
    event_lines = [
        {k: line[k] for k in ("sku", "qty_good", "qty_damaged", "bin")} for line in lines
    ]
    event = new_stock_received(merchant_id, inbound_id, event_lines, units_good, receipt_id)
    receipt = {
        "receipt_id": receipt_id,
        "staff_id": staff_id,
        "lines": [{k: v for k, v in line.items() if v is not None} for line in lines],
        "received_at": event["occurred_at"],
    }
    done = repo.record_receipt(
        inbound,
        receipt,
        list(received.values()),
        discrepancies,
        inbound_status(discrepancies),
        event,
    )
    # sellable by the time staff see "received"; the stock_received handler repeats this
    # (idempotent per receipt line) in case the process dies right here
    put_away(repo, event)
    return inbound_view(done)


def _land_line(repo, merchant_id, line, keys, kind, ref, damaged_reason):
    """Good units of a receipt or return line into their bin, damaged ones into quarantine,
    each once (`keys` = (good key, damaged key)). True when good units landed."""
    good_key, damaged_key = keys
    lot, expiry = line.get("lot"), line.get("expiry")
    if line.get("qty_damaged", 0) > 0:
        repo.add_units(
            merchant_id,
            line["sku"],
            QUARANTINE,
            QUARANTINE_SEQUENCE,
            line["qty_damaged"],
            damaged_key,
            "quarantine",
            lot=lot,
            expiry=expiry,
            ref=ref,
            reason=damaged_reason,
        )
    if line["qty_good"] <= 0:
        return False
    bin_doc = repo.get_bin(line["bin"])
    repo.add_units(
        merchant_id,
        line["sku"],
        bin_doc["_id"],
        bin_doc["pick_sequence"],
        line["qty_good"],
        good_key,
        kind,
        lot=lot,
        expiry=expiry,
        ref=ref,
    )
    return True


def put_away(repo, event):
    """Apply a receipt: good units into their bins, damaged into quarantine (idempotent
    per receipt line). Lots and expiry come from the receipt stored on the inbound."""
    inbound = repo.get_inbound(event["inbound_id"]) or {}
    receipt = next(
        (r for r in inbound.get("receipts", []) if r["receipt_id"] == event["receipt_id"]), None
    )
    lines = receipt["lines"] if receipt else event["lines"]
    merchant_id, receipt_id = event["merchant_id"], event["receipt_id"]
    touched = set()
    for i, line in enumerate(lines):
        keys = (f"{receipt_id}:{i}", f"{receipt_id}:{i}:damaged")
        if _land_line(repo, merchant_id, line, keys, "receive", receipt_id, "damaged on receipt"):
            touched.add(line["sku"])
    check_low_stock(repo, merchant_id, touched)
    return touched


def _take(stock, sku, qty):
    return {
        "sku": sku,
        "qty": qty,
        "bin": stock["bin"],
        "pick_sequence": stock["pick_sequence"],
        "lot": stock.get("lot"),
        "expiry": stock.get("expiry"),
        "stock_id": stock["_id"],
    }


def _reserve_line(repo, merchant_id, order_id, sku, qty, today):
    """Reserve up to `qty` of `sku`, first expiry first, then in pick sequence, never
    from an expired lot or quarantine; returns the takes."""
    takes = []
    remaining = qty
    # a redelivery finds the reservations a crashed attempt already made
    for stock, held in repo.reservations_of(merchant_id, sku, order_id):
        takes.append(_take(stock, sku, held))
        remaining -= held
    for _ in range(5):  # re-read after losing a race, a bounded number of times
        if remaining <= 0:
            break
        progressed = False
        for stock in sellable_fefo(repo.stock_for(merchant_id, sku), today):
            if remaining <= 0:
                break
            if any(r["order_id"] == order_id for r in stock.get("reservations", [])):
                continue
            take = min(stock["available"], remaining)
            if take <= 0:
                continue
            if repo.try_reserve(stock["_id"], order_id, take) is not None:
                takes.append(_take(stock, sku, take))
                remaining -= take
                progressed = True
        if not progressed:
            break
    return takes, remaining


def _stock_id_of(merchant_id, line):
    return line.get("stock_id") or stock_id(merchant_id, line["sku"], line["bin"], line.get("lot"))


def _release_takes(repo, merchant_id, order_id, takes):
    for take in takes:
        repo.release(_stock_id_of(merchant_id, take), order_id, take["qty"])


def try_allocate(repo, order, today=None, keep_when_short=False):
    """Reserve every line or none. Returns (takes, short); with `keep_when_short` a short
    attempt returns its takes still reserved, for the caller to release once it knows
    that no concurrent delivery of the same order recorded them as allocated."""
    today = today or today_wib()
    merchant_id, order_id = order["merchant_id"], order["order_id"]
    all_takes, short = [], []
    for line in merge_lines(order["lines"]):
        takes, remaining = _reserve_line(
            repo, merchant_id, order_id, line["sku"], line["qty"], today
        )
        all_takes.extend(takes)
        if remaining > 0:
            short.append({"sku": line["sku"], "qty": remaining})
    if short:
        if keep_when_short:
            return all_takes, short
        # hold nothing while waiting: the stock serves orders that can ship now
        _release_takes(repo, merchant_id, order_id, all_takes)
        return [], short
    return sorted(all_takes, key=lambda t: (t["pick_sequence"], t["bin"], t["sku"])), []


def allocated_event(order, takes):
    # the packer needs the lot FEFO chose, not just the bin
    keys = ("sku", "qty", "bin", "pick_sequence", "lot", "expiry")
    lines = [{k: t.get(k) for k in keys} for t in takes]
    return new_event(
        "order_allocated",
        merchant_id=order["merchant_id"],
        order_id=order["order_id"],
        external_id=order["external_id"],
        lines=lines,
    )


def _holds_reservations(repo, order):
    return any(
        repo.reservations_of(order["merchant_id"], line["sku"], order["order_id"])
        for line in merge_lines(order["lines"])
    )


def allocate_order(repo, order):
    """Handle order_received: allocate, backorder or reject, exactly once per order.

    An order for a SKU that older backorders wait for joins the queue behind them
    instead of taking stock they are waiting for."""
    order_id, merchant_id = order["order_id"], order["merchant_id"]
    if repo.get_allocation(order_id) is not None:
        return "duplicate"
    # the buyer's details stay with the gateway and shipping; allocation needs the lines
    order = {
        k: order[k] for k in ("order_id", "merchant_id", "external_id", "lines", "occurred_at")
    }
    skus = {line["sku"] for line in order["lines"]}
    unknown = sorted(skus - repo.known_skus(merchant_id, skus))
    if unknown:
        event = new_event(
            "order_rejected",
            merchant_id=merchant_id,
            order_id=order_id,
            reason=f"unknown SKU: {', '.join(unknown)}",
            skus=unknown,
        )
        repo.save_allocation(order_id, merchant_id, "rejected", order, [], "order_rejected", event)
        return "rejected"
    queued = skus & repo.backordered_skus(merchant_id)
    if queued and not _holds_reservations(repo, order):
        short = [line for line in merge_lines(order["lines"]) if line["sku"] in queued]
        takes = []
    else:
        takes, short = try_allocate(repo, order, keep_when_short=True)
    if short:
        event = new_event(
            "order_backordered", merchant_id=merchant_id, order_id=order_id, short=short
        )
        saved = repo.save_allocation(
            order_id, merchant_id, "backordered", order, [], "order_backordered", event
        )
        # record first, release second: a concurrent delivery of this order may have
        # counted these reservations (keyed by order id) and recorded them as allocated
        existing = None if saved else repo.get_allocation(order_id)
        if saved or (existing and existing["status"] not in ("allocated", "packed")):
            _release_takes(repo, merchant_id, order_id, takes)
        if queued:
            # stock may have arrived while the queue was read: let the queue move now
            allocate_backorders(repo, merchant_id, queued)
        return "backordered"
    if not repo.save_allocation(
        order_id,
        merchant_id,
        "allocated",
        order,
        takes,
        "order_allocated",
        allocated_event(order, takes),
    ):
        # a concurrent delivery of the same order recorded it first: give back ours
        existing = repo.get_allocation(order_id)
        if existing and existing["status"] != "allocated":
            _release_takes(repo, merchant_id, order_id, takes)
    check_low_stock(repo, merchant_id, skus)
    return "allocated"


def allocate_backorders(repo, merchant_id, skus):
    """After stock arrives: allocate waiting orders for these SKUs, oldest first.

    Strict per SKU: once an older order is short of a SKU, younger orders needing
    that SKU wait too (they must not take the units the older one waits for). An order
    another worker is allocating right now counts as short for this pass."""
    allocated = 0
    blocked = set()
    for doc in repo.backorders(merchant_id):
        order = doc["order"]
        order_id = order["order_id"]
        order_skus = {line["sku"] for line in order["lines"]}
        if not skus & order_skus or order_skus & blocked:
            continue
        token = uuid.uuid4().hex
        if repo.claim_backorder(order_id, token) is None:
            blocked |= order_skus
            continue
        takes, short = try_allocate(repo, order)
        if short:
            repo.unclaim(order_id, token)
            blocked |= {line["sku"] for line in short}
            continue
        if repo.allocate_claimed(order_id, token, takes, allocated_event(order, takes)):
            allocated += 1
            continue
        # cancelled meanwhile (or the claim went stale): give back what is ours to give
        current = repo.get_allocation(order_id)
        if current is None or current["status"] not in ("allocated", "packed"):
            _release_takes(repo, merchant_id, order_id, takes)
        repo.unclaim(order_id, token)
    if allocated:
        check_low_stock(repo, merchant_id, skus)
    return allocated


def ship_out(repo, event):
    """order_packed: the reserved units leave on-hand (once: the reservation is the key)."""
    allocation = repo.get_allocation(event["order_id"])
    if allocation is None:
        raise LookupError(f"order {event['order_id']} packed before it was allocated here")
    for line in allocation["lines"]:
        repo.ship_out(_stock_id_of(event["merchant_id"], line), event["order_id"], line["qty"])
    repo.move_allocation(event["order_id"], ["allocated"], "packed")


def cancel(repo, event):
    """order_cancelled: release whatever the order holds; never allocate it later."""
    allocation = repo.get_allocation(event["order_id"])
    if allocation is None:
        repo.cancel_unseen(event["order_id"], event["merchant_id"])
        return
    if allocation["status"] in ("packed", "rejected"):
        return  # the units left already, or were never held
    # release what the order holds on the stock documents (not only its recorded lines):
    # a backordered order may still hold reservations from an attempt that crashed, and a
    # redelivered cancel finishes a release a crash interrupted
    merchant_id, order_id = event["merchant_id"], event["order_id"]
    lines = (allocation.get("order") or {}).get("lines") or allocation.get("lines", [])
    skus = {line["sku"] for line in lines}
    held = [
        _take(stock, sku, qty)
        for sku in sorted(skus)
        for stock, qty in repo.reservations_of(merchant_id, sku, order_id)
    ]
    repo.move_allocation(order_id, ["allocated", "backordered"], "cancelled")
    _release_takes(repo, merchant_id, order_id, held)
    if skus:
        allocate_backorders(repo, event["merchant_id"], skus)
        check_low_stock(repo, event["merchant_id"], skus)


# --- low stock -------------------------------------------------------------------


def check_low_stock(repo, merchant_id, skus, today=None):
    """Emit stock_low once when a SKU's available units fall to its threshold."""
    today = today or today_wib()
    for sku in skus:
        doc = repo.sku_doc(merchant_id, sku)
        threshold = (doc or {}).get("low_stock_threshold")
        if threshold is None:
            continue
        available = sum(
            s["available"] for s in sellable_fefo(repo.stock_for(merchant_id, sku), today)
        )
        change = crossed_low(available, threshold, doc.get(LOW, False))
        if change == "low":
            repo.flag_low(
                merchant_id,
                sku,
                new_event(
                    "stock_low",
                    merchant_id=merchant_id,
                    sku=sku,
                    available=available,
                    threshold=threshold,
                ),
            )
        elif change == "recovered":
            repo.clear_low(merchant_id, sku)


# --- returns ---------------------------------------------------------------------


def return_view(doc):
    keys = ("order_id", "merchant_id", "awb", "courier", "status", "lines", "opened_at")
    view = {"return_id": doc["_id"]} | {k: doc.get(k) for k in keys}
    if doc.get("inspection"):
        view["inspection"] = doc["inspection"]
    return view


def open_return(repo, event):
    """parcel_returned: the parcel's units wait for inspection (once per order)."""
    allocation = repo.get_allocation(event["order_id"])
    if allocation is None:
        raise LookupError(f"order {event['order_id']} returned but never allocated here")
    merged = {}
    for line in allocation.get("lines", []):
        key = line_key(line)
        got = merged.setdefault(
            key,
            {
                "sku": line["sku"],
                "lot": line.get("lot"),
                "expiry": line.get("expiry"),
                "bin": line["bin"],
                "qty": 0,
            },
        )
        got["qty"] += line["qty"]
    return repo.open_return(
        {
            "_id": f"ret_{event['order_id']}",
            "order_id": event["order_id"],
            "merchant_id": event["merchant_id"],
            "awb": event["awb"],
            "courier": event["courier"],
            "status": "awaiting_inspection",
            "lines": list(merged.values()),
            "opened_at": event["occurred_at"],
            "event_id": event["event_id"],
        }
    )


def inspect_return(repo, return_id, data, staff_id):
    """Staff inspect a returned parcel: every unit good (to a bin) or damaged (quarantine)."""
    ret = repo.get_return(return_id)
    if ret is None:
        raise NotFound(f"return {return_id} not found", {"return_id": ["Unknown return."]})
    expected = {line_key(line): line for line in ret["lines"]}
    counted = {}
    errors = {}
    lines = []
    for i, raw in enumerate(data["lines"]):
        line = dict(raw, lot=raw.get("lot") or None)
        key = line_key(line)
        if key not in expected:
            errors[f"lines.{i}.sku"] = ["Not in this return (check the SKU and lot)."]
            continue
        bin_code = line.get("bin") or expected[key]["bin"]
        if line["qty_good"] and repo.get_bin(bin_code) is None:
            errors[f"lines.{i}.bin"] = ["Unknown bin."]
            continue
        counted[key] = counted.get(key, 0) + line["qty_good"] + line["qty_damaged"]
        lines.append(
            {
                "sku": line["sku"],
                "lot": line["lot"],
                "expiry": expected[key].get("expiry"),
                "qty_good": line["qty_good"],
                "qty_damaged": line["qty_damaged"],
                "bin": bin_code,
            }
        )
    for key, line in expected.items():
        if not errors and counted.get(key, 0) != line["qty"]:
            errors["lines"] = [
                f"{line['sku']}{' lot ' + line['lot'] if line.get('lot') else ''}: "
                f"{line['qty']} returned, {counted.get(key, 0)} inspected; "
                "every unit is good or damaged."
            ]
    if errors:
        raise ValidationFailed("inspection does not match the return", errors)
    if ret["status"] == "inspected":
        if ret["inspection"]["lines"] == lines:
            return return_view(ret)  # the same inspection sent again
        raise Conflict("return already inspected", {"return_id": ["Already inspected."]})
    inspection = {"lines": lines, "staff_id": staff_id, "inspected_at": iso(utcnow())}
    event = new_event(
        "return_inspected",
        merchant_id=ret["merchant_id"],
        return_id=return_id,
        order_id=ret["order_id"],
        units_good=sum(line["qty_good"] for line in lines),
        units_damaged=sum(line["qty_damaged"] for line in lines),
    )
    done = repo.record_inspection(return_id, inspection, event)
    if done is None:  # inspected concurrently: same answer as a resend
        return inspect_return(repo, return_id, data, staff_id)
    return return_view(done)


def restock_return(repo, event):
    """return_inspected: good units back to their bin, damaged to quarantine (once)."""
    ret = repo.get_return(event["return_id"])
    merchant_id = ret["merchant_id"]
    good = set()
    for i, line in enumerate(ret["inspection"]["lines"]):
        keys = (f"{ret['_id']}:{i}:good", f"{ret['_id']}:{i}:damaged")
        if _land_line(
            repo, merchant_id, line, keys, "return", ret["order_id"], "damaged in return"
        ):
            good.add(line["sku"])
    if good:
        allocate_backorders(repo, merchant_id, good)
        check_low_stock(repo, merchant_id, good)
    return good


# --- adjustments, cycle counts, moves (staff) ----------------------------------------


def _location(repo, code, field):
    if code == QUARANTINE:
        return {"_id": QUARANTINE, "pick_sequence": QUARANTINE_SEQUENCE}
    bin_doc = repo.get_bin(code)
    if bin_doc is None:
        raise ValidationFailed(f"unknown bin {code}", {field: ["Unknown bin."]})
    return bin_doc


def _sku_for(repo, merchant_id, sku, field="sku"):
    doc = repo.sku_doc(merchant_id, sku)
    if doc is None:
        raise Unprocessable(f"unknown SKU {sku}", {field: ["Unknown SKU for this merchant."]})
    return doc


def _after_change(repo, merchant_id, sku, more_sellable):
    if more_sellable:
        allocate_backorders(repo, merchant_id, {sku})
    check_low_stock(repo, merchant_id, {sku})


def adjust_stock(repo, data, staff_id):
    """A staff adjustment with a reason: found units in, lost or damaged units out."""
    merchant_id, sku, qty = data["merchant_id"], data["sku"], data["qty"]
    sku_doc = _sku_for(repo, merchant_id, sku)
    bin_doc = _location(repo, data["bin"], "bin")
    lot = data.get("lot") or None
    expiry = _iso_date(data.get("expiry"))
    sid = stock_id(merchant_id, sku, bin_doc["_id"], lot)
    existing = repo.get_stock(sid)
    problems = lot_problems(
        {"lot": lot, "expiry": expiry},
        sku_doc.get("tracks_lots", False),
        0,
        need_expiry=existing is None and qty > 0,
    )
    if problems:
        raise ValidationFailed(
            "adjustment needs the lot", {k.split(".", 2)[2]: v for k, v in problems.items()}
        )
    reason = data["reason"] + (f": {data['note']}" if data.get("note") else "")
    if qty > 0:
        repo.add_units(
            merchant_id,
            sku,
            bin_doc["_id"],
            bin_doc["pick_sequence"],
            qty,
            f"adj_{uuid.uuid4().hex}",
            "adjust",
            lot=lot,
            expiry=expiry if existing is None else existing.get("expiry"),
            reason=reason,
            by=staff_id,
        )
    else:
        if (
            existing is None
            or repo.adjust(sid, qty, movement("adjust", qty, reason=reason, by=staff_id)) is None
        ):
            raise Unprocessable(
                "not that many units to take out here",
                {"qty": ["Fewer units available here (reserved units cannot be adjusted away)."]},
            )
    _after_change(repo, merchant_id, sku, qty > 0 and bin_doc["_id"] != QUARANTINE)
    return stock_view(repo.get_stock(sid))


def cycle_count(repo, data, staff_id):
    """Staff count a bin: each counted line sets on-hand, recording the difference."""
    bin_doc = _location(repo, data["bin"], "bin")
    plan = []
    errors = {}
    for i, line in enumerate(data["lines"]):
        sku_doc = repo.sku_doc(line["merchant_id"], line["sku"])
        if sku_doc is None:
            errors[f"lines.{i}.sku"] = ["Unknown SKU for this merchant."]
            continue
        lot = line.get("lot") or None
        sid = stock_id(line["merchant_id"], line["sku"], bin_doc["_id"], lot)
        existing = repo.get_stock(sid)
        expiry = _iso_date(line.get("expiry"))
        need_expiry = existing is None and line["counted"] > 0
        errors.update(
            lot_problems(
                {"lot": lot, "expiry": expiry}, sku_doc.get("tracks_lots", False), i, need_expiry
            )
        )
        if existing is not None and existing["reserved"] > line["counted"]:
            errors[f"lines.{i}.counted"] = [
                f"{existing['reserved']} units here are reserved for orders; recount or "
                "cancel those orders first."
            ]
        plan.append((line, sid, lot, expiry))
    if errors:
        raise ValidationFailed("cycle count does not fit the stock", errors)
    reason = "cycle_count" + (f": {data['note']}" if data.get("note") else "")
    results = []
    for line, sid, lot, expiry in plan:
        before = None
        for _ in range(5):  # somebody picked meanwhile: count against the fresh figure
            doc = repo.get_stock(sid)
            before = doc["on_hand"] if doc else 0
            delta = line["counted"] - before
            if delta == 0:
                break
            if doc is None:
                repo.add_units(
                    line["merchant_id"],
                    line["sku"],
                    bin_doc["_id"],
                    bin_doc["pick_sequence"],
                    delta,
                    f"cnt_{uuid.uuid4().hex}",
                    "adjust",
                    lot=lot,
                    expiry=expiry,
                    reason=reason,
                    by=staff_id,
                )
                break
            mv = movement("adjust", delta, reason=reason, by=staff_id)
            if repo.count(sid, before, line["counted"], mv) is not None:
                break
        else:
            raise Conflict("stock kept moving during the count", {"lines": ["Count again."]})
        results.append(
            {
                "merchant_id": line["merchant_id"],
                "sku": line["sku"],
                "lot": lot,
                "bin": bin_doc["_id"],
                "before": before,
                "counted": line["counted"],
                "difference": line["counted"] - before,
            }
        )
        _after_change(repo, line["merchant_id"], line["sku"], line["counted"] > before)
    return {"bin": bin_doc["_id"], "lines": results}


def move_stock(repo, data, staff_id):
    """Put away or relocate units between bins, or move them into (or out of) quarantine."""
    merchant_id, sku, qty = data["merchant_id"], data["sku"], data["qty"]
    _sku_for(repo, merchant_id, sku)
    if data["from_bin"] == data["to_bin"]:
        raise ValidationFailed(
            "from_bin and to_bin are the same", {"to_bin": ["Same as from_bin."]}
        )
    source = _location(repo, data["from_bin"], "from_bin")
    target = _location(repo, data["to_bin"], "to_bin")
    lot = data.get("lot") or None
    sid = stock_id(merchant_id, sku, source["_id"], lot)
    doc = repo.get_stock(sid)
    if doc is None:
        raise Unprocessable("no such stock there", {"from_bin": ["No stock of this SKU/lot here."]})
    kind = "quarantine" if QUARANTINE in (target["_id"], source["_id"]) else "put_away"
    mv = movement(
        kind,
        -qty,
        reason=data.get("reason"),
        by=staff_id,
        transfer={
            "bin": target["_id"],
            "pick_sequence": target["pick_sequence"],
            "expiry": doc.get("expiry"),
        },
    )
    if repo.move_out(sid, qty, mv) is None:
        raise Unprocessable("not that many units to move", {"qty": ["Fewer units available here."]})
    _after_change(repo, merchant_id, sku, target["_id"] != QUARANTINE)
    return {
        "from": stock_view(repo.get_stock(sid)),
        "to": stock_view(repo.get_stock(stock_id(merchant_id, sku, target["_id"], lot))),
    }


# --- what merchants see --------------------------------------------------------------


def stock_view(doc):
    keys = ("sku", "bin", "lot", "expiry", "on_hand", "reserved", "available")
    return {k: doc.get(k) for k in keys} | {"merchant_id": doc["merchant_id"]}


def stock_levels(repo, merchant_id, today=None):
    """Per SKU: on hand (sellable locations), reserved, available (not expired),
    quarantined, expired, nearest expiry, low-stock flag, and each bin and lot."""
    today = today or today_wib()
    per_sku = {}

    def level_of(sku):
        return per_sku.setdefault(
            sku,
            {
                "sku": sku,
                "on_hand": 0,
                "reserved": 0,
                "available": 0,
                "quarantined": 0,
                "expired": 0,
                "nearest_expiry": None,
                "low_stock": False,
                "bins": [],
            },
        )

    for doc in sorted(
        repo.stock_of_merchant(merchant_id), key=lambda d: (d["pick_sequence"], d["_id"])
    ):
        level = level_of(doc["sku"])
        if doc["bin"] == QUARANTINE:
            level["quarantined"] += doc["on_hand"]
            continue
        expiry = doc.get("expiry")
        expired = expiry is not None and expiry < today
        level["on_hand"] += doc["on_hand"]
        level["reserved"] += doc["reserved"]
        if expired:
            level["expired"] += doc["on_hand"]
        else:
            level["available"] += doc["available"]
            if expiry and doc["on_hand"] > 0:
                nearest = level["nearest_expiry"]
                level["nearest_expiry"] = min(nearest, expiry) if nearest else expiry
        if doc["on_hand"] or doc["reserved"]:
            level["bins"].append(
                {
                    "bin": doc["bin"],
                    "lot": doc.get("lot"),
                    "expiry": expiry,
                    "on_hand": doc["on_hand"],
                    "reserved": doc["reserved"],
                    "available": 0 if expired else doc["available"],
                }
            )
    for sku in repo.list_skus(merchant_id):
        level = level_of(sku["sku"])
        threshold = sku.get("low_stock_threshold")
        level["low_stock"] = threshold is not None and level["available"] <= threshold
    return sorted(per_sku.values(), key=lambda level: level["sku"])


CSV_COLUMNS = (
    "sku",
    "on_hand",
    "reserved",
    "available",
    "quarantined",
    "expired",
    "nearest_expiry",
    "low_stock",
)


def stock_csv(levels):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for level in levels:
        writer.writerow(["" if level[c] is None else level[c] for c in CSV_COLUMNS])
    return out.getvalue()


def movements(repo, merchant_id, filters, limit):
    repo.flush_pending_movements(merchant_id)  # exact even after a crash mid-flush
    return repo.movements(merchant_id, filters, limit)


def slow_moving_report(repo, merchant_id, min_days, today=None):
    today = today or today_wib()
    rows = slow_moving(repo.stock_of_merchant(merchant_id), today, min_days)
    return {"as_of": today, "min_days": min_days, "skus": rows}
