"""A seller's first day on the merchant dashboard, in Debian's Chromium on a phone-sized screen.

The seller signs up and signs in, registers two SKUs and announces their inbound, imports a
Shopee export with two bad rows and then the same file again, follows an order to the
buyer's door, and revokes an API key. The warehouse and the courier are driven through the
HTTP API (scripts/simulate.py), as the floor and the couriers drive it.

Run in its own process by tests/test_e2e_dashboard.py (Playwright's sync API must not
share a process with eventlet's monkey patching). Prints a JSON report.

    python tests/dashboard_driver.py <gateway_url> <admin_key> <courier_secret> <shots> <xlsx>
"""

import json
import sys
import uuid
from pathlib import Path

from playwright.sync_api import sync_playwright
from tablet_driver import CHROMIUM_ARGS

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.simulate import (  # noqa: E402
    Api,
    deliver,
    ean13,
    eventually,
    place_order,
    register_world,
    work_pick_lists,
)

PHONE = {"width": 360, "height": 740}
PASSWORD = "kopi susu gula aren"


def submit(page, selector="form.form button[type=submit]"):
    with page.expect_navigation():
        page.click(selector)


WIDTHS = {}


def shot(page, shots, name):
    """Screenshot the whole page; note how wide it drew (nothing may pass the phone's 360)."""
    page.screenshot(path=str(Path(shots) / name), full_page=True)
    WIDTHS[name] = page.evaluate("document.scrollingElement.scrollWidth")


def sign_up_and_in(page, base, email, shots):
    page.goto(base + "/")
    shot(page, shots, "dashboard-landing-id.png")
    page.click("a[href='/signup']")
    page.fill("#f-name", "Batik Sekar Jagad")
    page.fill("#f-email", email)
    page.fill("#f-phone", "0813-1111-2222")
    page.fill("#f-password", PASSWORD)
    shot(page, shots, "dashboard-signup-id.png")
    submit(page)
    signed_up = page.inner_text(".alert-ok")
    page.fill("#f-email", email)
    page.fill("#f-password", PASSWORD)
    submit(page)
    return signed_up, page.url


def open_form(page, field):
    """The form folded under its <summary> (shown open only while the list is empty)."""
    if not page.is_visible(field):
        page.click("details.card > summary")


def create_key(page, base, name):
    page.goto(base + "/dashboard/keys")
    page.fill("#f-name", name)
    submit(page)
    return page.inner_text("#new-key").strip()


def register_skus(page, base, codes):
    for i, code in enumerate(codes):
        page.goto(base + "/dashboard/skus")
        open_form(page, "#f-sku")
        page.fill("#f-sku", code)
        page.fill("#f-name", f"Batik tulis {i}")
        page.fill("#f-barcode", ean13(f"899{uuid.uuid4().int % 10**9:09d}"))
        for field, value in (("weight_g", "300"), ("length_cm", "30"), ("width_cm", "20")):
            page.fill(f"#f-{field}", value)
        page.fill("#f-height_cm", "3")
        page.fill("#f-low_stock_threshold", "15")
        submit(page)


def announce_inbound(page, base, codes, units):
    page.goto(base + "/dashboard/inbounds")
    open_form(page, "[id='f-lines.0.sku']")
    for i, code in enumerate(codes):
        page.fill(f"[id='f-lines.{i}.sku']", code)
        page.fill(f"[id='f-lines.{i}.qty']", str(units))
    submit(page)
    return page.inner_text("main")


def add_webhook(page, base, url):
    """The seller's shop system, told of every step (here a port nothing listens on)."""
    page.goto(base + "/dashboard/webhooks")
    page.fill("#f-url", url)
    page.check("input[value=parcel_delivered]")
    page.check("input[value=order_packed]")
    submit(page)
    return page.inner_text(".shown-once")


def bad_order(page, base):
    """An order typed from a WhatsApp chat, with a short phone and a SKU not registered."""
    page.goto(base + "/dashboard/orders/new")
    for field, value in (
        ("external_id", "WA-0012"),
        ("recipient.name", "Rina Wulandari"),
        ("recipient.phone", "0812 345"),
        ("recipient.address", "Jl. Kaliurang Km 5 No. 12"),
        ("recipient.city", "Sleman"),
        ("recipient.postal_code", "55281"),
        ("lines.0.sku", "BTK-999"),
        ("lines.0.qty", "1"),
        ("cod_amount", "150.000"),
    ):
        page.fill(f"[id='f-{field}']", value)
    submit(page)
    return page.locator(".field-error").all_inner_texts()


def fix_and_cancel(page):
    """The refused order corrected and sent; then the buyer changes their mind."""
    page.fill("[id='f-recipient.phone']", "0812 3456 7890")
    page.fill("[id='f-lines.0.sku']", "BTK-001")
    submit(page)
    created = page.inner_text("main")
    page.click("details.danger > summary")
    page.fill("#f-reason", "Pembeli batal")
    with page.expect_navigation():
        page.click("details.danger button")

    def cancelled():
        page.reload()
        return "Dibatalkan" in page.inner_text(".status")

    eventually(cancelled, timeout=30, what="the order cancelled")
    return created, page.inner_text("main")


def import_file(page, base, xlsx):
    page.goto(base + "/dashboard/imports")
    page.set_input_files("#f-file", xlsx)
    submit(page)
    return {
        "bad_rows": page.locator(".bad-rows li").all_inner_texts(),
        "counts": page.inner_text(".counts"),
        "can_confirm": page.locator("form.confirm").count() == 1,
        "text": page.inner_text("main"),
    }


def main(base, admin_key, secret, shots, xlsx):
    Path(shots).mkdir(parents=True, exist_ok=True)
    api, tag = Api(base), uuid.uuid4().hex[:6]
    staff = api.ok("POST", "/staff", admin_key, {"name": f"Dewi {tag}", "role": "packer"})
    api.request("POST", "/bins", staff["api_key"], {"code": "A-01-01-1-01", "pick_sequence": 1})
    report, codes = {}, ["BTK-000", "BTK-001"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
        )
        page = context.new_page()
        report["signed_up"], report["landed"] = sign_up_and_in(
            page, base, f"sekar.{tag}@example.id", shots
        )
        shot(page, shots, "dashboard-home-id.png")
        key = create_key(page, base, "Sinkron stok")
        merchant_id = api.ok("GET", "/merchants/me", key)["merchant_id"]
        topup = {"amount": 1_000_000, "reference": f"BCA-{tag}"}
        api.ok("POST", f"/merchants/{merchant_id}/topups", admin_key, topup)
        register_skus(page, base, codes)
        report["inbound_page"] = announce_inbound(page, base, codes, 20)
        inbound = api.ok("GET", "/inbounds", key)["inbounds"][0]
        receipt = [{"sku": c, "qty_good": 20, "qty_damaged": 0} for c in codes]
        api.ok(
            "POST",
            f"/warehouse/inbounds/{inbound['inbound_id']}/receive",
            staff["api_key"],
            {"lines": receipt},
        )

        report["webhook"] = add_webhook(page, base, "http://127.0.0.1:9/gudang")
        report["preview"] = import_file(page, base, xlsx)
        shot(page, shots, "dashboard-import-id.png")
        submit(page, "form.confirm button")
        report["applied"] = page.inner_text(".counts")
        report["again"] = import_file(page, base, xlsx)
        report["orders_after"] = len(api.ok("GET", "/orders", key)["orders"])

        orders = {o["external_id"]: o for o in api.ok("GET", "/orders", key)["orders"]}
        order = orders["2611240AAA0001"]
        report["followed"] = deliver_order(api, key, staff["api_key"], secret, order["order_id"])
        page.goto(f"{base}/dashboard/orders")
        report["orders_page"] = page.inner_text("main")
        shot(page, shots, "dashboard-orders-id.png")
        page.goto(f"{base}/dashboard/orders?lang=en")
        shot(page, shots, "dashboard-orders-en.png")
        page.goto(f"{base}/dashboard/orders?lang=id")
        page.click(f"a[href='/dashboard/orders/{order['order_id']}']")
        report["order_page"] = page.inner_text("main")
        label = page.request.get(f"{base}/api/v1/orders/{order['order_id']}/label.pdf")
        report["label"] = [label.status, label.headers.get("content-type")]
        shot(page, shots, "dashboard-order-id.png")
        page.click(".lang-switch")
        page.wait_for_selector("html[lang=en]")
        report["order_page_en"] = page.inner_text("main")
        shot(page, shots, "dashboard-order-en.png")
        page.goto(f"{base}/dashboard/skus?lang=id")
        report["skus_page"] = page.inner_text("main")
        shot(page, shots, "dashboard-skus-id.png")
        report["bad_order"] = bad_order(page, base)
        shot(page, shots, "dashboard-order-new-id.png")
        report["fixed_order"], report["cancelled"] = fix_and_cancel(page)
        page.goto(f"{base}/dashboard/inbounds?lang=id")
        shot(page, shots, "dashboard-inbounds-id.png")
        page.goto(f"{base}/dashboard/webhooks")
        report["webhooks_page"] = page.inner_text("main")
        shot(page, shots, "dashboard-webhooks-id.png")
        page.goto(f"{base}/dashboard/wallet?lang=id")
        report["wallet"] = page.inner_text("main")
        shot(page, shots, "dashboard-wallet-id.png")

        page.goto(f"{base}/dashboard/keys")
        report["key_works"] = api.request("GET", "/orders", key)[0]
        row = page.locator(".row", has_text="Sinkron stok")
        row.locator("summary").click()  # revoking asks once more
        with page.expect_navigation():
            row.locator("button").click()
        report["keys_page"] = page.inner_text("main")
        shot(page, shots, "dashboard-keys-id.png")
        report["key_after_revoke"] = api.request("GET", "/orders", key)[0]
        report["held_wallet"] = held_wallet(browser, api, base, admin_key, shots)
        browser.close()
    report["widths"] = WIDTHS
    print(json.dumps(report))


def held_wallet(browser, api, base, admin_key, shots):
    """Another seller, with no credit: the receiving fee holds it, its new order waits."""
    world = register_world(api, admin_key, skus=1, units=5, credit_limit=0)
    key = world.merchant["api_key"]
    eventually(lambda: api.ok("GET", "/wallet", key)["on_hold"], timeout=60, what="on hold")
    order_id = place_order(api, world, 0)
    eventually(lambda: api.ok("GET", f"/orders/{order_id}", key)["status"] == "on_hold", 60)
    api.ok("POST", "/merchants/me/password", key, {"password": PASSWORD})
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    page = context.new_page()
    page.goto(f"{base}/signin?next=/dashboard/wallet")
    page.fill("#f-email", api.ok("GET", "/merchants/me", key)["email"])
    page.fill("#f-password", PASSWORD)
    submit(page)
    shot(page, shots, "dashboard-wallet-held-id.png")
    return page.inner_text("main")


def deliver_order(api, key, staff_key, secret, order_id):
    """The floor picks and packs the order, the courier takes it to the buyer's door."""

    def status():
        return api.ok("GET", f"/orders/{order_id}", key)["status"]

    eventually(lambda: status() == "allocated", timeout=60, what="allocated")
    work_pick_lists(api, staff_key)
    order = eventually(lambda: api.ok("GET", f"/orders/{order_id}", key), timeout=60)
    awb = eventually(lambda: api.ok("GET", f"/orders/{order_id}", key)["awb"], 60, what="AWB")
    deliver(api, secret, order["courier"], awb)
    eventually(lambda: status() == "delivered", timeout=60, what="delivered")
    return awb


if __name__ == "__main__":
    main(*sys.argv[1:6])
