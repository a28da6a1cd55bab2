"""Staff changes to stock: adjustments with a reason, cycle counts of a bin, and moves
between bins or into and out of quarantine."""

import uuid

from gudang_common.errors import Conflict, Unprocessable, ValidationFailed

from .allocation import allocate_backorders
from .domain import (
    QUARANTINE,
    QUARANTINE_LOCATION,
    iso_date,
    lot_problems,
    split_count_holds,
    stock_id,
)
from .ledger import land_moves
from .low_stock import check_low_stock
from .store import movement

COUNT_ROUNDS = 5  # somebody picked meanwhile: count against the fresh figure, a few times


def stock_view(doc):
    keys = ("sku", "bin", "lot", "expiry", "on_hand", "reserved", "available")
    return {k: doc.get(k) for k in keys} | {"merchant_id": doc["merchant_id"]}


def _location(repo, code, field):
    if code == QUARANTINE:
        return QUARANTINE_LOCATION
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


def _reason(base, data):
    return base + (f": {data['note']}" if data.get("note") else "")


def adjust_stock(repo, data, staff_id):
    """A staff adjustment with a reason: found units in, lost or damaged units out."""
    merchant_id, sku, qty = data["merchant_id"], data["sku"], data["qty"]
    sku_doc = _sku_for(repo, merchant_id, sku)
    location = _location(repo, data["bin"], "bin")
    lot, expiry = data.get("lot") or None, iso_date(data.get("expiry"))
    sid = stock_id(merchant_id, sku, location["_id"], lot)
    existing = repo.get_stock(sid)
    tracks = sku_doc.get("tracks_lots", False)
    need_expiry = existing is None and qty > 0
    problems = lot_problems({"lot": lot, "expiry": expiry}, tracks, 0, need_expiry)
    if problems:
        raise ValidationFailed(
            "adjustment needs the lot", {k.split(".", 2)[2]: v for k, v in problems.items()}
        )
    reason = _reason(data["reason"], data)
    if qty > 0:
        expiry = expiry if existing is None else existing.get("expiry")
        key = f"adj_{uuid.uuid4().hex}"
        repo.add_units(
            merchant_id, sku, location, qty, key, "adjust", lot, expiry, reason=reason, by=staff_id
        )
    elif existing is None or not repo.take_out(
        sid, location["_id"], -qty, movement("adjust", qty, reason=reason, by=staff_id)
    ):
        raise Unprocessable(
            "not that many units to take out here",
            {"qty": ["Fewer units available here (reserved units cannot be adjusted away)."]},
        )
    _after_change(repo, merchant_id, sku, qty > 0 and location["_id"] != QUARANTINE)
    return stock_view(repo.get_stock(sid))


def _count_plan(repo, data, location):
    """(line, stock id, lot, expiry) per counted line, or ValidationFailed before anything
    changes: unknown SKUs, lot problems, a count below the units reserved there."""
    plan, errors = [], {}
    for i, line in enumerate(data["lines"]):
        sku_doc = repo.sku_doc(line["merchant_id"], line["sku"])
        if sku_doc is None:
            errors[f"lines.{i}.sku"] = ["Unknown SKU for this merchant."]
            continue
        lot, expiry = line.get("lot") or None, iso_date(line.get("expiry"))
        sid = stock_id(line["merchant_id"], line["sku"], location["_id"], lot)
        existing = repo.get_stock(sid)
        tracks = sku_doc.get("tracks_lots", False)
        need_expiry = existing is None and line["counted"] > 0
        errors.update(lot_problems({"lot": lot, "expiry": expiry}, tracks, i, need_expiry))
        held = split_count_holds(existing.get("reservations", []))[1] if existing else 0
        if existing is not None and existing["reserved"] - held > line["counted"]:
            errors[f"lines.{i}.counted"] = [
                f"{existing['reserved']} units here are reserved for orders; recount or "
                "cancel those orders first."
            ]
        plan.append((line, sid, lot, expiry))
    if errors:
        raise ValidationFailed("cycle count does not fit the stock", errors)
    return plan


def _count_line(repo, location, planned, reason, staff_id):
    """Set one counted line's on-hand, conditional on the figure read; returns it."""
    line, sid, lot, expiry = planned
    for _ in range(COUNT_ROUNDS):
        doc = repo.get_stock(sid)
        before = doc["on_hand"] if doc else 0
        delta = line["counted"] - before
        if delta == 0 and not (doc and split_count_holds(doc.get("reservations", []))[1]):
            return before
        if doc is None:
            key = f"cnt_{uuid.uuid4().hex}"
            repo.add_units(
                line["merchant_id"],
                line["sku"],
                location,
                delta,
                key,
                "adjust",
                lot=lot,
                expiry=expiry,
                reason=reason,
                by=staff_id,
            )
            return before
        mv = movement("adjust", delta, reason=reason, by=staff_id)
        if repo.count(sid, location["_id"], doc, line["counted"], mv) is not None:
            return before
    raise Conflict("stock kept moving during the count", {"lines": ["Count again."]})


def cycle_count(repo, data, staff_id):
    """Staff count a bin: each counted line sets on-hand, recording the difference."""
    location = _location(repo, data["bin"], "bin")
    plan = _count_plan(repo, data, location)
    reason = _reason("cycle_count", data)
    results = []
    for planned in plan:
        line, _, lot, _ = planned
        before = _count_line(repo, location, planned, reason, staff_id)
        results.append(
            {
                "merchant_id": line["merchant_id"],
                "sku": line["sku"],
                "lot": lot,
                "bin": location["_id"],
                "before": before,
                "counted": line["counted"],
                "difference": line["counted"] - before,
            }
        )
        _after_change(repo, line["merchant_id"], line["sku"], line["counted"] > before)
    return {"bin": location["_id"], "lines": results}


def move_stock(repo, data, staff_id):
    """Put away or relocate units between bins, or move them into (or out of) quarantine.
    The units leave the source in one conditional update whose movement names the
    destination, then land there; a crash in between delays the landing (ledger)."""
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
    transfer = {
        "bin": target["_id"],
        "pick_sequence": target["pick_sequence"],
        "expiry": doc.get("expiry"),
    }
    mv = movement(kind, -qty, reason=data.get("reason"), by=staff_id, transfer=transfer)
    if repo.take_out(sid, source["_id"], qty, mv) is None:
        raise Unprocessable("not that many units to move", {"qty": ["Fewer units available here."]})
    land_moves(repo, sid)
    _after_change(repo, merchant_id, sku, target["_id"] != QUARANTINE)
    return {
        "from": stock_view(repo.get_stock(sid)),
        "to": stock_view(repo.get_stock(stock_id(merchant_id, sku, target["_id"], lot))),
    }
