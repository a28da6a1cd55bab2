"""Order import parsing over real-shaped exports: headers, Indonesian numbers and dates,
grouping into orders, and every bad row named by line and column."""

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest

from gateway import imports
from gudang_common.couriers import courier_problem
from gudang_common.errors import Unprocessable, ValidationFailed

FIXTURES = Path(__file__).parent / "fixtures" / "imports"
KNOWN_SKUS = {"BTK-000", "BTK-001", "KAOS-HTM-L", "KAOS-PTH-M"}


def parse_fixture(name, fmt="auto"):
    with open(FIXTURES / name, "rb") as stream:
        return imports.parse(stream, fmt)


def intake_check(data):
    """What the gateway's _check_order refuses, without a store: courier rule, unknown SKUs."""
    problem = courier_problem(
        data["courier"], data["recipient"]["postal_code"], data["cod_amount"], "13930"
    )
    if problem:
        raise ValidationFailed("bad", {problem[0]: [problem[1]]})
    unknown = {
        f"lines.{i}.sku": ["Unknown SKU."]
        for i, line in enumerate(data["lines"])
        if line["sku"] not in KNOWN_SKUS
    }
    if unknown:
        raise Unprocessable("unknown", unknown)


def preview(parsed, stored=None):
    stored = stored or {}
    return imports.apply(
        parsed, check=intake_check, existing=lambda d: stored.get(d["external_id"])
    )


def by_number(report):
    return {o["order_number"]: o for o in report["orders"]}


def upload(data):
    return io.BytesIO(data)


# --- Shopee -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["shopee_orders.csv", "shopee_orders.xlsx"])
def test_shopee_export_groups_rows_into_orders_and_names_the_two_bad_rows(name):
    parsed = parse_fixture(name)
    assert parsed.format == "shopee" and parsed.header_line == 1 and parsed.rows == 8
    report = preview(parsed)

    assert [(e["line"], e["field"], e["key"]) for e in report["errors"]] == [
        (6, "Jumlah", "qty"),
        (7, "No. Telepon", "phone"),
    ]
    assert report["errors"][0]["order_number"] == "2611240CCC0003"
    orders = by_number(report)
    assert {n: o["action"] for n, o in orders.items()} == {
        "2611240AAA0001": "create",
        "2611240BBB0002": "create",
        "2611240CCC0003": "rejected",  # its good row 5 is not created alone
        "2611240DDD0004": "rejected",
        "2611240EEE0005": "skipped",
        "2611240FFF0006": "create",
    }
    assert report["summary"] == {
        "orders": 6,
        "to_create": 3,
        "duplicates": 0,
        "rejected": 2,
        "skipped": 1,
        "errors": 2,
    }
    cod = orders["2611240AAA0001"]
    assert cod["lines"] == [2, 3]
    assert cod["order"] == {
        "external_id": "2611240AAA0001",
        "channel": "shopee",
        "courier": "jnt",
        "recipient": {
            "name": "Ani Suryani",
            "phone": "6281299998888",
            "address": "Jl. Merdeka No. 1, Sukajadi, KOTA BANDUNG, JAWA BARAT, ID, 40162",
            "city": "KOTA BANDUNG",
            "postal_code": "40162",  # no Kode Pos column: read from the address
        },
        "lines": [{"sku": "BTK-000", "qty": 2}, {"sku": "BTK-001", "qty": 1}],
        "cod_amount": 275_000,  # "COD (Bayar di Tempat)": the order's Total Pembayaran
    }
    assert cod["ordered_at"] == "2026-11-24T01:05:00.000Z"  # 08:05 WIB
    assert orders["2611240BBB0002"]["order"]["courier"] == "sicepat"
    assert orders["2611240BBB0002"]["order"]["cod_amount"] == 0
    # Excel read the phone as a number and dropped its leading 0
    assert orders["2611240FFF0006"]["order"]["recipient"]["phone"] == "081234567890"
    assert orders["2611240EEE0005"]["reason"] == "Batal (cancelled)"


def test_csv_and_xlsx_of_the_same_export_give_the_same_orders():
    csv_report = preview(parse_fixture("shopee_orders.csv"))
    xlsx_report = preview(parse_fixture("shopee_orders.xlsx"))
    assert csv_report["orders"] == xlsx_report["orders"]
    # (messages quote the cell: the XLSX phone cell is the number 812)
    where = lambda report: [(e["line"], e["field"]) for e in report["errors"]]  # noqa: E731
    assert where(csv_report) == where(xlsx_report)


# --- Tokopedia --------------------------------------------------------------------


def test_tokopedia_export_with_title_rows_and_every_kind_of_bad_row():
    parsed = parse_fixture("tokopedia_orders.xlsx")
    assert parsed.format == "tokopedia" and parsed.header_line == 5
    report = preview(parsed)
    errors = [(e["line"], e["field"], e["key"]) for e in report["errors"]]
    assert errors == [
        (8, "Metode Pembayaran", "cod_amount"),  # COD with GoSend, which does not collect it
        (9, "Kode Pos", "postal_code"),  # none in the column nor in the address
        (10, "Nomor SKU", "sku"),  # never registered
        (11, "Jumlah Produk Dibeli", "qty"),  # 0
        (13, "Nama Kurir", "courier"),  # "Kurir Toko Sendiri"
        (14, "Tanggal Pembayaran", "ordered_at"),  # 31-02-2026
    ]
    messages = {e["line"]: e["message"] for e in report["errors"]}
    assert "does not collect cash on delivery" in messages[8]
    assert messages[10] == "Unknown SKU."
    orders = by_number(report)
    first = orders["INV/20261124/MPL/3000000001"]
    # row 7 carries only its product: it belongs to the invoice above it
    assert first["lines"] == [6, 7] and first["action"] == "create"
    assert first["order"]["lines"] == [{"sku": "BTK-000", "qty": 1}, {"sku": "BTK-001", "qty": 1}]
    assert first["order"]["courier"] == "anteraja"
    assert first["order"]["cod_amount"] == 300_000  # "Bayar di Tempat"
    assert first["order"]["recipient"]["phone"] == "081299998888"
    assert first["order"]["recipient"]["postal_code"] == "40111"  # a number cell
    assert first["ordered_at"] == "2026-11-24T02:30:12.000Z"
    # no Kode Pos cell, but the address ends in one
    assert orders["INV/20261124/MPL/3000000004"]["action"] == "rejected"  # unknown SKU
    last = orders["INV/20261124/MPL/3000000009"]
    assert last["order"]["courier"] == "ninja"
    assert last["order"]["recipient"]["phone"] == "+6281233334444"
    assert orders["INV/20261124/MPL/3000000006"]["action"] == "skipped"
    assert report["summary"]["to_create"] == 2


def test_a_forced_format_that_does_not_match_names_the_missing_columns():
    with pytest.raises(ValidationFailed) as exc:
        parse_fixture("shopee_orders.csv", fmt="tokopedia")
    assert "Nomor Invoice" in exc.value.fields["header"][0]


# --- Gudang's template ------------------------------------------------------------


def test_the_template_parses_as_the_gudang_format():
    parsed = imports.parse(upload(imports.template_csv().encode()))
    assert parsed.format == "gudang"
    report = preview(parsed)
    assert report["errors"] == []
    first, second = report["orders"]
    assert first["order"]["channel"] == "whatsapp" and first["order"]["cod_amount"] == 250_000
    assert first["order"]["lines"] == [
        {"sku": "KAOS-HTM-L", "qty": 2},
        {"sku": "KAOS-PTH-M", "qty": 1},
    ]
    assert second["order"]["channel"] == "instagram" and second["order"]["courier"] == "sicepat"


def test_every_row_is_loaded_by_one_schema_built_once(monkeypatch):
    built = []
    real_init = imports.OrderSchema.__init__
    monkeypatch.setattr(
        imports.OrderSchema, "__init__", lambda *a, **kw: built.append(1) or real_init(*a, **kw)
    )
    parsed = imports.parse(upload(imports.template_csv().encode()))
    assert len(preview(parsed)["orders"]) == 2 and built == []


def test_template_with_comma_delimiter_and_repeated_sku_lines():
    text = (
        "order_number,recipient_name,phone,address,city,postal_code,sku,qty\n"
        "T-1,Ani,081299998888,Jl. Merdeka 1,Bandung,40162,BTK-000,1\n"
        "T-1,Ani,081299998888,Jl. Merdeka 1,Bandung,40162,BTK-000,2\n"
    )
    report = preview(imports.parse(upload(text.encode())))
    order = report["orders"][0]["order"]
    assert order["lines"] == [{"sku": "BTK-000", "qty": 3}]
    assert order["channel"] == "other" and order["courier"] == "jne"


# --- already imported -------------------------------------------------------------


def test_an_order_already_stored_is_a_duplicate_and_another_channel_is_a_conflict():
    parsed = parse_fixture("shopee_orders.csv")
    stored = {
        "2611240AAA0001": {"_id": "ord_1", "channel": "shopee", "status": "allocated"},
        "2611240BBB0002": {"_id": "ord_2", "channel": "tokopedia", "status": "received"},
    }
    orders = by_number(preview(parsed, stored))
    assert orders["2611240AAA0001"]["action"] == "duplicate"
    assert orders["2611240AAA0001"]["order_id"] == "ord_1"
    assert orders["2611240BBB0002"]["action"] == "rejected"


def test_commit_creates_each_good_order_once():
    parsed = parse_fixture("shopee_orders.csv")
    created = []

    def create(data):
        created.append(data["external_id"])
        return {"_id": f"ord_{len(created)}", "status": "received"}, True

    report = imports.apply(parsed, check=intake_check, existing=lambda d: None, create=create)
    assert report["dry_run"] is False
    assert created == ["2611240AAA0001", "2611240BBB0002", "2611240FFF0006"]
    assert report["summary"]["created"] == 3
    assert by_number(report)["2611240AAA0001"]["order_id"] == "ord_1"


# --- values -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, amount",
    [
        ("Rp 125.000", 125_000),
        ("Rp125.000,00", 125_000),
        ("125000", 125_000),
        ("1.250.000", 1_250_000),
        ("IDR 50.000", 50_000),
        (125000, 125_000),
        (125000.0, 125_000),
        ("Rp\xa0275.000", 275_000),
    ],
)
def test_indonesian_rupiah_amounts(text, amount):
    assert imports.parse_rupiah(text) == amount


@pytest.mark.parametrize("text", ["125,000", "12,5", "abc", "-5.000", "1.2.3", "", 12.5])
def test_amounts_that_are_not_whole_rupiah_are_refused(text):
    with pytest.raises(ValueError):
        imports.parse_rupiah(text)


@pytest.mark.parametrize("text, qty", [("2", 2), ("1.000", 1000), ("3,0", 3), (2.0, 2), (4, 4)])
def test_quantities(text, qty):
    assert imports.parse_qty(text) == qty


@pytest.mark.parametrize("text", ["0", "-1", "1,5", "1.5", "dua", "", 2.5])
def test_quantities_that_are_not_whole_positive_numbers(text):
    with pytest.raises(ValueError):
        imports.parse_qty(text)


@pytest.mark.parametrize(
    "text, utc",
    [
        ("24-11-2026 08:05", "2026-11-24T01:05:00.000Z"),
        ("24-11-2026 08:05:30", "2026-11-24T01:05:30.000Z"),
        ("24/11/2026 06:00", "2026-11-23T23:00:00.000Z"),  # still the 23rd in UTC
        ("2026-11-24 08:05", "2026-11-24T01:05:00.000Z"),
    ],
)
def test_marketplace_times_are_wib_stored_utc(text, utc):
    assert imports.parse_wib_time(text) == utc


@pytest.mark.parametrize(
    "name, code",
    [
        ("J&T Express", "jnt"),
        ("J&T Cargo", "jnt"),
        ("SiCepat REG", "sicepat"),
        ("SiCepat HALU", "sicepat"),
        ("JNE Reguler", "jne"),
        ("JNE YES", "jne"),
        ("AnterAja", "anteraja"),
        ("Anter Aja Reguler", "anteraja"),
        ("GoSend Same Day", "gosend"),
        ("GoSend Instant", "gosend"),
        ("GrabExpress Sameday", "grabexpress"),
        ("Ninja Xpress", "ninja"),
        ("ID Express", "idexpress"),
        ("Pos Kilat Khusus", "pos"),
        ("POS Indonesia", "pos"),
        ("jne", "jne"),
        ("", "jne"),  # none given: the API's default
        ("SPX Standard", None),
        ("Kurir Toko Sendiri", None),
    ],
)
def test_marketplace_courier_names(name, code):
    assert imports.courier_code(name) == code


@pytest.mark.parametrize(
    "method, cod",
    [
        ("COD (Bayar di Tempat)", True),
        ("COD", True),
        ("Bayar di Tempat", True),
        ("ShopeePay", False),
        ("Transfer Bank", False),
        ("Kartu Kredit/Debit", False),
        ("", False),
    ],
)
def test_cash_on_delivery_payment_methods(method, cod):
    assert imports.is_cod(method) is cod


def test_postal_code_from_the_address_when_the_column_is_empty():
    assert imports.postal_code_of("", "Jl. A 12, Kota X, ID, 40162") == "40162"
    assert imports.postal_code_of(40111, "Jl. A") == "40111"
    assert imports.postal_code_of("", "Jl. A No. 123456") == ""


# --- files that are not order exports ----------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\x01\x02garbage\xff" * 100,
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,  # an old .xls
        b"PK\x03\x04 not really a zip",
        b"just some text\nwithout any header we know\n",
        b"\n\n\n",
    ],
)
def test_files_that_are_not_exports_are_a_400(data):
    with pytest.raises(ValidationFailed):
        imports.parse(upload(data))


def test_a_zip_that_is_not_xlsx_is_a_400():
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr("hello.txt", "hello")
    with pytest.raises(ValidationFailed):
        imports.parse(upload(data.getvalue()))


def _with_unknown_compression(data):
    """The same archive with every entry marked as packed by a method zipfile cannot read."""
    raw = bytearray(data)
    for signature, at in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        start = raw.find(signature)
        while start != -1:
            raw[start + at : start + at + 2] = (99).to_bytes(2, "little")
            start = raw.find(signature, start + 4)
    return bytes(raw)


def test_an_xlsx_packed_by_an_unknown_compression_method_is_a_400():
    # zipfile raises NotImplementedError reading such an entry: a 400 naming the file, not a 500
    book = openpyxl.Workbook()
    book.active.append(["order_number", "recipient_name", "sku", "qty"])
    plain = io.BytesIO()
    book.save(plain)
    damaged = io.BytesIO()
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(damaged, "w") as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info), zipfile.ZIP_STORED)
    data = _with_unknown_compression(damaged.getvalue())
    with zipfile.ZipFile(io.BytesIO(data)) as check, pytest.raises(NotImplementedError):
        check.read(check.infolist()[0])
    with pytest.raises(ValidationFailed) as refused:
        imports.parse(upload(data))
    assert "file" in refused.value.args[1]


def test_an_xlsx_that_unpacks_to_too_much_is_a_413():
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", b"<a>" + b" " * (40 * 2**20) + b"</a>")
    with pytest.raises(imports.FileTooLarge):
        imports.parse(upload(data.getvalue()))


def test_more_rows_than_allowed_is_a_413():
    rows = "".join(
        f"T-{i},Ani,081299998888,Jl. Merdeka 1,Bandung,40162,BTK-000,1\n" for i in range(6)
    )
    text = "order_number,recipient_name,phone,address,city,postal_code,sku,qty\n" + rows
    with pytest.raises(imports.FileTooLarge):
        imports.parse(upload(text.encode()), max_rows=5)


def test_formulas_and_huge_cells_are_row_errors_not_crashes():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["order_number", "recipient_name", "phone", "address", "city", "sku", "qty"])
    # a formula without a cached value reads as empty; a huge cell is refused by name
    sheet.append(
        ["F-1", "Ani", "081299998888", "Jl. Merdeka 1, 40162", "Bandung", "BTK-000", "=1+1"]
    )
    sheet.append(["F-2", "Ani", "081299998888", "x" * 5000, "Bandung", "BTK-000", 1])
    data = io.BytesIO()
    book.save(data)
    report = preview(imports.parse(upload(data.getvalue())))
    errors = [(e["line"], e["key"]) for e in report["errors"]]
    assert (2, "qty") in errors and (3, "address") in errors
    assert [o["action"] for o in report["orders"]] == ["rejected", "rejected"]


def test_a_csv_cell_beyond_the_csv_module_limit_is_a_400():
    text = "order_number,sku,qty\n" + 'A,"' + "x" * 200_000 + '",1\n'
    with pytest.raises(ValidationFailed):
        imports.parse(upload(text.encode()))


def test_a_windows_1252_csv_is_read():
    text = (
        "order_number;recipient_name;phone;address;city;postal_code;sku;qty\n"
        "W-1;Andr\xe9;081299998888;Jl. Merdeka 1;Bandung;40162;BTK-000;1\n"
    )
    report = preview(imports.parse(upload(text.encode("cp1252"))))
    assert report["orders"][0]["order"]["recipient"]["name"] == "Andr\xe9"


def test_unknown_format_is_a_400():
    with pytest.raises(ValidationFailed):
        imports.parse(upload(b"a,b\n"), fmt="lazada")


@pytest.mark.parametrize("seed", range(30))
def test_random_bytes_never_crash_the_parser(seed):
    import random

    rng = random.Random(seed)
    data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 3000)))
    if seed % 3 == 0:
        data = b"PK\x03\x04" + data
    try:
        preview(imports.parse(upload(data)))
    except (ValidationFailed, imports.FileTooLarge):
        pass


@pytest.mark.parametrize("seed", range(60))
def test_damaged_exports_never_crash_the_parser(seed):
    import random

    rng = random.Random(seed)
    names = ["shopee_orders.xlsx", "tokopedia_orders.xlsx", "shopee_orders.csv"]
    data = bytearray((FIXTURES / names[seed % len(names)]).read_bytes())
    for _ in range(rng.randrange(1, 20)):
        i = rng.randrange(len(data))
        if rng.random() < 0.5:
            data[i] = rng.randrange(256)
        else:
            del data[i : i + rng.randrange(1, 50)]
    try:
        preview(imports.parse(upload(bytes(data))))
    except (ValidationFailed, imports.FileTooLarge):
        pass


def test_order_numbers_and_skus_typed_as_number_cells_stay_text():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["order_number", "recipient_name", "phone", "address", "city", "sku", "qty"])
    sheet.append([20261124001, "Ani", 81299998888, "Jl. Merdeka 1, 40162", "Bandung", 1001, 2.0])
    data = io.BytesIO()
    book.save(data)
    parsed = imports.parse(upload(data.getvalue()))
    order = imports.apply(parsed, check=lambda d: None, existing=lambda d: None)["orders"][0]
    assert order["order"]["external_id"] == "20261124001"
    assert order["order"]["lines"] == [{"sku": "1001", "qty": 2}]
    assert order["order"]["recipient"]["phone"] == "081299998888"


def test_missing_recipient_columns_are_named():
    text = (
        "order_number;recipient_name;phone;address;city;postal_code;sku;qty\n"
        "M-1;;;Jl. Merdeka 1;;40162;BTK-000;1\n"
    )
    report = preview(imports.parse(upload(text.encode())))
    assert [(e["line"], e["key"], e["message"]) for e in report["errors"]] == [
        (2, "recipient_name", "Missing recipient_name."),
        (2, "city", "Missing city."),
        (2, "phone", "Missing phone."),
    ]
