"""Open the API docs page (/api/docs) in Debian's Chromium and report what it shows.

Run in its own process by tests/test_e2e_openapi_fuzz.py (Playwright's sync API must not
share a process with eventlet's monkey patching). Prints a JSON report.

    python tests/api_docs_driver.py <gateway_url>
"""

import json
import sys

from playwright.sync_api import sync_playwright
from tablet_driver import CHROMIUM_ARGS


def main(base):
    report = {"console": [], "requests": []}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.on("console", lambda m: report["console"].append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: report["console"].append(f"pageerror: {e}"))
        page.on("request", lambda r: report["requests"].append(r.url))
        page.goto(f"{base}/api/docs")
        page.wait_for_selector(".opblock", timeout=20000)
        report["operations"] = page.locator(".opblock").count()
        report["version"] = page.locator(".version-stamp").first.inner_text()
        browser.close()
    print(json.dumps(report))


if __name__ == "__main__":
    main(*sys.argv[1:])
