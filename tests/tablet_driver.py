"""Drive the packer tablet in Debian's Chromium with Playwright, as a packer would.

Run in its own process by tests/test_e2e_tablet.py (Playwright's sync API must not
share a process with eventlet's monkey patching). Prints a JSON report.

    python tests/tablet_driver.py <gateway_url> <staff_api_key> <screenshot_dir> <inbound_id> \
        <pick plan as JSON: {totes, barcodes: {sku: barcode}, wrong: {sku: barcode}, short: sku}>

`pick_batch(page, ...)` is the pick part alone, for any test that picks before it packs.
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


def answered(page, before):
    """Wait until the tablet shows the answer after `before` answers (#pickState's count)."""
    page.wait_for_selector(f'#pickState[data-answers="{before + 1}"]')


def scan(page, code, count=None):
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
        report["totes"].append(scan(page, tote)["message"])
    for _ in range(50):  # bounded: a stop that never gets done fails, not hangs
        stop = current_stop(page)
        if stop is None:
            break
        bin_code, sku, left, is_open = stop
        if not is_open:
            report["scans"].append(scan(page, bin_code))
        if wrong and sku in wrong and report["refused"] is None:
            report["refused"] = scan(page, wrong[sku])
            if shots:
                page.screenshot(path=str(Path(shots) / "tablet-pick-error.png"))
        if sku == short and report["short"] is None:
            report["scans"].append(scan(page, barcodes[sku], count=1))
            report["short"] = short_pick(page, left - 1)
        else:
            report["scans"].append(scan(page, barcodes[sku], count=left))
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


def main(base, staff_key, shots, inbound_id, plan):
    shots = Path(shots)
    report = {"awbs": [], "scans": []}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800}, has_touch=True)
        page.set_default_timeout(20000)  # a step that never comes fails here, with its place
        # the PDFs the tablet fetches, and the tabs it opens them in
        report["pdfs"], report["popups"] = [], []
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
        page.wait_for_selector("#message.error")
        report["bad_key_message"] = page.inner_text("#message")

        page.fill("#apikey", staff_key)
        page.click("#signin")
        page.wait_for_selector("#pick:not(.hidden)")
        plan = json.loads(plan)
        report["pick"] = pick_batch(
            page,
            plan["totes"],
            plan["barcodes"],
            wrong=plan.get("wrong"),
            short=plan.get("short"),
            shots=shots,
            reload_after=plan.get("reload_after"),
        )
        while True:
            page.wait_for_selector("#packing .card")
            if page.locator("#packing .card .pack").count() == 0:
                break
            for name, value in (
                ("weight_g", "700"),
                ("length_cm", "30"),
                ("width_cm", "20"),
                ("height_cm", "10"),
            ):
                page.fill(f"#packing input[name={name}]", value)
            page.click("#packing .pack")
            page.wait_for_selector("#packing .result.awb")
            report["awbs"].append(page.inner_text("#packing .result.awb"))
            page.screenshot(path=str(shots / "tablet-packed.png"))
            # a selector wait, not a JS expression: the tablet's CSP forbids eval
            page.wait_for_selector("#packing .result.awb", state="detached", timeout=10000)
            if page.locator("#packing .pack").count() == 0:
                break
        report["final_message"] = page.inner_text("#message")
        # the labels of the orders just packed can be printed again
        report["recent"] = page.locator("#recent li span").all_inner_texts()
        labels_before = len(report["pdfs"])
        with page.context.expect_page():
            page.locator("#recent button.reprint").first.click()
        page.wait_for_selector("#message.ok")
        report["reprint_message"] = page.inner_text("#message")
        report["reprinted"] = report["pdfs"][labels_before:]
        page.screenshot(path=str(shots / "tablet-reprint.png"))

        # hand the packed parcels to the courier: the pickup manifest
        page.click("#tabs button[data-tab=handover]")
        page.click("#couriers button[data-courier=jne]")
        page.wait_for_selector("#manifest .awbs li")
        report["manifest_awbs"] = page.locator("#manifest .awbs li").all_inner_texts()
        with page.context.expect_page():
            page.click("#manifest .print-manifest")
        page.screenshot(path=str(shots / "tablet-manifest.png"))

        # receive an inbound: scan its number, count good and damaged, save
        page.click("#tabs button[data-tab=receive]")
        page.fill("#inbound", inbound_id)
        page.press("#inbound", "Enter")
        page.wait_for_selector("#receiveLines .line")
        first = page.locator("#receiveLines .line").first
        first.locator("input[name=qty_good]").fill("4")
        first.locator("input[name=qty_damaged]").fill("1")
        page.screenshot(path=str(shots / "tablet-receive.png"))
        page.click("#saveReceipt")
        page.wait_for_selector("#message.ok")
        report["receive_message"] = page.inner_text("#message")

        page.click("#lang")
        report["title_en"] = page.locator("h1").inner_text()
        browser.close()
    print(json.dumps(report))


if __name__ == "__main__":
    main(*sys.argv[1:6])
