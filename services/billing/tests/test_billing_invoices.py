"""Monthly invoices: totals equal the ledger, the PPN rule, numbers without gaps under
concurrent issuing and after a crash, and the PDF and CSV agree."""

import csv
import io
import re
import shutil
import subprocess
from datetime import UTC, datetime

import eventlet
import pytest
from billing_samples import LONG_AGO, memory_repository
from test_billing_ledger import CARD

from billing import domain, invoices, operations
from billing.store import BillingRepository
from gudang_common.errors import NotFound, ValidationFailed
from gudang_common.events import new_event
from tests.repositories import embedded_repository
from tests.sample_events import order_packed, parcel_booked, parcel_delivered, stock_received

NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
ISSUER = "Gudang"
# October 2026 in WIB: from 2026-09-30T17:00Z up to 2026-10-31T17:00Z (excluded)
FIRST_INSTANT = "2026-09-30T17:00:00.000Z"
LAST_INSTANT = "2026-10-31T16:59:59.999Z"
NEXT_MONTH = "2026-10-31T17:00:00.000Z"
BEFORE = "2026-09-30T16:59:59.999Z"


# --- the PPN rule ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("subtotal", "tax"),
    [
        (0, 0),
        (1, 0),  # 0.11
        (4, 0),  # 0.44
        (5, 1),  # 0.55 rounds up
        (50, 6),  # 5.5: exactly half rounds up
        (150, 17),  # 16.5 -> 17
        (149, 16),  # 16.39 -> 16
        (100, 11),
        (1_000_000, 110_000),
        (123_456_789, 13_580_247),  # 13,580,246.79
        (10**15 + 50, 11 * 10**13 + 6),  # exact beyond float precision (5.5 -> 6)
    ],
)
def test_ppn_is_eleven_percent_of_the_fee_subtotal_rounded_half_up(subtotal, tax):
    assert invoices.ppn(subtotal) == tax


def test_invoice_number_and_months():
    assert invoices.invoice_number(2026, 11, 123) == "INV/2026/11/000123"
    assert invoices.parse_month("2026-01") == (2026, 1)
    for bad in ("2026-13", "2026-1", "26-11", None, "2026-11-01"):
        with pytest.raises(ValueError):
            invoices.parse_month(bad)
    assert invoices.previous_month(datetime(2026, 1, 5).date()) == "2025-12"
    assert invoices.month_due(datetime(2026, 12, 2).date(), 2) is None
    assert invoices.month_due(datetime(2026, 12, 3).date(), 2) == "2026-11"
    assert invoices.month_due(datetime(2026, 12, 1).date(), 0) == "2026-11"


# --- a month of postings ------------------------------------------------------------


@pytest.fixture
def repo():
    return memory_repository()


def register(repo, merchant_id, promoter_id=None, when=LONG_AGO):
    event = new_event(
        "merchant_registered",
        merchant_id=merchant_id,
        name=f"Toko {merchant_id}",
        promoter_id=promoter_id,
    )
    operations.register_merchant(repo, dict(event, occurred_at=when))


@pytest.fixture
def world(repo):
    operations.register_promoter(
        repo,
        new_event("promoter_registered", promoter_id="pro_1", name="Budi", referral_code="BUDI"),
    )
    register(repo, "mer_1", "pro_1")
    register(repo, "mer_2")
    return repo


def at(event, when):
    return dict(event, occurred_at=when)


def october(repo):
    """Fees, shipping and COD for mer_1 inside October (WIB), at its edges and outside."""
    operations.charge_inbound(
        repo, CARD, at(stock_received(units=37, receipt_id="r1"), FIRST_INSTANT)
    )
    operations.charge_inbound(repo, CARD, at(stock_received(units=5, receipt_id="r0"), BEFORE))
    for i, (qty, cost, cod) in enumerate([(1, 9000, 0), (4, 33000, 149999), (2, 24000, 55555)]):
        oid = f"ord_{i}"
        when = LAST_INSTANT if i == 2 else f"2026-10-1{i}T03:00:00.000Z"
        operations.charge_pick_pack(repo, CARD, at(order_packed("mer_1", oid, qty), when))
        booked = at(parcel_booked("mer_1", oid, cost, cod), when)
        operations.pass_through_shipping(repo, booked)
        operations.charge_label(repo, CARD, booked)
        operations.settle_cod(repo, CARD, at(parcel_delivered("mer_1", oid, cod), when))
    # delivered in November: not October's
    operations.charge_pick_pack(repo, CARD, at(order_packed("mer_1", "ord_nov", 1), NEXT_MONTH))
    operations.charge_storage(repo, CARD, datetime(2026, 10, 31).date(), {"mer_1": 101})
    operations.charge_storage(repo, CARD, datetime(2026, 11, 1).date(), {"mer_1": 101})
    operations.record_topup(repo, "mer_1", {"amount": 500000, "reference": "BCA-1"})


def ledger_month(repo, merchant_id, start=FIRST_INSTANT, end=NEXT_MONTH):
    """The same month summed straight from the postings, the slow obvious way."""
    wallet = domain.wallet_account(merchant_id)
    sums = {"fees": 0, "shipping": 0, "cod": 0}
    for p in repo.db.postings.find({"merchant_id": merchant_id}):
        if not start <= p["occurred_at"] < end:
            continue
        amount = domain.amount_on(p["lines"], wallet)
        if p["kind"] in domain.FEE_TYPES:
            sums["fees"] -= amount
        elif p["kind"] == "shipping":
            sums["shipping"] -= amount
        elif p["kind"] == "cod_collected":
            sums["cod"] += amount
    return sums


def test_invoice_totals_equal_the_ledger(world):
    october(world)
    invoice = operations.issue_invoice(world, world.get_merchant("mer_1"), 2026, 10, ISSUER, NOW)
    ledger = ledger_month(world, "mer_1")
    assert invoice["number"] == "INV/2026/10/000001"
    assert invoice["fee_subtotal"] == ledger["fees"]
    assert invoice["shipping"] == {"count": 3, "amount": ledger["shipping"]}
    assert invoice["cod_collected"] == {"count": 2, "amount": ledger["cod"]}
    by_type = {line["fee_type"]: line for line in invoice["lines"]}
    assert by_type["inbound"] == {
        "fee_type": "inbound",
        "label": invoices.FEE_LABELS["inbound"],
        "count": 1,
        "amount": 18500,
    }
    assert by_type["pick_pack"]["count"] == 3
    assert by_type["pick_pack"]["amount"] == 3000 + 4500 + 3500
    assert by_type["label"] == dict(by_type["label"], count=3, amount=3000)
    assert by_type["storage"] == dict(by_type["storage"], count=1, amount=101 * 15)
    assert by_type["cod_fee"]["amount"] == 4500 + 1667
    assert sum(line["amount"] for line in invoice["lines"]) == invoice["fee_subtotal"]
    assert invoice["ppn"] == invoices.ppn(invoice["fee_subtotal"])
    assert invoice["total_due"] == invoice["fee_subtotal"] + invoice["ppn"] + ledger["shipping"]
    # the PPN is posted once, balanced, to the tax office's account
    ppn = world.get_posting("ppn:mer_1:2026-10")
    assert domain.amount_on(ppn["lines"], "tax:ppn_payable") == invoice["ppn"]
    again = operations.issue_invoices(world, "2026-10", ISSUER, "mer_1", NOW)
    assert again["issued"] == ["INV/2026/10/000001"]
    assert world.db.postings.count_documents({"kind": "ppn"}) == 1
    assert operations.trial_balance(world)["total"] == 0
    # November's invoice does not pick up October's PPN posting
    december = datetime(2026, 12, 2, tzinfo=UTC)
    november = operations.issue_invoice(
        world, world.get_merchant("mer_1"), 2026, 11, ISSUER, december
    )
    assert november["lines"] == [
        dict(november["lines"][0], fee_type="storage", amount=1515, count=1),
        dict(november["lines"][1], fee_type="pick_pack", amount=3000, count=1),
    ]


def test_a_reversed_fee_counts_back_on_the_invoice(world):
    when = "2026-10-10T03:00:00.000Z"
    operations.settle_cod(world, CARD, at(parcel_delivered(cod=100000), when))
    corrected = new_event(
        "parcel_outcome_corrected",
        merchant_id="mer_1",
        order_id="ord_1",
        awb="JN000000000001",
        courier="jne",
        correction=1,
        previous_outcome="delivered",
        outcome="returned",
        courier_status="returned",
        decided_at=when,
        cod_amount=100000,
    )
    operations.correct_cod(world, CARD, at(corrected, "2026-10-12T03:00:00.000Z"))
    operations.pass_through_shipping(world, at(parcel_booked(cost=9000), when))
    invoice = operations.issue_invoice(world, world.get_merchant("mer_1"), 2026, 10, ISSUER, NOW)
    assert invoice["lines"] == []
    assert invoice["fee_subtotal"] == 0 and invoice["ppn"] == 0
    assert invoice["cod_collected"] == {"count": 0, "amount": 0}
    assert invoice["total_due"] == 9000


def test_a_month_not_ended_cannot_be_invoiced(world):
    for month in ("2026-11", "2026-12", "2099-01"):
        with pytest.raises(ValidationFailed) as failed:
            operations.issue_invoices(world, month, ISSUER, now=NOW)
        assert set(failed.value.fields) == {"month"}
    with pytest.raises(ValidationFailed):
        operations.issue_invoices(world, "oktober", ISSUER, now=NOW)
    with pytest.raises(NotFound):
        operations.issue_invoices(world, "2026-10", ISSUER, "mer_9", now=NOW)


def test_no_money_no_invoice_and_late_merchants_are_skipped(world):
    register(world, "mer_late", when="2026-11-03T00:00:00.000Z")
    october(world)
    issued = operations.issue_invoices(world, "2026-10", ISSUER, now=NOW)
    assert issued == {"month": "2026-10", "issued": ["INV/2026/10/000001"]}  # mer_1 only


def test_merchants_see_only_their_own_invoices(world):
    october(world)
    operations.issue_invoices(world, "2026-10", ISSUER, now=NOW)
    number = "INV/2026/10/000001"
    assert [i["number"] for i in operations.list_invoices(world, "mer_1")["invoices"]] == [number]
    assert operations.list_invoices(world, "mer_2")["invoices"] == []
    for fmt in ("csv", "pdf"):
        with pytest.raises(NotFound):
            operations.invoice_file(world, "mer_2", number, fmt)
        with pytest.raises(NotFound):
            operations.invoice_file(world, "mer_1", "INV/2026/10/000009", fmt)
    got = operations.invoice_file(world, "mer_1", number, "csv")
    assert got["filename"] == "INV-2026-10-000001.csv"


def csv_totals(text):
    return {
        row[1]: int(row[4]) for row in csv.reader(io.StringIO(text)) if row and row[0] == "total"
    }


needs_poppler = pytest.mark.skipif(
    not (shutil.which("pdftoppm") and shutil.which("pdftotext")),
    reason="poppler-utils (pdftoppm, pdftotext) not installed: make test-tools",
)


@needs_poppler
def test_the_pdf_opens_and_its_totals_equal_the_csv(world, tmp_path):
    import base64

    from PIL import Image

    october(world)
    operations.issue_invoices(world, "2026-10", ISSUER, now=NOW)
    number = "INV/2026/10/000001"
    pdf = base64.b64decode(operations.invoice_file(world, "mer_1", number, "pdf")["content_base64"])
    assert pdf.startswith(b"%PDF")
    path = tmp_path / "invoice.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "50", str(path), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page*.png"))
    assert pages
    with Image.open(pages[0]) as image:
        low, high = image.convert("L").getextrema()
        assert low < 128 < high  # ink on paper, not a blank page
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert number in text

    def amount(label):
        line = next(line for line in text.splitlines() if line.strip().startswith(label))
        return int(re.search(r"Rp ([\d.]+)\s*$", line).group(1).replace(".", ""))

    totals = csv_totals(operations.invoice_file(world, "mer_1", number, "csv")["content"])
    assert amount("Fees subtotal") == totals["fee_subtotal"]
    assert amount("PPN 11% on fees") == totals["ppn"]
    assert amount("Shipping at cost") == totals["shipping"]
    assert amount("Total due") == totals["total_due"]
    assert totals["total_due"] == totals["fee_subtotal"] + totals["ppn"] + totals["shipping"]


# --- numbers without gaps -------------------------------------------------------------


@pytest.fixture
def embedded(tmp_path):
    with embedded_repository(BillingRepository, "billing", tmp_path) as repo:
        yield repo


def yielding(repo):
    """Let other green threads run between the claim's reads and writes, so the claims
    interleave as they would under real concurrency (each store call stays whole, as the
    store's own single-document atomicity guarantees)."""
    for name in ("read_counter", "get_invoice", "_number_invoice"):
        method = getattr(repo, name)

        def wrapped(*args, _method=method):
            eventlet.sleep(0)
            found = _method(*args)
            eventlet.sleep(0)
            return found

        setattr(repo, name, wrapped)


def some_fees(repo, n):
    for i in range(n):
        register(repo, f"mer_{i:02d}")
        event = at(order_packed(f"mer_{i:02d}", f"ord_{i}", 1), "2026-10-10T03:00:00.000Z")
        operations.charge_pick_pack(repo, CARD, event)


def test_numbers_have_no_gaps_under_concurrent_issuing(embedded):
    n = 24
    some_fees(embedded, n)
    yielding(embedded)
    pool = eventlet.GreenPool(20)
    merchants = [embedded.get_merchant(f"mer_{i:02d}") for i in range(n)]
    # every merchant's invoice issued twice at once (the timer and ops), all merchants at once
    results = list(
        pool.imap(
            lambda m: operations.issue_invoice(embedded, m, 2026, 10, ISSUER, NOW)["number"],
            [m for m in merchants for _ in range(2)],
        )
    )
    numbers = sorted({d["number"] for d in embedded.db.invoices.find()})
    assert numbers == [invoices.invoice_number(2026, 10, s) for s in range(1, n + 1)]
    assert sorted(set(results)) == numbers
    assert results[0::2] == results[1::2]  # the same invoice got the same number both times
    assert embedded.db.counters.find_one({"_id": "invoice:Gudang"})["last"] == n


def test_a_crash_after_claiming_leaves_no_gap(world):
    some_fees(world, 3)
    merchants = [world.get_merchant(f"mer_{i:02d}") for i in range(3)]
    real = world._number_invoice
    world._number_invoice = lambda *a: (_ for _ in ()).throw(RuntimeError("crash"))
    with pytest.raises(RuntimeError):
        operations.issue_invoice(world, merchants[0], 2026, 10, ISSUER, NOW)
    world._number_invoice = real
    assert world.get_invoice("mer_00:2026-10").get("number") is None  # claimed, not written
    # the next invoice first writes the crashed one's number, then takes the next
    second = operations.issue_invoice(world, merchants[1], 2026, 10, ISSUER, NOW)
    assert second["number"] == "INV/2026/10/000002"
    assert world.get_invoice("mer_00:2026-10")["number"] == "INV/2026/10/000001"
    # the crashed invoice's retry keeps its number
    retried = operations.issue_invoice(world, merchants[0], 2026, 10, ISSUER, NOW)
    assert retried["number"] == "INV/2026/10/000001"
    third = operations.issue_invoice(world, merchants[2], 2026, 10, ISSUER, NOW)
    assert third["number"] == "INV/2026/10/000003"


def test_postings_stored_before_their_wib_day_existed_get_it_once(world):
    october(world)
    world.db.postings.update_many({}, {"$unset": {"wib_day": ""}})
    world.db.migrations.delete_many({})
    BillingRepository.ensure_indexes(world.db)
    first = world.get_posting("inbound:r1")
    assert first["wib_day"] == "2026-10-01"  # 00:00 WIB on 1 October
    assert world.get_posting("pick_pack:ord_2")["wib_day"] == "2026-10-31"  # 23:59:59.999 WIB
    assert world.get_posting("inbound:r0")["wib_day"] == "2026-09-30"
    invoice = operations.issue_invoice(world, world.get_merchant("mer_1"), 2026, 10, ISSUER, NOW)
    assert invoice["fee_subtotal"] == ledger_month(world, "mer_1")["fees"]


def test_days_and_months_before_2000_are_a_400_naming_the_field():
    for day in ("1969-12-31", "0001-01-01"):
        with pytest.raises(ValidationFailed) as refused:
            operations.storage_day(day)
        assert list(refused.value.fields) == ["day"]
    for month in ("0000-05", "0001-01", "1999-12"):
        with pytest.raises(ValidationFailed) as refused:
            operations.invoice_month(month)
        assert list(refused.value.fields) == ["month"]
    assert operations.invoice_month("2000-01") == (2000, 1)
