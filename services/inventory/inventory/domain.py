"""Inventory rules, pure: barcodes, bin codes, order lines, inbound discrepancies."""

import re

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
