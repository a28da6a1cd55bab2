"""Inventory rules, pure: barcodes, bins, order lines, lots and expiry (FEFO), reservation
planning, the quarantine arithmetic, receipts and inspections, stock levels, low stock."""

import re
from datetime import date

from gudang_common.bins import BIN_CODE  # noqa: F401  (zone-aisle-rack-level-bin)

CODE128 = re.compile(r"^[\x20-\x7e]{1,48}$")
QUARANTINE = "QUARANTINE"  # the location of damaged units: counted, never sellable
QUARANTINE_SEQUENCE = 10**9  # never walked by pickers
QUARANTINE_LOCATION = {"_id": QUARANTINE, "pick_sequence": QUARANTINE_SEQUENCE}
NO_EXPIRY = "9999-12-31"
ADJUST_REASONS = ("damaged", "lost", "found", "expired", "count_correction", "other")


def ean13_check_digit(first12):
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return (10 - total % 10) % 10


def barcode_problem(barcode):
    """None when `barcode` is a valid EAN-13 or Code 128 value, else why not."""
    if barcode.isdigit() and len(barcode) == 13:
        if ean13_check_digit(barcode[:12]) != int(barcode[12]):
            return "EAN-13 check digit is wrong."
        return None
    if barcode.isdigit() and len(barcode) in (12, 14):
        return "Looks like a UPC/GTIN-14; use the EAN-13 or a Code 128 value."
    if not CODE128.match(barcode):
        return "Not EAN-13 and not printable Code 128 (1-48 ASCII characters)."
    return None


def merge_lines(lines):
    """Sum quantities per SKU, keeping first-seen order."""
    merged = {}
    for line in lines:
        merged[line["sku"]] = merged.get(line["sku"], 0) + line["qty"]
    return [{"sku": sku, "qty": qty} for sku, qty in merged.items()]


def stock_id(merchant_id, sku, bin_code, lot=None):
    # lot-less stock keeps the id it always had, so existing documents stay valid
    base = f"{merchant_id}:{sku}:{bin_code}"
    return f"{base}:{lot}" if lot else base


def iso_date(value):
    """A date as YYYY-MM-DD (the schemas load dates; stored documents keep text)."""
    return value.isoformat() if value is not None and hasattr(value, "isoformat") else value


# --- the quarantine arithmetic ----------------------------------------------------


def units_change(location, qty):
    """What `qty` units arriving at a location (leaving it, when negative) change:
    quarantined units count on hand but are never available, so never reserved."""
    return {"on_hand": qty} if location == QUARANTINE else {"on_hand": qty, "available": qty}


COUNT_HOLD = "count:"  # a reservation held for a bin's count after a short pick


def split_count_holds(reservations):
    """(the orders' reservations, units held for a count) of a stock document."""
    orders = [r for r in reservations if not r["order_id"].startswith(COUNT_HOLD)]
    return orders, sum(r["qty"] for r in reservations) - sum(r["qty"] for r in orders)


def takeable(location):
    """The quantity that bounds what staff may take out of a location: in a bin only the
    available units (reserved ones belong to orders), in quarantine everything on hand."""
    return "on_hand" if location == QUARANTINE else "available"


# --- lots, expiry, FEFO, reservation planning ----------------------------------------


def is_expired(expiry, today):
    """A lot is sellable through its expiry date and expired from the next day (WIB)."""
    return expiry is not None and expiry < today


def sellable_fefo(stocks, today):
    """Stock documents an order may take from: not quarantined, not expired, earliest
    expiry first, then pick sequence (lot-less stock counts as never expiring)."""
    ok = [s for s in stocks if s["bin"] != QUARANTINE and not is_expired(s.get("expiry"), today)]
    return sorted(
        ok, key=lambda s: (s.get("expiry") or NO_EXPIRY, s["pick_sequence"], s["bin"], s["_id"])
    )


def held_by(stocks, order_id):
    """(stock, units) for every stock document holding a reservation of the order."""
    return [
        (s, r["qty"])
        for s in stocks
        for r in s.get("reservations", [])
        if r["order_id"] == order_id
    ]


def plan_reservation(stocks, qty, order_id, today):
    """Where to reserve `qty` units for an order: (stock, units) pairs in FEFO order over
    the sellable documents the order holds nothing on yet; fewer units when short."""
    plan, remaining = [], qty
    for stock in sellable_fefo(stocks, today):
        if remaining <= 0:
            break
        if any(r["order_id"] == order_id for r in stock.get("reservations", [])):
            continue
        units = min(stock["available"], remaining)
        if units > 0:
            plan.append((stock, units))
            remaining -= units
    return plan


def line_key(line):
    return (line["sku"], line.get("lot") or None)


def merge_lot_lines(lines):
    """Inbound lines summed per SKU and lot (first-seen order). Returns (lines, errors):
    one lot announced with two different expiry dates is an error on the later line."""
    merged, errors = {}, {}
    for i, line in enumerate(lines):
        key = line_key(line)
        if key in merged:
            if merged[key].get("expiry") != line.get("expiry"):
                errors[f"lines.{i}.expiry"] = ["Same lot announced with another expiry date."]
                continue
            merged[key]["qty"] += line["qty"]
        else:
            merged[key] = dict(line, lot=key[1])
    return list(merged.values()), errors


def lot_problems(line, tracks_lots, index, need_expiry=True):
    """Field errors for a line's lot and expiry given whether its SKU tracks lots."""
    errors = {}
    if tracks_lots:
        if not line.get("lot"):
            errors[f"lines.{index}.lot"] = ["This SKU tracks lots: name the lot."]
        if need_expiry and not line.get("expiry"):
            errors[f"lines.{index}.expiry"] = ["This SKU tracks lots: give the expiry date."]
    elif line.get("lot") or line.get("expiry"):
        field = "lot" if line.get("lot") else "expiry"
        errors[f"lines.{index}.{field}"] = ["This SKU does not track lots."]
    return errors


# --- receipts -------------------------------------------------------------------------


def receipt_discrepancies(expected_lines, received):
    """Per announced SKU and lot: expected, good, damaged, short and over; plus a line for
    anything received that was not announced."""
    got = {line_key(r): r for r in received}
    out = []
    for line in expected_lines:
        r = got.pop(line_key(line), {"qty_good": 0, "qty_damaged": 0})
        out.append(_discrepancy(line["sku"], line.get("lot"), line["qty"], r))
    for (sku, lot), r in got.items():
        out.append(_discrepancy(sku, lot, 0, r))
    return out


def _discrepancy(sku, lot, expected, r):
    counted = r["qty_good"] + r["qty_damaged"]
    return {
        "sku": sku,
        "lot": lot,
        "qty_expected": expected,
        "qty_good": r["qty_good"],
        "qty_damaged": r["qty_damaged"],
        "short": max(expected - counted, 0),
        "over": max(counted - expected, 0),
        "over_reasons": list(r.get("over_reasons", [])),
    }


def inbound_status(discrepancies):
    if all(d["qty_good"] + d["qty_damaged"] == 0 for d in discrepancies):
        return "announced"
    if any(d["short"] for d in discrepancies):
        return "partially_received"
    return "received"


def check_receipt(inbound, lines, skus, places):
    """A receipt against its inbound. `lines` have lot and expiry normalised, `skus` are the
    merchant's SKU documents by code and `places[i]` is (bin, error) for line i. Returns
    (accepted lines with their bin and expiry, received totals per SKU and lot, errors).
    Counting more than announced, or what was not announced, needs an over_reason."""
    announced = {line_key(line): line for line in inbound["lines"]}
    received = {
        line_key(r): dict(r, over_reasons=list(r.get("over_reasons", [])))
        for r in inbound.get("received") or []
    }
    accepted, errors = [], {}
    for i, line in enumerate(lines):
        problems = _receipt_line_problems(i, line, inbound, announced, skus, places[i])
        if problems:
            errors.update(problems)
            continue
        key = line_key(line)
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
        accepted.append(dict(line, bin=places[i][0] or ""))
    return accepted, list(received.values()), errors


def _receipt_line_problems(i, line, inbound, announced, skus, place):
    """The first thing wrong with receipt line `i`; fills in the announced expiry."""
    if line["sku"] not in {a["sku"] for a in inbound["lines"]} and not line.get("over_reason"):
        return {f"lines.{i}.sku": ["Not on this inbound; give an over_reason to accept it."]}
    if line["sku"] not in skus:
        return {f"lines.{i}.sku": ["Unknown SKU."]}
    key = line_key(line)
    tracks = skus[line["sku"]].get("tracks_lots", False)
    problems = lot_problems(line, tracks, i, need_expiry=key not in announced)
    if tracks and key in announced:
        line["expiry"] = line.get("expiry") or announced[key].get("expiry")
        if line["expiry"] != announced[key].get("expiry"):
            problems[f"lines.{i}.expiry"] = ["Differs from the announced expiry."]
    if not problems and place[1]:
        problems[f"lines.{i}.bin"] = [place[1]]
    return problems


# --- returns ---------------------------------------------------------------------------


def returned_lines(allocated_lines):
    """What a returned parcel holds: the allocated lines summed per SKU and lot."""
    merged = {}
    for line in allocated_lines:
        got = merged.setdefault(
            line_key(line),
            {
                "sku": line["sku"],
                "lot": line.get("lot"),
                "expiry": line.get("expiry"),
                "bin": line["bin"],
                "qty": 0,
            },
        )
        got["qty"] += line["qty"]
    return list(merged.values())


def check_inspection(returned, lines, unknown_bins):
    """An inspection against the returned lines: every unit good (to a bin, by default the
    one it was picked from) or damaged. Returns (inspected lines, field errors)."""
    expected = {line_key(line): line for line in returned}
    counted, inspected, errors = {}, [], {}
    for i, raw in enumerate(lines):
        line = dict(raw, lot=raw.get("lot") or None)
        key = line_key(line)
        if key not in expected:
            errors[f"lines.{i}.sku"] = ["Not in this return (check the SKU and lot)."]
            continue
        bin_code = line.get("bin") or expected[key]["bin"]
        if line["qty_good"] and bin_code in unknown_bins:
            errors[f"lines.{i}.bin"] = ["Unknown bin."]
            continue
        counted[key] = counted.get(key, 0) + line["qty_good"] + line["qty_damaged"]
        inspected.append(
            {k: line[k] for k in ("sku", "lot", "qty_good", "qty_damaged")}
            | {"expiry": expected[key].get("expiry"), "bin": bin_code}
        )
    for key, line in expected.items():
        if not errors and counted.get(key, 0) != line["qty"]:
            errors["lines"] = [
                f"{line['sku']}{' lot ' + line['lot'] if line.get('lot') else ''}: "
                f"{line['qty']} returned, {counted.get(key, 0)} inspected; "
                "every unit is good or damaged."
            ]
    return inspected, errors


# --- stock levels, low stock, slow movers ------------------------------------------------


def stock_levels(stocks, skus, today):
    """Per SKU: on hand (sellable locations), reserved, available (not expired),
    quarantined, expired, nearest expiry, low-stock flag, and each bin and lot."""
    per_sku = {}
    for doc in sorted(stocks, key=lambda d: (d["pick_sequence"], d["_id"])):
        _count_stock(per_sku.setdefault(doc["sku"], _empty_level(doc["sku"])), doc, today)
    for sku in skus:
        level = per_sku.setdefault(sku["sku"], _empty_level(sku["sku"]))
        threshold = sku.get("low_stock_threshold")
        level["low_stock"] = threshold is not None and level["available"] <= threshold
    return sorted(per_sku.values(), key=lambda level: level["sku"])


def _empty_level(sku):
    counts = dict.fromkeys(("on_hand", "reserved", "available", "quarantined", "expired"), 0)
    return {"sku": sku} | counts | {"nearest_expiry": None, "low_stock": False, "bins": []}


def _count_stock(level, doc, today):
    if doc["bin"] == QUARANTINE:
        level["quarantined"] += doc["on_hand"]
        return
    expiry = doc.get("expiry")
    expired = is_expired(expiry, today)
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
            {k: doc.get(k) for k in ("bin", "lot", "expiry", "on_hand", "reserved")}
            | {"available": 0 if expired else doc["available"]}
        )


def crossed_low(available, threshold, flagged):
    """'low' when stock falls to the threshold or below, 'recovered' when back above,
    None when nothing changes (so a SKU alerts once per crossing, not per order)."""
    if threshold is None:
        return None
    if available <= threshold and not flagged:
        return "low"
    if available > threshold and flagged:
        return "recovered"
    return None


def days_between(start_iso_date, end_iso_date):
    return (date.fromisoformat(end_iso_date) - date.fromisoformat(start_iso_date)).days


def slow_moving(stocks, today, min_days):
    """Per SKU: sellable units, days in storage of the oldest stock on hand, days since
    the last unit left; slow when nothing left for `min_days` (or never, and stored that long)."""
    per_sku = {}
    for s in stocks:
        if s["on_hand"] <= 0:
            continue
        row = per_sku.setdefault(
            s["sku"],
            {"sku": s["sku"], "units": 0, "quarantined": 0, "oldest_in": None, "last_out": None},
        )
        row["quarantined" if s["bin"] == QUARANTINE else "units"] += s["on_hand"]
        first_in = (s.get("first_in_at") or "")[:10] or None
        if first_in and (row["oldest_in"] is None or first_in < row["oldest_in"]):
            row["oldest_in"] = first_in
        last_out = (s.get("last_out_at") or "")[:10] or None
        if last_out and (row["last_out"] is None or last_out > row["last_out"]):
            row["last_out"] = last_out
    return sorted(
        (_slow_row(row, today, min_days) for row in per_sku.values()),
        key=lambda r: (-r["days_since_last_out"], r["sku"]),
    )


def _slow_row(row, today, min_days):
    days_stored = days_between(row["oldest_in"], today) if row["oldest_in"] else 0
    idle = days_between(row["last_out"], today) if row["last_out"] else days_stored
    return {
        "sku": row["sku"],
        "units": row["units"],
        "quarantined": row["quarantined"],
        "days_in_storage": days_stored,
        "unit_days": row["units"] * days_stored,
        "last_out_date": row["last_out"],
        "days_since_last_out": idle,
        "slow": idle >= min_days,
    }
