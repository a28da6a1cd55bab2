"""The outbox relay against a real RabbitMQ: confirmed, mandatory, nothing lost."""

import socket
import time
from urllib.parse import quote

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
    pull_exactly,
    staged,
    update_with_events,
)
from gudang_common.topology import declare_topology, queue_name

pytestmark = pytest.mark.integration

MGMT = ("http://localhost:15672", ("guest", "guest"))


def _db(tmp_path):
    client, db = open_database({"DATA_DIR": str(tmp_path)}, "gateway")
    return client, db


@pytest.fixture
def routed(tmp_path, amqp_uri):
    """(database, relay) with every queue declared, closed after the test."""
    declare_topology(amqp_uri)
    client, db = _db(tmp_path)
    relay = _relay(db, amqp_uri)
    yield db, relay
    relay.close()
    client.close()


def _relay(db, amqp_uri):
    return OutboxRelay(db, ["promoters"], amqp_uri, "gateway", ServiceMetrics("gateway"))


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
    relay = _relay(db, amqp_uri)
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
    relay = _relay(db, amqp_uri)
    with pytest.raises(RuntimeError, match="unroutable"):
        relay.drain()
    assert relay.pending() == 1
    declare_topology(amqp_uri)
    assert relay.drain() == 1
    client.close()


def test_events_appended_while_relaying_are_not_lost(routed, amqp_uri):
    db, relay = routed
    db.promoters.insert_one(
        insert_with_events({"_id": "prm_1"}, [staged("promoter_registered", _event())])
    )
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


def _billing_received(amqp_uri):
    return _received(amqp_uri, queue_name("billing", "gateway", "promoter_registered"))


def _received(amqp_uri, queue):
    """Every event id waiting in `queue`, duplicates included, taking them off."""
    ids = []
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        while (message := channel.basic_get(queue, no_ack=True)) is not None:
            ids.append(message.properties["message_id"])
    return ids


def test_a_clean_run_publishes_each_event_exactly_once(routed, amqp_uri):
    db, relay = routed
    ids = _stage_promoters(db, documents=250, events_each=2)  # more than one batch
    while relay.drain():
        pass
    assert relay.pending() == 0
    received = _billing_received(amqp_uri)
    assert sorted(received) == sorted(ids)  # none missing, none twice


def _cut_mid_batch(relay, after, times):
    """Shut the relay's socket after `after` publishes on each of its next `times` connections."""
    original, sent = relay._publish, []

    def publish_then_cut(producer, event):
        at = original(producer, event)
        sent.append(1)
        if len(sent) % after == 0 and len(sent) // after <= times:
            relay._connection.connection.sock.shutdown(socket.SHUT_RDWR)
        return at

    relay._publish = publish_then_cut


def test_a_connection_cut_mid_batch_loses_no_event(routed, amqp_uri):
    db, relay = routed
    ids = _stage_promoters(db, documents=20, events_each=3)
    relay._channel()  # a kept connection, cut mid-batch: the batch goes again on a new one
    _cut_mid_batch(relay, after=25, times=1)
    assert relay.drain() == 60
    assert relay.pending() == 0
    received = _billing_received(amqp_uri)
    assert set(received) == set(ids)  # every event at least once


def test_an_event_the_broker_returns_fails_its_whole_batch(routed, amqp_uri):
    db, relay = routed
    ids = _stage_promoters(db, documents=3, events_each=2)
    db.promoters.update_one(
        {"_id": "prm_1"},
        update_with_events({"$set": {}}, [staged("nobody_listens", _event())]),
    )
    with pytest.raises(RuntimeError, match="nobody_listens is unroutable"):
        relay.drain()
    assert relay.pending() == 3  # the routable events of the batch are kept too
    db.promoters.update_one({"_id": "prm_1"}, {"$pull": {OUTBOX: {"type": "nobody_listens"}}})
    assert relay.drain() == 6
    received = _billing_received(amqp_uri)
    assert set(received) == set(ids)  # the refused batch went again: at least once each


def _cut_from_the_broker(amqp_uri):
    """Close every connection of the test's vhost from RabbitMQ's side, as a broker restart or
    a network cut does (the management API lists a new connection after a moment)."""
    vhost = amqp_uri.rsplit("/", 1)[1]
    for _ in range(100):
        conns = requests.get(f"{MGMT[0]}/api/vhosts/{vhost}/connections", auth=MGMT[1], timeout=10)
        if conns.json():
            break
        time.sleep(0.1)
    for conn in conns.json():
        requests.delete(
            f"{MGMT[0]}/api/connections/{quote(conn['name'], safe='')}",
            auth=MGMT[1],
            headers={"X-Reason": "test: connection cut"},
            timeout=10,
        )
    return len(conns.json())


def test_a_connection_the_broker_cut_while_idle_delays_no_batch(routed, amqp_uri):
    # the relay keeps its connection between batches; a cut while it is idle must not
    # fail the next batch into the back-off (a restock waiting on return_inspected
    # would land seconds late)
    db, relay = routed
    first = _stage_promoters(db, documents=1, events_each=1)
    assert relay.drain() == 1
    assert _cut_from_the_broker(amqp_uri) == 1
    time.sleep(0.2)  # the broker's close has reached the relay's socket
    db.promoters.insert_one(
        insert_with_events({"_id": "prm_late"}, [staged("promoter_registered", e := _event())])
    )
    assert relay.drain() == 1  # no exception: sent at once on a new connection
    assert relay.pending() == 0
    received = _billing_received(amqp_uri)
    assert received == first + [e["event_id"]]


def test_after_a_cut_mid_batch_each_document_s_events_arrive_once_and_in_order(routed, amqp_uri):
    # at least once from the broker; once per event id, in write order per document,
    # for a consumer that skips an event id it has seen (every consumer here does)
    db, relay = routed
    ids = _stage_promoters(db, documents=30, events_each=4)
    relay._channel()
    _cut_mid_batch(relay, after=50, times=2)  # the kept connection and the new one
    with pytest.raises(Exception):  # noqa: B017 (whatever the cut socket raises)
        relay.drain()
    assert relay.pending() == 30  # nothing pulled without the broker's confirms
    while relay.drain():
        pass
    assert relay.pending() == 0
    received = _billing_received(amqp_uri)
    first_seen = list(dict.fromkeys(received))
    assert sorted(first_seen) == sorted(ids)  # none lost
    for n in range(30):
        written = ids[4 * n : 4 * n + 4]
        assert [i for i in first_seen if i in written] == written  # in order per document


@pytest.mark.parametrize("appended", [False, True])
def test_pull_exactly_takes_only_what_was_done(tmp_path, appended):
    client, db = _db(tmp_path)
    done = [_event(), _event()]
    db.promoters.insert_one(
        insert_with_events({"_id": "prm_1"}, [staged("promoter_registered", e) for e in done])
    )
    if appended:  # a worker's write between the relay's read and its pull
        db.promoters.update_one(
            {"_id": "prm_1"},
            update_with_events({"$set": {}}, [staged("promoter_registered", late := _event())]),
        )
    ids = [e["event_id"] for e in done]
    pull_exactly(db.promoters, "prm_1", OUTBOX, "body.event_id", ids, PENDING)
    doc = db.promoters.find_one({"_id": "prm_1"})
    left = [e["body"]["event_id"] for e in doc[OUTBOX]]
    assert left == ([late["event_id"]] if appended else [])
    assert doc[PENDING] is appended  # the flag stays while anything is left
    client.close()


def _running(relay):
    """The relay's loop in a green thread, with a poll too long to hide a missed wake."""
    import eventlet

    relay.poll_interval = 30
    drains, original = [], relay.drain
    relay.drain = lambda *a, **kw: drains.append(1) or original(*a, **kw)
    return eventlet.spawn(relay.run), drains


def _until(check, seconds=5):
    deadline = time.monotonic() + seconds
    while not check() and time.monotonic() < deadline:
        time.sleep(0.02)
    return check()


def test_the_loop_goes_on_after_a_full_batch_and_rests_after_a_partial_one(routed, amqp_uri):
    db, relay = routed
    ids = _stage_promoters(db, documents=250, events_each=1)  # a full batch, then 50
    thread, drains = _running(relay)
    try:
        assert _until(lambda: relay.pending() == 0)  # no 30 s poll between the batches
        time.sleep(0.3)
        assert len(drains) == 2  # the partial batch is not followed by a query for nothing
        db.promoters.insert_one(
            insert_with_events({"_id": "prm_new"}, [staged("promoter_registered", e := _event())])
        )
        relay.wake()  # as a repository does after writing events
        assert _until(lambda: relay.pending() == 0)
    finally:
        relay.stop()
        thread.wait()
    assert sorted(_billing_received(amqp_uri)) == sorted(ids + [e["event_id"]])  # each once


def test_events_written_while_a_batch_goes_out_follow_without_the_poll(routed, amqp_uri):
    db, relay = routed
    first = _stage_promoters(db, documents=1, events_each=1)
    original, late = relay.publish_batch, []

    def publish_and_meanwhile_write(events):
        original(events)
        if not late:
            late.append(_event())
            db.promoters.insert_one(
                insert_with_events({"_id": "prm_late"}, [staged("promoter_registered", late[0])])
            )
            relay.wake()

    relay.publish_batch = publish_and_meanwhile_write
    thread, _ = _running(relay)
    try:
        assert _until(lambda: late and relay.pending() == 0)
    finally:
        relay.stop()
        thread.wait()
    assert sorted(_billing_received(amqp_uri)) == sorted(first + [late[0]["event_id"]])
