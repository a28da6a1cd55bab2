"""Merchant webhook delivery with several gateway replicas: each delivery is POSTed once."""

import json
import time
from collections import Counter

import eventlet
import pytest
from eventlet import wsgi
from eventlet.semaphore import Semaphore
from prometheus_client import CollectorRegistry
from prometheus_client import Counter as Metric

from gateway import egress, notify
from gudang_common.events import iso, utcnow


class Receiver:
    """A merchant's endpoint that answers slowly and counts what arrives."""

    def __init__(self):
        self.seen = Counter()
        self.sock = eventlet.listen(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hook"
        self.thread = eventlet.spawn(wsgi.server, self.sock, self.app, log_output=False)

    def app(self, environ, start_response):
        environ["wsgi.input"].read()
        eventlet.sleep(0.05)
        self.seen[environ["HTTP_X_GUDANG_DELIVERY"]] += 1
        start_response("200 OK", [("Content-Length", "0")])
        return [b""]

    def close(self):
        self.thread.kill()
        self.sock.close()


@pytest.fixture
def db(tmp_path):
    from gudang_common.embedded import open_client

    client = open_client(tmp_path / "gateway")
    database = client["gudang_gateway"]
    notify.ensure_indexes(database)
    yield database
    client.close()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


def replica(db, lease=60.0):
    """A deliverer as one gateway replica runs it, without the rest of the container."""
    deliverer = notify.WebhookDeliverer()
    deliverer.db = db
    deliverer.max_attempts, deliverer.base_delay, deliverer.timeout = 8, 10.0, 5.0
    deliverer.lease = lease
    deliverer.allowed = egress.AllowList("127.0.0.1")  # the receiver is local
    deliverer.outcomes = Metric("d", "d", ("outcome",), registry=CollectorRegistry())
    deliverer.running = True
    deliverer.new_slots, deliverer.http = Semaphore(20), None
    return deliverer


def pending(db, receiver, n):
    db.webhooks.insert_one(
        {
            "_id": "wh_1",
            "merchant_id": "mer_1",
            "url": receiver.url,
            "events": list(notify.DELIVERABLE),
            "secret": "whsec_x",
            "active": True,
            "created_at": iso(utcnow()),
        }
    )
    for i in range(n):
        db.deliveries.insert_one(
            {
                "_id": f"wh_1:evt-{i}",
                "webhook_id": "wh_1",
                "merchant_id": "mer_1",
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": iso(utcnow()),
                "body": json.dumps({"event": "order_packed", "n": i}),
                "event": "order_packed",
                "created_at": iso(utcnow()),
            }
        )


def wait_for(check, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        eventlet.sleep(0.05)
    return False


def test_two_replicas_post_each_delivery_once(db, receiver):
    pending(db, receiver, 30)
    replicas = [replica(db), replica(db)]
    loops = [eventlet.spawn(r.run) for r in replicas]
    try:
        assert wait_for(lambda: db.deliveries.count_documents({"status": "delivered"}) == 30)
        eventlet.sleep(0.5)  # a late duplicate would arrive now
    finally:
        for r in replicas:
            r.running = False
        for loop in loops:
            loop.wait()
    assert len(receiver.seen) == 30
    assert set(receiver.seen.values()) == {1}, receiver.seen


def test_a_crashed_replicas_claim_is_taken_over_after_its_lease(db, receiver):
    pending(db, receiver, 1)
    crashed = replica(db, lease=1.0)
    assert crashed.claim(db.deliveries.find_one({"_id": "wh_1:evt-0"})) is not None
    survivor = replica(db)
    loop = eventlet.spawn(survivor.run)
    try:
        eventlet.sleep(0.5)
        assert receiver.seen == {}  # still the crashed replica's
        assert wait_for(lambda: receiver.seen["wh_1:evt-0"] == 1, timeout=5)
    finally:
        survivor.running = False
        loop.wait()
    assert db.deliveries.find_one({"_id": "wh_1:evt-0"})["status"] == "delivered"


def test_an_outcome_is_recorded_only_by_the_claim_holder(db, receiver):
    pending(db, receiver, 1)
    first, second = replica(db, lease=0.0), replica(db)
    stale = first.claim(db.deliveries.find_one({"_id": "wh_1:evt-0"}))
    taken = second.claim(db.deliveries.find_one({"_id": "wh_1:evt-0"}))
    assert stale is not None and taken is not None  # the first lease lapsed at once
    assert second.claim(db.deliveries.find_one({"_id": "wh_1:evt-0"})) is None  # leased
    first.attempt(egress.pool(first.allowed), stale)
    doc = db.deliveries.find_one({"_id": "wh_1:evt-0"})
    assert doc["status"] == "pending" and doc["claim"] == taken["claim"]


def test_stock_low_reaches_only_the_webhooks_subscribed_to_it(db):
    allowed = egress.AllowList("127.0.0.1")
    orders = notify.add_webhook(db, "mer_1", "http://127.0.0.1:9/orders", [], allowed)
    stock = notify.add_webhook(db, "mer_1", "http://127.0.0.1:9/stock", ["stock_low"], allowed)
    assert "stock_low" not in orders["events"]  # the default stays the order steps
    event = {
        "event_id": "evt-1",
        "occurred_at": "2026-11-24T01:00:00.000Z",
        "merchant_id": "mer_1",
        "sku": "KAOS-M",
        "available": 3,
        "threshold": 5,
    }
    notify.enqueue(db, "stock_low", event)
    notify.enqueue(db, "stock_low", event)  # a redelivered event: still one delivery
    [delivery] = db.deliveries.find({})
    assert delivery["webhook_id"] == stock["_id"] and delivery["event"] == "stock_low"
    assert json.loads(delivery["body"]) == {
        "event": "stock_low",
        "event_id": "evt-1",
        "occurred_at": "2026-11-24T01:00:00.000Z",
        "sku": "KAOS-M",
        "data": {"sku": "KAOS-M", "available": 3, "threshold": 5},
    }


def test_a_subscription_names_only_events_it_can_receive(db):
    with pytest.raises(notify.ValidationFailed) as refused:
        notify.add_webhook(
            db, "mer_1", "http://127.0.0.1:9/x", ["stock_high"], egress.AllowList("127.0.0.1")
        )
    assert list(refused.value.fields) == ["events"]


def test_an_order_steps_delivery_names_the_order_read_when_the_event_was_applied(tmp_path):
    """The read model reads the order once per event: the webhook body takes its number
    from that read, not from a second one."""
    import litemongo

    from gateway.store import GatewayRepository

    client = litemongo.MongoClient(store=str(tmp_path / "gateway"))
    repo = GatewayRepository(client["gudang_gateway"], lambda: None)
    db = repo.db
    notify.ensure_indexes(db)
    db.orders.insert_one(
        {"_id": "ord_1", "merchant_id": "mer_1", "external_id": "INV-7", "status": "received"}
    )
    notify.add_webhook(db, "mer_1", "http://127.0.0.1:9/h", [], egress.AllowList("127.0.0.1"))
    event = {"event_id": "evt-1", "occurred_at": "2026-11-24T01:00:00.000Z"}
    event |= {"merchant_id": "mer_1", "order_id": "ord_1"}
    applied, order = repo.apply_event_to_order("order_allocated", event)
    assert applied and order["external_id"] == "INV-7"
    again, order_again = repo.apply_event_to_order("order_allocated", event)  # a redelivery
    assert not again and order_again["external_id"] == "INV-7"
    reads = []
    real_find_one = db.orders.find_one
    db.orders.find_one = lambda *a, **kw: reads.append(a) or real_find_one(*a, **kw)
    notify.enqueue(db, "order_allocated", event, order=order)
    assert reads == []
    [delivery] = db.deliveries.find({})
    assert json.loads(delivery["body"])["external_id"] == "INV-7"
    client.close()


def order_step(db, receiver, n=0):
    """An order step for mer_1, whose webhook wh_1 takes every order step."""
    if db.webhooks.find_one({"_id": "wh_1"}) is None:
        pending(db, receiver, 0)
    event = {"event_id": f"evt-now-{n}", "occurred_at": "2026-11-24T01:00:00.000Z"}
    return event | {"merchant_id": "mer_1", "order_id": f"ord_{n}"}


def test_a_new_delivery_is_sent_at_once_by_the_replica_that_stored_it_and_only_once(db, receiver):
    sender, other = replica(db), replica(db)
    for n in range(5):
        notify.enqueue(db, "order_packed", order_step(db, receiver, n), {"external_id": n}, sender)
    assert wait_for(lambda: db.deliveries.count_documents({"status": "delivered"}) == 5, 5)
    # stored claimed: a pass of any replica, meanwhile or after, does not send it again
    other.deliver_due(egress.pool(other.allowed), eventlet.GreenPool(10))
    sender.deliver_due(egress.pool(sender.allowed), eventlet.GreenPool(10))
    eventlet.sleep(0.2)
    assert sorted(receiver.seen) == [f"wh_1:evt-now-{n}" for n in range(5)]
    assert set(receiver.seen.values()) == {1}
    assert sender.new_slots.balance == 20  # every slot given back


def test_with_no_slot_free_a_new_delivery_waits_for_a_pass(db, receiver):
    sender = replica(db)
    sender.new_slots = Semaphore(0)
    notify.enqueue(db, "order_packed", order_step(db, receiver), {"external_id": "x"}, sender)
    eventlet.sleep(0.2)
    assert receiver.seen == {}
    [delivery] = db.deliveries.find({})
    assert delivery["status"] == "pending" and "claim" not in delivery  # due for any replica
    sender.deliver_due(egress.pool(sender.allowed), eventlet.GreenPool(10))
    assert receiver.seen == {"wh_1:evt-now-0": 1}


def test_a_redelivered_event_is_not_sent_again_and_gives_its_slot_back(db, receiver):
    sender = replica(db)
    event = order_step(db, receiver)
    notify.enqueue(db, "order_packed", event, {"external_id": "x"}, sender)
    assert wait_for(lambda: receiver.seen == {"wh_1:evt-now-0": 1}, 5)
    notify.enqueue(db, "order_packed", event, {"external_id": "x"}, sender)  # a redelivery
    eventlet.sleep(0.2)
    assert receiver.seen == {"wh_1:evt-now-0": 1}
    assert sender.new_slots.balance == 20


def answering(app):
    sock = eventlet.listen(("127.0.0.1", 0))
    thread = eventlet.spawn(wsgi.server, sock, app, log_output=False)
    return f"http://127.0.0.1:{sock.getsockname()[1]}/hook", thread


def one_attempt(db, url, timeout=5.0):
    """One delivery to `url`, attempted once; the delivery as recorded."""
    allowed = egress.AllowList("127.0.0.1")
    hook = notify.add_webhook(db, "mer_1", url, ["order_packed"], allowed)
    event = {"event_id": "evt-1", "occurred_at": "2026-11-24T01:00:00.000Z"}
    event |= {"merchant_id": "mer_1", "order_id": "ord_1"}
    notify.enqueue(db, "order_packed", event, {"external_id": "INV-1"})
    deliverer = replica(db)
    deliverer.timeout = timeout
    claimed = deliverer.claim(db.deliveries.find_one({"webhook_id": hook["_id"]}))
    deliverer.attempt(egress.pool(deliverer.allowed), claimed)
    return db.deliveries.find_one({"_id": claimed["_id"]})


def test_a_redirect_is_not_followed_the_delivery_is_retried(db, receiver):
    def moved(environ, start_response):
        start_response("302 Found", [("Location", receiver.url), ("Content-Length", "0")])
        return [b""]

    url, thread = answering(moved)
    try:
        delivery = one_attempt(db, url)
    finally:
        thread.kill()
    assert delivery["status"] == "pending" and delivery["last_status_code"] == 302
    assert delivery["attempts"] == 1 and receiver.seen == {}  # not 2xx: retried later


def test_failed_attempts_keep_their_error_names(db):
    refused = one_attempt(db, "http://127.0.0.1:1/hook")
    assert refused["last_error"] == "ConnectionError" and refused["last_status_code"] is None

    def slow(environ, start_response):
        eventlet.sleep(1)
        start_response("200 OK", [("Content-Length", "0")])
        return [b""]

    url, thread = answering(slow)
    db.webhooks.delete_many({})
    db.deliveries.delete_many({})
    try:
        assert one_attempt(db, url, timeout=0.2)["last_error"] == "ReadTimeout"
    finally:
        thread.kill()
