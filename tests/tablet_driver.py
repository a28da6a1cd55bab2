"""Drive the packer tablet in Debian's Chromium with Playwright, as a packer would.

Run in its own process by tests/test_e2e_tablet.py (Playwright's sync API must not
share a process with eventlet's monkey patching). Prints a JSON report.

    python tests/tablet_driver.py <gateway_url> <staff_api_key> <screenshot_dir> <inbound_id>
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


def main(base, staff_key, shots, inbound_id):
    shots = Path(shots)
    report = {"awbs": [], "scans": []}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1024, "height": 768}, has_touch=True)
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
        page.click("#next")
        page.wait_for_selector("#stops .stop")
        page.screenshot(path=str(shots / "tablet-pick-list.png"))
        stops = page.locator("#stops .stop")
        for i in range(stops.count()):
            bin_code = stops.nth(i).locator(".bin").inner_text()
            page.fill("#scan", bin_code)
            page.press("#scan", "Enter")  # a scanner types the code and Enter
            report["scans"].append(page.inner_text("#message"))
        report["stops_done"] = page.locator("#stops .stop.done").count()
        report["stops"] = stops.count()
        page.click("#picked")
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
    main(*sys.argv[1:5])
