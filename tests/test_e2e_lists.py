"""Lists through the running platform: a merchant walks its orders page by page while new
orders keep arriving and sees each order once; filters narrow in the query; a cursor that
is not ours is a 400 naming `cursor`, on the gateway's lists and on the services' alike."""

import threading
from urllib.parse import quote

import pytest

from scripts.simulate import order_body, register_world
from tests.conftest import ADMIN_KEY

pytestmark = pytest.mark.e2e


def walk(api, key, path, items):
    """Every page of a list; the items' ids in order."""
    seen, cursor = [], None
    while True:
        sep = "&" if "?" in path else "?"
        page = api.ok("GET", path + (f"{sep}cursor={quote(cursor)}" if cursor else ""), key)
        seen += [item["order_id"] for item in page[items]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen


def test_a_walk_through_the_orders_sees_each_once_while_orders_arrive(api):
    world = register_world(api, ADMIN_KEY, skus=1, units=100)
    key = world.merchant["api_key"]
    first = [api.ok("POST", "/orders", key, order_body(world, n))["order_id"] for n in range(12)]
    arriving = threading.Thread(
        target=lambda: [
            api.ok("POST", "/orders", key, order_body(world, 100 + n)) for n in range(8)
        ]
    )
    arriving.start()
    seen = walk(api, key, "/orders?limit=5", "orders")
    arriving.join()
    assert len(seen) == len(set(seen))  # none twice
    assert set(first) <= set(seen)  # none that was there skipped
    assert seen[-12:] == list(reversed(first))  # newest first
    assert len(walk(api, key, "/orders?limit=200", "orders")) == 20


def test_order_filters_are_checked_and_narrow_the_list(api):
    world = register_world(api, ADMIN_KEY, skus=1, units=10)
    key = world.merchant["api_key"]
    body = order_body(world, 7) | {"channel": "tokopedia"}
    order_id = api.ok("POST", "/orders", key, body)["order_id"]
    api.ok("POST", "/orders", key, order_body(world, 8))
    only = api.ok("GET", f"/orders?external_id={body['external_id']}", key)["orders"]
    assert [o["order_id"] for o in only] == [order_id]
    by_channel = api.ok("GET", "/orders?channel=tokopedia", key)["orders"]
    assert [o["order_id"] for o in by_channel] == [order_id]
    later = api.ok("GET", "/orders?since=2100-01-01T00:00:00Z", key)
    assert later == {"orders": [], "next_cursor": None}
    for query, field in [("status=lost", "status"), ("since=yesterday", "since")]:
        status, error = api.request("GET", f"/orders?{query}", key)
        assert status == 400 and list(error["error"]["fields"]) == [field], error


@pytest.mark.parametrize(
    "path",
    ["/orders", "/movements", "/wallet", "/invoices", "/skus", "/inbounds", "/webhooks"],
)
def test_a_cursor_that_is_not_ours_is_a_400_naming_cursor(api, path):
    world = register_world(api, ADMIN_KEY, skus=1, units=0)
    status, error = api.request("GET", f"{path}?cursor=bm90LWEtY3Vyc29y", world.merchant["api_key"])
    assert status == 400 and list(error["error"]["fields"]) == ["cursor"], error
