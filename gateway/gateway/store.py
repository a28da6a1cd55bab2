"""Gateway's repository: accounts and API keys, the SKU catalog it checks orders
against, and orders with their tracking timeline (the read model)."""

import hashlib
import re
import secrets
from datetime import timedelta

from pymongo import ASCENDING

from gudang_common.clock import iso, parse_iso, utcnow
from gudang_common.pagination import ascending, newest_first, page, time_range
from gudang_common.store import Repository

from . import accounts, notify, payments
from .tracking import (
    IN_FLIGHT,
    NOT_PACKED,
    last_cutoff_utc,
    next_cutoff_utc,
    order_move,
    timeline_entry,
)


def merchant_key(merchant_id, value):
    """A merchant's value (an order number, a status) as one indexed value; merchant ids
    hold no colon, so no two merchants' keys meet."""
    return f"{merchant_id}:{value}"


def order_keys(order):
    """The order's keys: its number, its status and its channel, each the merchant's."""
    fields = {"external_key": "external_id", "status_key": "status", "channel_key": "channel"}
    return {k: merchant_key(order["merchant_id"], order.get(f)) for k, f in fields.items()}


def keyed_move(order, event_type, event):
    """The fields an event sets on an order (tracking.order_move), its status key with them."""
    fields = order_move(order, event_type, event)
    if "status" in fields:
        fields["status_key"] = merchant_key(order.get("merchant_id"), fields["status"])
    return fields


def hash_key(api_key):
    return hashlib.sha256(api_key.encode()).hexdigest()


def new_api_key(prefix):
    return f"{prefix}_{secrets.token_urlsafe(24)}"


KEY_ID = re.compile(r"key_[0-9a-f]{20}")


def key_id(key_hash):
    """A key's public name: derived from its stored hash, so keys made before names had one."""
    return f"key_{key_hash[:20]}"


def api_key_view(doc):
    return {
        "key_id": key_id(doc["_id"]),
        "name": doc.get("name", "default"),
        "prefix": doc.get("prefix"),
        "created_at": doc.get("created_at"),
        "last_used_at": doc.get("last_used_at"),
        "revoked_at": doc.get("revoked_at"),
    }


UPLOAD_KEPT = timedelta(days=1)  # an order file previewed, not yet confirmed
ORDER_LIST = newest_first("received_at")
KEY_LIST = ascending("created_at")
MAX_LIVE_KEYS = 20  # a principal's live keys: enough for every shop tool, bounded
# what applying an event reads of the order: what the write is conditional on, and its
# number for the merchant's webhooks (read once, here)
TIMELINE_READ = dict.fromkeys(
    ("merchant_id", "status", "seen", "outcome_correction", "buyer_returned", "external_id"), 1
)


class GatewayRepository(Repository):
    OUTBOX_COLLECTIONS = ("orders", "promoters", "merchants")

    @classmethod
    def ensure_indexes(cls, db):
        super().ensure_indexes(db)
        db.promoters.create_index([("referral_code", ASCENDING)], unique=True)
        # sign-up must not tell anyone whether an email is registered, so emails may repeat;
        # databases from before keep a unique index that would refuse the second one
        if db.merchants.index_information().get("email_1", {}).get("unique"):
            db.merchants.drop_index("email_1")
        # sign-in by email (emails may repeat: sign-in tries the oldest accounts first)
        db.merchants.create_index([("email", ASCENDING), ("created_at", ASCENDING)])
        db.promoters.create_index([("email", ASCENDING), ("created_at", ASCENDING)])
        # a principal's keys, and its sessions (signed out together when the password changes)
        db.api_keys.create_index([("principal_id", ASCENDING), *KEY_LIST])
        db.sessions.create_index([("principal_id", ASCENDING)])
        # the merchant and what it looks orders up by, in one field each (the keys): the
        # embedded store indexes each field apart, so {merchant_id, status} would read the
        # merchant's every order first. A merchant's order number is unique.
        cls._backfill_order_keys(db)
        db.orders.create_index([("external_key", ASCENDING)], unique=True, sparse=True)
        # the merchant's order list, newest first, whole or by status or channel: each with
        # the list's sort (received_at, _id) in one index, so a page is one range read
        for field in ("merchant_id", "status_key", "channel_key"):
            db.orders.create_index([(field, ASCENDING), *ORDER_LIST])
        for old in ("merchant_id_1_external_id_1", "merchant_id_1_received_at_-1"):
            if old in db.orders.index_information():
                db.orders.drop_index(old)
        # the backlog by status and age (the gauges)
        db.orders.create_index([("status", ASCENDING), ("received_at", ASCENDING)])
        db.orders.create_index([("awb", ASCENDING)])
        # files waiting between their preview and the merchant's confirmation
        db.import_uploads.create_index([("merchant_id", ASCENDING), ("created_at", ASCENDING)])
        notify.ensure_indexes(db)

    @classmethod
    def _backfill_order_keys(cls, db):
        """Give orders stored before the keys existed their keys, once (a marker says it was
        done, so a start does not read every order)."""
        if db.migrations.find_one({"_id": "orders.keys"}) is not None:
            return
        fields = {"merchant_id": 1, "external_id": 1, "status": 1, "channel": 1}
        for doc in db.orders.find({"status_key": {"$exists": False}}, fields):
            db.orders.update_one({"_id": doc["_id"]}, {"$set": order_keys(doc)})
        db.migrations.update_one({"_id": "orders.keys"}, {"$set": {"done": True}}, upsert=True)

    @classmethod
    def gauges(cls, db, config):
        cutoff_hour = int(config.get("COURIER_CUTOFF_HOUR_WIB", 15))

        def by_status():
            return [((s,), db.orders.count_documents({"status": s})) for s in IN_FLIGHT]

        def unpacked_received_before(moment):
            # ISO UTC strings sort as times
            return db.orders.count_documents(
                {"status": {"$in": list(NOT_PACKED)}, "received_at": {"$lt": iso(moment)}}
            )

        def missed_cutoff():
            return [((), unpacked_received_before(last_cutoff_utc(utcnow(), cutoff_hour)))]

        def at_risk():
            now = utcnow()
            nxt = next_cutoff_utc(now, cutoff_hour)
            if (nxt - now).total_seconds() > 2 * 3600:
                return [((), 0)]
            return [((), unpacked_received_before(nxt))]

        return [
            ("gudang_orders_by_status", "Orders in flight per status", ("status",), by_status),
            (
                "gudang_orders_missed_cutoff",
                "Orders not packed though received before the last courier cut-off",
                (),
                missed_cutoff,
            ),
            (
                "gudang_orders_at_risk",
                "Orders not packed with the courier cut-off less than 2 hours away",
                (),
                at_risk,
            ),
        ]

    # --- accounts ---------------------------------------------------------

    def add_api_key(self, role, principal_id, staff_role=None, name="default"):
        return self.create_api_key(role, principal_id, name, staff_role)[0]

    def create_api_key(self, role, principal_id, name, staff_role=None):
        """(the key, shown once; its stored record)."""
        api_key = new_api_key({"merchant": "mk", "promoter": "pk", "staff": "sk"}[role])
        doc = {
            "_id": hash_key(api_key),
            "role": role,
            "principal_id": principal_id,
            "name": name,
            # enough to tell keys apart in a list, far too little to guess the rest
            "prefix": api_key[:8],
            "created_at": iso(utcnow()),
            "last_used_at": None,
            "revoked_at": None,
        }
        if staff_role:
            doc["staff_role"] = staff_role
        self.db.api_keys.insert_one(doc)
        return api_key, doc

    def principal(self, api_key):
        """The live key's record, its last-used time brought up to the minute (at most one
        conditional write a minute per key: the read shows whether it is due)."""
        doc = self.db.api_keys.find_one({"_id": hash_key(api_key)})
        if doc is None or doc.get("revoked_at"):
            return None
        now = utcnow()
        last = doc.get("last_used_at")
        if accounts.due_for_touch(last, now):
            self.db.api_keys.update_one(
                {"_id": doc["_id"], "last_used_at": last}, {"$set": {"last_used_at": iso(now)}}
            )
        return doc

    def api_keys_of(self, principal_id, limit=MAX_LIVE_KEYS * 5, cursor=None):
        """A page of the principal's keys, revoked ones too, oldest first, and the next
        page's cursor."""
        query = {"principal_id": principal_id}
        return page(self.db.api_keys, query, KEY_LIST, limit, cursor)

    def api_key_of(self, principal_id, wanted):
        """The principal's key named `wanted` (a key_id), or None."""
        if not KEY_ID.fullmatch(wanted or ""):
            return None
        start = wanted.removeprefix("key_")
        # the ids are hex: every hash starting with `start` sorts between it and start + "g"
        query = {"principal_id": principal_id, "_id": {"$gte": start, "$lt": start + "g"}}
        return self.db.api_keys.find_one(query)

    def live_key_count(self, principal_id):
        return self.db.api_keys.count_documents({"principal_id": principal_id, "revoked_at": None})

    def set_key_revoked(self, key_hash, revoked_at):
        """Revoke (a time) or restore (None) one key; whether it changed."""
        before = None if revoked_at else {"$ne": None}
        done = self.db.api_keys.update_one(
            {"_id": key_hash, "revoked_at": before}, {"$set": {"revoked_at": revoked_at}}
        )
        return bool(done.modified_count)

    # --- passwords and sessions -------------------------------------------

    def accounts_by_email(self, collection, email, most=5):
        # the oldest first: accounts made later with the same email cannot crowd it out
        docs = self.db[collection].find({"email": email}).sort("created_at", ASCENDING)
        return list(docs.limit(most))

    def set_password_hash(self, collection, account_id, password_hash, expected=...):
        """Store a password hash; with `expected`, only over that hash (a rehash that another
        request's password change has overtaken is dropped)."""
        query = {"_id": account_id}
        if expected is not ...:
            query["password_hash"] = expected
        done = self.db[collection].update_one(query, {"$set": {"password_hash": password_hash}})
        return bool(done.modified_count)

    def add_session(self, doc):
        # sessions past their 7 days, never seen again, go when their principal signs in anew
        oldest = iso(parse_iso(doc["created_at"]) - accounts.SESSION_ABSOLUTE)
        self.db.sessions.delete_many(
            {"principal_id": doc["principal_id"], "created_at": {"$lt": oldest}}
        )
        self.db.sessions.insert_one(doc)

    def live_session(self, token):
        """The session behind a cookie, while it lives; its idle clock moved at most once a
        minute. An expired one is deleted when it is seen."""
        doc = self.db.sessions.find_one({"_id": accounts.token_hash(token)})
        if doc is None:
            return None
        now = utcnow()
        if not accounts.session_live(doc, now):
            self.db.sessions.delete_one({"_id": doc["_id"]})
            return None
        last = doc["last_seen_at"]
        if accounts.due_for_touch(last, now):
            self.db.sessions.update_one(
                {"_id": doc["_id"], "last_seen_at": last}, {"$set": {"last_seen_at": iso(now)}}
            )
            doc["last_seen_at"] = iso(now)
        return doc

    def end_session(self, session_id):
        self.db.sessions.delete_one({"_id": session_id})

    def end_sessions_of(self, principal_id, keep=None):
        self.db.sessions.delete_many({"principal_id": principal_id, "_id": {"$ne": keep}})

    def add_account(self, collection, doc, event_type=None, event=None):
        """Store a new account (with its event); False when its id or a unique field is taken."""
        return self.insert_once(collection, doc, [(event_type, event)] if event_type else ())

    def get_account(self, collection, account_id):
        return self.db[collection].find_one({"_id": account_id})

    def promoter_by_code(self, code):
        return self.db.promoters.find_one({"referral_code": code})

    # --- virtual accounts and the payments reported into them ----------------

    def virtual_account_of(self, merchant_id, prefix):
        """The merchant's virtual account number, drawn the first time it is asked for:
        `virtual_accounts` (keyed by number) decides a clash, and the merchant keeps the
        first number it holds there (a concurrent draw finds it on the re-read)."""
        for attempt in range(20):
            merchant = self.get_account("merchants", merchant_id)
            if merchant.get("virtual_account"):
                return merchant["virtual_account"]
            number = payments.va_number(prefix, merchant_id, attempt)
            self.insert_once("virtual_accounts", {"_id": number, "merchant_id": merchant_id})
            if self.merchant_of_virtual_account(number) == merchant_id:
                self.db.merchants.update_one(
                    {"_id": merchant_id, "virtual_account": {"$exists": False}},
                    {"$set": {"virtual_account": number}},
                )
        raise RuntimeError(f"no free virtual account number for {merchant_id}")

    def merchant_of_virtual_account(self, number):
        found = self.db.virtual_accounts.find_one({"_id": number})
        return found["merchant_id"] if found else None

    def record_provider_payment(self, doc):
        """The provider's payment as first reported (keyed by its payment id): the record
        a repeat is checked against."""
        self.insert_once("provider_payments", doc)
        return self.db.provider_payments.find_one({"_id": doc["_id"]})

    # --- SKU catalog ------------------------------------------------------

    def add_to_catalog(self, merchant_id, sku):
        """Record a registered SKU; False when it is there already (a redelivered event)."""
        return self.insert_once(
            "catalog", {"_id": f"{merchant_id}:{sku}", "merchant_id": merchant_id, "sku": sku}
        )

    def known_skus(self, merchant_id, skus):
        ids = [f"{merchant_id}:{s}" for s in skus]
        return {d["sku"] for d in self.db.catalog.find({"_id": {"$in": ids}})}

    # --- idempotency keys -------------------------------------------------

    def begin_request(self, scope, key, fingerprint, stale_after):
        """Claim (scope, key) for a request. Returns None when claimed, else the record.

        A record left running by a crash is taken over once it is `stale_after` seconds old."""
        now = iso(utcnow())
        doc = {
            "_id": f"{scope}:{key}",
            "fingerprint": fingerprint,
            "state": "running",
            "started_at": now,
        }
        if self.insert_once("idempotency", doc):
            return None
        existing = self.db.idempotency.find_one({"_id": doc["_id"]})
        if existing["state"] == "running" and existing["fingerprint"] == fingerprint:
            age = (parse_iso(now) - parse_iso(existing["started_at"])).total_seconds()
            if age > stale_after:
                taken = self.db.idempotency.update_one(
                    {"_id": doc["_id"], "started_at": existing["started_at"]},
                    {"$set": {"started_at": now}},
                )
                if taken.modified_count:
                    return None
        return existing

    def finish_request(self, scope, key, status, body):
        self.db.idempotency.update_one(
            {"_id": f"{scope}:{key}"},
            {
                "$set": {
                    "state": "done",
                    "status": status,
                    "body": body,
                    "finished_at": iso(utcnow()),
                }
            },
        )

    def forget_request(self, scope, key):
        self.db.idempotency.delete_one({"_id": f"{scope}:{key}", "state": "running"})

    # --- low-stock alerts -------------------------------------------------

    def add_stock_alert(self, merchant_id, alert, keep):
        """Keep the merchant's newest alerts in one document, once per event."""
        # not one conditional upsert: on a redelivery it would try to insert a second document
        self.insert_once("stock_alerts", {"_id": merchant_id, "alerts": []})
        self.db.stock_alerts.update_one(
            {"_id": merchant_id, "alerts.event_id": {"$ne": alert["event_id"]}},
            {"$push": {"alerts": {"$each": [alert], "$slice": -keep}}},
        )

    def stock_alerts(self, merchant_id):
        doc = self.db.stock_alerts.find_one({"_id": merchant_id}) or {}
        return list(reversed(doc.get("alerts", [])))

    # --- orders -----------------------------------------------------------

    def add_order(self, doc, event):
        """Store a received order with its order_received; False when its external_id is taken."""
        doc.update(order_keys(doc))
        return self.insert_once("orders", doc, [("order_received", event)])

    def get_order(self, order_id):
        return self.db.orders.find_one({"_id": order_id})

    def order_by_external_id(self, merchant_id, external_id):
        return self.db.orders.find_one({"external_key": merchant_key(merchant_id, external_id)})

    def order_by_awb(self, awb):
        return self.db.orders.find_one({"awb": awb})

    def orders_of(self, merchant_id, filters=None, limit=50, cursor=None):
        """A page of the merchant's orders, newest first, and the next page's cursor.

        `filters` (status, channel, external_id, since, until; None for any) are all in
        the query, which one of the order indexes serves with its sort."""
        filters = {k: v for k, v in (filters or {}).items() if v is not None}
        since, until = filters.pop("since", None), filters.pop("until", None)
        query = {"merchant_id": merchant_id}
        # the most selective key alone picks the orders (at most one by its number); the
        # other filters narrow them
        for field in ("external_id", "status", "channel"):
            if field in filters:
                key = merchant_key(merchant_id, filters.pop(field))
                query = {f"{field.removesuffix('_id')}_key": key} | filters
                break
        if since or until:
            query["received_at"] = time_range(since, until)
        projection = {"timeline": 0, "seen": 0, "_outbox": 0}
        return page(self.db.orders, query, ORDER_LIST, limit, cursor, projection)

    def count_orders(self, merchant_id, status):
        return self.db.orders.count_documents({"merchant_id": merchant_id, "status": status})

    # --- order files between preview and confirmation (the dashboard) -----

    def keep_upload(self, doc, chunks):
        """Store an uploaded file as `chunks` (bytes, each well under a document's 16 MiB)
        under doc["_id"]; the merchant's uploads older than a day go."""
        self.drop_uploads(doc["merchant_id"], iso(utcnow() - UPLOAD_KEPT))
        count = 0
        for count, chunk in enumerate(chunks, start=1):
            self.db.import_chunks.insert_one({"_id": f"{doc['_id']}:{count}", "data": chunk})
        self.db.import_uploads.insert_one(dict(doc, chunks=count))

    def take_upload(self, merchant_id, upload_id):
        """The upload, taken: a second confirmation finds nothing (one atomic delete)."""
        return self.db.import_uploads.find_one_and_delete(
            {"_id": upload_id, "merchant_id": merchant_id}
        )

    def upload_chunks(self, upload):
        for n in range(1, upload["chunks"] + 1):
            yield self.db.import_chunks.find_one({"_id": f"{upload['_id']}:{n}"})["data"]

    def drop_uploads(self, merchant_id, before):
        """Forget the merchant's uploads made before `before` (ISO UTC)."""
        old = self.db.import_uploads.find(
            {"merchant_id": merchant_id, "created_at": {"$lt": before}}
        )
        for upload in list(old):
            self.drop_upload(upload)

    def drop_upload(self, upload):
        """Forget an upload's pieces (and the upload, when it was not taken)."""
        ids = [f"{upload['_id']}:{n}" for n in range(1, upload["chunks"] + 1)]
        self.db.import_chunks.delete_many({"_id": {"$in": ids}})
        self.db.import_uploads.delete_one({"_id": upload["_id"]})

    def apply_event(self, event_type, event):
        """Put an event on the order's timeline once (False when it was there already)."""
        return self.apply_event_to_order(event_type, event)[0]

    def apply_event_to_order(self, event_type, event):
        """Put an event on the order's timeline once; move status forward only (a corrected
        parcel outcome excepted: tracking.order_move). Returns (whether it was applied now,
        the order as read: its merchant, status and external_id, for the webhooks).

        Optimistic: the write is conditional on the status read, so two events for
        one order applied at once cannot both move it; the loser re-reads."""
        for _ in range(20):
            order = self.db.orders.find_one({"_id": event["order_id"]}, TIMELINE_READ)
            if order is None:
                raise LookupError(f"order {event['order_id']} not in the read model yet")
            if event["event_id"] in order.get("seen", []):
                return False, order
            update = {
                "$push": {"timeline": timeline_entry(event_type, event), "seen": event["event_id"]},
                "$set": {"updated_at": iso(utcnow())},
            }
            update["$set"].update(keyed_move(order, event_type, event))
            if event_type == "parcel_booked":
                keys = ("awb", "courier", "shipping_cost", "chargeable_weight_g")
                update["$set"].update({key: event[key] for key in keys})
            done = self.db.orders.update_one(
                {
                    "_id": event["order_id"],
                    "status": order["status"],
                    "outcome_correction": order.get("outcome_correction"),
                    "buyer_returned": order.get("buyer_returned"),
                    "seen": {"$ne": event["event_id"]},
                },
                update,
            )
            if done.modified_count:
                return True, order
        raise RuntimeError(f"order {event['order_id']} kept changing; will retry")
