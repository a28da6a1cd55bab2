"""Merchant webhooks: every step of an order reaches the merchant's URL, signed, retried."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from scripts.simulate import (
    DELIVERED_STEPS,
    deliver,
    eventually,
    place_order,
    register_world,
    work_pick_lists,
)
from tests.conftest import ADMIN_KEY, COURIER_SECRET

pytestmark = pytest.mark.e2e


@pytest.fixture
def receiver():
    """A merchant's endpoint on loopback that fails each delivery once, then accepts it."""
    received, seen = [], set()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            delivery = self.headers["X-Gudang-Delivery"]
            first = delivery not in seen
            seen.add(delivery)
            if not first:
                received.append((dict(self.headers), body))
            self.send_response(500 if first else 204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/gudang", received
    server.shutdown()


def test_every_step_is_posted_signed_and_retried_until_accepted(api, receiver):
    url, received = receiver
    world = register_world(api, ADMIN_KEY, skus=1, units=5)
    key = world.merchant["api_key"]
    hook = api.ok("POST", "/webhooks", key, {"url": url})
    assert hook["secret"].startswith("whsec_")

    order_id = place_order(api, world, 0)
    eventually(lambda: api.ok("GET", f"/orders/{order_id}", key)["status"] == "allocated")
    work_pick_lists(api, world.staff["api_key"])
    awb = eventually(lambda: api.ok("GET", f"/orders/{order_id}", key)["awb"])
    deliver(api, COURIER_SECRET, "jne", awb)

    wanted = set(DELIVERED_STEPS) - {"order_received"}  # the merchant's own request
    eventually(
        lambda: {h["X-Gudang-Event"] for h, _ in received} >= wanted, timeout=30, what="webhooks"
    )
    for headers, body in received:
        expected = "sha256=" + hmac.new(hook["secret"].encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Gudang-Signature"] == expected
        payload = json.loads(body)
        assert payload["order_id"] == order_id and payload["external_id"]
    assert len(received) == len({h["X-Gudang-Delivery"] for h, _ in received})  # once each

    deliveries = api.ok("GET", f"/webhooks/{hook['webhook_id']}/deliveries", key)["deliveries"]
    assert {d["status"] for d in deliveries} == {"delivered"}
    assert all(d["attempts"] == 2 for d in deliveries)


def test_a_merchant_subscribed_to_stock_low_hears_when_a_sku_runs_low(api, receiver):
    url, received = receiver
    world = register_world(api, ADMIN_KEY, skus=1, units=5)
    key, sku = world.merchant["api_key"], world.skus[0]
    hook = api.ok("POST", "/webhooks", key, {"url": url, "events": ["stock_low"]})
    assert hook["events"] == ["stock_low"]
    api.ok("PATCH", f"/skus/{sku}", key, {"low_stock_threshold": 4})
    place_order(api, world, 0)  # five on hand, one reserved: four left, at the threshold

    eventually(lambda: received, timeout=30, what="the stock_low webhook")
    [(headers, body)] = received  # the order's steps are not this webhook's
    assert headers["X-Gudang-Event"] == "stock_low"
    expected = "sha256=" + hmac.new(hook["secret"].encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Gudang-Signature"] == expected
    payload = json.loads(body)
    assert payload["event"] == "stock_low" and payload["sku"] == sku
    assert payload["data"] == {"sku": sku, "available": 4, "threshold": 4}
    alerts = api.ok("GET", "/alerts/low-stock", key)["alerts"]
    assert [a["sku"] for a in alerts] == [sku]
    listed = api.ok("GET", f"/webhooks/{hook['webhook_id']}/deliveries", key)
    assert [d["event"] for d in listed["deliveries"]] == ["stock_low"]
    assert listed["next_cursor"] is None


def test_webhooks_are_the_merchants_own(api):
    a = register_world(api, ADMIN_KEY, skus=1, units=0)
    b = register_world(api, ADMIN_KEY, skus=1, units=0)
    hook = api.ok("POST", "/webhooks", a.merchant["api_key"], {"url": "https://example.id/hook"})
    status, payload = api.request(
        "GET", f"/webhooks/{hook['webhook_id']}/deliveries", b.merchant["api_key"]
    )
    assert status == 404
    status, payload = api.request("POST", "/webhooks", a.merchant["api_key"], {"url": "ftp://x"})
    assert status == 400 and "url" in payload["error"]["fields"]
    status, payload = api.request(
        "POST", "/webhooks", a.merchant["api_key"], {"url": "https://x.id/h", "events": ["nope"]}
    )
    assert status == 400 and "events" in payload["error"]["fields"]
    assert api.ok("GET", "/webhooks", b.merchant["api_key"])["webhooks"] == []


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://[fd00:ec2::254]/latest/",
        "http://10.0.0.8/hook",
        "http://192.168.1.20:8080/hook",
        "http://localhost:8000/api/v1/merchants",
        "http://[::1]/hook",
        "http://100.64.1.1/hook",
    ],
)
def test_webhooks_must_point_to_the_public_internet(api, url):
    world = register_world(api, ADMIN_KEY, skus=1, units=0)
    status, payload = api.request("POST", "/webhooks", world.merchant["api_key"], {"url": url})
    assert status == 400 and list(payload["error"]["fields"]) == ["url"], payload
