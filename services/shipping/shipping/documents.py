"""The parcel's printed documents, pure: the courier label with its packing slip, and the
pickup manifest. Each builder takes plain data and returns PDF bytes."""

import io
from collections import OrderedDict

from reportlab.graphics.barcode import code128
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from gudang_common.clock import wib_text

LABEL_SIZE = (100 * mm, 150 * mm)  # the thermal label couriers in Indonesia take
MARGIN = 4 * mm
LABEL_INNER = LABEL_SIZE[0] - 2 * MARGIN
# 4 dots of a 203 dpi thermal head per narrow bar: wide enough for any pickup scanner,
# and a 12-digit AWB (Code 128 set C packs two digits per symbol) stays under 80 mm
BAR_WIDTH = 0.5 * mm
BAR_HEIGHT = 20 * mm
QUIET_ZONE = 10 * BAR_WIDTH  # Code 128 asks for ten modules of white each side
SLIP_ROWS_PER_PAGE = 24
MANIFEST_ROWS_PER_PAGE = 38
MANIFEST_MARGIN = 15 * mm
MANIFEST_COLUMNS = tuple(MANIFEST_MARGIN + offset * mm for offset in (0, 10, 55, 125))


def rupiah(amount):
    """125000 -> 'Rp 125.000': Indonesian thousands dots."""
    return "Rp " + f"{amount:,}".replace(",", ".")


def kilos(grams):
    """Chargeable weight as couriers print it: 1000 -> '1 kg', 1500 -> '1,5 kg'."""
    whole, rest = divmod(grams, 1000)
    return (
        f"{whole} kg" if not rest else f"{grams / 1000:.3f}".rstrip("0").replace(".", ",") + " kg"
    )


def slip_lines(lines):
    """Order lines as the packing slip lists them: one row per SKU and lot, in order."""
    rows = OrderedDict()
    for line in lines:
        key = (line["sku"], line.get("lot"))
        rows[key] = rows.get(key, 0) + line["qty"]
    return [{"sku": sku, "lot": lot, "qty": qty} for (sku, lot), qty in rows.items()]


def _fit(c, text, font, size, width):
    """`text` cut with an ellipsis so it fits `width` in `font` at `size`."""
    if c.stringWidth(text, font, size) <= width:
        return text
    while text and c.stringWidth(text + "...", font, size) > width:
        text = text[:-1]
    return text + "..."


def _wrap(c, text, font, size, width, most):
    """`text` in at most `most` lines of `width`, the last one cut if it must be."""
    lines, current = [], ""
    for word in text.split():
        trial = f"{current} {word}".strip()
        if c.stringWidth(trial, font, size) <= width or not current:
            current = trial
        else:
            lines.append(current)
            current = word
    lines.append(current)
    if len(lines) > most:
        lines = lines[: most - 1] + [" ".join(lines[most - 1 :])]
    return [_fit(c, line, font, size, width) for line in lines]


def _pages(rows, per_page):
    """`rows` cut into pages of `per_page`; one empty page when there are none, so a document
    always has its heading and totals."""
    return [rows[i : i + per_page] for i in range(0, len(rows), per_page)] or [[]]


def _order_number(parcel):
    """The merchant's own order number where the order came with one, else Gudang's."""
    return parcel.get("external_id") or parcel["order_id"]


class _Pen:
    """Writes a page top down between two margins: `y` is the current line, `font` the one in
    use (text cut to a width is measured in it). `rule_width` None keeps the canvas's own."""

    def __init__(self, c, y, left, right, rule_width=None):
        self.c, self.y, self.left, self.right = c, y, left, right
        self.rule_width = rule_width
        self.font = None

    def use(self, font, size):
        self.c.setFont(font, size)
        self.font = (font, size)

    def down(self, step, font=None, size=None):
        """The next line, `step` below; in `font` at `size` when they are given."""
        self.y -= step
        if font:
            self.use(font, size)

    def text(self, text, x=None, width=None):
        """`text` from `x` (the left margin unless given), cut to `width` when it is given."""
        if width is not None:
            text = _fit(self.c, text, *self.font, width)
        self.c.drawString(self.left if x is None else x, self.y, text)

    def text_right(self, text):
        self.c.drawRightString(self.right, self.y, text)

    def text_centred(self, text):
        self.c.drawCentredString((self.left + self.right) / 2, self.y, text)

    def rule(self, gap):
        """A line from margin to margin, `gap` below the current line; it becomes the line."""
        self.y -= gap
        if self.rule_width:
            self.c.setLineWidth(self.rule_width)
        self.c.line(self.left, self.y, self.right, self.y)


def _label_pen(c, top):
    return _Pen(c, top, MARGIN, LABEL_SIZE[0] - MARGIN, rule_width=0.8)


def label_pdf(parcel, sender):
    """The courier label (page 1) and the packing slip (page 2 on, as many as the items need).

    `parcel`: awb, courier_name, recipient, chargeable_weight_g, cod_amount, external_id,
    lines, booked_at; `sender`: the merchant's name and phone. The slip has its own page
    so the label keeps a fixed layout however many items the order has, and a packer can
    put the slip in the box while the label goes on it.
    """
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=LABEL_SIZE, pageCompression=1)
    c.setTitle(f"Resi {parcel['awb']}")
    c.setAuthor("Gudang")
    _label_page(c, parcel, sender)
    c.showPage()
    _slip_pages(c, parcel, sender)
    c.save()
    return buffer.getvalue()


def _label_page(c, parcel, sender):
    pen = _label_pen(c, LABEL_SIZE[1] - MARGIN - 8 * mm)
    _label_header(pen, parcel)
    _label_barcode(pen, parcel["awb"])
    _label_cod_band(pen, parcel["cod_amount"])
    _label_recipient(pen, parcel["recipient"])
    _label_sender(pen, sender)
    _label_weight_and_order(pen, parcel)
    _label_footer(c, parcel["order_id"])


def _label_header(pen, parcel):
    """The courier's name, and the day and time the parcel was booked."""
    pen.use("Helvetica-Bold", 20)
    pen.text(parcel["courier_name"], width=LABEL_INNER * 0.6)
    pen.use("Helvetica", 8)
    pen.c.drawRightString(pen.right, pen.y + 4 * mm, "Tanggal kirim")
    pen.text_right(wib_text(parcel["booked_at"])[:16] + " WIB")
    pen.rule(4 * mm)


def _label_barcode(pen, awb):
    """The AWB as a Code 128 barcode centred on the label, and its digits below it."""
    barcode = code128.Code128(
        awb,
        barWidth=BAR_WIDTH,
        barHeight=BAR_HEIGHT,
        quiet=True,
        lquiet=QUIET_ZONE,
        rquiet=QUIET_ZONE,
        humanReadable=False,
    )
    pen.down(BAR_HEIGHT + 3 * mm)
    barcode.drawOn(pen.c, (LABEL_SIZE[0] - barcode.width) / 2, pen.y)
    pen.down(6 * mm, "Helvetica-Bold", 15)
    pen.text_centred(awb)
    pen.rule(3 * mm)


def _label_cod_band(pen, cod):
    """The cash the courier collects, white on a black band; NON COD when there is none."""
    pen.down(10 * mm)
    if cod:
        pen.c.rect(MARGIN, pen.y - 2.5 * mm, LABEL_INNER, 11 * mm, fill=1)
        pen.c.setFillGray(1)
        pen.use("Helvetica-Bold", 22)
        pen.text_centred(f"COD {rupiah(cod)}")
        pen.c.setFillGray(0)
    else:
        pen.use("Helvetica-Bold", 16)
        pen.text_centred("NON COD")
    pen.rule(5 * mm)


def _label_caption(pen, caption):
    pen.down(5 * mm, "Helvetica", 8)
    pen.text(caption)


def _label_recipient(pen, recipient):
    """Name, phone, the address in at most three lines, and city and postcode in bold."""
    _label_caption(pen, "PENERIMA")
    pen.down(5.5 * mm, "Helvetica-Bold", 13)
    pen.text(recipient["name"], width=LABEL_INNER)
    pen.down(5 * mm, "Helvetica", 11)
    pen.text(recipient["phone"])
    for line in _wrap(pen.c, recipient["address"], "Helvetica", 10, LABEL_INNER, 3):
        pen.down(4.5 * mm, "Helvetica", 10)
        pen.text(line)
    pen.down(6.5 * mm, "Helvetica-Bold", 14)
    pen.text(f"{recipient['city'].upper()} {recipient['postal_code']}", width=LABEL_INNER)
    pen.rule(3.5 * mm)


def _label_sender(pen, sender):
    _label_caption(pen, "PENGIRIM")
    pen.down(5 * mm, "Helvetica-Bold", 11)
    pen.text(sender["name"], width=LABEL_INNER)
    pen.down(4.5 * mm, "Helvetica", 10)
    pen.text(sender.get("phone") or "", width=LABEL_INNER)
    pen.rule(3.5 * mm)


def _label_weight_and_order(pen, parcel):
    order_x = MARGIN + LABEL_INNER / 3
    _label_caption(pen, "BERAT")
    pen.text("NO. PESANAN", x=order_x)
    pen.down(5.5 * mm, "Helvetica-Bold", 12)
    pen.text(kilos(parcel["chargeable_weight_g"]))
    pen.text(_order_number(parcel), x=order_x, width=LABEL_INNER * 2 / 3)


def _label_footer(c, order_id):
    """Gudang's own order id, and where the packing slip is."""
    c.setFont("Helvetica", 7)
    c.drawString(MARGIN, MARGIN, order_id)
    c.drawRightString(LABEL_SIZE[0] - MARGIN, MARGIN, "Isi paket: halaman 2")


def _slip_pages(c, parcel, sender):
    rows = slip_lines(parcel.get("lines") or [])
    pages = _pages(rows, SLIP_ROWS_PER_PAGE)
    for number, page in enumerate(pages, start=1):
        if number > 1:
            c.showPage()
        pen = _label_pen(c, LABEL_SIZE[1] - MARGIN - 6 * mm)
        _slip_heading(pen, parcel, sender, f"{number}/{len(pages)}")
        _slip_rows(pen, page)
        if number == len(pages):
            _slip_total(pen, rows)


def _slip_heading(pen, parcel, sender, page_of):
    """Which parcel the slip belongs to: order, AWB, sender and recipient."""
    pen.use("Helvetica-Bold", 14)
    pen.text("DAFTAR ISI PAKET")
    pen.use("Helvetica", 8)
    pen.text_right(page_of)
    pen.down(5.5 * mm, "Helvetica", 9)
    pen.text(f"Pesanan {_order_number(parcel)}", width=LABEL_INNER)
    pen.down(4.5 * mm)
    pen.text(f"Resi {parcel['courier_name']} {parcel['awb']}")
    pen.down(4.5 * mm)
    pen.text(f"Dari {sender['name']}", width=LABEL_INNER)
    pen.down(4.5 * mm)
    recipient = parcel["recipient"]
    pen.text(f"Untuk {recipient['name']}, {recipient['city']}", width=LABEL_INNER)
    pen.rule(3 * mm)


def _slip_rows(pen, page):
    lot_x = MARGIN + LABEL_INNER * 0.55
    pen.down(5 * mm, "Helvetica-Bold", 9)
    pen.text("SKU")
    pen.text("LOT", x=lot_x)
    pen.text_right("JUMLAH")
    pen.use("Helvetica", 9)
    for row in page:
        pen.down(4.6 * mm)
        pen.text(row["sku"], width=LABEL_INNER * 0.53)
        pen.text(row["lot"] or "-", x=lot_x, width=LABEL_INNER * 0.3)
        pen.text_right(str(row["qty"]))


def _slip_total(pen, rows):
    pen.rule(3 * mm)
    pen.down(5 * mm, "Helvetica-Bold", 9)
    units = sum(row["qty"] for row in rows)
    pen.text(f"{len(rows)} baris · {units} barang")


def manifest_pdf(manifest):
    """The courier's pickup hand-over list on A4: every AWB with its order, weight and COD,
    the count, the COD total, and the lines the courier signs.

    `manifest` is shipping's manifest view (operations.manifest_view)."""
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    c.setTitle(f"Manifest {manifest['manifest_id']}")
    c.setAuthor("Gudang")
    width, height = A4
    pages = _pages(manifest["parcels"], MANIFEST_ROWS_PER_PAGE)
    for number, page in enumerate(pages, start=1):
        if number > 1:
            c.showPage()
        pen = _Pen(c, height - MANIFEST_MARGIN - 4 * mm, MANIFEST_MARGIN, width - MANIFEST_MARGIN)
        _manifest_heading(pen, manifest, f"Halaman {number}/{len(pages)}")
        _manifest_rows(pen, page, first=(number - 1) * MANIFEST_ROWS_PER_PAGE + 1)
    _manifest_totals(pen, manifest)
    _manifest_signatures(pen)
    c.save()
    return buffer.getvalue()


def _manifest_heading(pen, manifest, page_of):
    pen.use("Helvetica-Bold", 16)
    pen.text(f"Manifest serah terima · {manifest['courier_name']}")
    pen.use("Helvetica", 9)
    pen.text_right(page_of)
    pen.down(6 * mm, "Helvetica", 10)
    pen.text(f"No. manifest {manifest['manifest_id']}")
    pen.text_right(f"Dibuat {wib_text(manifest['created_at'])[:16]} WIB")
    pen.down(8 * mm, "Helvetica-Bold", 10)
    titles = ("No.", "Resi (AWB)", "No. pesanan", "Berat")
    for x, title in zip(MANIFEST_COLUMNS, titles, strict=True):
        pen.text(title, x=x)
    pen.text_right("COD")
    pen.rule(2 * mm)


def _manifest_rows(pen, page, first):
    """One line per parcel, numbered on from `first` across pages."""
    number_x, awb_x, order_x, weight_x = MANIFEST_COLUMNS
    pen.use("Helvetica", 10)
    for i, row in enumerate(page, start=first):
        pen.down(5.5 * mm)
        pen.text(str(i), x=number_x)
        pen.text(row["awb"], x=awb_x)
        pen.text(_order_number(row), x=order_x, width=66 * mm)
        pen.text(kilos(row["chargeable_weight_g"]), x=weight_x)
        pen.text_right(rupiah(row["cod_amount"]) if row["cod_amount"] else "-")


def _manifest_totals(pen, manifest):
    pen.rule(3 * mm)
    pen.down(7 * mm, "Helvetica-Bold", 11)
    pen.text(f"Jumlah paket: {manifest['parcel_count']}")
    pen.text_right(f"Total COD: {rupiah(manifest['cod_total'])}")


def _manifest_signatures(pen):
    """Where the warehouse clerk and the courier sign and print their names."""
    if pen.y < 65 * mm:  # the signatures need room: they go on a page of their own
        pen.c.showPage()
        pen.y = A4[1] - MANIFEST_MARGIN
    pen.down(34 * mm, "Helvetica", 10)
    c, y = pen.c, pen.y
    half = (pen.right - pen.left) / 2
    for x, who in ((pen.left, "Petugas gudang"), (pen.left + half + 5 * mm, "Kurir")):
        c.drawString(x, y + 16 * mm, f"{who}:")
        c.line(x, y, x + half - 10 * mm, y)
        c.drawString(x, y - 5 * mm, "Tanda tangan")
        c.line(x, y - 16 * mm, x + half - 10 * mm, y - 16 * mm)
        c.drawString(x, y - 21 * mm, "Nama jelas")
