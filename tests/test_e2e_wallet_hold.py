"""End to end, over HTTP only: a merchant whose fees take its wallet below its credit
limit has its new orders accepted and held; a top-up releases them, oldest first."""

import pytest

from scripts.simulate import eventually, place_order, register_world, wait_status
from tests.conftest import ADMIN_KEY

pytestmark = pytest.mark.e2e


def order(api, world, order_id, lang="id"):
    return api.ok("GET", f"/orders/{order_id}?lang={lang}", world.merchant["api_key"])


def wallet(api, world):
    return api.ok("GET", "/wallet", world.merchant["api_key"])


@pytest.fixture(scope="module")
def world(api):
    # credit limit 0: the inbound fee (5 units x Rp 500) takes the wallet to Rp -2,500
    return register_world(api, ADMIN_KEY, skus=1, units=5, credit_limit=0)


def test_orders_of_a_merchant_on_hold_wait_and_go_on_oldest_first_after_a_top_up(api, world):
    held = eventually(lambda: (w := wallet(api, world))["on_hold"] and w, what="the hold")
    assert (held["balance"], held["credit_limit"]) == (-2_500, 0)

    # every order is still accepted; each waits, and its timeline says why
    order_ids = [place_order(api, world, n, qty=2) for n in range(3)]
    for order_id in order_ids:
        waiting = wait_status(api, world, order_id, "on_hold")
        assert [s["event"] for s in waiting["timeline"]] == ["order_received", "order_held"]
        step = waiting["timeline"][-1]
        assert step["detail"] == {"reason": "merchant_on_hold"}
        assert "batas kredit" in step["label"]
    english = order(api, world, order_ids[0], lang="en")["timeline"][-1]["label"]
    assert "credit limit" in english

    merchant_id = world.merchant["merchant_id"]
    topup = {"amount": 2_500, "reference": "BCA-HOLD-1"}
    api.ok("POST", f"/merchants/{merchant_id}/topups", ADMIN_KEY, topup)

    # 5 units for three orders of 2: the two oldest are allocated, the youngest waits
    # for stock (never the other way round)
    first = wait_status(api, world, order_ids[0], "allocated")
    second = wait_status(api, world, order_ids[1], "allocated")
    third = wait_status(api, world, order_ids[2], "backordered")
    steps = [s["event"] for s in first["timeline"]]
    assert steps == ["order_received", "order_held", "order_allocated"]
    assert [s["event"] for s in third["timeline"]][-1] == "order_backordered"
    allocated_at = [o["timeline"][-1]["at"] for o in (first, second)]
    assert allocated_at == sorted(allocated_at)

    released = wallet(api, world)
    assert (released["on_hold"], released["balance"]) == (False, 0)


def test_ops_set_a_credit_limit_and_merchants_cannot(api, world):
    merchant_id = world.merchant["merchant_id"]
    path = f"/admin/merchants/{merchant_id}/credit-limit"
    status, _ = api.request("PUT", path, world.merchant["api_key"], {"credit_limit": 1})
    assert status == 403
    status, _ = api.request("PUT", path, ADMIN_KEY, {"credit_limit": -5})
    assert status == 400
    status, _ = api.request(
        "PUT", "/admin/merchants/mer_nope/credit-limit", ADMIN_KEY, {"credit_limit": 1}
    )
    assert status == 404
    view = api.ok("PUT", path, ADMIN_KEY, {"credit_limit": 150_000})
    assert (view["credit_limit"], view["on_hold"]) == (150_000, False)
    assert wallet(api, world)["credit_limit"] == 150_000
