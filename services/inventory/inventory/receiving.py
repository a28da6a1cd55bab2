"""Receiving: inbounds announced by merchants, receipts counted by staff, and the put-away
that makes good units sellable and sends damaged ones to quarantine."""

import uuid

from gudang_common.clock import iso, utcnow
from gudang_common.errors import NotFound, Unprocessable, ValidationFailed
from gudang_common.events import new_event

from .domain import (
    QUARANTINE,
    QUARANTINE_LOCATION,
    check_receipt,
    inbound_status,
    iso_date,
    lot_problems,
    merge_lot_lines,
    receipt_discrepancies,
)
from .low_stock import check_low_stock

INBOUND_LINE_KEYS = ("sku", "qty", "lot", "expiry")
RECEIPT_EVENT_KEYS = ("sku", "qty_good", "qty_damaged", "bin")


def _with_lot(line):
    return dict(line, lot=line.get("lot") or None, expiry=iso_date(line.get("expiry")))


def create_inbound(repo, merchant_id, data):
    """A merchant announces stock on its way: SKUs, quantities and, for lot SKUs, lots."""
    raw = [_with_lot(line) for line in data["lines"]]
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
    lines = [{k: line[k] for k in INBOUND_LINE_KEYS if line.get(k) is not None} for line in lines]
    doc = {
        "_id": f"inb_{uuid.uuid4().hex[:20]}",
        "merchant_id": merchant_id,
        "status": "announced",
        "lines": lines,
        "expected_at": iso_date(data.get("expected_at")),
        "note": data.get("note", ""),
        "receipts": [],
        "receipt_count": 0,
        "received": [],
        "discrepancies": receipt_discrepancies(lines, []),
        "created_at": iso(utcnow()),
    }
    return inbound_view(repo.add_inbound(doc))


def _labelled(repo, merchant_id, lines):
    """The lines with each SKU's name and barcode: what the receiving tablet shows and scans."""
    skus = repo.sku_docs(merchant_id, {line["sku"] for line in lines})
    return [
        dict(line, **{k: skus.get(line["sku"], {}).get(k) for k in ("name", "barcode")})
        for line in lines
    ]


def inbound_view(doc, repo=None):
    """The inbound; with `repo` (one inbound asked for) its lines name and barcode each SKU."""
    lines = _labelled(repo, doc["merchant_id"], doc["lines"]) if repo else doc["lines"]
    return {
        "inbound_id": doc["_id"],
        "merchant_id": doc["merchant_id"],
        "status": doc["status"],
        "lines": lines,
        "expected_at": doc.get("expected_at"),
        "created_at": doc["created_at"],
        "receipts": doc.get("receipts", []),
        "discrepancies": doc.get("discrepancies", []),
    }


def _place(repo, merchant_id, line):
    """(bin, error) for a receipt line: the bin named, else where the SKU already is, else
    the first bin."""
    if line.get("bin"):
        found = repo.get_bin(line["bin"])
        return (found["_id"], None) if found else (None, "Unknown bin.")
    located = [s for s in repo.stock_for(merchant_id, line["sku"]) if s["bin"] != QUARANTINE]
    found = repo.get_bin(located[0]["bin"]) if located else repo.first_bin()
    if found is None and line["qty_good"]:
        return None, "No bin given and none exists yet; create a bin first."
    return (found["_id"] if found else None), None


def receive_inbound(repo, inbound_id, data, staff_id):
    """Record a (partial) receipt; good units become sellable through stock_received,
    damaged units go to quarantine. Counting more than announced needs an over_reason."""
    inbound = repo.get_inbound(inbound_id)
    if inbound is None:
        raise NotFound(f"inbound {inbound_id} not found", {"inbound_id": ["Unknown inbound."]})
    merchant_id = inbound["merchant_id"]
    lines = [_with_lot(line) for line in data["lines"]]
    skus = repo.sku_docs(merchant_id, {line["sku"] for line in lines})
    places = [_place(repo, merchant_id, line) for line in lines]
    lines, received, errors = check_receipt(inbound, lines, skus, places)
    if errors:
        raise ValidationFailed("receipt does not match the inbound", errors)
    receipt_id = f"rcp_{uuid.uuid4().hex[:20]}"
    event = new_event(
        "stock_received",
        merchant_id=merchant_id,
        inbound_id=inbound_id,
        receipt_id=receipt_id,
        lines=[{k: line[k] for k in RECEIPT_EVENT_KEYS} for line in lines],
        units_good=sum(line["qty_good"] for line in lines),
    )
    receipt = {
        "receipt_id": receipt_id,
        "staff_id": staff_id,
        "lines": [{k: v for k, v in line.items() if v is not None} for line in lines],
        "received_at": event["occurred_at"],
    }
    discrepancies = receipt_discrepancies(inbound["lines"], received)
    status = inbound_status(discrepancies)
    done = repo.record_receipt(inbound, receipt, received, discrepancies, status, event)
    # sellable by the time staff see "received"; the stock_received handler repeats this
    # (idempotent per receipt line) in case the process dies right here
    put_away(repo, event)
    return inbound_view(done)


def land_line(repo, merchant_id, line, keys, kind, ref, damaged_reason):
    """Good units of a receipt or return line into their bin, damaged ones into quarantine,
    each once (`keys` = (good key, damaged key)). True when good units landed."""
    good_key, damaged_key = keys
    lot, expiry = line.get("lot"), line.get("expiry")
    if line.get("qty_damaged", 0) > 0:
        repo.add_units(
            merchant_id,
            line["sku"],
            QUARANTINE_LOCATION,
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
        merchant_id, line["sku"], bin_doc, line["qty_good"], good_key, kind, lot, expiry, ref
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
        if land_line(repo, merchant_id, line, keys, "receive", receipt_id, "damaged on receipt"):
            touched.add(line["sku"])
    check_low_stock(repo, merchant_id, touched)
    return touched
