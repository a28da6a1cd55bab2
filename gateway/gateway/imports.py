"""Order import from files: read a CSV or XLSX order export, map its headers, normalise
Indonesian values and group product lines into orders checked by OrderSchema.

Pure: no I/O beyond the file stream it is given. The gateway route hands the stream in
and then applies the result (`apply`) with its own intake functions.

Line numbers are row numbers as a spreadsheet shows them (the header is usually row 1;
a cell with a line break in a CSV is still one row).
"""

import csv
import io
import re
import struct
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from marshmallow import ValidationError

from gudang_common.clock import WIB, iso
from gudang_common.couriers import COURIERS, DEFAULT_COURIER
from gudang_common.errors import GudangError, ValidationFailed, flatten_messages

from .schemas import CHANNELS, OrderSchema

# one schema for every row: a schema built anew binds its nested fields again on first load
ORDER_SCHEMA = OrderSchema()

# A week of the largest sellers' lines (2,000 parcels a day, a few lines each) fits in
# 20,000 rows; a CSV export of that with its ~50 columns is under 20 MiB.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_ROWS = 20_000
# No field Gudang keeps is longer than an address (500); a longer cell is a wrong column.
MAX_CELL_CHARS = 1_000
# An XLSX is a zip: bound what it unpacks to (openpyxl keeps the shared strings in memory).
MAX_XLSX_UNPACKED = 256 * 1024 * 1024
MAX_XLSX_SHARED_STRINGS = 32 * 1024 * 1024
HEADER_SCAN_ROWS = 10  # Tokopedia's sales report has title rows above its header
PAUSE_EVERY = 200  # rows between cooperative yields, so one upload does not starve the gateway

FORMATS = ("gudang", "shopee", "tokopedia")

# Canonical field -> the headers each format uses for it, most specific first.
# Sources and confidence: gateway/tests/fixtures/imports/README.md.
HEADERS = {
    "gudang": {
        "order_number": ("order_number",),
        "channel": ("channel",),
        "recipient_name": ("recipient_name",),
        "phone": ("phone",),
        "address": ("address",),
        "city": ("city",),
        "postal_code": ("postal_code",),
        "sku": ("sku",),
        "qty": ("qty",),
        "courier": ("courier",),
        "cod_amount": ("cod_amount",),
        "ordered_at": ("ordered_at",),
    },
    "shopee": {
        "order_number": ("No. Pesanan",),
        "status": ("Status Pesanan",),
        "recipient_name": ("Nama Penerima",),
        "phone": ("No. Telepon",),
        "address": ("Alamat Pengiriman",),
        "city": ("Kota/Kabupaten",),
        "province": ("Provinsi",),
        "postal_code": ("Kode Pos",),
        "sku": ("Nomor Referensi SKU",),
        "parent_sku": ("SKU Induk",),
        "qty": ("Jumlah",),
        "courier": ("Opsi Pengiriman",),
        "payment_method": ("Metode Pembayaran",),
        "total": ("Total Pembayaran",),
        "ordered_at": ("Waktu Pesanan Dibuat",),
    },
    "tokopedia": {
        "order_number": ("Nomor Invoice", "Invoice", "No. Invoice"),
        "status": ("Status Terakhir", "Order Status"),
        "recipient_name": ("Nama Penerima", "Recipient"),
        "phone": ("No Telp Penerima", "No HP Penerima", "No. Telp Penerima"),
        "address": ("Alamat Pengiriman", "Recipient Address"),
        "city": ("Kota",),
        "province": ("Provinsi",),
        "postal_code": ("Kode Pos",),
        "sku": ("Nomor SKU", "Stock Keeping Unit (SKU)"),
        "qty": ("Jumlah Produk Dibeli", "Jumlah Produk", "Quantity"),
        "courier": ("Nama Kurir", "Kurir", "Courier"),
        "payment_method": ("Metode Pembayaran", "Tipe Pembayaran"),
        "total": ("Total Penjualan (IDR)", "Total Pembayaran", "Total Amount (Rp.)"),
        "ordered_at": ("Tanggal Pembayaran", "Payment Date"),
    },
}
# Without these a file of that format cannot make an order; also what auto-detection needs.
REQUIRED = ("order_number", "recipient_name", "phone", "address", "city", "sku", "qty")
NUMBER_KEYS = ("qty", "total", "cod_amount")

# Gudang's own template: these columns, in this order (docs/api.md).
TEMPLATE_COLUMNS = (
    "order_number",
    "channel",
    "recipient_name",
    "phone",
    "address",
    "city",
    "postal_code",
    "sku",
    "qty",
    "courier",
    "cod_amount",
    "ordered_at",
)
TEMPLATE_ROWS = (
    ("WA-0001", "whatsapp", "Ani Suryani", "081299998888", "Jl. Merdeka No. 1, Sukajadi",
     "Bandung", "40162", "KAOS-HTM-L", "2", "jnt", "Rp 250.000", "24-11-2026 09:15"),
    ("WA-0001", "", "", "", "", "", "", "KAOS-PTH-M", "1", "", "", ""),
    ("WA-0002", "instagram", "Budi Santoso", "+6281311112222", "Jl. Kenanga 5, Tebet",
     "Jakarta Selatan", "12810", "KAOS-HTM-L", "1", "sicepat", "0", "24-11-2026 10:40"),
)  # fmt: skip

# Marketplace statuses whose orders must not be shipped again (or not yet): they are
# reported as skipped, not imported. Anything else (Perlu Dikirim, Siap Dikirim, blank) is.
SKIP_STATUSES = (
    ("batal", "cancelled"),
    ("dibatalkan", "cancelled"),
    ("pembatalan", "cancelled"),
    ("cancel", "cancelled"),
    ("belum bayar", "not paid"),
    ("menunggu pembayaran", "not paid"),
    ("unpaid", "not paid"),
    ("sedang dikirim", "already shipped"),
    ("dikirim", "already shipped"),
    ("dalam pengiriman", "already shipped"),
    ("shipped", "already shipped"),
    ("selesai", "already completed"),
    ("pesanan selesai", "already completed"),
    ("transaksi selesai", "already completed"),
    ("pesanan diterima", "already completed"),
    ("completed", "already completed"),
    ("pengembalian", "returned"),
)

COD_PHRASES = ("bayar di tempat", "cash on delivery")

# Marketplace courier names -> Gudang courier code; matched on letters and digits only,
# first hit wins (so "GoSend Same Day" is gosend before anything else looks at it).
COURIER_NAMES = (
    ("gosend", "gosend"),
    ("gojek", "gosend"),
    ("grab", "grabexpress"),
    ("jnt", "jnt"),
    ("jandt", "jnt"),
    ("sicepat", "sicepat"),
    ("jne", "jne"),
    ("anteraja", "anteraja"),
    ("ninja", "ninja"),
    ("idexpress", "idexpress"),
    ("posindonesia", "pos"),
    ("poskilat", "pos"),
    ("posaja", "pos"),
)


KEY_NAMES = {
    "external_id": "order_number",
    "recipient.name": "recipient_name",
    "recipient.phone": "phone",
    "recipient.address": "address",
    "recipient.city": "city",
    "recipient.postal_code": "postal_code",
}


class FileTooLarge(GudangError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"


def _reject(message, field_name="file", detail=None):
    return ValidationFailed(message, {field_name: [detail or message]})


# --- values ------------------------------------------------------------------------


def _key(text):
    return re.sub(r"\s+", " ", str(text).replace("\ufeff", "").replace("\xa0", " ")).strip().lower()


def text_of(value):
    """A cell as trimmed text ('' for empty); whole numbers from Excel without '.0'."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return str(value).replace("\xa0", " ").strip()


_PLAIN = re.compile(r"^\d+$")
_GROUPED = re.compile(r"^\d{1,3}(?:\.\d{3})+$")
_DECIMAL = re.compile(r"^(\d+|\d{1,3}(?:\.\d{3})+),(\d+)$")


def parse_whole(value, what="number"):
    """An Indonesian-written whole number: 125000, 125.000, 'Rp 125.000', 125.000,00.

    Raises ValueError with a message for the merchant. A comma followed by exactly three
    digits (125,000) is refused: Indonesian reads it as 125, English as 125 thousand."""
    if isinstance(value, bool):
        raise ValueError(f"Not a {what}.")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"Not a whole {what}: {value}.")
        number = int(value)
    else:
        text = re.sub(r"(?i)^(rp\.?|idr)", "", text_of(value).replace(" ", "")).strip()
        negative = text.startswith("-")
        text = text.lstrip("-")
        if _PLAIN.match(text):
            number = int(text)
        elif _GROUPED.match(text):
            number = int(text.replace(".", ""))
        else:
            decimal = _DECIMAL.match(text)
            if not decimal:
                raise ValueError(f"Not a {what}: {text_of(value)!r}.")
            whole, fraction = decimal.groups()
            if len(fraction) == 3 and "." not in whole:
                raise ValueError(
                    f"Ambiguous {what} {text_of(value)!r}: write 125.000 or 125000 for a hundred"
                    " and twenty-five thousand."
                )
            if fraction.strip("0"):
                raise ValueError(f"Not a whole {what}: {text_of(value)!r}.")
            number = int(whole.replace(".", ""))
        if negative:
            number = -number
    return number


def parse_qty(value):
    qty = parse_whole(value, "number")
    if qty < 1:
        raise ValueError(f"Quantity must be 1 or more, not {qty}.")
    return qty


def parse_rupiah(value):
    amount = parse_whole(value, "rupiah amount")
    if amount < 0:
        raise ValueError("A rupiah amount cannot be negative.")
    return amount


_DATE_FORMATS = (
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%d-%m-%Y",
    "%d/%m/%Y",
    "%Y-%m-%d",
)


def parse_wib_time(value):
    """A marketplace time (WIB, as the seller centres write it) as UTC ISO 8601."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        text = text_of(value)
        for fmt in _DATE_FORMATS:
            try:
                moment = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            raise ValueError(f"Not a date and time: {text!r}; use DD-MM-YYYY HH:MM.")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=WIB)
    return iso(moment.astimezone(UTC))


PHONE = re.compile(r"(\+62|62|0)[1-9][0-9]{6,12}")


def normalise_phone(value):
    """Indonesian phone as the API takes it: separators dropped; a leading 0 Excel ate put back."""
    text = text_of(value)
    if "*" in text:
        raise ValueError("The phone number is masked (***) in this export; export it unmasked.")
    digits = re.sub(r"[\s\-.()/]", "", text)
    if re.fullmatch(r"8\d{7,12}", digits):  # a number cell lost its leading 0
        digits = "0" + digits
    return digits


def postal_code_of(value, address):
    """The Kode Pos cell, or else the last five-digit number in the address."""
    text = text_of(value)
    if text:
        return text.zfill(5) if text.isdigit() and len(text) <= 5 else text
    found = re.findall(r"(?<!\d)(\d{5})(?!\d)", address)
    return found[-1] if found else ""


def courier_code(value):
    """Gudang's courier code for a marketplace courier name; None when there is none."""
    text = text_of(value)
    if not text:
        return DEFAULT_COURIER
    letters = re.sub(r"[^a-z0-9]", "", text.lower().replace("&", "and"))
    if letters in COURIERS:
        return letters
    for name, code in COURIER_NAMES:
        if name in letters:
            return code
    return None


def is_cod(value):
    """Shopee writes "COD (Bayar di Tempat)", others "COD" or "Bayar di Tempat"."""
    text = _key(text_of(value))
    return "cod" in re.split(r"[^a-z]+", text) or any(p in text for p in COD_PHRASES)


def skip_reason(status):
    text = _key(text_of(status))
    for prefix, reason in SKIP_STATUSES:
        if text.startswith(prefix):
            return reason
    return None


# --- reading -----------------------------------------------------------------------


def sniff(head):
    """'xlsx' or 'csv' from the first bytes, or a 400 for anything else."""
    if not head:
        raise _reject("the file is empty", detail="The file is empty.")
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise _reject(
            "XLS (Excel 97-2003) files are not read",
            detail="Save the sheet as XLSX or CSV and upload that.",
        )
    if b"\x00" in head:
        raise _reject("not a CSV or XLSX file", detail="Upload a CSV or XLSX file.")
    return "csv"


def _csv_rows(stream, head):
    # Excel in Indonesia saves "CSV" as Windows-1252 unless told UTF-8; UTF-8 (with or
    # without a BOM) is tried first, on the whole head of the file
    encoding = "utf-8-sig"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not merely a character cut at the end of the head
            encoding = "cp1252"
    # Excel writes ";" where the decimal separator is a comma (Indonesian settings)
    sample = head.decode(encoding, errors="ignore")
    counts = {d: sample.count(d) for d in (";", ",", "\t")}
    delimiter = max(counts, key=counts.get)
    reader = csv.reader(
        io.TextIOWrapper(stream, encoding=encoding, newline=""), delimiter=delimiter
    )
    line = 0
    try:
        for row in reader:
            line += 1
            yield line, row
    except UnicodeDecodeError:
        raise _reject(
            f"row {line + 1} is not UTF-8 text", detail="Save the CSV as UTF-8."
        ) from None
    except csv.Error as exc:
        raise _reject(f"row {line + 1} is not valid CSV: {exc}") from None


# what zipfile raises on a damaged or foreign archive: a bad or truncated directory
# (BadZipFile, EOFError, struct.error, OSError on a bad seek), a size past ZIP64 limits
# (LargeZipFile), an unknown compression method (NotImplementedError), a corrupt field
# (ValueError)
ZIP_DAMAGE = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    EOFError,
    struct.error,
    OSError,
    NotImplementedError,
    ValueError,
)


def _xlsx_rows(stream):
    try:
        with zipfile.ZipFile(stream) as archive:
            infos = archive.infolist()
    except ZIP_DAMAGE:
        raise _reject("not a CSV or XLSX file", detail="A damaged or non-XLSX zip file.") from None
    unpacked = sum(info.file_size for info in infos)
    shared = sum(info.file_size for info in infos if info.filename.endswith("sharedStrings.xml"))
    if unpacked > MAX_XLSX_UNPACKED or shared > MAX_XLSX_SHARED_STRINGS:
        raise FileTooLarge(
            "the XLSX unpacks to too much data",
            {"file": [f"Unpacks to more than {MAX_XLSX_UNPACKED // 2**20} MiB."]},
        )
    stream.seek(0)
    import openpyxl  # only when an XLSX arrives: a CSV-only gateway never loads it

    try:
        # read_only streams the sheet's rows; data_only takes a formula's cached value
        book = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a zip that is not a workbook
        raise _reject("not a CSV or XLSX file", detail="A zip file that is not XLSX.") from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise _reject("the workbook has no sheet", detail="The workbook has no sheet.")
        sheet.reset_dimensions()  # some exporters write a wrong <dimension>; read to the end
        line = 0
        rows = sheet.iter_rows(values_only=True)
        while True:
            try:
                row = next(rows)
            except StopIteration:
                break
            except Exception:  # a damaged sheet part
                raise _reject(f"row {line + 1} of the XLSX cannot be read") from None
            line += 1
            yield line, row
    finally:
        book.close()


# --- the parsed file ---------------------------------------------------------------


@dataclass
class RowError:
    line: int
    field: str  # the column as the file names it
    key: str  # Gudang's name for it
    message: str
    order_number: str | None = None

    def as_json(self):
        return {
            "line": self.line,
            "order_number": self.order_number,
            "field": self.field,
            "key": self.key,
            "message": self.message,
        }


@dataclass
class ParsedOrder:
    number: str
    first_line: int
    lines: list = field(default_factory=list)  # row numbers
    rows: list = field(default_factory=list)  # normalised rows: {key: value} with "_line"
    data: dict | None = None  # OrderSchema-loaded order, when it has no errors
    ordered_at: str | None = None
    skipped: str | None = None
    errors: list = field(default_factory=list)
    where: dict = field(default_factory=dict)  # error key -> (line, column)

    def error(self, key, message):
        """Record an error about `key` (a column key or an OrderSchema path) on its row."""
        line, column = self.where.get(key, (self.first_line, key))
        name = KEY_NAMES.get(key) or re.sub(r"^lines\.\d+\.", "", key)
        self.errors.append(RowError(line, column, name, message, self.number))

    def summary(self):
        return {
            "order_number": self.number,
            "lines": self.lines,
            "ordered_at": self.ordered_at,
        }


@dataclass
class ParsedFile:
    format: str
    kind: str  # csv | xlsx
    header_line: int
    columns: dict  # key -> column as the file names it
    rows: int = 0
    orders: list = field(default_factory=list)
    errors: list = field(default_factory=list)  # rows outside any order

    def skus(self):
        return {
            line["sku"]
            for order in self.orders
            if order.data is not None
            for line in order.data["lines"]
        }


def _match_header(cells, fmt):
    """{key: column index} for the headers of `fmt` found in `cells`."""
    found = {}
    keys = {_key(c): i for i, c in enumerate(cells) if text_of(c)}
    for name, aliases in HEADERS[fmt].items():
        for alias in aliases:
            if _key(alias) in keys:
                found[name] = keys[_key(alias)]
                break
    return found


def _find_header(rows, fmt):
    """(format, header line, {key: index}, raw header) from the first rows."""
    seen = []
    for line, cells in rows:
        if not any(text_of(c) for c in cells):
            continue
        seen.append((line, cells))
        candidates = FORMATS if fmt == "auto" else (fmt,)
        best = None
        for candidate in candidates:
            found = _match_header(cells, candidate)
            if all(k in found for k in REQUIRED) and (best is None or len(found) > len(best[1])):
                best = (candidate, found)
        if best:
            return best[0], line, best[1], cells
        if len(seen) >= HEADER_SCAN_ROWS:
            break
    if not seen:
        raise _reject("the file has no rows", detail="The file is empty.")
    if fmt == "auto":
        raise _reject(
            "the header row is not one Gudang knows",
            "format",
            "No row in the first ten has the columns of the gudang template, a Shopee or a "
            "Tokopedia order export; choose the format or use the template.",
        )
    line, cells = seen[0]
    found = _match_header(cells, fmt)
    missing = [HEADERS[fmt][k][0] for k in REQUIRED if k not in found]
    raise _reject(
        f"the file is not a {fmt} export: missing columns {', '.join(missing)}",
        "header",
        f"Missing column(s): {', '.join(missing)}.",
    )


def parse(stream, fmt="auto", *, max_rows=MAX_ROWS, pause=None):
    """Read an uploaded CSV or XLSX file into orders with their row errors.

    `stream` must be seekable (werkzeug spools uploads to a temporary file). Raises
    ValidationFailed (400) for a file that is not CSV/XLSX, empty or has no known header,
    FileTooLarge (413) for more than `max_rows` data rows."""
    if fmt not in ("auto", *FORMATS):
        raise _reject(f"unknown format {fmt!r}", "format", f"One of auto, {', '.join(FORMATS)}.")
    head = stream.read(64 * 1024)
    kind = sniff(head)
    stream.seek(0)
    rows = _xlsx_rows(stream) if kind == "xlsx" else _csv_rows(stream, head)
    del head
    fmt, header_line, index, header = _find_header(rows, fmt)
    columns = {key: text_of(header[i]) for key, i in index.items()}
    parsed = ParsedFile(fmt, kind, header_line, columns)
    orders = {}
    current = None
    for line, cells in rows:
        if pause is not None and line % PAUSE_EVERY == 0:
            pause()
        if not any(text_of(c) for c in cells):
            continue
        parsed.rows += 1
        if parsed.rows > max_rows:
            raise FileTooLarge(
                f"more than {max_rows} rows",
                {"file": [f"At most {max_rows} rows per file; split it."]},
            )
        row, errors = _read_row(line, cells, index, columns)
        number = row.get("order_number") or (current.number if current else "")
        if not number:
            parsed.errors.append(
                RowError(line, columns["order_number"], "order_number", "Missing order number.")
            )
            continue
        order = orders.get(number)
        if order is None:
            order = orders[number] = ParsedOrder(number, line)
        current = order
        order.lines.append(line)
        row["_line"] = line
        order.rows.append(row)
        for error in errors:
            error.order_number = number
            order.errors.append(error)
    parsed.orders = list(orders.values())
    channel = None if fmt == "gudang" else fmt
    for order in parsed.orders:
        _build_order(order, channel, columns)
        order.rows = []  # the rows served their purpose; keep memory to the orders
    return parsed


def _read_row(line, cells, index, columns):
    row, errors = {}, []
    for key, i in index.items():
        value = cells[i] if i < len(cells) else None
        if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
            errors.append(
                RowError(line, columns[key], key, f"Longer than {MAX_CELL_CHARS} characters.")
            )
            continue
        if key == "ordered_at" and isinstance(value, datetime | date):
            row[key] = value
        elif key in NUMBER_KEYS and isinstance(value, int | float) and not isinstance(value, bool):
            row[key] = value
        else:  # an order number or SKU typed as a number cell is still text
            row[key] = text_of(value)
    for key in ("sku", "qty"):
        if key not in row:
            continue
        if key == "sku":
            sku = row["sku"] or row.get("parent_sku", "")
            if not sku:
                errors.append(RowError(line, columns["sku"], "sku", "Missing SKU."))
            row["sku"] = sku
        else:
            try:
                row["qty"] = parse_qty(row["qty"])
            except ValueError as exc:
                errors.append(RowError(line, columns["qty"], "qty", str(exc)))
                row["qty"] = None
    return row, errors


def _order_value(order, key, columns):
    """The order-level value from the first of its rows that has one (marketplaces repeat
    order fields on every product row, or write them on the first row only)."""
    for row in order.rows:
        value = row.get(key)
        if value not in (None, ""):
            order.where[key] = (row["_line"], columns.get(key, key))
            return value
    if key in columns:
        order.where[key] = (order.first_line, columns[key])
    return None


def _build_order(order, channel, columns):
    where = order.where
    value = lambda key: _order_value(order, key, columns)  # noqa: E731

    status = value("status")
    reason = skip_reason(status) if status else None
    if reason:
        order.skipped = f"{text_of(status)} ({reason})"
        order.errors = []
        return

    if channel is None:  # the gudang template names the channel per order
        channel = _key(value("channel") or "other")
        if channel not in CHANNELS:
            order.error("channel", f"Unknown channel; one of {', '.join(CHANNELS)}.")

    for key in ("recipient_name", "address", "city", "phone"):
        if not text_of(value(key)):
            order.error(key, f"Missing {columns.get(key, key)}.")
    address = text_of(value("address"))
    postal_code = postal_code_of(value("postal_code"), address)
    if not postal_code:
        where.setdefault("postal_code", where.get("address", (order.first_line, "postal_code")))
        order.error("postal_code", "Missing postal code: no Kode Pos and none in the address.")

    try:
        phone = normalise_phone(value("phone"))
        if phone and not PHONE.fullmatch(phone):
            raise ValueError(f"Not an Indonesian phone number: {text_of(value('phone'))!r}.")
    except ValueError as exc:
        order.error("phone", str(exc))
        phone = ""

    courier_text = value("courier")
    courier = courier_code(courier_text)
    if courier is None:
        order.error(
            "courier",
            f"No Gudang courier for {text_of(courier_text)!r}; one of "
            + ", ".join(info["name"] for info in COURIERS.values())
            + ".",
        )

    cod_amount = 0
    if "cod_amount" in columns:
        raw = value("cod_amount")
        if raw not in (None, ""):
            try:
                cod_amount = parse_rupiah(raw)
            except ValueError as exc:
                order.error("cod_amount", str(exc))
    elif is_cod(value("payment_method")):
        raw = value("total")
        if raw in (None, ""):
            where.setdefault("total", where.get("payment_method", (order.first_line, "total")))
            order.error("total", "A COD order needs its total to collect.")
        else:
            try:
                cod_amount = parse_rupiah(raw)
            except ValueError as exc:
                order.error("total", str(exc))
        # the payment method made it COD: a courier that cannot collect is its fault
        where["cod_amount"] = where.get("payment_method") or where.get("total")

    raw_time = value("ordered_at")
    if raw_time not in (None, ""):
        try:
            order.ordered_at = parse_wib_time(raw_time)
        except ValueError as exc:
            order.error("ordered_at", str(exc))

    lines, line_rows = {}, {}
    for row in order.rows:
        if row.get("sku") and row.get("qty"):
            if row["sku"] in lines:
                lines[row["sku"]] += row["qty"]
            else:
                lines[row["sku"]] = row["qty"]
                line_rows[row["sku"]] = row["_line"]
    for n, sku in enumerate(lines):
        where[f"lines.{n}.sku"] = (line_rows[sku], columns["sku"])
        where[f"lines.{n}.qty"] = (line_rows[sku], columns["qty"])
    if order.errors:
        return

    data = {
        "external_id": order.number,
        "channel": channel,
        "courier": courier,
        "recipient": {
            "name": text_of(value("recipient_name")),
            "phone": phone,
            "address": address,
            "city": text_of(value("city")),
            "postal_code": postal_code,
        },
        "lines": [{"sku": sku, "qty": qty} for sku, qty in lines.items()],
        "cod_amount": cod_amount,
    }
    for key, target in (("recipient_name", "recipient.name"), ("phone", "recipient.phone")):
        if key in where:
            where[target] = where[key]
    for key in ("address", "city", "postal_code"):
        if key in where:
            where[f"recipient.{key}"] = where[key]
    where.setdefault("external_id", (order.first_line, columns["order_number"]))
    where.setdefault("lines", (order.first_line, columns["sku"]))
    try:
        order.data = ORDER_SCHEMA.load(data)
    except ValidationError as exc:
        for key, messages in flatten_messages(exc.messages).items():
            order.error(key, " ".join(str(m) for m in messages))


# --- applying it -------------------------------------------------------------------


def apply(parsed, *, check, existing, create=None, pause=None):
    """Decide every order of a parsed file and report it.

    check(data)        raises a GudangError naming fields when intake would refuse it
    existing(data)     the stored order with that external_id, or None
    create(data)       stores it: (order, created); None for a preview

    The report: {format, rows, summary, orders: [...], errors: [...]}; each order says
    what happened (create/created, duplicate, rejected, skipped)."""
    report_orders, errors = [], [e.as_json() for e in parsed.errors]
    counts = {"create": 0, "created": 0, "duplicate": 0, "rejected": 0, "skipped": 0}
    for n, order in enumerate(parsed.orders):
        if pause is not None and n and n % PAUSE_EVERY == 0:
            pause()
        entry = order.summary()
        if order.skipped:
            entry.update(action="skipped", reason=order.skipped)
        elif not order.errors:
            _decide(order, entry, check, existing, create)
        if order.errors:
            entry["action"] = "rejected"
            errors.extend(e.as_json() for e in order.errors)
        counts[entry["action"]] += 1
        report_orders.append(entry)
    errors.sort(key=lambda e: e["line"])
    summary = {
        "orders": len(parsed.orders),
        "created" if create else "to_create": counts["created" if create else "create"],
        "duplicates": counts["duplicate"],
        "rejected": counts["rejected"],
        "skipped": counts["skipped"],
        "errors": len(errors),
    }
    return {
        "dry_run": create is None,
        "format": parsed.format,
        "file_type": parsed.kind,
        "header_line": parsed.header_line,
        "rows": parsed.rows,
        "summary": summary,
        "orders": report_orders,
        "errors": errors,
    }


def _decide(order, entry, check, existing, create):
    data = order.data
    entry.update(external_id=data["external_id"], channel=data["channel"])
    try:
        check(data)
    except GudangError as exc:
        for key, messages in (exc.fields or {"_order": [exc.message]}).items():
            order.error(key, " ".join(str(m) for m in messages))
        return
    found = existing(data)
    if found is not None and found.get("channel") != data["channel"]:
        order.error(
            "external_id",
            f"Order number already used by your {found.get('channel')} order "
            f"{found['_id']}; not imported.",
        )
        return
    if found is not None:
        entry.update(action="duplicate", order_id=found["_id"], status=found.get("status"))
        return
    if create is None:
        entry.update(action="create", order=data)
        return
    stored, created = create(data)
    entry.update(
        action="created" if created else "duplicate",
        order_id=stored["_id"],
        status=stored.get("status"),
    )


def template_csv():
    """Gudang's import template: the header and example rows, as CSV text."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(TEMPLATE_COLUMNS)
    writer.writerows(TEMPLATE_ROWS)
    return out.getvalue()
