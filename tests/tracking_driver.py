"""Open the buyer's tracking page in Debian's Chromium on a phone-sized screen, as a buyer would.

Run in its own process by tests/test_e2e_tracking.py (Playwright's sync API must not
share a process with eventlet's monkey patching). Prints a JSON report.

    python tests/tracking_driver.py <gateway_url> <awb> <screenshot_dir>
"""

import json
import sys
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import sync_playwright
from tablet_driver import CHROMIUM_ARGS

PHONE = {"width": 360, "height": 740}


def visit(page, url, shot):
    """Load a page, note every request it made and its bytes, screenshot the whole page."""
    requests = []

    def finished(request):
        requests.append(request)

    page.on("requestfinished", finished)
    resp = page.goto(url, wait_until="load")
    loaded = []
    for r in requests:
        sizes = r.sizes()
        loaded.append(
            {
                "url": r.url,
                "type": r.resource_type,
                "bytes": sizes["responseBodySize"] + sizes["responseHeadersSize"],
            }
        )
    page.remove_listener("requestfinished", finished)
    page.screenshot(path=str(shot), full_page=True)
    return {
        "status": resp.status,
        "text": page.inner_text("body"),
        "lang": page.get_attribute("html", "lang"),
        "title": page.title(),
        "requests": loaded,
        "scroll_width": page.evaluate("document.scrollingElement.scrollWidth"),
        "font_families": page.evaluate(
            "[...document.fonts].map(f => f.family)"  # no web fonts: the set stays empty
        ),
        "switch": page.inner_text(".lang-switch"),
    }


def main(base, awb, shots):
    shots = Path(shots)
    shots.mkdir(parents=True, exist_ok=True)
    report = {"origin": f"{urlsplit(base).scheme}://{urlsplit(base).netloc}"}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
        )
        page = context.new_page()
        report["id"] = visit(page, f"{base}/track/{awb}", shots / "tracking-id.png")

        # the visible switch, tapped as a buyer would
        page.click(".lang-switch")
        page.wait_for_selector("html[lang=en]")
        report["after_switch"] = page.url
        report["en"] = visit(page, f"{base}/track/{awb}?lang=en", shots / "tracking-en.png")

        # a mistyped number: the friendly page, then the search box to the right one
        report["missing"] = visit(page, f"{base}/track/JN000000000001", shots / "tracking-404.png")
        page.fill("input[name=awb]", awb.lower())
        page.click(".search button")
        page.wait_for_selector(".awb-number")
        report["searched"] = {"url": page.url, "awb": page.inner_text(".awb-number")}
        browser.close()
    print(json.dumps(report))


if __name__ == "__main__":
    main(*sys.argv[1:4])
