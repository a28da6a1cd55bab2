"""The gateway keeps answering while hundreds of slow or idle clients hold connections open."""

import json
import socket
import time

import pytest
import requests

from scripts.simulate import Api, eventually, order_body, register_world
from tests.conftest import ADMIN_KEY

pytestmark = pytest.mark.e2e

HELD = 500
SOURCES = [f"127.0.0.{i}" for i in range(10, 20)]  # 50 each: under the per-address cap


def _open(port, source, kind):
    sock = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))
    if kind == "slow body":  # to the routes that read a body before any key is checked
        path = b"/api/v1/merchants" if source.endswith("0") else b"/api/v1/couriers/jne/webhook"
        sock.sendall(b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{")
    elif kind == "slow head":
        sock.sendall(b"POST /api/v1/orders HTTP/1.1\r\nHost: x\r\n")
    return sock  # "idle": connected, nothing sent


def test_slow_and_idle_connections_do_not_freeze_the_gateway(platform, api):
    world = register_world(api, ADMIN_KEY, skus=1, units=50)
    key = world.merchant["api_key"]
    port = platform.port("gateway")
    kinds = ["slow body", "slow head", "idle"]
    held = [_open(port, SOURCES[i % len(SOURCES)], kinds[i % len(kinds)]) for i in range(HELD)]
    quick = Api(platform.url("gateway"), timeout=1.0)
    try:
        health, orders, placed = [], [], []
        for i in range(5):
            started = time.monotonic()
            resp = requests.get(platform.url("gateway") + "/health", timeout=1.0)
            health.append(time.monotonic() - started)
            assert resp.status_code == 200
            started = time.monotonic()
            status, payload = quick.request("POST", "/orders", key, order_body(world, i))
            orders.append(time.monotonic() - started)
            assert status == 202, payload
            placed.append(payload["order_id"])
        print(
            f"\nwith {HELD} slow/idle connections open: /health max {max(health) * 1000:.0f} ms, "
            f"POST /orders max {max(orders) * 1000:.0f} ms"
        )
        assert max(health) < 1.0 and max(orders) < 1.0
        # the gateway's event handlers kept consuming: inventory's answers reach the timeline
        for order_id in placed:
            eventually(
                lambda order_id=order_id: (
                    quick.ok("GET", f"/orders/{order_id}", key)["status"] == "allocated"
                ),
                timeout=20,
                what=f"{order_id} allocated while the connections are held",
            )
    finally:
        for sock in held:
            sock.close()


def test_a_chunked_order_is_read(api):
    world = register_world(api, ADMIN_KEY, skus=1, units=5)
    raw = json.dumps(order_body(world, 1)).encode()

    def chunks():
        yield raw[:10]
        yield raw[10:]

    status, payload = api.request("POST", "/orders", world.merchant["api_key"], raw=chunks())
    assert status == 202, payload
