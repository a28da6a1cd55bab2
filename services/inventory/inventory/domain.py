"""Inventory rules, pure: barcodes, bins, order lines, lots and expiry, discrepancies, low stock."""

import re
from datetime import UTC, date, datetime, timedelta, timezone

BIN_CODE = re.compile(r"^[A-Z]{1,3}-\d{2}-\d{2}-\d{1,2}-\d{2}$")  # zone-aisle-rack-level-bin
CODE128 = re.compile(r"^[\x20-\x7e]{1,48}$")


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


def receipt_discrepancies(expected_lines, received_so_far):
    """Per SKU: expected, good, damaged, and short/over against what was announced."""
    out = []
    for line in expected_lines:
        got = received_so_far.get(line["sku"], {"qty_good": 0, "qty_damaged": 0})
        counted = got["qty_good"] + got["qty_damaged"]
        out.append(
            {
                "sku": line["sku"],
                "qty_expected": line["qty"],
                "qty_good": got["qty_good"],
                "qty_damaged": got["qty_damaged"],
                "short": max(line["qty"] - counted, 0),
                "over": max(counted - line["qty"], 0),
            }
        )
    return out


def inbound_status(discrepancies):
    if all(d["qty_good"] + d["qty_damaged"] == 0 for d in discrepancies):
        return "announced"
    if any(d["short"] for d in discrepancies):
        return "partially_received"
    return "received"


# --- lots, expiry, FEFO ---------------------------------------------------------

WIB = timezone(timedelta(hours=7))
QUARANTINE = "QUARANTINE"  # the location of damaged units: counted, never sellable
NO_EXPIRY = "9999-12-31"
ADJUST_REASONS = ("damaged", "lost", "found", "expired", "count_correction", "other")


def today_wib(now=None):
    """Expiry is a calendar date in the warehouse's time zone, not in UTC."""
    return (now or datetime.now(UTC)).astimezone(WIB).date().isoformat()


def is_expired(expiry, today):
    """A lot is sellable through its expiry date and expired from the next day (WIB)."""
    return expiry is not None and expiry < today


def stock_id(merchant_id, sku, bin_code, lot=None):
    # lot-less stock keeps the id it always had, so existing documents stay valid
    base = f"{merchant_id}:{sku}:{bin_code}"
    return f"{base}:{lot}" if lot else base


def sellable_fefo(stocks, today):
    """Stock documents an order may take from: not quarantined, not expired, earliest
    expiry first, then pick sequence (lot-less stock counts as never expiring)."""
    ok = [s for s in stocks if s["bin"] != QUARANTINE and not is_expired(s.get("expiry"), today)]
    return sorted(
        ok, key=lambda s: (s.get("expiry") or NO_EXPIRY, s["pick_sequence"], s["bin"], s["_id"])
    )


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


def lot_discrepancies(expected_lines, received):
    """Per announced SKU and lot, plus anything received that was not announced."""
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
    out = []
    for row in per_sku.values():
        days_stored = days_between(row["oldest_in"], today) if row["oldest_in"] else 0
        idle = days_between(row["last_out"], today) if row["last_out"] else days_stored
        out.append(
            {
                "sku": row["sku"],
                "units": row["units"],
                "quarantined": row["quarantined"],
                "days_in_storage": days_stored,
                "unit_days": row["units"] * days_stored,
                "last_out_date": row["last_out"],
                "days_since_last_out": idle,
                "slow": idle >= min_days,
            }
        )
    return sorted(out, key=lambda r: (-r["days_since_last_out"], r["sku"]))
