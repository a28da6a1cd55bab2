"""A promoter on a phone: signs in on the sign-in page, reads its earnings, opens the fee behind a commission,
asks for a payout, switches to English, opens its share link, signs out. Real Chromium,
360x740.

Run in its own process by tests/test_e2e_promoter_page.py (Playwright's sync API must not
share a process with eventlet's monkey patching). Prints a JSON report.

    python tests/promoter_driver.py <gateway_url> <email> <password> <amount> <screenshot_dir>
"""

import json
import sys
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import sync_playwright
from tablet_driver import CHROMIUM_ARGS
from tracking_driver import PHONE


def seen(page):
    return {
        "url": page.url,
        "text": page.inner_text("body"),
        "lang": page.get_attribute("html", "lang"),
        "scroll_width": page.evaluate("document.scrollingElement.scrollWidth"),
    }


def main(base, email, password, amount, shots):
    shots = Path(shots)
    shots.mkdir(parents=True, exist_ok=True)
    report = {"origin": f"{urlsplit(base).scheme}://{urlsplit(base).netloc}", "requests": []}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
        )
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
        page = context.new_page()
        page.on("requestfinished", lambda r: report["requests"].append(r.url))
        signed_out = page.goto(f"{base}/promoter")  # signed out: to the sign-in page
        report["signed_out"] = {"status": signed_out.status, "url": page.url}
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", password)
        page.check("input[name=role][value=promoter]")
        with page.expect_navigation():
            page.click("form button[type=submit]")
        report["id"] = seen(page)
        report["share"] = {
            "code": page.input_value("#referral-code"),
            "link": page.input_value("#share-link"),
        }
        page.screenshot(path=str(shots / "promoter-id.png"), full_page=True)

        page.click("button[data-copy=referral-code]")
        page.wait_for_function(
            "(b => b.textContent === b.dataset.done)"
            "(document.querySelector('button[data-copy=referral-code]'))"
        )
        report["copied"] = {
            "button": page.inner_text("button[data-copy=referral-code]"),
            "clipboard": page.evaluate("navigator.clipboard.readText()"),
        }

        page.click("#history .earn-list-amount")  # the newest commission, to the fee behind it
        page.wait_for_selector(".facts")
        report["fee"] = seen(page)
        page.go_back()

        page.fill("#amount", amount)
        with page.expect_navigation():
            page.click(".payout-form button")
        report["after_payout"] = seen(page)

        page.click(".lang-switch")
        page.wait_for_selector("html[lang=en]")
        report["en"] = seen(page)
        page.screenshot(path=str(shots / "promoter-en.png"), full_page=True)
        report["payout_disabled"] = page.is_disabled(".payout-form button")  # below minimum

        page.goto(report["share"]["link"])  # what a shop opens from the share link
        report["signup_code"] = page.input_value("input[name=referral_code]")
        page.goto(f"{base}/promoter")
        with page.expect_navigation():
            page.click(".signout button")
        page.goto(f"{base}/promoter")
        report["after_signout"] = page.url
        browser.close()
    print(json.dumps(report))


if __name__ == "__main__":
    main(*sys.argv[1:6])
