"""Merchant webhooks: every step of an order is POSTed to the merchant's URLs, signed.

A delivery is a document keyed `<webhook_id>:<event_id>`, created when the event
lands on the timeline (again on a redelivery, harmlessly: the key is unique).
The replica that creates it stores it already claimed and POSTs it at once (at most
WEBHOOK_SEND_NOW_MAX at a time; beyond that it is stored unclaimed for the next pass).
The deliverer, a green thread in every gateway replica, POSTs what is due every
0.2 s: retries, and deliveries whose claim lapsed. Each is signed with
`X-Gudang-Signature: sha256=<HMAC of the body with the webhook's secret>`; failures
are retried with a doubling delay until WEBHOOK_MAX_ATTEMPTS, then marked failed
(visible to the merchant and in metrics).

Replicas share the deliveries: before sending, a replica claims one with a single
conditional update that moves its `next_attempt_at` a lease ahead
(WEBHOOK_LEASE_SECONDS) and stamps a claim token; only the replica whose update
matched sends it, and only the holder of the token may record the outcome. A
replica that dies holding a claim leaves the delivery due again once the lease
has passed, and another replica takes it over.
"""

import json
import logging
import secrets
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import eventlet
import urllib3
from eventlet.semaphore import Semaphore
from nameko.extensions import DependencyProvider
from pymongo import ASCENDING

from gudang_common.errors import ValidationFailed
from gudang_common.events import iso, parse_iso, utcnow
from gudang_common.metrics import for_container
from gudang_common.pagination import ascending, newest_first, page
from gudang_common.store import DuplicateKeyError, ServiceStore
from gudang_common.topology import SUBSCRIPTIONS

from . import egress
from .tracking import STATUS_OF
from .webhooks import sign

log = logging.getLogger(__name__)

# every order step the gateway's read model receives (order_received is the merchant's own)
DELIVERY_LIST = newest_first("created_at")
WEBHOOK_LIST = ascending("created_at")
DELIVERABLE = tuple(e for c, _, e in SUBSCRIPTIONS if c == "gateway" and e in STATUS_OF)
# what a merchant may subscribe to: the order steps (the default) and its stock alerts
STOCK_EVENTS = ("stock_low",)
SUBSCRIBABLE = DELIVERABLE + STOCK_EVENTS


def ensure_indexes(db):
    db.webhooks.create_index([("merchant_id", ASCENDING), *WEBHOOK_LIST])
    db.deliveries.create_index([("status", ASCENDING), ("next_attempt_at", ASCENDING)])
    # a webhook's deliveries, newest first, a page at a time
    db.deliveries.create_index([("webhook_id", ASCENDING), *DELIVERY_LIST])
    if "webhook_id_1_created_at_-1" in db.deliveries.index_information():
        db.deliveries.drop_index("webhook_id_1_created_at_-1")  # the one above serves it


def check_url(url, allowed=None):
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationFailed(
            "webhook url must be http(s)://host/...", {"url": ["Not an http(s) URL."]}
        )
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        egress.public_addresses(parts.hostname, port, allowed or egress.AllowList(), False)
    except (egress.BlockedTarget, ValueError) as refused:
        reason = getattr(refused, "reason", "not a valid host or port")
        raise ValidationFailed(
            "webhook url must point to the public internet",
            {"url": [f"Not a public address: {reason}."]},
        ) from None


def add_webhook(db, merchant_id, url, events, allowed=None):
    check_url(url, allowed)
    unknown = sorted(set(events) - set(SUBSCRIBABLE))
    if unknown:
        raise ValidationFailed(
            "unknown event types", {"events": [f"Unknown: {', '.join(unknown)}."]}
        )
    doc = {
        "_id": f"wh_{secrets.token_hex(10)}",
        "merchant_id": merchant_id,
        "url": url,
        "events": sorted(events) or list(DELIVERABLE),
        "secret": f"whsec_{secrets.token_urlsafe(24)}",
        "active": True,
        "created_at": iso(utcnow()),
    }
    db.webhooks.insert_one(doc)
    return doc


def webhook_view(doc, with_secret=False):
    view = {k: doc[k] for k in ("url", "events", "active", "created_at")}
    view["webhook_id"] = doc["_id"]
    if with_secret:
        view["secret"] = doc["secret"]
    return view


def delivery_body(db, event_type, event, order=None):
    """What the merchant's URL receives: the event, and for an order step the order's ids
    (`order`: the order as the read model just read it, else it is read here)."""
    body = {
        "event": event_type,
        "event_id": event["event_id"],
        "occurred_at": event["occurred_at"],
        "data": {
            k: v for k, v in event.items() if k not in ("event_id", "occurred_at", "merchant_id")
        },
    }
    if event_type in STOCK_EVENTS:
        return body | {"sku": event["sku"]}
    if order is None:
        order = db.orders.find_one({"_id": event["order_id"]}, {"external_id": 1}) or {}
    return body | {"order_id": event["order_id"], "external_id": order.get("external_id")}


def enqueue(db, event_type, event, order=None, sender=None):
    """Create one delivery per matching webhook of the event's merchant (idempotent);
    `order` as for delivery_body. `sender` (this replica's WebhookDeliverer) sends each new
    delivery at once when it has a free slot: the delivery is stored already claimed by it,
    so no pass sends it too; with no slot free it waits for the next pass."""
    hooks = db.webhooks.find({"merchant_id": event["merchant_id"], "active": True})
    hooks = [h for h in hooks if event_type in h["events"]]
    if not hooks:
        return
    body = json.dumps(delivery_body(db, event_type, event, order), separators=(",", ":"))
    for hook in hooks:
        now = iso(utcnow())
        delivery = {
            "_id": f"{hook['_id']}:{event['event_id']}",
            "webhook_id": hook["_id"],
            "merchant_id": event["merchant_id"],
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "body": body,
            "event": event_type,
            "created_at": now,
        }
        taken = sender is not None and sender.take_new(delivery)
        try:
            db.deliveries.insert_one(delivery)
        except DuplicateKeyError:
            if taken:
                sender.release()
            continue
        if taken:
            sender.send_new(delivery, hook)


def webhooks_of(db, merchant_id, limit=100, cursor=None):
    """A page of the merchant's webhooks, oldest first, and the next page's cursor."""
    return page(db.webhooks, {"merchant_id": merchant_id}, WEBHOOK_LIST, limit, cursor)


def get_webhook(db, webhook_id):
    return db.webhooks.find_one({"_id": webhook_id})


def deactivate(db, webhook_id):
    db.webhooks.update_one({"_id": webhook_id}, {"$set": {"active": False}})


def deliveries_of(db, webhook_id, limit=50, cursor=None):
    """A page of the webhook's deliveries, newest first, and the next page's cursor."""
    query = {"webhook_id": webhook_id}
    docs, after = page(db.deliveries, query, DELIVERY_LIST, limit, cursor, {"body": 0})
    keys = (
        "event",
        "status",
        "attempts",
        "last_status_code",
        "last_error",
        "delivered_at",
        "created_at",
    )
    return [{"delivery_id": d["_id"]} | {k: d.get(k) for k in keys} for d in docs], after


class WebhookDeliverer(DependencyProvider):
    """Runs the delivery loop beside the gateway's store."""

    def setup(self):
        config = self.container.config
        self.max_attempts = int(config.get("WEBHOOK_MAX_ATTEMPTS", 8))
        self.base_delay = float(config.get("WEBHOOK_RETRY_BASE_SECONDS", 10))
        self.timeout = float(config.get("WEBHOOK_TIMEOUT_SECONDS", 5))
        self.allowed = egress.AllowList(config.get("WEBHOOK_ALLOWED_HOSTS"))
        # longer than a send can take (connect + read timeouts), so a live claim never lapses
        self.lease = float(config.get("WEBHOOK_LEASE_SECONDS", max(60.0, 4 * self.timeout)))
        self.metrics = for_container(self.container)
        self.outcomes = self.metrics.counter(
            "gudang_webhook_deliveries", "Merchant webhook delivery attempts", ("outcome",)
        )
        self.running = False
        self.wake = eventlet.event.Event()
        # deliveries sent the moment their event lands, at most this many at once
        self.new_slots = Semaphore(int(config.get("WEBHOOK_SEND_NOW_MAX", 20)))
        self.http = None  # their session, opened with the first

    def start(self):
        store = next(d for d in self.container.dependencies if isinstance(d, ServiceStore))
        self.db = store.db
        self.metrics.add_gauge(
            "gudang_webhook_deliveries_pending",
            "Merchant webhook deliveries waiting to be sent",
            lambda: [((), self.db.deliveries.count_documents({"status": "pending"}))],
            labels=(),
        )
        self.running = True
        self.container.spawn_managed_thread(self.run)

    def stop(self):
        self.running = False

    kill = stop

    def get_dependency(self, worker_ctx):
        return self

    @property
    def no_retry(self):
        """One attempt per delivery: its outcome is recorded and retried later if need be."""
        timeout = urllib3.Timeout(connect=self.timeout, read=self.timeout)
        return {"timeout": timeout, "retries": False, "redirect": False}

    def run(self):
        http = egress.pool(self.allowed)  # checks every address again as it connects
        pool = eventlet.GreenPool(10)
        while self.running:
            self.deliver_due(http, pool)
            eventlet.sleep(0.2)

    def take_new(self, delivery):
        """Claim a delivery about to be stored, if a slot is free to send it at once (then
        send_new, or release when it was not stored)."""
        if not self.running or not self.new_slots.acquire(blocking=False):
            return False
        delivery["next_attempt_at"] = iso(utcnow() + timedelta(seconds=self.lease))
        delivery["claim"] = uuid.uuid4().hex
        return True

    def release(self):
        self.new_slots.release()

    def send_new(self, delivery, hook):
        if self.http is None:
            self.http = egress.pool(self.allowed)
        eventlet.spawn_n(self._send_new, delivery, hook)

    def _send_new(self, delivery, hook):
        try:
            self.attempt(self.http, delivery, hook)
        except Exception:  # the claim lapses and a pass sends it again
            log.exception("webhook delivery %s failed", delivery["_id"])
        finally:
            self.release()

    def deliver_due(self, http, pool):
        """One pass: claim and send what is due (at most 100)."""
        try:
            now = iso(utcnow())
            due = self.db.deliveries.find(
                {"status": "pending", "next_attempt_at": {"$lte": now}}
            ).sort("next_attempt_at", ASCENDING)
            for delivery in list(due.limit(100)):
                claimed = self.claim(delivery)
                if claimed is not None:
                    pool.spawn_n(self.attempt, http, claimed)
            pool.waitall()
        except Exception:  # the store or a hook misbehaved: keep the loop alive
            log.exception("webhook delivery pass failed")

    def claim(self, delivery):
        """Take the delivery for one lease, or None when another replica has it."""
        now = iso(utcnow())
        if delivery["next_attempt_at"] > now:  # not due, or another replica's lease runs
            return None
        until = iso(parse_iso(now) + timedelta(seconds=self.lease))
        token = uuid.uuid4().hex
        taken = self.db.deliveries.update_one(
            {
                "_id": delivery["_id"],
                "status": "pending",
                "attempts": delivery["attempts"],
                "next_attempt_at": delivery["next_attempt_at"],
            },
            {"$set": {"next_attempt_at": until, "claim": token}},
        )
        if not taken.modified_count:
            return None
        return dict(delivery, next_attempt_at=until, claim=token)

    def attempt(self, http, delivery, hook=None):
        """Send a claimed delivery and record the outcome (`hook`: its webhook, when the
        caller has just read it)."""
        mine = {"_id": delivery["_id"], "claim": delivery["claim"]}
        if hook is None:
            hook = self.db.webhooks.find_one({"_id": delivery["webhook_id"]})
        if hook is None or not hook.get("active"):
            self.db.deliveries.update_one(mine, {"$set": {"status": "cancelled"}})
            return
        body = delivery["body"].encode()
        headers = {
            "Content-Type": "application/json",
            "X-Gudang-Event": delivery["event"],
            "X-Gudang-Delivery": delivery["_id"],
            "X-Gudang-Signature": sign(hook["secret"], body),
        }
        code, error = None, None
        try:
            resp = http.request("POST", hook["url"], body=body, headers=headers, **self.no_retry)
            code = resp.status
        except urllib3.exceptions.HTTPError as exc:
            error = egress.request_error(exc)
        except egress.BlockedTarget:
            error = "BlockedTarget"  # its DNS now answers with a private address
        update = self.outcome(delivery["attempts"] + 1, code, error)
        self.db.deliveries.update_one(mine, {"$set": update})

    def outcome(self, attempts, code, error):
        """What an attempt's answer (`code`, or the `error` that kept it from one) records."""
        if code is not None and 200 <= code < 300:
            self.outcomes.labels("delivered").inc()
            return {
                "status": "delivered",
                "attempts": attempts,
                "delivered_at": iso(utcnow()),
                "last_status_code": code,
            }
        gave_up = attempts >= self.max_attempts
        delay = self.base_delay * 2 ** (attempts - 1)
        self.outcomes.labels("failed" if gave_up else "retry").inc()
        return {
            "status": "failed" if gave_up else "pending",
            "attempts": attempts,
            "last_status_code": code,
            "last_error": error,
            "next_attempt_at": iso(parse_iso(iso(utcnow())) + timedelta(seconds=delay)),
        }
