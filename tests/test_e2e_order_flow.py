"""End to end, over HTTP only: an order travels from the gateway to the buyer's door
through the five real service processes and a real RabbitMQ."""

import pytest

from gudang_common.clock import today_wib, yesterday_wib
from scripts.simulate import (
    DELIVERED_STEPS,
    deliver,
    eventually,
    place_order,
    register_world,
    wait_status,
    work_pick_lists,
)
from scripts.simulate import (
    order_of as order,
)
from tests.conftest import ADMIN_KEY, COURIER_SECRET

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def world(api):
    return register_world(api, ADMIN_KEY, skus=2, units=20)


def test_happy_path_from_intake_to_delivery_with_fees_and_commission(api, world):
    order_id = place_order(api, world, 0, cod_amount=150_000)
    wait_status(api, world, order_id, "allocated")

    packed = work_pick_lists(api, world.staff["api_key"])
    assert order_id in packed
    booked = eventually(lambda: order(api, world, order_id)["awb"], what="AWB")
    parcel = order(api, world, order_id)
    assert parcel["courier"] == "jne" and booked.startswith("JN")
    # 30x20x10 cm = 1 kg volumetric, 0.7 kg actual: charged 1 kg
    assert parcel["shipping_cost"] > 0

    # the courier's driver signs the pickup manifest
    manifest = api.ok("POST", "/warehouse/manifests", world.staff["api_key"], {"courier": "jne"})
    assert booked in [p["awb"] for p in manifest["parcels"]] and manifest["cod_total"] == 150_000

    deliver(api, COURIER_SECRET, "jne", booked)
    done = wait_status(api, world, order_id, "delivered")
    steps = [step["event"] for step in done["timeline"]]
    assert steps == list(DELIVERED_STEPS)
    assert all(
        step["at"].endswith("Z") and step["at_wib"].endswith("WIB") for step in done["timeline"]
    )

    # stock: 20 received per SKU, 1 unit shipped
    def shipped_out():
        stock = {s["sku"]: s for s in api.ok("GET", "/stock", world.merchant["api_key"])["stock"]}
        return stock["BTK-000"]["on_hand"] == 19 and stock["BTK-000"]["reserved"] == 0

    eventually(shipped_out, what="the packed unit to leave on-hand")

    # money: inbound 40 units x 500, pick & pack 3,000, label 1,000, shipping, COD collected
    # 150,000, COD fee 3%
    shipping_cost = parcel["shipping_cost"]
    expected = -40 * 500 - 3_000 - 1_000 - shipping_cost + 150_000 - 4_500

    def wallet_settled():
        wallet = api.ok("GET", "/wallet", world.merchant["api_key"])
        return wallet["balance"] == expected and wallet

    wallet = eventually(wallet_settled, what=f"wallet balance {expected}")
    assert wallet["currency"] == "IDR"
    assert sum(e["amount"] for e in wallet["entries"]) == expected

    # the promoter earns 10% of the platform fees (not of the shipping pass-through):
    # 2,000 inbound + 300 pick & pack + 100 label + 450 COD fee
    earnings = eventually(
        lambda: (
            (e := api.ok("GET", "/promoters/me/earnings", world.promoter["api_key"]))["total"]
            == 2_850
            and e
        ),
        what="promoter earnings",
    )
    assert earnings["per_merchant"][0]["merchant_id"] == world.merchant["merchant_id"]
    assert earnings["per_merchant"][0]["amount"] == 2_850

    # a buyer can follow the parcel by AWB without an account, without personal data
    public = api.ok("GET", f"/track/{booked}")
    assert public["status"] == "delivered" and "recipient" not in public


def test_cancel_before_packing_releases_the_reservation(api, world):
    order_id = place_order(api, world, 1, sku="BTK-001", qty=3)
    wait_status(api, world, order_id, "allocated")
    stock = {s["sku"]: s for s in api.ok("GET", "/stock", world.merchant["api_key"])["stock"]}
    assert stock["BTK-001"]["reserved"] == 3
    api.ok(
        "POST",
        f"/orders/{order_id}/cancel",
        world.merchant["api_key"],
        {"reason": "buyer changed mind"},
    )
    wait_status(api, world, order_id, "cancelled")

    def released():
        level = {s["sku"]: s for s in api.ok("GET", "/stock", world.merchant["api_key"])["stock"]}[
            "BTK-001"
        ]
        return level["reserved"] == 0 and level["available"] == level["on_hand"]

    eventually(released, what="reservation released")
    # a cancelled order is never handed to a packer
    assert order_id not in work_pick_lists(api, world.staff["api_key"])


def test_an_order_without_stock_is_backordered_then_allocated_when_stock_arrives(api, world):
    from scripts.simulate import receive_stock

    order_id = place_order(api, world, 2, sku="BTK-000", qty=25)
    wait_status(api, world, order_id, "backordered")
    receive_stock(api, world, 10)
    wait_status(api, world, order_id, "allocated")


def test_the_same_external_id_is_one_order(api, world):
    from scripts.simulate import order_body

    body = order_body(world, 3)
    first = api.ok("POST", "/orders", world.merchant["api_key"], body)
    status, again = api.request("POST", "/orders", world.merchant["api_key"], body)
    assert status == 200 and again["order_id"] == first["order_id"] and again["duplicate"] is True


def test_every_service_serves_valid_prometheus_metrics(platform, api, world):
    import shutil
    import subprocess

    import requests

    promtool = shutil.which("promtool")
    assert promtool, "promtool is installed by `make test` (Debian package prometheus)"
    for service in ("gateway", "inventory", "packing", "shipping", "billing"):
        text = requests.get(platform.url(service) + "/metrics", timeout=10).text
        checked = subprocess.run(
            [promtool, "check", "metrics"], input=text, capture_output=True, text=True
        )
        assert checked.returncode == 0, (service, checked.stdout, checked.stderr)
        assert f'gudang_outbox_pending{{service="{service}"}}' in text
        assert f'gudang_dead_letter_messages{{service="{service}"}}' in text
    gateway = requests.get(platform.url("gateway") + "/metrics", timeout=10).text
    assert 'gudang_orders_by_status{status="received"}' in gateway
    assert 'gudang_entrypoint_latency_seconds_bucket{entrypoint="create_order"' in gateway


def test_storage_is_billed_for_ended_days_from_what_was_held_then(api, world):
    """The world's merchant registered and received its stock today: yesterday costs it
    nothing; today and future days cannot be billed; an ended day runs once."""
    key = world.merchant["api_key"]
    before = api.ok("GET", "/wallet", key)["balance"]
    yesterday = yesterday_wib().isoformat()
    run = api.ok("POST", "/admin/storage-billing", ADMIN_KEY, {"day": yesterday})
    assert run["day"] == yesterday
    assert world.merchant["merchant_id"] not in run["charged"]
    api.ok("POST", "/admin/storage-billing", ADMIN_KEY, {"day": "2020-01-01"})
    wallet = api.ok("GET", "/wallet", key)
    assert wallet["balance"] == before
    assert [e["kind"] for e in wallet["entries"]].count("storage") == 0
    for day in (today_wib(), "2099-01-01", "kemarin"):
        status, error = api.request("POST", "/admin/storage-billing", ADMIN_KEY, {"day": day})
        assert status == 400 and "day" in error["error"]["fields"], day
    status, error = api.request("POST", "/admin/storage-billing", key, {"day": yesterday})
    assert status == 403


def test_rate_card_versions_through_the_api(api, world):
    listed = api.ok("GET", "/admin/rate-cards", ADMIN_KEY)
    assert listed["versions"][0]["version"] == 1
    assert listed["versions"][0]["rates"]["pick_pack_per_order"] == 3000
    status, error = api.request(
        "POST", "/admin/rate-cards", ADMIN_KEY, {"effective_from": "2020-01-01T00:00:00+07:00"}
    )
    assert status == 400 and "effective_from" in error["error"]["fields"]
    status, _ = api.request("GET", "/admin/rate-cards", world.merchant["api_key"])
    assert status == 403
    made = api.ok(
        "POST",
        "/admin/rate-cards",
        ADMIN_KEY,
        {"effective_from": "2099-01-01T00:00:00+07:00", "label_per_parcel": 1500},
    )
    assert made["effective_from"] == "2098-12-31T17:00:00.000Z"
    assert made["rates"]["label_per_parcel"] == 1500
    after = api.ok("GET", "/admin/rate-cards", ADMIN_KEY)
    assert after["in_force"] == listed["in_force"]
    assert after["versions"][-1]["version"] == made["version"]


def test_invoices_through_the_api(api, world):
    key = world.merchant["api_key"]
    this_month = today_wib()[:7]
    status, error = api.request("POST", "/admin/invoices", ADMIN_KEY, {"month": this_month})
    assert status == 400 and "month" in error["error"]["fields"]
    status, error = api.request("POST", "/admin/invoices", ADMIN_KEY, {"month": "bulan lalu"})
    assert status == 400 and "month" in error["error"]["fields"]
    status, _ = api.request("POST", "/admin/invoices", key, {"month": "2020-01"})
    assert status == 403
    # the world's merchant started today: no money in an ended month, so no invoice
    issued = api.ok(
        "POST",
        "/admin/invoices",
        ADMIN_KEY,
        {"month": "2020-01", "merchant_id": world.merchant["merchant_id"]},
    )
    assert issued == {"month": "2020-01", "issued": []}
    assert api.ok("GET", "/invoices", key) == {"invoices": [], "next_cursor": None}
    for ext in ("pdf", "csv"):
        status, error = api.request("GET", f"/invoices/INV/2020/01/000001.{ext}", key)
        assert status == 404 and error["error"]["code"] == "NOT_FOUND"
