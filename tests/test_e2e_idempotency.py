"""Idempotency-Key: a retried warehouse or merchant request takes effect once."""

import json

import pytest

from scripts.simulate import register_world
from tests.conftest import ADMIN_KEY

pytestmark = pytest.mark.e2e


def on_hand(api, world, sku):
    return {s["sku"]: s for s in api.ok("GET", "/stock", world.merchant["api_key"])["stock"]}[sku][
        "on_hand"
    ]


def post(api, path, key, body, idem):
    raw = json.dumps(body).encode()
    status, payload = api.request("POST", path, key, raw=raw, headers={"Idempotency-Key": idem})
    return status, payload


def test_a_receipt_sent_twice_counts_the_goods_once(api):
    world = register_world(api, ADMIN_KEY, skus=1, units=0)
    sku, staff = world.skus[0], world.staff["api_key"]
    inbound = api.ok(
        "POST", "/inbounds", world.merchant["api_key"], {"lines": [{"sku": sku, "qty": 10}]}
    )
    path = f"/warehouse/inbounds/{inbound['inbound_id']}/receive"
    body = {"lines": [{"sku": sku, "qty_good": 6, "qty_damaged": 0}]}

    first = post(api, path, staff, body, "rcv-0001")
    again = post(api, path, staff, body, "rcv-0001")  # the tablet lost the answer and retried
    assert first[0] == again[0] == 200 and first[1] == again[1]
    assert on_hand(api, world, sku) == 6
    assert len(api.ok("GET", f"/inbounds/{inbound['inbound_id']}", staff)["receipts"]) == 1

    status, payload = post(
        api, path, staff, {"lines": [{"sku": sku, "qty_good": 1, "qty_damaged": 0}]}, "rcv-0001"
    )
    assert status == 422 and "Idempotency-Key" in payload["error"]["fields"]

    # a refused request is forgotten: fixed, it may reuse its key
    status, _ = post(
        api, path, staff, {"lines": [{"sku": sku, "qty_good": -1, "qty_damaged": 0}]}, "rcv-0002"
    )
    assert status == 400
    status, _ = post(
        api, path, staff, {"lines": [{"sku": sku, "qty_good": 4, "qty_damaged": 0}]}, "rcv-0002"
    )
    assert status == 200 and on_hand(api, world, sku) == 10


def test_keys_belong_to_their_caller(api):
    a = register_world(api, ADMIN_KEY, skus=1, units=0)
    b = register_world(api, ADMIN_KEY, skus=1, units=0)
    body = {"lines": [{"sku": a.skus[0], "qty": 3}]}
    first = post(api, "/inbounds", a.merchant["api_key"], body, "inb-1")
    other = post(api, "/inbounds", b.merchant["api_key"], body, "inb-1")  # B's own key space
    assert first[0] == other[0] == 201 and first[1]["inbound_id"] != other[1]["inbound_id"]
    assert post(api, "/inbounds", a.merchant["api_key"], body, "inb-1")[1] == first[1]
