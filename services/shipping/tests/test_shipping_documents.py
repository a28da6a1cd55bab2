"""The label, packing slip and manifest PDFs: what a courier scans and a packer reads on them."""

import base64
import shutil
import subprocess

import mongomock
import pytest
from test_shipping_operations import ORIGIN, packed

from gudang_common.errors import NotFound
from shipping import documents, operations
from shipping.store import ShippingRepository

needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils missing")
needs_zbar = pytest.mark.skipif(not shutil.which("zbarimg"), reason="zbar-tools missing")

SENDER = {"name": "Batik Sari Pekalongan", "phone": "081311112222"}


def a_parcel(**changes):
    parcel = {
        "awb": "JN583920174460",
        "courier_name": "JNE",
        "order_id": "ord_abc",
        "external_id": "SHP-2411-0042",
        "recipient": {
            "name": "Ani Suryani",
            "phone": "+6281299998888",
            "address": "Jl. Merdeka No. 1, RT 02/RW 05, Sukajadi",
            "city": "Bandung",
            "postal_code": "40162",
        },
        "chargeable_weight_g": 2000,
        "cod_amount": 125000,
        "booked_at": "2026-11-24T03:15:00.000Z",
        "lines": [
            {"sku": "BTK-000", "qty": 2, "lot": None},
            {"sku": "SRM-010", "qty": 1, "lot": "L2411A"},
        ],
    }
    return parcel | changes


def a_manifest(count, cod=125000):
    parcels = [
        {
            "awb": f"JN5839201{i:05d}",
            "order_id": f"ord_{i}",
            "external_id": f"SHP-{i}",
            "chargeable_weight_g": 1000,
            "cod_amount": cod if i % 2 == 0 else 0,
        }
        for i in range(count)
    ]
    return {
        "manifest_id": "mf_1",
        "courier_name": "JNE",
        "created_at": "2026-11-24T08:00:00.000Z",
        "parcel_count": count,
        "cod_total": sum(p["cod_amount"] for p in parcels),
        "parcels": parcels,
    }


def pdf_text(tmp_path, pdf):
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def pdf_info(tmp_path, pdf):
    path = tmp_path / "info.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    return dict(line.split(":", 1) for line in out.stdout.splitlines() if ":" in line)


def test_rupiah_uses_indonesian_thousands_dots():
    assert documents.rupiah(125000) == "Rp 125.000"
    assert documents.rupiah(1250000) == "Rp 1.250.000"
    assert documents.rupiah(500) == "Rp 500"
    assert documents.rupiah(0) == "Rp 0"


def test_weights_print_in_kilos_with_a_decimal_comma():
    assert documents.kilos(1000) == "1 kg"
    assert documents.kilos(3000) == "3 kg"
    assert documents.kilos(1500) == "1,5 kg"


def test_the_slip_lists_each_sku_and_lot_once():
    lines = [
        {"sku": "A", "qty": 1, "lot": None, "bin": "x"},
        {"sku": "B", "qty": 2, "lot": "L1"},
        {"sku": "A", "qty": 3, "lot": None, "bin": "y"},
        {"sku": "B", "qty": 1, "lot": "L2"},
    ]
    assert documents.slip_lines(lines) == [
        {"sku": "A", "lot": None, "qty": 4},
        {"sku": "B", "lot": "L1", "qty": 2},
        {"sku": "B", "lot": "L2", "qty": 1},
    ]


@needs_poppler
def test_the_label_is_100_by_150_mm_with_the_slip_on_its_second_page(tmp_path):
    pdf = documents.label_pdf(a_parcel(), SENDER)
    info = pdf_info(tmp_path, pdf)
    assert info["Page size"].split()[:3] == ["283.465", "x", "425.197"]  # 100 x 150 mm
    assert info["Pages"].strip() == "2"
    label, slip = pdf_text(tmp_path, pdf).split("\f")[:2]
    for text in ("JNE", "JN583920174460", "COD Rp 125.000", "Ani Suryani", "+6281299998888"):
        assert text in label
    for text in ("Jl. Merdeka No. 1", "BANDUNG 40162", "Batik Sari Pekalongan", "2 kg"):
        assert text in label
    assert "SHP-2411-0042" in label and "2026-11-24 10:15 WIB" in label  # booked 03:15 UTC
    assert "DAFTAR ISI PAKET" in slip and "L2411A" in slip and "BTK-000" in slip
    assert "2 baris · 3 barang" in slip


@needs_poppler
def test_a_label_without_cod_says_so(tmp_path):
    label = pdf_text(tmp_path, documents.label_pdf(a_parcel(cod_amount=0), SENDER))
    assert "NON COD" in label and "Rp" not in label


@needs_poppler
def test_a_long_order_continues_its_slip_and_odd_text_does_not_break_the_label(tmp_path):
    lines = [{"sku": f"SKU-{i:03d}", "qty": 1, "lot": None} for i in range(60)]
    recipient = a_parcel()["recipient"] | {"name": "Đặng Thị 😀 " * 10, "address": "Jl. " * 200}
    pdf = documents.label_pdf(a_parcel(lines=lines, recipient=recipient), SENDER)
    assert pdf_info(tmp_path, pdf)["Pages"].strip() == "4"  # the label, then 24 rows a page
    text = pdf_text(tmp_path, pdf)
    assert all(f"SKU-{i:03d}" in text for i in range(60))
    assert "60 baris · 60 barang" in text


@needs_poppler
@needs_zbar
def test_the_awb_barcode_scans_as_the_awb(tmp_path):
    (tmp_path / "label.pdf").write_bytes(documents.label_pdf(a_parcel(), SENDER))
    subprocess.run(
        ["pdftoppm", "-r", "300", "-png", "-f", "1", "-l", "1", "label.pdf", "label"],
        cwd=tmp_path,
        check=True,
    )
    [png] = tmp_path.glob("label*.png")
    scan = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True, text=True)
    assert scan.stdout.split() == ["JN583920174460"]


@needs_poppler
def test_the_manifest_lists_every_awb_the_count_the_cod_total_and_signatures(tmp_path):
    pdf = documents.manifest_pdf(a_manifest(3))
    info = pdf_info(tmp_path, pdf)
    assert info["Page size"].split()[:3] == ["595.276", "x", "841.89"]  # A4
    text = pdf_text(tmp_path, pdf)
    for awb in ("JN583920100000", "JN583920100001", "JN583920100002"):
        assert awb in text
    assert "2026-11-24 15:00 WIB" in text  # created 08:00 UTC
    assert "Jumlah paket: 3" in text and "Total COD: Rp 250.000" in text
    assert text.count("Tanda tangan") == 2 and text.count("Nama jelas") == 2


@needs_poppler
def test_a_long_manifest_runs_over_pages_and_keeps_every_line(tmp_path):
    pdf = documents.manifest_pdf(a_manifest(100))
    assert int(pdf_info(tmp_path, pdf)["Pages"]) >= 3
    text = pdf_text(tmp_path, pdf)
    assert all(f"JN5839201{i:05d}" in text for i in range(100))
    assert "Jumlah paket: 100" in text and "Total COD: Rp 6.250.000" in text
    assert len(pdf) < 40_000  # it crosses an RPC reply: small however long the pickup


@pytest.fixture
def repo():
    db = mongomock.MongoClient()["t"]
    ShippingRepository.ensure_indexes(db)
    return ShippingRepository(db, lambda: None)


def test_the_label_rpc_answers_base64_pdf_once_the_parcel_is_booked(repo):
    with pytest.raises(NotFound):
        operations.label_document(repo, "ord_1", SENDER)
    event = packed(repo, cod_amount=125000)
    with pytest.raises(NotFound):  # packed, not booked yet: no AWB to print
        operations.label_document(repo, "ord_1", SENDER)
    operations.book_parcel(repo, event, ORIGIN)
    parcel = repo.get_parcel("ord_1")
    assert parcel["external_id"] == "X-ord_1"
    assert parcel["lines"] == [{"sku": "KAOS-M", "qty": 2, "lot": None}]
    doc = operations.label_document(repo, "ord_1", SENDER)
    assert doc["filename"] == f"resi-{parcel['awb']}.pdf"
    assert doc["content_type"] == "application/pdf"
    assert base64.b64decode(doc["content_base64"]).startswith(b"%PDF")


def test_the_manifest_rpc_answers_base64_pdf_with_the_order_numbers(repo):
    operations.book_parcel(repo, packed(repo, cod_amount=125000), ORIGIN)
    manifest = operations.create_manifest(repo, "jne", "stf_1")
    assert manifest["parcels"][0]["external_id"] == "X-ord_1"
    doc = operations.manifest_document(repo, manifest["manifest_id"])
    assert base64.b64decode(doc["content_base64"]).startswith(b"%PDF")
    with pytest.raises(NotFound):
        operations.manifest_document(repo, "mf_unknown")
