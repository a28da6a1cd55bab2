"""Rules of the merchant dashboard's forms and lists, pure (no store, no RPC): a form as the
JSON its schema loads, errors back onto the form's fields, the order list's filters in WIB
and its cursor, the language a page speaks.

A form's fields are named by the path the schema reports an error under (`recipient.name`,
`lines.0.qty`), so an error lands next to the field that caused it.
"""

import re
from datetime import date, timedelta

from gudang_common.clock import wib_day_start_utc
from gudang_common.couriers import COURIERS as COURIER_TABLE
from gudang_common.web import check_json

from . import i18n
from .imports import normalise_phone, parse_whole
from .schemas import CHANNELS
from .tracking import RANK

LANG_COOKIE = "gudang_lang"
ORDER_LINES = 3  # product rows on the new-order form; empty ones are left out
INBOUND_LINES = 3
PAGE_SIZE = 20
FILTERS = ("status", "channel", "external_id", "from", "to")
# before packing a merchant may still cancel (the packing service decides)
CANCELLABLE = ("received", "on_hold", "backordered", "allocated", "picked")
STATUSES = tuple(sorted(RANK, key=RANK.get))
COURIERS = {code: courier["name"] for code, courier in COURIER_TABLE.items()}
__all__ = ["CHANNELS", "normalise_phone"]  # the pages' routes take these from here too
RECIPIENT_FIELDS = tuple(f"recipient.{k}" for k in ("name", "phone", "address", "city"))
ORDER_FIELDS = (
    ("external_id", "channel", "courier", "cod_amount", "lines", "recipient.postal_code")
    + RECIPIENT_FIELDS
    + tuple(f"lines.{i}.{k}" for i in range(ORDER_LINES) for k in ("sku", "qty"))
)
INBOUND_FIELDS = ("lines", "expected_at", "note") + tuple(
    f"lines.{i}.{k}" for i in range(INBOUND_LINES) for k in ("sku", "qty")
)
IMPORT_FORMATS = ("auto", "shopee", "tokopedia", "gudang")


def page_lang(args, cookies):
    """(language, whether to remember it): `?lang=` wins and is kept in a cookie."""
    asked = args.get("lang")
    if asked:
        return i18n.lang_of(asked), True
    return i18n.lang_of(cookies.get(LANG_COOKIE)), False


def lang_cookie(lang, secure):
    parts = [f"{LANG_COOKIE}={lang}", "Path=/", "Max-Age=31536000", "SameSite=Lax"]
    return "; ".join(parts + (["Secure"] if secure else []))


def safe_next(target):
    """Where to go after signing in: a dashboard path of ours, never another site."""
    if isinstance(target, str) and re.fullmatch(r"/dashboard(/[A-Za-z0-9_/.-]*)?", target):
        return target
    return "/dashboard"


# --- forms ---------------------------------------------------------------------------


def _text(form, name):
    return (form.get(name) or "").strip()


def _number(text):
    """A whole number as people type it (125.000, Rp 125.000); the text itself when it is
    none, so that the schema names the field."""
    if text == "":
        return None
    try:
        return parse_whole(text)
    except ValueError:
        return text


def _lines(form, count, qty_key):
    """[(row, {sku, qty_key})] of the rows with a SKU or a quantity filled in."""
    rows = []
    for i in range(count):
        sku, qty = _text(form, f"lines.{i}.sku"), _text(form, f"lines.{i}.{qty_key}")
        if sku or qty:
            rows.append((i, {"sku": sku, qty_key: _number(qty)}))
    return rows


def renumber(fields, rows):
    """Schema errors on `lines.<n>` back to the form's row numbers (empty rows left out)."""
    out = {}
    for key, messages in (fields or {}).items():
        match = re.match(r"lines\.(\d+)\.(.*)", key)
        if match and int(match.group(1)) < len(rows):
            key = f"lines.{rows[int(match.group(1))]}.{match.group(2)}"
        out[key] = messages
    return out


def order_input(form):
    """(the JSON body OrderSchema loads, the form rows its lines came from)."""
    rows = _lines(form, ORDER_LINES, "qty")
    body = {
        "external_id": _text(form, "external_id"),
        "channel": _text(form, "channel") or "whatsapp",
        "courier": _text(form, "courier") or "jne",
        "recipient": {
            "name": _text(form, "recipient.name"),
            "phone": normalise_phone(_text(form, "recipient.phone")),
            "address": _text(form, "recipient.address"),
            "city": _text(form, "recipient.city"),
            "postal_code": _text(form, "recipient.postal_code"),
        },
        "lines": [line for _, line in rows],
        "cod_amount": _number(_text(form, "cod_amount")) or 0,
    }
    return body, [row for row, _ in rows]


SKU_NUMBERS = ("weight_g", "length_cm", "width_cm", "height_cm", "low_stock_threshold")


def sku_input(form):
    body = {k: _text(form, k) for k in ("sku", "name", "barcode")}
    for key in SKU_NUMBERS:
        value = _number(_text(form, key))
        if value is not None:
            body[key] = value
    return body


def inbound_input(form):
    rows = _lines(form, INBOUND_LINES, "qty")
    body = {"lines": [line for _, line in rows], "note": _text(form, "note")}
    if _text(form, "expected_at"):
        body["expected_at"] = _text(form, "expected_at")
    return body, [row for row, _ in rows]


def check_text(fields):
    """400 naming the field whose text no store can keep (a NUL), as the JSON API does."""
    for key, value in fields.items(multi=True):
        check_json({key: value})


def field_errors(fields, lang):
    """{field: one sentence} in the page's language, from a GudangError's fields."""
    return {
        key: " ".join(i18n.message(str(m), lang) for m in messages)
        for key, messages in (fields or {}).items()
    }


# --- the order list ------------------------------------------------------------------


def _day(text):
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def order_filters(args):
    """(store filters, what the form shows, errors by field) from the list's query string.
    Dates are WIB calendar days, both included."""
    shown = {k: (args.get(k) or "").strip()[:64] for k in FILTERS}
    filters, errors = {}, {}
    if shown["status"] in STATUSES:
        filters["status"] = shown["status"]
    elif shown["status"]:
        errors["status"] = "Unknown status."
    if shown["channel"] in CHANNELS:
        filters["channel"] = shown["channel"]
    elif shown["channel"]:
        errors["channel"] = "Unknown channel."
    if shown["external_id"]:
        filters["external_id"] = shown["external_id"]
    for key, bound, shift in (("from", "since", 0), ("to", "until", 1)):
        if shown[key]:
            day = _day(shown[key])
            if day is None:
                errors[key] = "A date, e.g. 2026-11-24."
            else:
                filters[bound] = wib_day_start_utc(day + timedelta(days=shift))
    return filters, shown, errors


def status_label(status, lang):
    return i18n.text(f"status.{status}", lang)


# how sellers write the places their orders come from
CHANNEL_NAMES = {"tiktok": "TikTok Shop", "whatsapp": "WhatsApp", "api": "API"}


def channel_name(channel):
    return CHANNEL_NAMES.get(channel, (channel or "").capitalize())


def channel_options():
    return [(c, channel_name(c)) for c in CHANNELS if c != "api"]


def format_options(lang):
    return [(f, i18n.text(f"dash.import.format.{f}", lang)) for f in IMPORT_FORMATS]
