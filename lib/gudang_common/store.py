"""The Mongo dependency: one database per service, its repository, and its outbox relay.

With MONGO_URI set the database is a real MongoDB (pymongo); without it, an
embedded durable store with pymongo's API (litemongo: SQLite files under
DATA_DIR, with the lists' indexes also kept ordered in SQLite: see `embedded`).
Repositories use only what both support: single-document atomic updates, unique
indexes, find and aggregate.

The transactional outbox: a repository stores the events a state change causes
in the same document write (`_outbox` list plus an indexed `_outbox_pending`
flag). The relay, one green thread per service, publishes the pending events of
up to 200 documents as one batch on a confirm-mode channel with `mandatory`,
waits once for the broker's confirms, then removes exactly those events. A
returned or refused event fails the whole batch, which is published again. A crash
between the write and the publish loses nothing; a crash between the publish and
the removal publishes again, which consumers absorb (they are idempotent).
"""

import logging
import os
import threading
import time
from pathlib import Path

import eventlet
from amqp.exceptions import RecoverableConnectionError
from kombu import Connection, Producer
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.extensions import DependencyProvider
from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from .metrics import for_container
from .topology import event_exchange

log = logging.getLogger(__name__)

OUTBOX = "_outbox"
PENDING = "_outbox_pending"


def open_database(config, service_name):
    """Return (client, database) for `service_name` from nameko config."""
    uri = config.get("MONGO_URI") or os.environ.get("MONGO_URI")
    name = f"gudang_{service_name}"
    if uri:
        import pymongo

        client = pymongo.MongoClient(uri, serverSelectionTimeoutMS=10000)
        return client, client[name]
    from .embedded import open_client

    data_dir = Path(config.get("DATA_DIR") or os.environ.get("GUDANG_DATA_DIR") or "var/data")
    client = open_client(data_dir / service_name)
    return client, client[name]


def staged(event_type, body):
    return {"type": event_type, "body": body}


def insert_with_events(doc, events):
    """Add staged events to a new document."""
    if events:
        doc[OUTBOX] = list(events)
        doc[PENDING] = True
    return doc


def update_with_events(update, events):
    """Add staged events to an update document (same single-document write)."""
    if not events:
        return update
    update = {k: dict(v) for k, v in update.items()}
    update.setdefault("$push", {})[OUTBOX] = {"$each": list(events)}
    update.setdefault("$set", {})[PENDING] = True
    return update


def pull_exactly(coll, doc_id, field, key, ids, flag):
    """Take the entries whose `key` is in `ids` off document `doc_id`'s `field` list and
    clear its `flag` once the list is empty: the outbox's events once published, a stock
    document's movements once copied into the ledger.

    One write when the list holds exactly those entries (ids are unique, so its size and
    every id pin it down; entries appended meanwhile make it miss), else a `$pull` and a
    flag cleared only if nothing was appended: never an entry taken that was not done."""
    if ids:
        whole = {"_id": doc_id, field: {"$size": len(ids)}, f"{field}.{key}": {"$all": ids}}
        if coll.update_one(whole, {"$set": {field: [], flag: False}}).matched_count:
            return
        coll.update_one({"_id": doc_id}, {"$pull": {field: {key: {"$in": ids}}}})
    coll.update_one({"_id": doc_id, field: {"$size": 0}}, {"$set": {flag: False}})


class Repository:
    """Base of each service's repository; subclasses name their outbox collections."""

    OUTBOX_COLLECTIONS = ()
    pull_exactly = staticmethod(pull_exactly)  # for lists of their own kept like the outbox

    def __init__(self, db, wake_relay):
        self.db = db
        self._wake_relay = wake_relay

    @classmethod
    def ensure_indexes(cls, db):
        for name in cls.OUTBOX_COLLECTIONS:
            db[name].create_index([(PENDING, ASCENDING)])

    @classmethod
    def gauges(cls, db, config):
        """(name, help, labels, fn) gauges computed from this store at scrape time."""
        return []

    def events_written(self):
        """Tell the relay there is something to publish (it also polls)."""
        self._wake_relay()

    def insert_once(self, collection, doc, events=()):
        """Insert `doc` with its `events` ((type, body) pairs) in the same write.

        Returns False, changing nothing, when a document with its `_id` (or another
        unique key) exists: the way a redelivered event or a repeated request is absorbed."""
        if events:
            doc = insert_with_events(doc, [staged(t, body) for t, body in events])
        try:
            self.db[collection].insert_one(doc)
        except DuplicateKeyError:
            return False
        if events:
            self.events_written()
        return True

    def write_with_events(self, collection, query, update, events=(), projection=None):
        """One conditional single-document update carrying its `events` ((type, body) pairs).

        Returns the document after the update, or None when `query` matched nothing
        (the caller re-reads and decides again)."""
        if events:
            update = update_with_events(update, [staged(t, body) for t, body in events])
        done = self.db[collection].find_one_and_update(
            query, update, projection=projection, return_document=ReturnDocument.AFTER
        )
        if done is not None and events:
            self.events_written()
        return done

    def ping(self):
        self.db.list_collection_names()
        return True


class BatchRefused(RuntimeError):
    """The broker returned or refused an event of the batch: none of it counts as published."""


class ConfirmsMissing(RuntimeError):
    """The broker did not confirm the whole batch in time: none of it counts as published."""


# a connection the broker dropped (a restart, a cut): the next one may well work
CONNECTION_LOST = (OSError, RecoverableConnectionError)


class OutboxRelay:
    """Publishes the outbox's events in batches, one broker confirm wait per batch.

    The events of up to `batch` documents per collection go out on one confirm-mode
    channel with `mandatory`, in document order (a document's events in the order they
    were written); the relay then waits once for the broker's acks and only then pulls
    exactly those events from their documents. A return, a nack, a cut connection or
    missing confirms fail the whole batch: nothing of it is pulled and it is published
    again (consumers are idempotent). The connection is kept between batches; one the
    broker dropped while the relay was idle is replaced at once and the batch sent on
    the new one, so a cut delays nothing by the relay's back-off."""

    def __init__(
        self,
        db,
        collections,
        amqp_uri,
        source,
        metrics,
        poll_interval=1.0,
        confirm_timeout=10.0,
    ):
        self.db = db
        self.collections = collections
        self.amqp_uri = amqp_uri
        self.source = source
        self.metrics = metrics
        self.poll_interval = poll_interval
        self.confirm_timeout = confirm_timeout
        self.exchange = event_exchange(source)
        self._connection = None
        self._producer = None
        self._tag = 0
        self._wake = threading.Event()
        self._running = False
        self.more = False
        self.idle = threading.Event()

    def wake(self):
        self._wake.set()

    def pending(self):
        return sum(self.db[c].count_documents({PENDING: True}) for c in self.collections)

    def run(self):
        self._running = True
        failures = 0
        while self._running:
            try:
                self.drain()
                failures = 0
            except Exception as exc:  # broker down, unroutable, store hiccup: retry
                failures += 1
                log.warning("outbox relay of %s: %s (retry %s)", self.source, exc, failures)
                self.metrics.outbox_failures.labels(self.source).inc()
                eventlet.sleep(min(0.2 * 2**failures, 5.0))
                continue
            if self.more:
                continue  # a batch was full: more is waiting; loop without sleeping
            # events written while this batch went out have set the wake: no re-query
            # when nothing did (one store query less per batch)
            self.idle.set()
            self._wake.wait(self.poll_interval)
            self._wake.clear()
            self.idle.clear()

    def stop(self):
        self._running = False
        self._wake.set()
        self.close()

    def close(self):
        connection, self._connection, self._producer = self._connection, None, None
        if connection is not None:
            try:
                connection.release()
            except Exception:  # already broken: nothing left to release
                log.debug("outbox relay of %s: closing a broken connection", self.source)

    def _channel(self):
        if self._producer is None:
            connection = Connection(self.amqp_uri)
            channel = connection.channel()
            channel.confirm_select()
            self._connection = connection
            self._tag = 0  # the broker numbers a confirm-mode channel's publishes from 1
            self._producer = Producer(channel, exchange=self.exchange, serializer="json")
            self.exchange(channel).declare()
        return self._producer

    def publish_batch(self, events):
        """Publish `events` in order and wait once for the broker to confirm all of them.

        Raises unless the broker took every one: the caller then pulls nothing."""
        kept = self._producer is not None
        try:
            started, refused = self._publish_confirmed(events)
        except CONNECTION_LOST as exc:
            if not kept:
                raise
            log.info(
                "outbox relay of %s: kept connection lost (%s), reconnecting", self.source, exc
            )
            started, refused = self._publish_confirmed(events)
        if refused:
            raise BatchRefused("; ".join(refused))
        confirmed = time.perf_counter()
        for event, at in zip(events, started, strict=True):
            self.metrics.publish_latency.labels(self.source).observe(confirmed - at)
            self.metrics.events_published.labels(self.source, event["type"]).inc()

    def _publish_confirmed(self, events):
        """(publish start times, refusals) of `events` sent on one confirm-mode channel; a
        channel whose confirms are unknown after an error is never used again."""
        try:
            producer = self._channel()
            confirms = _Confirms(self._tag + 1)
            events_of = producer.channel.events
            handlers = {"basic_return": confirms.on_return, "basic_ack": confirms.on_ack}
            handlers["basic_nack"] = confirms.on_nack
            for name, handler in handlers.items():
                events_of[name].add(handler)
            try:
                started = [self._publish(producer, event) for event in events]
                self._await(confirms)
            finally:
                for name, handler in handlers.items():
                    events_of[name].discard(handler)
        except Exception:
            self.close()
            raise
        return started, confirms.refused

    def _publish(self, producer, event):
        at = time.perf_counter()
        producer.publish(
            event["body"],
            routing_key=event["type"],
            mandatory=True,
            delivery_mode=2,
            message_id=event["body"]["event_id"],
            headers={"x-gudang-event-type": event["type"]},
        )
        self._tag += 1
        return at

    def _await(self, confirms):
        deadline = time.monotonic() + self.confirm_timeout
        while not confirms.all_up_to(self._tag):
            remaining = deadline - time.monotonic()
            try:
                if remaining <= 0:
                    raise TimeoutError
                self._connection.connection.drain_events(timeout=remaining)
            except TimeoutError:
                raise ConfirmsMissing(f"no confirms in {self.confirm_timeout}s") from None

    def drain(self, batch=200):
        """Publish every pending event of up to `batch` documents per collection, then pull
        exactly those from their documents. Returns how many events were published; `more`
        says whether a collection had a full batch (so more may be pending)."""
        published, self.more = 0, False
        for name in self.collections:
            coll = self.db[name]
            docs = [
                (doc["_id"], doc.get(OUTBOX) or [])
                for doc in coll.find({PENDING: True}, {OUTBOX: 1}).limit(batch)
            ]
            self.more = self.more or len(docs) == batch
            events = [event for _, outbox in docs for event in outbox]
            if events:
                # a crash before the confirms arrive leaves every event in its document
                self.publish_batch(events)
            for doc_id, outbox in docs:
                done = [event["body"]["event_id"] for event in outbox]
                pull_exactly(coll, doc_id, OUTBOX, "body.event_id", done, PENDING)
            published += len(events)
        return published


class _Confirms:
    """The broker's answers to one batch on a confirm-mode channel, from delivery tag `first`."""

    def __init__(self, first):
        self.first = first
        self.acked = set()
        self.refused = []

    def on_return(self, exc, exchange, routing_key, message):
        self.refused.append(f"{routing_key} is unroutable: queues not declared")

    def on_ack(self, tag, multiple):
        self.acked.update(range(self.first, tag + 1) if multiple else (tag,))

    def on_nack(self, tag, multiple):
        self.refused.append(f"the broker refused delivery tag {tag}")
        self.on_ack(tag, multiple)

    def all_up_to(self, last):
        return self.acked.issuperset(range(self.first, last + 1))


class ServiceStore(DependencyProvider):
    """Gives each worker the service's repository; runs the outbox relay."""

    def __init__(self, repository_cls):
        self.repository_cls = repository_cls

    def setup(self):
        config = self.container.config
        self.client, self.db = open_database(config, self.container.service_name)
        self.repository_cls.ensure_indexes(self.db)
        self.metrics = for_container(self.container)
        self.relay = OutboxRelay(
            self.db,
            self.repository_cls.OUTBOX_COLLECTIONS,
            config[AMQP_URI_CONFIG_KEY],
            self.container.service_name,
            self.metrics,
            poll_interval=float(config.get("OUTBOX_POLL_SECONDS", 1.0)),
        )
        self.metrics.add_gauge(
            "gudang_outbox_pending",
            "Documents whose events wait in the outbox to be published",
            lambda: [((self.container.service_name,), self.relay.pending())],
        )
        for name, doc, labels, fn in self.repository_cls.gauges(self.db, config):
            self.metrics.add_gauge(name, doc, fn, labels=labels)

    def start(self):
        if self.repository_cls.OUTBOX_COLLECTIONS:
            self.container.spawn_managed_thread(self.relay.run)

    def stop(self):
        self.relay.stop()
        self.client.close()

    def kill(self):
        self.relay.stop()

    def get_dependency(self, worker_ctx):
        return self.repository_cls(self.db, self.relay.wake)
