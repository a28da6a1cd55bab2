"""Inventory's repository: SKUs, bins, stock per SKU, bin and lot, inbounds, allocations,
returns and the movement ledger.

Stock documents (one per merchant, SKU, bin and lot; damaged units sit in the
QUARANTINE location) hold `on_hand`, `reserved` and `available` (= on_hand -
reserved) and the open `reservations` by order id. Reserving is one conditional
`find_one_and_update` per stock document (`available >= qty` and this order holds
no reservation there yet), so concurrent workers, or several inventory
instances on a real MongoDB, can never reserve more than is on hand, and a
redelivered event cannot reserve twice.

Every quantity change pushes its movement onto the stock document's `_movements`
list in that same update, so a movement can never be lost or counted without its
change; `flush_movements` then copies them into the `movements` collection (keyed
by movement id, idempotent) and pulls them, like the outbox relay does for events.
"""

import uuid
from datetime import timedelta

from pymongo import ASCENDING, ReturnDocument

from gudang_common.errors import Conflict, NotFound
from gudang_common.events import iso, new_event, utcnow
from gudang_common.store import (
    DuplicateKeyError,
    Repository,
    insert_with_events,
    staged,
    update_with_events,
)

from .domain import QUARANTINE, stock_id

RECENT_APPLIED = 500  # apply keys remembered per stock document for idempotent arrivals
MOVEMENTS = "_movements"
MOVEMENTS_PENDING = "_movements_pending"
LOW = "_low_stock"


def movement(kind, qty, reserved=0, ref=None, reason=None, by=None, transfer=None):
    """One immutable ledger entry: `qty` changes on-hand, `reserved` changes reserved."""
    mv = {
        "movement_id": f"mv_{uuid.uuid4().hex}",
        "type": kind,
        "qty": qty,
        "reserved": reserved,
        "ref": ref,
        "reason": reason,
        "by": by,
        "at": iso(utcnow()),
    }
    if transfer:
        mv["transfer"] = transfer
    return mv


def _public(doc, drop=("_id",)):
    return {k: v for k, v in doc.items() if k not in drop and not k.startswith("_")}


class InventoryRepository(Repository):
    OUTBOX_COLLECTIONS = ("inbounds", "allocations", "skus", "returns")

    @classmethod
    def ensure_indexes(cls, db):
        super().ensure_indexes(db)
        db.skus.create_index([("merchant_id", ASCENDING), ("sku", ASCENDING)], unique=True)
        db.bins.create_index([("pick_sequence", ASCENDING)])
        db.stock.create_index([("merchant_id", ASCENDING), ("sku", ASCENDING)])
        db.inbounds.create_index([("merchant_id", ASCENDING)])
        db.allocations.create_index([("merchant_id", ASCENDING), ("status", ASCENDING)])
        db.stock.create_index([(MOVEMENTS_PENDING, ASCENDING)])
        db.stock.create_index([("bin", ASCENDING)])
        db.movements.create_index([("merchant_id", ASCENDING), ("sku", ASCENDING)])
        db.movements.create_index([("stock_id", ASCENDING)])
        db.returns.create_index([("status", ASCENDING)])
        db.returns.create_index([("merchant_id", ASCENDING)])
        # single-field keys for the hot queries: the embedded store indexes each field on its
        # own and intersects, so {merchant_id, sku} would cost the merchant's whole bucket
        db.stock.create_index([("merchant_sku", ASCENDING)])
        db.movements.create_index([("merchant_sku", ASCENDING)])
        db.movements.create_index([("ref", ASCENDING)])
        db.allocations.create_index([("backorder_of", ASCENDING)])
        cls._backfill(db)

    @classmethod
    def _backfill(cls, db):
        """Give documents written before these keys existed their key (idempotent)."""
        for doc in db.allocations.find({"status": "backordered"}, {"merchant_id": 1}):
            db.allocations.update_one(
                {"_id": doc["_id"], "status": "backordered"},
                {"$set": {"backorder_of": doc["merchant_id"]}},
            )
        if db.meta.find_one({"_id": "stock_keys"}) is None:  # a one-off full pass
            for coll in (db.stock, db.movements):
                for doc in coll.find(
                    {"merchant_sku": {"$exists": False}}, {"merchant_id": 1, "sku": 1}
                ):
                    coll.update_one(
                        {"_id": doc["_id"]},
                        {"$set": {"merchant_sku": f"{doc['merchant_id']}:{doc['sku']}"}},
                    )
            db.meta.update_one({"_id": "stock_keys"}, {"$set": {"done": True}}, upsert=True)

    @classmethod
    def gauges(cls, db, config):
        def pending_movements():
            return [((), db.stock.count_documents({MOVEMENTS_PENDING: True}))]

        def awaiting_inspection():
            return [((), db.returns.count_documents({"status": "awaiting_inspection"}))]

        def backordered():
            return [((), db.allocations.count_documents({"status": "backordered"}))]

        return [
            (
                "gudang_inventory_movements_pending",
                "Stock documents whose movements wait to be copied into the ledger",
                (),
                pending_movements,
            ),
            (
                "gudang_inventory_returns_awaiting_inspection",
                "Returned parcels waiting for staff to inspect them",
                (),
                awaiting_inspection,
            ),
            (
                "gudang_inventory_backordered_orders",
                "Orders waiting for stock",
                (),
                backordered,
            ),
        ]

    # --- SKUs -------------------------------------------------------------

    def add_sku(self, merchant_id, data):
        doc = dict(
            data,
            _id=f"{merchant_id}:{data['sku']}",
            merchant_id=merchant_id,
            created_at=iso(utcnow()),
        )
        try:
            self.db.skus.insert_one(doc)
        except DuplicateKeyError:
            raise Conflict(
                f"SKU {data['sku']} already exists", {"sku": ["Already registered."]}
            ) from None
        return _public(doc)

    def get_sku(self, merchant_id, sku):
        doc = self.db.skus.find_one({"_id": f"{merchant_id}:{sku}"})
        if doc is None:
            raise NotFound(f"SKU {sku} not found", {"sku": ["Unknown SKU."]})
        return _public(doc)

    def list_skus(self, merchant_id):
        return [
            _public(d)
            for d in self.db.skus.find({"merchant_id": merchant_id}).sort("sku", ASCENDING)
        ]

    def update_sku(self, merchant_id, sku, changes):
        doc = self.db.skus.find_one_and_update(
            {"_id": f"{merchant_id}:{sku}"},
            {"$set": dict(changes, updated_at=iso(utcnow()))},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            raise NotFound(f"SKU {sku} not found", {"sku": ["Unknown SKU."]})
        return _public(doc)

    def sku_docs(self, merchant_id, skus):
        ids = [f"{merchant_id}:{s}" for s in skus]
        return {d["sku"]: d for d in self.db.skus.find({"_id": {"$in": ids}})}

    def known_skus(self, merchant_id, skus):
        ids = [f"{merchant_id}:{s}" for s in skus]
        return {d["sku"] for d in self.db.skus.find({"_id": {"$in": ids}}, {"sku": 1})}

    # --- bins -------------------------------------------------------------

    def add_bin(self, data):
        doc = dict(data, _id=data["code"], created_at=iso(utcnow()))
        try:
            self.db.bins.insert_one(doc)
        except DuplicateKeyError:
            raise Conflict(
                f"bin {data['code']} already exists", {"code": ["Already exists."]}
            ) from None
        return _public(doc)

    def update_bin(self, code, pick_sequence):
        """Renumber a bin. Stock documents keep a copy of the sequence (allocation sorts by
        it without reading bins); sending the same change again repairs a partial update."""
        doc = self.db.bins.find_one_and_update(
            {"_id": code},
            {"$set": {"pick_sequence": pick_sequence, "updated_at": iso(utcnow())}},
            return_document=ReturnDocument.AFTER,
        )
        if doc is None:
            raise NotFound(f"bin {code} not found", {"code": ["Unknown bin."]})
        self.db.stock.update_many({"bin": code}, {"$set": {"pick_sequence": pick_sequence}})
        return _public(doc)

    def get_bin(self, code):
        return self.db.bins.find_one({"_id": code})

    def list_bins(self):
        return [_public(d) for d in self.db.bins.find({}).sort("pick_sequence", ASCENDING)]

    def first_bin(self):
        docs = list(self.db.bins.find({}).sort("pick_sequence", ASCENDING).limit(1))
        return docs[0] if docs else None

    # --- inbounds ---------------------------------------------------------

    def add_inbound(self, doc):
        self.db.inbounds.insert_one(doc)
        return doc

    def get_inbound(self, inbound_id):
        return self.db.inbounds.find_one({"_id": inbound_id})

    def list_inbounds(self, merchant_id):
        return list(
            self.db.inbounds.find({"merchant_id": merchant_id}).sort("created_at", ASCENDING)
        )

    def record_receipt(self, inbound, receipt, received, discrepancies, status, event):
        """Append a receipt to the inbound, with its stock_received event, in one write.

        The write is conditional on the receipt count read, so two staff members
        receiving the same inbound at once cannot both apply on stale totals."""
        update = update_with_events(
            {
                "$push": {"receipts": receipt},
                "$set": {"received": received, "discrepancies": discrepancies, "status": status},
                "$inc": {"receipt_count": 1},
            },
            [staged("stock_received", event)],
        )
        done = self.db.inbounds.find_one_and_update(
            {"_id": inbound["_id"], "receipt_count": inbound.get("receipt_count", 0)},
            update,
            return_document=ReturnDocument.AFTER,
        )
        if done is None:
            raise Conflict(
                "the inbound changed meanwhile; send the receipt again", {"lines": ["Retry."]}
            )
        self.events_written()
        return done

    # --- stock ------------------------------------------------------------

    def _ensure_stock(self, sid, merchant_id, sku, bin_code, pick_sequence, lot, expiry):
        self.db.stock.update_one(
            {"_id": sid},
            {
                "$setOnInsert": {
                    "merchant_id": merchant_id,
                    "sku": sku,
                    "merchant_sku": f"{merchant_id}:{sku}",
                    "bin": bin_code,
                    "lot": lot,
                    "expiry": expiry,
                    "pick_sequence": pick_sequence,
                    "reserved": 0,
                    "reservations": [],
                    "applied": [],
                    "on_hand": 0,
                    "available": 0,
                    "first_in_at": iso(utcnow()),
                    MOVEMENTS: [],
                    MOVEMENTS_PENDING: False,
                }
            },
            upsert=True,
        )

    def add_units(
        self,
        merchant_id,
        sku,
        bin_code,
        pick_sequence,
        qty,
        apply_key,
        kind,
        lot=None,
        expiry=None,
        ref=None,
        reason=None,
        by=None,
    ):
        """Units arrive in a location, once per `apply_key`: sellable in a bin, counted but
        never sellable in quarantine. The movement is written in the same update."""
        sid = stock_id(merchant_id, sku, bin_code, lot)
        self._ensure_stock(sid, merchant_id, sku, bin_code, pick_sequence, lot, expiry)
        inc = {"on_hand": qty} if bin_code == QUARANTINE else {"on_hand": qty, "available": qty}
        done = self._change(
            {"_id": sid, "applied": {"$ne": apply_key}},
            inc,
            movement(kind, qty, ref=ref, reason=reason, by=by),
            push={"applied": {"$each": [apply_key], "$slice": -RECENT_APPLIED}},
            stamp="last_in_at",
        )
        return sid if done else None

    def put_away(self, merchant_id, sku, bin_doc, qty, receipt_id):
        """Add `qty` sellable units to a bin, once per receipt (lot-less stock)."""
        return self.add_units(
            merchant_id,
            sku,
            bin_doc["_id"],
            bin_doc["pick_sequence"],
            qty,
            receipt_id,
            "receive",
            ref=receipt_id,
        )

    def _change(self, query, inc, mv, push=None, pull=None, stamp=None):
        """One conditional single-document update: quantities and their movement together."""
        update = {
            "$inc": inc,
            "$push": dict(push or {}, **{MOVEMENTS: mv}),
            "$set": {MOVEMENTS_PENDING: True},
        }
        if stamp:
            update["$set"][stamp] = mv["at"]
        if pull:
            update["$pull"] = pull
        done = self.db.stock.find_one_and_update(
            query, update, return_document=ReturnDocument.AFTER
        )
        if done is not None:
            self.flush_movements(done["_id"])
        return done

    def get_stock(self, sid):
        return self.db.stock.find_one({"_id": sid}, {MOVEMENTS: 0})

    def stock_for(self, merchant_id, sku):
        return sorted(
            self.db.stock.find({"merchant_sku": f"{merchant_id}:{sku}"}, {MOVEMENTS: 0}),
            key=lambda d: (d["pick_sequence"], d["bin"], d["_id"]),
        )

    def stock_of_merchant(self, merchant_id):
        return list(self.db.stock.find({"merchant_id": merchant_id}, {MOVEMENTS: 0}))

    def units_by_merchant(self):
        """Units on hand per merchant, quarantine included (they take shelf space too).

        Reads every stock document: once a day for storage billing, and the count
        grows with SKUs, bins and lots, not with orders."""
        units = {}
        for doc in self.db.stock.find({}, {"merchant_id": 1, "on_hand": 1}):
            units[doc["merchant_id"]] = units.get(doc["merchant_id"], 0) + doc["on_hand"]
        return {merchant: n for merchant, n in units.items() if n > 0}

    def try_reserve(self, sid, order_id, qty):
        return self._change(
            {"_id": sid, "available": {"$gte": qty}, "reservations.order_id": {"$ne": order_id}},
            {"available": -qty, "reserved": qty},
            movement("reserve", 0, reserved=qty, ref=order_id),
            push={"reservations": {"order_id": order_id, "qty": qty}},
        )

    def release(self, sid, order_id, qty):
        """Give a reservation back to available stock (cancel, backorder)."""
        done = self._change(
            {"_id": sid, "reservations.order_id": order_id},
            {"available": qty, "reserved": -qty},
            movement("release", 0, reserved=-qty, ref=order_id),
            pull={"reservations": {"order_id": order_id}},
        )
        return int(done is not None)

    def ship_out(self, sid, order_id, qty):
        """A packed order's units leave on-hand (and the reservation ends)."""
        done = self._change(
            {"_id": sid, "reservations.order_id": order_id},
            {"on_hand": -qty, "reserved": -qty},
            movement("pick", -qty, reserved=-qty, ref=order_id),
            pull={"reservations": {"order_id": order_id}},
            stamp="last_out_at",
        )
        return int(done is not None)

    def adjust(self, sid, qty, mv):
        """Add or remove units by staff decision; never below what orders hold."""
        query = {"_id": sid}
        quarantine = sid.split(":")[2] == QUARANTINE
        if qty < 0:
            query["on_hand" if quarantine else "available"] = {"$gte": -qty}
        inc = {"on_hand": qty} if quarantine else {"on_hand": qty, "available": qty}
        return self._change(query, inc, mv, stamp="last_out_at" if qty < 0 else "last_in_at")

    def count(self, sid, on_hand_seen, counted, mv):
        """Set on-hand to what was counted, if nothing moved since it was read."""
        delta = counted - on_hand_seen
        query = {"_id": sid, "on_hand": on_hand_seen}
        quarantine = sid.split(":")[2] == QUARANTINE
        if not quarantine:
            query["reserved"] = {"$lte": counted}
        inc = {"on_hand": delta} if quarantine else {"on_hand": delta, "available": delta}
        return self._change(query, inc, mv)

    def move_out(self, sid, qty, mv):
        """The first half of a move between locations; the flusher lands the second half
        (`mv["transfer"]`), so a crash in between cannot lose the units."""
        quarantine = sid.split(":")[2] == QUARANTINE
        query = {"_id": sid, ("on_hand" if quarantine else "available"): {"$gte": qty}}
        inc = {"on_hand": -qty} if quarantine else {"on_hand": -qty, "available": -qty}
        return self._change(query, inc, mv, stamp="last_out_at")

    def reservations_of(self, merchant_id, sku, order_id):
        return [
            (d, r["qty"])
            for d in self.stock_for(merchant_id, sku)
            for r in d.get("reservations", [])
            if r["order_id"] == order_id
        ]

    # --- movement ledger ----------------------------------------------------

    def flush_movements(self, sid):
        """Copy a stock document's pending movements into `movements` (keyed by movement
        id, so copying twice is harmless), land pending transfers, then drop them."""
        doc = self.db.stock.find_one(
            {"_id": sid}, {MOVEMENTS: 1, "merchant_id": 1, "sku": 1, "bin": 1, "lot": 1}
        )
        pending = (doc or {}).get(MOVEMENTS) or []
        if not pending:
            return 0
        for mv in pending:
            transfer = mv.get("transfer")
            if transfer:
                self.add_units(
                    doc["merchant_id"],
                    doc["sku"],
                    transfer["bin"],
                    transfer["pick_sequence"],
                    -mv["qty"],
                    mv["movement_id"],
                    mv["type"],
                    lot=doc.get("lot"),
                    expiry=transfer.get("expiry"),
                    ref=mv["movement_id"],
                    reason=mv.get("reason"),
                    by=mv.get("by"),
                )
            record = {k: v for k, v in mv.items() if k != "transfer"}
            record.update(
                _id=mv["movement_id"],
                stock_id=sid,
                merchant_id=doc["merchant_id"],
                sku=doc["sku"],
                merchant_sku=f"{doc['merchant_id']}:{doc['sku']}",
                bin=doc["bin"],
                lot=doc.get("lot"),
            )
            try:
                self.db.movements.insert_one(record)
            except DuplicateKeyError:
                pass
        ids = [mv["movement_id"] for mv in pending]
        self.db.stock.update_one(
            {"_id": sid}, {"$pull": {MOVEMENTS: {"movement_id": {"$in": ids}}}}
        )
        self.db.stock.update_one(
            {"_id": sid, MOVEMENTS: {"$size": 0}}, {"$set": {MOVEMENTS_PENDING: False}}
        )
        return len(ids)

    def flush_pending_movements(self, merchant_id=None):
        """Finish what a crash left between a stock write and its ledger copy (few documents:
        the pending flag alone selects them)."""
        pending = self.db.stock.find({MOVEMENTS_PENDING: True}, {"merchant_id": 1})
        return sum(
            self.flush_movements(d["_id"])
            for d in pending
            if merchant_id is None or d["merchant_id"] == merchant_id
        )

    def movements(self, merchant_id, filters, limit):
        """The merchant's movements, newest first. The most selective key picks the
        candidates (an order or receipt reference, else merchant + SKU, else the merchant's
        whole ledger); the other filters and the time window are applied to those."""
        filters = {k: v for k, v in filters.items() if v is not None}
        since, until = filters.pop("since", None), filters.pop("until", None)
        if filters.get("ref"):
            query = {"ref": filters.pop("ref")}
        elif filters.get("sku"):
            query = {"merchant_sku": f"{merchant_id}:{filters.pop('sku')}"}
        else:
            query = {"merchant_id": merchant_id}
        since, until = since and iso(since), until and iso(until)
        found = [
            d
            for d in self.db.movements.find(query, {"_id": 0})
            if d["merchant_id"] == merchant_id
            and all(d.get(k) == v for k, v in filters.items())
            and (since is None or d["at"] >= since)
            and (until is None or d["at"] < until)
        ]
        found.sort(key=lambda d: d["at"], reverse=True)
        return found[:limit]

    def movements_of_stock(self, sid):
        return list(self.db.movements.find({"stock_id": sid}))

    # --- low stock ----------------------------------------------------------

    def flag_low(self, merchant_id, sku, event):
        """Mark the SKU low with its stock_low event, only if it was not marked already."""
        done = self.db.skus.find_one_and_update(
            {"_id": f"{merchant_id}:{sku}", LOW: {"$ne": True}},
            update_with_events({"$set": {LOW: True}}, [staged("stock_low", event)]),
        )
        if done is not None:
            self.events_written()
        return done is not None

    def clear_low(self, merchant_id, sku):
        return self.db.skus.update_one(
            {"_id": f"{merchant_id}:{sku}", LOW: True}, {"$set": {LOW: False}}
        ).modified_count

    def sku_doc(self, merchant_id, sku):
        return self.db.skus.find_one({"_id": f"{merchant_id}:{sku}"})

    # --- returns ------------------------------------------------------------

    def open_return(self, doc):
        try:
            self.db.returns.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    def get_return(self, return_id):
        return self.db.returns.find_one({"_id": return_id})

    def list_returns(self, merchant_id=None, status=None, limit=100):
        query = {}
        if merchant_id:
            query["merchant_id"] = merchant_id
        if status:
            query["status"] = status
        return list(self.db.returns.find(query).sort("opened_at", ASCENDING).limit(limit))

    def record_inspection(self, return_id, inspection, event):
        done = self.db.returns.find_one_and_update(
            {"_id": return_id, "status": "awaiting_inspection"},
            update_with_events(
                {"$set": {"status": "inspected", "inspection": inspection}},
                [staged("return_inspected", event)],
            ),
            return_document=ReturnDocument.AFTER,
        )
        if done is not None:
            self.events_written()
        return done

    # --- allocations ------------------------------------------------------

    def get_allocation(self, order_id):
        return self.db.allocations.find_one({"_id": order_id})

    def save_allocation(self, order_id, merchant_id, status, order, lines, event_type, event):
        """Record the outcome for an order with its event; False if one exists already."""
        doc = insert_with_events(
            {
                "_id": order_id,
                "merchant_id": merchant_id,
                "status": status,
                "order": order,
                "lines": lines,
                "skus": sorted({line["sku"] for line in order["lines"]}),
                "received_at": order["occurred_at"],
                "updated_at": iso(utcnow()),
            },
            [staged(event_type, event)],
        )
        if status == "backordered":
            doc["backorder_of"] = merchant_id  # the merchant's queue, one index bucket
        try:
            self.db.allocations.insert_one(doc)
        except DuplicateKeyError:
            return False
        self.events_written()
        return True

    def move_allocation(
        self, order_id, from_statuses, status, lines=None, event_type=None, event=None
    ):
        update = {
            "$set": {"status": status, "updated_at": iso(utcnow())},
            "$unset": {"backorder_of": ""},  # nothing moves into backordered, only out
        }
        if lines is not None:
            update["$set"]["lines"] = lines
        if event_type:
            update = update_with_events(update, [staged(event_type, event)])
        done = self.db.allocations.find_one_and_update(
            {"_id": order_id, "status": {"$in": list(from_statuses)}},
            update,
            return_document=ReturnDocument.AFTER,
        )
        if done is not None and event_type:
            self.events_written()
        return done

    def claim_backorder(self, order_id, token, stale_after_seconds=60):
        """Only one worker at a time tries to allocate a waiting order: two attempts would
        each count the other's reservations as their own and one could release them under
        the other. A claim left by a crashed worker goes stale and can be taken over."""
        now = utcnow()
        stale = iso(now - timedelta(seconds=stale_after_seconds))
        return self.db.allocations.find_one_and_update(
            {
                "_id": order_id,
                "status": "backordered",
                "$or": [{"claim": None}, {"claim.at": {"$lt": stale}}],
            },
            {"$set": {"claim": {"token": token, "at": iso(now)}}},
            return_document=ReturnDocument.AFTER,
        )

    def allocate_claimed(self, order_id, token, lines, event):
        done = self.db.allocations.find_one_and_update(
            {"_id": order_id, "status": "backordered", "claim.token": token},
            update_with_events(
                {
                    "$set": {
                        "status": "allocated",
                        "lines": lines,
                        "claim": None,
                        "updated_at": iso(utcnow()),
                    },
                    "$unset": {"backorder_of": ""},
                },
                [staged("order_allocated", event)],
            ),
            return_document=ReturnDocument.AFTER,
        )
        if done is not None:
            self.events_written()
        return done

    def unclaim(self, order_id, token):
        self.db.allocations.update_one(
            {"_id": order_id, "claim.token": token}, {"$set": {"claim": None}}
        )

    def backorders(self, merchant_id):
        docs = self.db.allocations.find({"backorder_of": merchant_id})
        return sorted(
            (d for d in docs if d["status"] == "backordered"),
            key=lambda d: (d["received_at"], d["_id"]),
        )

    def backordered_skus(self, merchant_id):
        """SKUs some waiting order of this merchant needs (a new order must queue behind)."""
        skus = set()
        for doc in self.db.allocations.find(
            {"backorder_of": merchant_id}, {"status": 1, "skus": 1, "order.lines": 1}
        ):
            if doc["status"] != "backordered":
                continue
            skus.update(doc.get("skus") or [line["sku"] for line in doc["order"]["lines"]])
        return skus

    def cancel_unseen(self, order_id, merchant_id):
        """A cancel that arrives before the order: leave a tombstone so it is never allocated."""
        try:
            self.db.allocations.insert_one(
                {
                    "_id": order_id,
                    "merchant_id": merchant_id,
                    "status": "cancelled",
                    "lines": [],
                    "received_at": iso(utcnow()),
                }
            )
        except DuplicateKeyError:
            return False
        return True

    # --- storage days (storage_days.py) -------------------------------------

    def storage_snapshot(self, since):
        """Every stock document's on-hand with its unflushed movements, then the sum per
        merchant of the ledger's movements from `since` up to the moment the read began
        (a range on the `at` index, created here so this query never scans the ledger)."""
        self.db.movements.create_index([("at", ASCENDING)])
        started = iso(utcnow())
        stock = list(self.db.stock.find({}, {"merchant_id": 1, "on_hand": 1, MOVEMENTS: 1}))
        window = {"at": {"$gte": since, "$lt": started}}
        rows = self.db.movements.aggregate(
            [
                {"$match": window},
                {"$group": {"_id": "$merchant_id", "qty": {"$sum": "$qty"}}},
            ]
        )
        pending = [mv["movement_id"] for d in stock for mv in d.get(MOVEMENTS) or []]
        flushed = {
            d["_id"] for d in self.db.movements.find(dict(window, _id={"$in": pending}), {"_id": 1})
        }
        return {
            "stock": stock,
            "moved_since": {r["_id"]: r["qty"] for r in rows},
            "flushed": flushed,
        }


def new_stock_received(merchant_id, inbound_id, lines, units_good, receipt_id):
    return new_event(
        "stock_received",
        merchant_id=merchant_id,
        inbound_id=inbound_id,
        receipt_id=receipt_id,
        lines=lines,
        units_good=units_good,
    )
