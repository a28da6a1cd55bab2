"""The outbox relay against a real RabbitMQ: confirmed, mandatory, nothing lost."""

import socket
import uuid

import pytest
import requests
from kombu import Connection

from gudang_common.events import new_event
from gudang_common.metrics import ServiceMetrics
from gudang_common.store import (
    OUTBOX,
    PENDING,
    OutboxRelay,
    insert_with_events,
    open_database,
    staged,
    update_with_events,
)
from gudang_common.topology import declare_topology, queue_name

pytestmark = pytest.mark.integration

MGMT = ("http://localhost:15672", ("guest", "guest"))


@pytest.fixture
def amqp_uri():
    name = f"gudang-unit-{uuid.uuid4().hex[:8]}"
    requests.put(f"{MGMT[0]}/api/vhosts/{name}", auth=MGMT[1], timeout=10).raise_for_status()
    requests.put(
        f"{MGMT[0]}/api/permissions/{name}/guest",
        json={"configure": ".*", "write": ".*", "read": ".*"},
        auth=MGMT[1],
        timeout=10,
    ).raise_for_status()
    yield f"pyamqp://guest:guest@localhost:5672/{name}"
    requests.delete(f"{MGMT[0]}/api/vhosts/{name}", auth=MGMT[1], timeout=10)


def _db(tmp_path):
    client, db = open_database({"DATA_DIR": str(tmp_path)}, "gateway")
    return client, db


def _event():
    return new_event(
        "promoter_registered", promoter_id="prm_1", name="Rina", referral_code="RINA-1"
    )


def _depth(amqp_uri, queue):
    with Connection(amqp_uri) as conn:
        _, count, _ = conn.default_channel.queue_declare(queue, passive=True)
        return count


def test_events_written_before_a_crash_are_published_by_the_next_relay(tmp_path, amqp_uri):
    declare_topology(amqp_uri)
    client, db = _db(tmp_path)
    event = _event()
    db.promoters.insert_one(
        insert_with_events({"_id": "prm_1"}, [staged("promoter_registered", event)])
    )
    client.close()  # the process dies here: the event was never published

    client, db = _db(tmp_path)
    relay = OutboxRelay(db, ["promoters"], amqp_uri, "gateway", ServiceMetrics("gateway"))
    assert relay.pending() == 1
    assert relay.drain() == 1
    doc = db.promoters.find_one({"_id": "prm_1"})
    assert doc[OUTBOX] == [] and doc[PENDING] is False
    assert _depth(amqp_uri, queue_name("billing", "gateway", "promoter_registered")) == 1
    assert relay.drain() == 0  # published once
    client.close()


def test_an_unroutable_event_stays_in_the_outbox(tmp_path, amqp_uri):
    # no topology declared: nobody would receive it, so mandatory publishing refuses it
    client, db = _db(tmp_path)
    db.promoters.insert_one(
        insert_with_events({"_id": "prm_1"}, [staged("promoter_registered", _event())])
    )
    relay = OutboxRelay(db, ["promoters"], amqp_uri, "gateway", ServiceMetrics("gateway"))
    with pytest.raises(RuntimeError, match="unroutable"):
        relay.drain()
    assert relay.pending() == 1
    declare_topology(amqp_uri)
    assert relay.drain() == 1
    client.close()


def test_events_appended_while_relaying_are_not_lost(tmp_path, amqp_uri):
    declare_topology(amqp_uri)
    client, db = _db(tmp_path)
    db.promoters.insert_one(
        insert_with_events({"_id": "prm_1"}, [staged("promoter_registered", _event())])
    )
    relay = OutboxRelay(db, ["promoters"], amqp_uri, "gateway", ServiceMetrics("gateway"))
    original = relay.publish_batch

    def publish_and_meanwhile_append(events):
        original(events)
        db.promoters.update_one(
            {"_id": "prm_1"},
            update_with_events({"$set": {"x": 1}}, [staged("promoter_registered", _event())]),
        )

    relay.publish_batch = publish_and_meanwhile_append
    relay.drain()
    assert relay.pending() == 1  # the second event is still waiting, flag kept
    relay.publish_batch = original
    relay.drain()
    assert relay.pending() == 0
    assert _depth(amqp_uri, queue_name("billing", "gateway", "promoter_registered")) == 2
    client.close()


def _stage_promoters(db, documents, events_each):
    ids = []
    for n in range(documents):
        events = [_event() for _ in range(events_each)]
        ids += [e["event_id"] for e in events]
        db.promoters.insert_one(
            insert_with_events(
                {"_id": f"prm_{n}"}, [staged("promoter_registered", e) for e in events]
            )
        )
    return ids


def _received(amqp_uri, queue):
    """Every event id waiting in `queue`, duplicates included, taking them off."""
    ids = []
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        while (message := channel.basic_get(queue, no_ack=True)) is not None:
            ids.append(message.properties["message_id"])
    return ids


def test_a_clean_run_publishes_each_event_exactly_once(tmp_path, amqp_uri):
    declare_topology(amqp_uri)
    client, db = _db(tmp_path)
    ids = _stage_promoters(db, documents=250, events_each=2)  # more than one batch
    relay = OutboxRelay(db, ["promoters"], amqp_uri, "gateway", ServiceMetrics("gateway"))
    while relay.drain():
        pass
    assert relay.pending() == 0
    received = _received(amqp_uri, queue_name("billing", "gateway", "promoter_registered"))
    assert sorted(received) == sorted(ids)  # none missing, none twice
    relay.close()
    client.close()


def test_a_connection_cut_mid_batch_loses_no_event(tmp_path, amqp_uri):
    declare_topology(amqp_uri)
    client, db = _db(tmp_path)
    ids = _stage_promoters(db, documents=20, events_each=3)
    relay = OutboxRelay(db, ["promoters"], amqp_uri, "gateway", ServiceMetrics("gateway"))
    producer = relay._channel()
    original, sent = producer.publish, []

    def publish_then_cut(*args, **kwargs):
        original(*args, **kwargs)
        sent.append(1)
        if len(sent) == 25:  # some events are out, some not, none confirmed to us
            relay._connection.connection.sock.shutdown(socket.SHUT_RDWR)

    producer.publish = publish_then_cut
    with pytest.raises(Exception):  # noqa: B017 (whatever the socket raises)
        relay.drain()
    assert relay.pending() == 20  # nothing was pulled: every event is still in its document
    while relay.drain():  # a fresh connection
        pass
    assert relay.pending() == 0
    received = _received(amqp_uri, queue_name("billing", "gateway", "promoter_registered"))
    assert set(received) == set(ids)  # every event at least once
    relay.close()
    client.close()


def test_an_event_the_broker_returns_fails_its_whole_batch(tmp_path, amqp_uri):
    declare_topology(amqp_uri)
    client, db = _db(tmp_path)
    ids = _stage_promoters(db, documents=3, events_each=2)
    db.promoters.update_one(
        {"_id": "prm_1"},
        update_with_events({"$set": {}}, [staged("nobody_listens", _event())]),
    )
    relay = OutboxRelay(db, ["promoters"], amqp_uri, "gateway", ServiceMetrics("gateway"))
    with pytest.raises(RuntimeError, match="nobody_listens is unroutable"):
        relay.drain()
    assert relay.pending() == 3  # the routable events of the batch are kept too
    db.promoters.update_one({"_id": "prm_1"}, {"$pull": {OUTBOX: {"type": "nobody_listens"}}})
    assert relay.drain() == 6
    received = _received(amqp_uri, queue_name("billing", "gateway", "promoter_registered"))
    assert set(received) == set(ids)  # the refused batch went again: at least once each
    relay.close()
    client.close()
