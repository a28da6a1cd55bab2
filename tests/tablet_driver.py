"""Drive the packer tablet in Debian's Chromium with Playwright, as a packer would: a barcode
scanner is a keyboard (it types the code and Enter), so every scan here is a fill and Enter.

Run in its own process by tests/test_e2e_tablet.py (Playwright's sync API must not
share a process with eventlet's monkey patching). Prints a JSON report.

    python tests/tablet_driver.py <gateway_url> <staff_api_key> <screenshot_dir> <plan.json>

The plan: `pick` (the pick walk: totes, barcodes {sku: barcode}, `wrong` {sku: barcode}
scanned once at that SKU's stop, `short` the SKU short-picked, `reload_after`), or none
when the orders are picked already; `orders` (to pack: order_id, external_id, tote, units:
[{barcode, qty}]), the `foreign` barcode of a product in none of them, `inbound_id` and
its `receive` barcode. `pick_batch(page, ...)` is the pick walk alone;
`picked_orders_via_api` (called by a test, not here) picks through the API instead.
"""

import json
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TABLET = {"width": 1280, "height": 800}  # a 10-inch tablet held landscape


def picked_orders_via_api(api, staff_key, order_ids):
    """Put `order_ids` (allocated) into `picked` through the floor's API, and answer them as
    the pack station is handed them: [{order_id, external_id, tote}], in the order asked.

    The one place the tests get picked orders without the pick screen: take the next pick
    list, scan a tote per order and every unit (scripts.simulate.pick_by_scan), confirm."""
    from scripts.simulate import pick_by_scan

    found = {}
    while set(order_ids) - set(found):
        pick_list = api.ok("GET", "/warehouse/pick-lists/next", staff_key)["pick_list"]
        assert pick_list, f"no pick list holds {set(order_ids) - set(found)}"
        assert pick_by_scan(api, staff_key, pick_list), "a pick scan failed"
        path = f"/warehouse/pick-lists/{pick_list['pick_list_id']}/picked"
        for order in api.ok("POST", path, staff_key)["pick_list"]["orders"]:
            if order["order_id"] in order_ids and order["status"] == "picked":
                found[order["order_id"]] = {
                    "order_id": order["order_id"],
                    "external_id": order.get("external_id"),
                    "tote": order.get("tote"),
                }
    return [found[order_id] for order_id in order_ids]


def answered(page, before):
    """Wait until the tablet shows the answer after `before` answers (#pickState's count)."""
    page.wait_for_selector(f'#pickState[data-answers="{before + 1}"]')


def pick_scan(page, code, count=None):
    """A keyboard-wedge scan: the scanner types the code and Enter. A unit of a stop with
    more left asks for the count: `count` is typed there, Enter again."""
    before = int(page.get_attribute("#pickState", "data-answers") or 0)
    page.fill("#scan", code)
    page.press("#scan", "Enter")
    if page.locator("#countBox:not(.hidden)").count():
        page.fill("#count", str(count or 1))
        page.press("#count", "Enter")
    answered(page, before)
    return {
        "state": page.get_attribute("#pickState", "class"),
        "message": page.inner_text("#message"),
    }


def current_stop(page):
    """The open stop, else the next one not done: (bin, sku, units left, open), or None."""
    stop = page.locator("#stops .stop.open")
    if not stop.count():
        stop = page.locator("#stops .stop:not(.done)")
    if not stop.count():
        return None
    first = stop.first
    attrs = [first.get_attribute(f"data-{k}") for k in ("bin", "sku", "remaining")]
    return attrs[0], attrs[1], int(attrs[2]), "open" in first.get_attribute("class")


def progress(page):
    return {
        "text": page.inner_text("#pickProgress"),
        "done": page.locator("#stops .stop.done").count(),
        "now": page.inner_text("#pickNow .now-grid"),
    }


def shoot_both_ways(page, shots, name):
    """The screen as a 10-inch tablet shows it, held landscape (1280x800) and portrait."""
    size = page.viewport_size
    page.mouse.wheel(0, -5000)  # from the top, as the packer sees it after a glance up
    page.screenshot(path=str(Path(shots) / f"{name}.png"))
    page.set_viewport_size({"width": 800, "height": 1280})
    page.screenshot(path=str(Path(shots) / f"{name}-portrait.png"))
    page.set_viewport_size(size)
    return True


def short_pick(page, units_missing, reason="not_in_bin"):
    before = int(page.get_attribute("#pickState", "data-answers") or 0)
    page.click("#shortOpen")
    page.fill("#shortQty", str(units_missing))
    page.click(f"#shortReasons button[data-reason={reason}]")
    answered(page, before)
    return page.inner_text("#message")


def pick_batch(page, totes, barcodes, wrong=None, short=None, shots=None, reload_after=None):
    """Take the next pick list and pick it by scanning: a tote label per order, then per stop
    the bin and its units by their barcodes. `wrong` {sku: barcode}: scanned once at that
    stop first (refused); `short`: the SKU whose stop has one unit taken and the rest
    short-picked; `reload_after`: the SKU after whose stop the page is reloaded. Confirms
    the list and returns what the tablet showed."""
    report = {"totes": [], "scans": [], "refused": None, "short": None}
    if page.locator("#picklist.hidden").count():
        page.click("#next")
    page.wait_for_selector("#picklist:not(.hidden)")
    for tote in totes:
        report["totes"].append(pick_scan(page, tote)["message"])
    for _ in range(50):  # bounded: a stop that never gets done fails, not hangs
        stop = current_stop(page)
        if stop is None:
            break
        bin_code, sku, left, is_open = stop
        if not is_open:
            report["scans"].append(pick_scan(page, bin_code))
        if wrong and sku in wrong and report["refused"] is None:
            report["refused"] = pick_scan(page, wrong[sku])
            if shots:
                page.screenshot(path=str(Path(shots) / "tablet-pick-error.png"))
        if sku == short and report["short"] is None:
            report["scans"].append(pick_scan(page, barcodes[sku], count=1))
            report["short"] = short_pick(page, left - 1)
        else:
            report["scans"].append(pick_scan(page, barcodes[sku], count=left))
        if shots and not report.get("shot"):
            report["shot"] = shoot_both_ways(page, shots, "tablet-pick")
        if sku == reload_after:
            report["before_reload"] = progress(page)
            page.reload()
            page.wait_for_selector("#picklist:not(.hidden) #stops .stop")
            report["after_reload"] = progress(page)
    else:
        raise AssertionError(f"the walk did not end: {report['scans'][-4:]}")
    report["done"] = progress(page)
    if shots:
        page.screenshot(path=str(Path(shots) / "tablet-pick-done.png"))
    page.click("#picked")
    page.wait_for_selector("#pack:not(.hidden)")
    return report


def type_scan(page, field, code):
    page.fill(field, code)
    page.press(field, "Enter")


def said(page, kind):
    page.wait_for_selector(f"#message.{kind}")
    return page.inner_text("#message")


def pack_one(page, shots, report, order, first):
    """Open the order at the station, check each unit by scanning, box, weigh, pack."""
    type_scan(page, "#packScan", order["tote"] or order["external_id"])
    page.wait_for_selector("#packing .order-head")
    unit = order["units"][0]
    type_scan(page, "#packScan", unit["barcode"])
    page.wait_for_selector(f"#packing .item .n:text-is('1 / {unit['qty']}')")
    if first:
        # a reload in the middle of checking: the same progress comes back from the server
        page.reload()
        page.wait_for_selector("#tabs:not(.hidden)")
        page.click("#tabs button[data-tab=pack]")
        page.wait_for_selector("#packing .order-head")
        report["after_reload"] = page.locator("#packing .item .n").all_inner_texts()
        report["pack_disabled_midway"] = page.locator("#packing .pack").is_disabled()
        type_scan(page, "#packScan", report["foreign"])  # a product of another order
        report["wrong_product"] = said(page, "error")
        page.click("#lang")  # the refusal follows the language switch
        report["wrong_product_en"] = page.inner_text("#message")
        report["checked_label_en"] = page.locator("#packing .item small").first.inner_text()
        page.click("#lang")
    for unit in order["units"]:
        for _ in range(unit["qty"] - (1 if unit is order["units"][0] else 0)):
            type_scan(page, "#packScan", unit["barcode"])
            page.wait_for_selector("#message.ok")
    page.wait_for_selector("#packing .order-head.verified")
    if first:
        type_scan(page, "#packScan", order["units"][0]["barcode"])  # one unit too many
        report["extra_unit"] = said(page, "error")
        page.screenshot(path=str(shots / "tablet-pack-verified.png"))
    suggested = page.locator("#packing .boxes button:has(.suggested)")
    report.setdefault("suggested", []).append(suggested.get_attribute("data-box"))
    suggested.click()
    with page.context.expect_page() as label_tab:
        type_scan(page, "#weight", "750")  # a USB scale types the grams and Enter
    report.setdefault("label_tabs", []).append(label_tab.value.url)
    page.wait_for_selector("#packing .result.awb")
    report["awbs"].append(page.inner_text("#packing .result.awb"))
    if first:
        page.screenshot(path=str(shots / "tablet-pack-packed.png"))
    page.wait_for_selector("#packing .order-head", state="detached", timeout=10000)


def pack_orders(page, shots, report, plan):
    page.click("#tabs button[data-tab=pack]")
    page.wait_for_selector("#pack:not(.hidden)")
    page.screenshot(path=str(shots / "tablet-pack.png"))
    for i, order in enumerate(plan["orders"]):
        pack_one(page, shots, report, order, first=i == 0)
    report["recent"] = page.locator("#recent li span").all_inner_texts()
    labels_before = len(report["pdfs"])
    with page.context.expect_page():
        page.locator("#recent button.reprint").first.click()
    report["reprint_message"] = said(page, "ok")
    report["reprinted"] = report["pdfs"][labels_before:]


def hand_over(page, shots, report):
    """The courier's pickup: scan each parcel's AWB label, close, print the manifest."""
    page.click("#tabs button[data-tab=handover]")
    page.click("#couriers button[data-courier=jne]")
    page.wait_for_selector("#manifest .awbs.pending li")
    type_scan(page, "#handoverScan", "JN000000000000")  # no such parcel
    report["unknown_awb"] = said(page, "error")
    for awb in report["awbs"]:
        type_scan(page, "#handoverScan", awb.split()[-1])
        page.wait_for_selector(f"#manifest .awbs.scanned li[data-awb='{awb.split()[-1]}']")
    report["handover_scanned"] = page.locator(
        "#manifest .awbs.scanned li .awb-no"
    ).all_inner_texts()
    page.screenshot(path=str(shots / "tablet-handover.png"))
    page.click("#manifest .close-manifest")
    page.wait_for_selector("#manifest .manifest.closed")
    report["handover_closed"] = page.inner_text("#message")
    with page.context.expect_page():
        page.click("#manifest .print-manifest")
    page.screenshot(path=str(shots / "tablet-handover-closed.png"))


def receive(page, shots, report, plan):
    """Count an inbound by scanning: 4 good, 1 damaged, 1 more than announced with a reason."""
    page.click("#tabs button[data-tab=receive]")
    type_scan(page, "#inbound", plan["inbound_id"])
    page.wait_for_selector("#receiveLines .line")
    for _ in range(4):
        type_scan(page, "#receiveScan", plan["receive"])
    page.click("#receiveMode button[data-mode=qty_damaged]")
    type_scan(page, "#receiveScan", plan["receive"])
    page.click("#receiveMode button[data-mode=qty_good]")
    type_scan(page, "#receiveScan", plan["receive"])  # one more than the merchant announced
    report["over_message"] = said(page, "error")
    page.fill("#receiveLines .line input[name=over_reason]", "Bonus dari pemasok")
    line = page.locator("#receiveLines .line").first
    report["counted"] = [
        line.locator(f"input[name={n}]").input_value() for n in ("qty_good", "qty_damaged")
    ]
    page.screenshot(path=str(shots / "tablet-receive.png"))
    page.click("#lang")
    report["receive_label_en"] = line.locator("[data-t=good]").inner_text()
    page.screenshot(path=str(shots / "tablet-receive-en.png"))
    page.click("#lang")
    page.click("#saveReceipt")
    report["receive_message"] = said(page, "ok")


def main(base, staff_key, shots, plan_file):
    shots, plan = Path(shots), json.loads(Path(plan_file).read_text())
    report = {"awbs": [], "pdfs": [], "popups": [], "foreign": plan["foreign"]}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=TABLET, has_touch=True)
        # the PDFs the tablet fetches, and the tabs it opens them in
        page.on(
            "response",
            lambda r: (
                ".pdf" in r.url
                and report["pdfs"].append(
                    {"url": r.url, "status": r.status, "type": r.headers.get("content-type")}
                )
            ),
        )
        page.context.on("page", lambda popup: report["popups"].append(popup.url))
        page.goto(f"{base}/tablet")
        report["title_id"] = page.locator("h1").inner_text()
        page.fill("#apikey", "sk_wrong")
        page.click("#signin")
        report["bad_key_message"] = said(page, "error")
        page.fill("#apikey", staff_key)
        page.click("#signin")
        page.wait_for_selector("#tabs:not(.hidden)")

        if plan.get("pick"):
            pick = plan["pick"]
            report["pick"] = pick_batch(
                page,
                pick["totes"],
                pick["barcodes"],
                wrong=pick.get("wrong"),
                short=pick.get("short"),
                shots=shots,
                reload_after=pick.get("reload_after"),
            )
        pack_orders(page, shots, report, plan)
        hand_over(page, shots, report)
        receive(page, shots, report, plan)

        page.click("#lang")
        report["title_en"] = page.locator("h1").inner_text()
        browser.close()
    print(json.dumps(report))


if __name__ == "__main__":
    main(*sys.argv[1:5])
