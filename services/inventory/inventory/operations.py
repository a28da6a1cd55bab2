"""Inventory use cases: receive stock, allocate orders, release and ship out reservations."""

import logging
import uuid

from gudang_common.errors import NotFound, Unprocessable, ValidationFailed
from gudang_common.events import iso, new_event, utcnow

from .domain import inbound_status, merge_lines, receipt_discrepancies
from .store import new_stock_received

log = logging.getLogger(__name__)


def create_inbound(repo, merchant_id, data):
    lines = merge_lines(data["lines"])
    known = repo.known_skus(merchant_id, [line["sku"] for line in lines])
    unknown = [i for i, line in enumerate(lines) if line["sku"] not in known]
    if unknown:
        raise Unprocessable(
            "inbound names SKUs you have not registered",
            {f"lines.{i}.sku": ["Unknown SKU."] for i in unknown},
        )
    now = iso(utcnow())
    doc = {
        "_id": f"inb_{uuid.uuid4().hex[:20]}",
        "merchant_id": merchant_id,
        "status": "announced",
        "lines": lines,
        "expected_at": data["expected_at"].isoformat() if data.get("expected_at") else None,
        "note": data.get("note", ""),
        "receipts": [],
        "receipt_count": 0,
        "received": {},
        "discrepancies": receipt_discrepancies(lines, {}),
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


def receive_inbound(repo, inbound_id, data, staff_id):
    """Record a (partial) receipt; good units become sellable through stock_received."""
    inbound = repo.get_inbound(inbound_id)
    if inbound is None:
        raise NotFound(f"inbound {inbound_id} not found", {"inbound_id": ["Unknown inbound."]})
    expected = {line["sku"] for line in inbound["lines"]}
    errors = {}
    lines = []
    for i, line in enumerate(data["lines"]):
        if line["sku"] not in expected:
            errors[f"lines.{i}.sku"] = ["Not on this inbound."]
            continue
        if line["bin"]:
            bin_doc = repo.get_bin(line["bin"])
            if bin_doc is None:
                errors[f"lines.{i}.bin"] = ["Unknown bin."]
                continue
        else:
            located = repo.stock_for(inbound["merchant_id"], line["sku"])
            bin_doc = repo.get_bin(located[0]["bin"]) if located else repo.first_bin()
            if bin_doc is None and line["qty_good"]:
                errors[f"lines.{i}.bin"] = ["No bin given and none exists yet; create a bin first."]
                continue
        lines.append(dict(line, bin=bin_doc["_id"] if bin_doc else ""))
    if errors:
        raise ValidationFailed("receipt does not match the inbound", errors)
    received = {k: dict(v) for k, v in inbound.get("received", {}).items()}
    for line in lines:
        got = received.setdefault(line["sku"], {"qty_good": 0, "qty_damaged": 0})
        got["qty_good"] += line["qty_good"]
        got["qty_damaged"] += line["qty_damaged"]
    discrepancies = receipt_discrepancies(inbound["lines"], received)
    receipt_id = f"rcp_{uuid.uuid4().hex[:20]}"
    units_good = sum(line["qty_good"] for line in lines)
    event = new_stock_received(inbound["merchant_id"], inbound_id, lines, units_good, receipt_id)
    receipt = {
        "receipt_id": receipt_id,
        "staff_id": staff_id,
        "lines": lines,
        "received_at": event["occurred_at"],
    }
    done = repo.record_receipt(
        inbound, receipt, received, discrepancies, inbound_status(discrepancies), event
    )
    # sellable by the time staff see "received"; the stock_received handler repeats this
    # (idempotent per receipt) in case the process dies right here
    put_away(repo, event)
    return inbound_view(done)


def put_away(repo, event):
    """Apply a receipt's good units to their bins (idempotent per receipt and bin)."""
    for line in event["lines"]:
        if line["qty_good"] <= 0:
            continue
        bin_doc = repo.get_bin(line["bin"])
        repo.put_away(
            event["merchant_id"], line["sku"], bin_doc, line["qty_good"], event["receipt_id"]
        )


def _reserve_line(repo, merchant_id, order_id, sku, qty):
    """Reserve up to `qty` of `sku` across bins in pick sequence; returns the takes."""
    takes = []
    remaining = qty
    # a redelivery finds the reservations a crashed attempt already made
    for stock, held in repo.reservations_of(merchant_id, sku, order_id):
        takes.append(
            {"sku": sku, "qty": held, "bin": stock["bin"], "pick_sequence": stock["pick_sequence"]}
        )
        remaining -= held
    for _ in range(5):  # re-read after losing a race, a bounded number of times
        if remaining <= 0:
            break
        progressed = False
        for stock in repo.stock_for(merchant_id, sku):
            if remaining <= 0:
                break
            if any(r["order_id"] == order_id for r in stock.get("reservations", [])):
                continue
            take = min(stock["available"], remaining)
            if take <= 0:
                continue
            if repo.try_reserve(stock["_id"], order_id, take) is not None:
                takes.append(
                    {
                        "sku": sku,
                        "qty": take,
                        "bin": stock["bin"],
                        "pick_sequence": stock["pick_sequence"],
                    }
                )
                remaining -= take
                progressed = True
        if not progressed:
            break
    return takes, remaining


def _release_takes(repo, merchant_id, order_id, takes):
    for take in takes:
        repo.release(f"{merchant_id}:{take['sku']}:{take['bin']}", order_id, take["qty"])


def try_allocate(repo, order):
    """Reserve every line or none. Returns (takes, short)."""
    merchant_id, order_id = order["merchant_id"], order["order_id"]
    all_takes, short = [], []
    for line in merge_lines(order["lines"]):
        takes, remaining = _reserve_line(repo, merchant_id, order_id, line["sku"], line["qty"])
        all_takes.extend(takes)
        if remaining > 0:
            short.append({"sku": line["sku"], "qty": remaining})
    if short:
        # hold nothing while waiting: the stock serves orders that can ship now
        _release_takes(repo, merchant_id, order_id, all_takes)
        return [], short
    return sorted(all_takes, key=lambda t: (t["pick_sequence"], t["bin"], t["sku"])), []


def allocated_event(order, takes):
    return new_event(
        "order_allocated",
        merchant_id=order["merchant_id"],
        order_id=order["order_id"],
        external_id=order["external_id"],
        courier=order["courier"],
        recipient=order["recipient"],
        lines=takes,
        cod_amount=order["cod_amount"],
    )


def allocate_order(repo, order):
    """Handle order_received: allocate, backorder or reject, exactly once per order."""
    order_id, merchant_id = order["order_id"], order["merchant_id"]
    if repo.get_allocation(order_id) is not None:
        return "duplicate"
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
    takes, short = try_allocate(repo, order)
    if short:
        event = new_event(
            "order_backordered", merchant_id=merchant_id, order_id=order_id, short=short
        )
        repo.save_allocation(
            order_id, merchant_id, "backordered", order, [], "order_backordered", event
        )
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
    return "allocated"


def allocate_backorders(repo, merchant_id, skus):
    """After stock arrives: allocate waiting orders for these SKUs, oldest first."""
    allocated = 0
    for doc in repo.backorders(merchant_id):
        order = doc["order"]
        if not skus & {line["sku"] for line in order["lines"]}:
            continue
        takes, short = try_allocate(repo, order)
        if short:
            continue
        moved = repo.move_allocation(
            order["order_id"],
            ["backordered"],
            "allocated",
            takes,
            "order_allocated",
            allocated_event(order, takes),
        )
        if moved is None:
            _release_takes(repo, merchant_id, order["order_id"], takes)
        else:
            allocated += 1
    return allocated


def ship_out(repo, event):
    """order_packed: the reserved units leave on-hand."""
    allocation = repo.get_allocation(event["order_id"])
    if allocation is None:
        raise LookupError(f"order {event['order_id']} packed before it was allocated here")
    for line in allocation["lines"]:
        repo.ship_out(
            f"{event['merchant_id']}:{line['sku']}:{line['bin']}", event["order_id"], line["qty"]
        )
    repo.move_allocation(event["order_id"], ["allocated"], "packed")


def cancel(repo, event):
    """order_cancelled: release whatever the order holds; never allocate it later."""
    allocation = repo.get_allocation(event["order_id"])
    if allocation is None:
        repo.cancel_unseen(event["order_id"], event["merchant_id"])
        return
    _release_takes(repo, event["merchant_id"], event["order_id"], allocation.get("lines", []))
    repo.move_allocation(event["order_id"], ["allocated", "backordered"], "cancelled")


def stock_levels(repo, merchant_id):
    per_sku = {}
    for doc in repo.stock_of_merchant(merchant_id):
        level = per_sku.setdefault(
            doc["sku"], {"sku": doc["sku"], "on_hand": 0, "reserved": 0, "available": 0, "bins": []}
        )
        for key in ("on_hand", "reserved", "available"):
            level[key] += doc[key]
        level["bins"].append(
            {"bin": doc["bin"], "on_hand": doc["on_hand"], "available": doc["available"]}
        )
    for sku in repo.list_skus(merchant_id):
        per_sku.setdefault(
            sku["sku"], {"sku": sku["sku"], "on_hand": 0, "reserved": 0, "available": 0, "bins": []}
        )
    return sorted(per_sku.values(), key=lambda level: level["sku"])
