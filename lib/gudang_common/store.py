"""The Mongo dependency: one database per service, its repository, and its outbox relay.

With MONGO_URI set the database is a real MongoDB (pymongo); without it, an
embedded durable store with pymongo's API (litemongo: SQLite files under
DATA_DIR). Repositories use only what both support: single-document atomic
updates, unique indexes, find and aggregate.

The transactional outbox: a repository stores the events a state change causes
in the same document write (`_outbox` list plus an indexed `_outbox_pending`
flag). The relay, one green thread per service, publishes them with publisher
confirms and `mandatory`, then removes exactly the published ones. A crash
between the write and the publish loses nothing; a crash between the publish and
the removal publishes again, which consumers absorb (they are idempotent).
"""

import logging
import os
import threading
import time
from pathlib import Path

import eventlet
from nameko.amqp.publish import Publisher, UndeliverableMessage
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
    import litemongo

    data_dir = Path(config.get("DATA_DIR") or os.environ.get("GUDANG_DATA_DIR") or "var/data")
    client = litemongo.MongoClient(store=str(data_dir / service_name))
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


class Repository:
    """Base of each service's repository; subclasses name their outbox collections."""

    OUTBOX_COLLECTIONS = ()

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


class OutboxRelay:
    def __init__(self, db, collections, amqp_uri, source, metrics, poll_interval=1.0):
        self.db = db
        self.collections = collections
        self.source = source
        self.metrics = metrics
        self.poll_interval = poll_interval
        self.exchange = event_exchange(source)
        self.publisher = Publisher(
            amqp_uri,
            use_confirms=True,
            mandatory=True,
            serializer="json",
            declare=[self.exchange],
            retry=True,
            retry_policy={"max_retries": 1, "interval_start": 0.2, "interval_step": 0.5},
        )
        self._wake = threading.Event()
        self._running = False
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
                published = self.drain()
                failures = 0
            except Exception as exc:  # broker down, unroutable, store hiccup: retry
                failures += 1
                published = 0
                log.warning("outbox relay of %s: %s (retry %s)", self.source, exc, failures)
                self.metrics.outbox_failures.labels(self.source).inc()
                eventlet.sleep(min(0.2 * 2**failures, 5.0))
                continue
            if published:
                continue  # more may be waiting; loop without sleeping
            self.idle.set()
            self._wake.wait(self.poll_interval)
            self._wake.clear()
            self.idle.clear()

    def stop(self):
        self._running = False
        self._wake.set()

    def drain(self, batch=200):
        published = 0
        for name in self.collections:
            coll = self.db[name]
            for doc in coll.find({PENDING: True}, {OUTBOX: 1}).limit(batch):
                events = doc.get(OUTBOX) or []
                done = []
                for event in events:
                    started = time.perf_counter()
                    try:
                        self.publisher.publish(
                            event["body"],
                            exchange=self.exchange,
                            routing_key=event["type"],
                            message_id=event["body"]["event_id"],
                            headers={"x-gudang-event-type": event["type"]},
                        )
                    except UndeliverableMessage:
                        raise RuntimeError(
                            f"{event['type']} is unroutable: queues not declared"
                        ) from None
                    finally:
                        self.metrics.publish_latency.labels(self.source).observe(
                            time.perf_counter() - started
                        )
                    self.metrics.events_published.labels(self.source, event["type"]).inc()
                    done.append(event["body"]["event_id"])
                if done:
                    coll.update_one(
                        {"_id": doc["_id"]},
                        {"$pull": {OUTBOX: {"body.event_id": {"$in": done}}}},
                    )
                # only clear the flag if no worker appended events meanwhile
                coll.update_one(
                    {"_id": doc["_id"], OUTBOX: {"$size": 0}}, {"$set": {PENDING: False}}
                )
                published += len(done)
        return published


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
