"""The outbox relay against a real RabbitMQ: confirmed, mandatory, nothing lost."""

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
    original = relay.publisher.publish

    def publish_and_meanwhile_append(*args, **kwargs):
        original(*args, **kwargs)
        if (
            db.promoters.find_one({"_id": "prm_1"})[OUTBOX]
            and len(db.promoters.find_one({"_id": "prm_1"})[OUTBOX]) == 1
        ):
            db.promoters.update_one(
                {"_id": "prm_1"},
                update_with_events({"$set": {"x": 1}}, [staged("promoter_registered", _event())]),
            )

    relay.publisher.publish = publish_and_meanwhile_append
    relay.drain()
    assert relay.pending() == 1  # the second event is still waiting, flag kept
    relay.publisher.publish = original
    relay.drain()
    assert relay.pending() == 0
    assert _depth(amqp_uri, queue_name("billing", "gateway", "promoter_registered")) == 2
    client.close()
