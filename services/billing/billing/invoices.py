"""Monthly invoices, pure: the month's bounds, lines from the ledger's sums, PPN, the
number's format, and the invoice as CSV and PDF.

An invoice is derived from the merchant's postings whose `occurred_at` falls in the
WIB calendar month. Fees are grouped by fee type (a reversal counts back one of its
fee); PPN is 11% of the month's fee subtotal; shipping is passed through at cost and
carries no PPN (the courier's service, not ours, bought on the merchant's behalf);
COD collected for the merchant is shown apart, credited to the wallet, not due.
"""

import csv
import io
import re
from datetime import date

from .domain import CURRENCY, FEE_TYPES

PPN_PERCENT = 11
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
FEE_LABELS = {
    "inbound": "Inbound (per unit received)",
    "storage": "Storage (per unit per day)",
    "pick_pack": "Pick and pack",
    "packaging": "Packaging (box)",
    "label": "Courier label (AWB)",
    "cod_fee": "COD fee",
    "rts": "Return-to-sender handling",
}


def ppn(fee_subtotal):
    """PPN in whole rupiah: 11% of the month's fee subtotal, rounded half up (x.5 goes
    up), computed once on the subtotal, not per line, so lines and total never drift.
    Integer arithmetic: exact for any amount."""
    return (fee_subtotal * PPN_PERCENT + 50) // 100


def parse_month(text):
    """(year, month) of `YYYY-MM`, or ValueError."""
    found = MONTH.match(text) if isinstance(text, str) else None
    if not found:
        raise ValueError("month must be YYYY-MM")
    return int(found.group(1)), int(found.group(2))


def month_start(year, month):
    return date(year, month, 1)


def next_month(year, month):
    return (year + 1, 1) if month == 12 else (year, month + 1)


def previous_month(today: date):
    """The last WIB calendar month that has ended, as YYYY-MM."""
    year, month = (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)
    return f"{year:04d}-{month:02d}"


def month_due(today: date, grace_days):
    """The month the timer invoices on `today` (WIB): the previous one, once `grace_days`
    of the new month have passed, so that facts of the month's last hours that reach
    billing late (a courier's report, a retried event) are on its invoice; else None."""
    return previous_month(today) if today.day > grace_days else None


def invoice_number(year, month, seq):
    """INV/<year>/<month>/<6 digits>: the billing month, then the issuer's running count."""
    return f"INV/{year:04d}/{month:02d}/{seq:06d}"


def _tally(rows):
    """Fees per type, shipping passed through and COD collected, from the ledger's sums."""
    fees = {fee_type: {"count": 0, "amount": 0} for fee_type in FEE_TYPES}
    shipping = {"count": 0, "amount": 0}
    cod = {"count": 0, "amount": 0}
    for row in rows:
        kind, fee_type = row["kind"], row.get("fee_type")
        charged = -row["amount"]  # a fee debits the wallet: the invoice shows it positive
        if kind in FEE_TYPES:
            fees[kind]["count"] += row["count"]
            fees[kind]["amount"] += charged
        elif kind == "reversal" and fee_type in FEE_TYPES:
            fees[fee_type]["count"] -= row["count"]
            fees[fee_type]["amount"] += charged
        elif kind == "shipping":
            shipping["count"] += row["count"]
            shipping["amount"] += charged
        elif kind == "cod_collected" or kind == "reversal":
            # the only reversals without a fee type are of COD collected
            cod["count"] += row["count"] if kind == "cod_collected" else -row["count"]
            cod["amount"] += row["amount"]
        # top-ups are payments and PPN postings belong to the invoice that made them
    return fees, shipping, cod


def summarize(rows):
    """The invoice's lines and totals from the ledger's sums on the merchant's wallet,
    grouped by posting kind and fee type ({kind, fee_type, count, amount})."""
    fees, shipping, cod = _tally(rows)
    lines = [
        {"fee_type": t, "label": FEE_LABELS[t], **v}
        for t, v in fees.items()
        if v["count"] or v["amount"]
    ]
    subtotal = sum(line["amount"] for line in lines)
    tax = ppn(subtotal)
    return {
        "currency": CURRENCY,
        "lines": lines,
        "fee_subtotal": subtotal,
        "ppn_percent": PPN_PERCENT,
        "ppn": tax,
        "shipping": shipping,
        "total_due": subtotal + tax + shipping["amount"],
        "cod_collected": cod,
    }


def is_empty(summary):
    return (
        not summary["lines"]
        and not summary["shipping"]["count"]
        and not summary["cod_collected"]["count"]
    )


# --- files -------------------------------------------------------------------


def rupiah(amount):
    """Rp 1.234.567 (dots between thousands, as Indonesians write it)."""
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp {abs(amount):,}".replace(",", ".")


def to_csv(invoice):
    """One row per line, then the totals; amounts as plain integers (rupiah)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["invoice", invoice["number"]])
    w.writerow(["issuer", invoice["issuer"]])
    w.writerow(["merchant_id", invoice["merchant_id"]])
    w.writerow(["merchant_name", invoice.get("merchant_name") or ""])
    w.writerow(["month", invoice["month"]])
    w.writerow(["issued_at", invoice["issued_at"]])
    w.writerow(["currency", invoice["currency"]])
    w.writerow([])
    w.writerow(["section", "fee_type", "description", "count", "amount"])
    for line in invoice["lines"]:
        w.writerow(["fee", line["fee_type"], line["label"], line["count"], line["amount"]])
    w.writerow(["total", "fee_subtotal", "Fees subtotal", "", invoice["fee_subtotal"]])
    w.writerow(["total", "ppn", f"PPN {invoice['ppn_percent']}% on fees", "", invoice["ppn"]])
    shipping = invoice["shipping"]
    w.writerow(
        ["total", "shipping", "Shipping at cost (no PPN)", shipping["count"], shipping["amount"]]
    )
    w.writerow(["total", "total_due", "Total due", "", invoice["total_due"]])
    cod = invoice["cod_collected"]
    w.writerow(["info", "cod_collected", "COD collected (credited)", cod["count"], cod["amount"]])
    return out.getvalue()


class _Page:
    """Rows of text with right-aligned counts and amounts on A4, a new page when full."""

    def __init__(self, pdf, size):
        self.pdf, (self.width, self.height) = pdf, size
        self.left, self.right = 50, self.width - 50
        self.y = self.height - 60

    def row(self, text, amount=None, count=None, font="Helvetica", size=10):
        if self.y < 60:
            self.pdf.showPage()
            self.y = self.height - 60
        self.pdf.setFont(font, size)
        self.pdf.drawString(self.left, self.y, text)
        if count is not None:
            self.pdf.drawRightString(self.right - 130, self.y, str(count))
        if amount is not None:
            self.pdf.drawRightString(self.right, self.y, rupiah(amount))
        self.y -= size + 8

    def gap(self, points):
        self.y -= points


def _pdf_header(page, invoice):
    page.row(invoice["issuer"], font="Helvetica-Bold", size=16)
    page.row(f"INVOICE {invoice['number']}", font="Helvetica-Bold", size=13)
    page.row(f"Merchant: {invoice.get('merchant_name') or ''} ({invoice['merchant_id']})")
    page.row(f"Period: {invoice['month']} (WIB)    Issued: {invoice['issued_at']}")
    page.gap(10)
    page.row("Description", count="Count", font="Helvetica-Bold")
    page.pdf.drawRightString(page.right, page.y + 18, "Amount")


def _pdf_totals(page, invoice):
    page.gap(4)
    page.pdf.line(page.left, page.y + 10, page.right, page.y + 10)
    page.row("Fees subtotal", invoice["fee_subtotal"], font="Helvetica-Bold")
    page.row(f"PPN {invoice['ppn_percent']}% on fees", invoice["ppn"])
    shipping = invoice["shipping"]
    page.row("Shipping at cost (no PPN)", shipping["amount"], shipping["count"])
    page.row("Total due", invoice["total_due"], font="Helvetica-Bold", size=12)
    page.gap(10)
    cod = invoice["cod_collected"]
    page.row(
        "COD collected for you (credited to your wallet, not due)", cod["amount"], cod["count"]
    )
    page.gap(10)
    page.row(
        "PPN is 11% of the fees subtotal, rounded half up to the rupiah; shipping is "
        "passed through at cost without PPN.",
        size=8,
    )


def to_pdf(invoice):
    """The invoice on one A4 page (more when it has many lines), as PDF bytes."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)  # invariant: same bytes each time
    pdf.setTitle(f"Invoice {invoice['number']}")
    page = _Page(pdf, A4)
    _pdf_header(page, invoice)
    for line in invoice["lines"]:
        page.row(line["label"], line["amount"], line["count"])
    _pdf_totals(page, invoice)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
