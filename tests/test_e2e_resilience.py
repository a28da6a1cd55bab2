"""The platform survives its parts failing: crashes, services down, duplicates, poison.

Real processes, real RabbitMQ (a private vhost), HTTP and AMQP from outside only.
"""

import json
import threading
import time

import pytest
import requests
from kombu import Connection, Exchange, Producer

from gudang_common.deadletter import replay
from scripts.simulate import (
    ApiError,
    deliver,
    eventually,
    order_body,
    place_order,
    register_world,
    wait_status,
    work_pick_lists,
)
from scripts.simulate import (
    order_of as order,
)
from tests.conftest import ADMIN_KEY, COURIER_SECRET, amqp_uri_for, queue_depth

pytestmark = pytest.mark.e2e


def patiently(fn, *args, timeout=60, **kwargs):
    """Call `fn`, retrying while a service restarts (5xx or refused connections)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return fn(*args, **kwargs)
        except (ApiError, requests.RequestException) as exc:
            transient = isinstance(exc, requests.RequestException) or any(
                f"-> {c}" in str(exc) for c in (502, 503, 504)
            )
            if not transient or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def publish(vhost, source, event_type, body, raw=None, content_type="application/json"):
    with Connection(amqp_uri_for(vhost)) as conn:
        producer = Producer(conn.default_channel)
        exchange = Exchange(f"{source}.events", type="topic", durable=True)
        if raw is not None:
            producer.publish(
                raw,
                exchange=exchange,
                routing_key=event_type,
                content_type=content_type,
                content_encoding="utf-8",
                delivery_mode=2,
            )
        else:
            producer.publish(
                body, exchange=exchange, routing_key=event_type, serializer="json", delivery_mode=2
            )


def metric(platform, service, name, labels=""):
    text = requests.get(platform.url(service) + "/metrics", timeout=10).text
    for line in text.splitlines():
        if line.startswith(name + "{") and labels in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@pytest.fixture(scope="module")
def world(api):
    return register_world(api, ADMIN_KEY, skus=3, units=200)


def test_kill_9_while_orders_flow_loses_nothing_and_charges_once(platform, api, world):
    n_orders = 24
    placed, errors = [], []

    def merchant():
        try:
            for n in range(n_orders):
                # the same body on a retry: its external_id makes a lost answer safe to resend
                body = order_body(world, 100 + n, cod_amount=100_000 if n % 2 else 0)
                placed.append(
                    patiently(api.ok, "POST", "/orders", world.merchant["api_key"], body)[
                        "order_id"
                    ]
                )
                time.sleep(0.05)
        except Exception as exc:  # surfaced below
            errors.append(exc)

    thread = threading.Thread(target=merchant)
    thread.start()
    for victim in ("inventory", "billing", "gateway", "packing", "shipping"):
        time.sleep(0.3)
        platform.kill9(victim)
        time.sleep(0.5)
        platform.start(victim)
        platform.wait_healthy(victim)
    thread.join()
    assert not errors, errors
    assert len(placed) == n_orders

    staff = world.staff["api_key"]
    packed = set()

    def all_packed():
        packed.update(patiently(work_pick_lists, api, staff))
        return set(placed) <= packed

    eventually(all_packed, timeout=90, interval=0.5, what="every order packed")
    awbs = {
        oid: eventually(lambda oid=oid: order(api, world, oid)["awb"], what=f"AWB of {oid}")
        for oid in placed
    }
    platform.kill9("shipping")
    platform.start("shipping")
    platform.wait_healthy("shipping")
    for awb in awbs.values():
        patiently(deliver, api, COURIER_SECRET, "jne", awb)
    for oid in placed:
        wait_status(api, world, oid, "delivered", timeout=60)

    # every fee charged exactly once per cause
    cod_orders = [oid for n, oid in enumerate(placed) if n % 2]
    shipping = sum(order(api, world, oid)["shipping_cost"] for oid in placed)
    labels = n_orders * 1_000
    expected = (
        -3 * 200 * 500 - n_orders * 3_000 - labels - shipping + len(cod_orders) * (100_000 - 3_000)
    )

    def settled():
        wallet = api.ok("GET", "/wallet?limit=1000", world.merchant["api_key"])
        return wallet["balance"] == expected and wallet

    wallet = eventually(settled, timeout=60, what=f"wallet balance {expected}")
    kinds = {}
    for entry in wallet["entries"]:
        kinds[entry["kind"]] = kinds.get(entry["kind"], 0) + 1
    assert kinds.get("pick_pack") == n_orders, kinds
    assert kinds.get("shipping") == n_orders, kinds


def test_an_order_is_accepted_while_inventory_is_down_and_moves_on_when_it_returns(
    platform, api, world
):
    platform.stop("inventory")
    try:
        order_id = place_order(api, world, 1)  # 202: durable at the gateway
        time.sleep(1)
        assert order(api, world, order_id)["status"] == "received"
    finally:
        platform.start("inventory")
        platform.wait_healthy("inventory")
    wait_status(api, world, order_id, "allocated")


def test_an_order_for_an_unregistered_sku_while_inventory_is_down_is_taken_then_rejected(
    platform, api, world
):
    platform.stop("inventory")
    try:
        order_id = place_order(api, world, 5, sku="NOT-REGISTERED")  # nobody can say it is unknown
    finally:
        platform.start("inventory")
        platform.wait_healthy("inventory")
    wait_status(api, world, order_id, "rejected")


def test_an_event_published_while_its_consumer_is_down_waits_for_it(platform, api, world):
    platform.stop("packing")
    try:
        order_id = place_order(api, world, 2)
        wait_status(api, world, order_id, "allocated")  # order_allocated published; packing is down
    finally:
        platform.start("packing")
        platform.wait_healthy("packing")
    assert order_id in patiently(work_pick_lists, api, world.staff["api_key"])


def test_rpc_to_a_stopped_service_answers_504_not_a_hang(platform, api, world):
    platform.stop("inventory")
    try:
        started = time.monotonic()
        status, payload = api.request("GET", "/stock", world.merchant["api_key"])
        elapsed = time.monotonic() - started
        # the request expired in the broker: the restarted service will not act on it late
        eventually(
            lambda: queue_depth(platform.vhost, "rpc-inventory") == 0, what="expired request"
        )
    finally:
        platform.start("inventory")
        platform.wait_healthy("inventory")
    assert status in (503, 504) and payload["error"]["code"] in (
        "UPSTREAM_TIMEOUT",
        "SERVICE_UNAVAILABLE",
    )
    assert elapsed < 10


ON_ORDER_RECEIVED = 'entrypoint="on_order_received"'


def test_a_duplicate_event_changes_nothing(platform, api, world):
    order_id = place_order(api, world, 3, sku="BTK-002", qty=2)
    wait_status(api, world, order_id, "allocated")
    before = {s["sku"]: s for s in api.ok("GET", "/stock", world.merchant["api_key"])["stock"]}[
        "BTK-002"
    ]
    received = order(api, world, order_id)["timeline"][0]
    body = order_body(world, 3, sku="BTK-002", qty=2)
    event = dict(
        body,
        event_id=received["event_id"],
        occurred_at=received["at"],
        merchant_id=world.merchant["merchant_id"],
        order_id=order_id,
        courier="jne",
    )
    # counted from here, so only these two deliveries can satisfy the wait below
    consumed = metric(platform, "inventory", "gudang_entrypoint_calls_total", ON_ORDER_RECEIVED)
    publish(platform.vhost, "gateway", "order_received", event)
    publish(platform.vhost, "gateway", "order_received", event)
    # the same event delivered twice more: inventory has seen it; nothing is reserved again
    eventually(
        lambda: (
            metric(platform, "inventory", "gudang_entrypoint_calls_total", ON_ORDER_RECEIVED)
            >= consumed + 2
        ),
        what="duplicates consumed",
    )
    after = {s["sku"]: s for s in api.ok("GET", "/stock", world.merchant["api_key"])["stock"]}[
        "BTK-002"
    ]
    assert after["reserved"] == before["reserved"] and after["available"] == before["available"]
    assert [s["event"] for s in order(api, world, order_id)["timeline"]].count(
        "order_allocated"
    ) == 1


def test_poison_messages_go_to_the_dead_letter_queue_and_the_line_keeps_moving(
    platform, api, world
):
    # undecodable bytes, a payload that fails its schema, and an event whose handler keeps failing
    publish(platform.vhost, "gateway", "order_received", None, raw=b"{this is not json")
    publish(platform.vhost, "gateway", "order_received", {"event_id": "not-a-uuid", "order_id": 7})
    ghost = {
        "event_id": "4b0e7f0c-8a4f-4c55-9d1e-0a1b2c3d4e5f",
        "occurred_at": "2026-11-23T01:02:03Z",
        "merchant_id": world.merchant["merchant_id"],
        "order_id": "ord_does_not_exist",
        "pick_list_id": "pl_x",
        "packer_id": "stf_x",
    }
    publish(
        platform.vhost, "packing", "order_picked", ghost
    )  # the gateway has no such order: fails each time

    # meanwhile orders keep flowing through the same consumers
    order_id = place_order(api, world, 4)
    wait_status(api, world, order_id, "allocated")

    eventually(
        lambda: queue_depth(platform.vhost, "inventory.dlq") == 2, what="inventory dead letters"
    )
    eventually(
        lambda: queue_depth(platform.vhost, "gateway.dlq") == 1,
        timeout=60,
        what="gateway dead letter after retries",
    )
    assert requests.get(platform.url("inventory") + "/health", timeout=5).status_code == 200
    assert metric(platform, "gateway", "gudang_event_retries_total") >= 4
    assert eventually(
        lambda: metric(platform, "gateway", "gudang_dead_letter_messages") == 1,
        what="dead-letter gauge",
    )

    # ops can replay: the message goes back to its queue (and, still failing, returns to the DLQ)
    assert replay(amqp_uri_for(platform.vhost), "gateway") == 1
    eventually(
        lambda: queue_depth(platform.vhost, "gateway.dlq") == 1,
        timeout=60,
        what="replayed message dead again",
    )
    body = json.loads(requests.get(platform.url("gateway") + "/health", timeout=5).text)
    assert body["status"] == "ok"
