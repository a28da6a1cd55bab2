"""Inventory's repository: SKUs, bins, stock per SKU per bin, inbounds, allocations.

Stock documents hold `on_hand`, `reserved` and `available` (= on_hand - reserved)
and the open `reservations` by order id. Reserving is one conditional
`find_one_and_update` per stock document (`available >= qty` and this order holds
no reservation there yet), so concurrent workers, or several inventory
instances on a real MongoDB, can never reserve more than is on hand, and a
redelivered event cannot reserve twice.
"""

from pymongo import ASCENDING, ReturnDocument

from gudang_common.errors import Conflict, NotFound, Unprocessable
from gudang_common.events import iso, new_event, utcnow
from gudang_common.store import (
    DuplicateKeyError,
    Repository,
    insert_with_events,
    staged,
    update_with_events,
)

RECENT_APPLIED = 500  # receipts remembered per stock document for idempotent put-away


def _public(doc, drop=("_id",)):
    return {k: v for k, v in doc.items() if k not in drop and not k.startswith("_")}


class InventoryRepository(Repository):
    OUTBOX_COLLECTIONS = ("inbounds", "allocations")

    @classmethod
    def ensure_indexes(cls, db):
        super().ensure_indexes(db)
        db.skus.create_index([("merchant_id", ASCENDING), ("sku", ASCENDING)], unique=True)
        db.bins.create_index([("pick_sequence", ASCENDING)])
        db.stock.create_index([("merchant_id", ASCENDING), ("sku", ASCENDING)])
        db.inbounds.create_index([("merchant_id", ASCENDING)])
        db.allocations.create_index([("merchant_id", ASCENDING), ("status", ASCENDING)])

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

    def put_away(self, merchant_id, sku, bin_doc, qty, receipt_id):
        """Add `qty` sellable units to a bin, once per receipt."""
        stock_id = f"{merchant_id}:{sku}:{bin_doc['_id']}"
        self.db.stock.update_one(
            {"_id": stock_id},
            {
                "$setOnInsert": {
                    "merchant_id": merchant_id,
                    "sku": sku,
                    "bin": bin_doc["_id"],
                    "pick_sequence": bin_doc["pick_sequence"],
                    "reserved": 0,
                    "reservations": [],
                    "applied": [],
                    "on_hand": 0,
                    "available": 0,
                }
            },
            upsert=True,
        )
        self.db.stock.update_one(
            {"_id": stock_id, "applied": {"$ne": receipt_id}},
            {
                "$inc": {"on_hand": qty, "available": qty},
                "$push": {"applied": {"$each": [receipt_id], "$slice": -RECENT_APPLIED}},
            },
        )

    def stock_for(self, merchant_id, sku):
        return sorted(
            self.db.stock.find({"merchant_id": merchant_id, "sku": sku}),
            key=lambda d: (d["pick_sequence"], d["bin"]),
        )

    def stock_of_merchant(self, merchant_id):
        return list(self.db.stock.find({"merchant_id": merchant_id}))

    def try_reserve(self, stock_id, order_id, qty):
        return self.db.stock.find_one_and_update(
            {
                "_id": stock_id,
                "available": {"$gte": qty},
                "reservations.order_id": {"$ne": order_id},
            },
            {
                "$inc": {"available": -qty, "reserved": qty},
                "$push": {"reservations": {"order_id": order_id, "qty": qty}},
            },
            return_document=ReturnDocument.AFTER,
        )

    def release(self, stock_id, order_id, qty):
        """Give a reservation back to available stock (cancel, backorder)."""
        return self.db.stock.update_one(
            {"_id": stock_id, "reservations.order_id": order_id},
            {
                "$inc": {"available": qty, "reserved": -qty},
                "$pull": {"reservations": {"order_id": order_id}},
            },
        ).modified_count

    def ship_out(self, stock_id, order_id, qty):
        """A packed order's units leave on-hand (and the reservation ends)."""
        return self.db.stock.update_one(
            {"_id": stock_id, "reservations.order_id": order_id},
            {
                "$inc": {"on_hand": -qty, "reserved": -qty},
                "$pull": {"reservations": {"order_id": order_id}},
            },
        ).modified_count

    def reservations_of(self, merchant_id, sku, order_id):
        return [
            (d, r["qty"])
            for d in self.stock_for(merchant_id, sku)
            for r in d.get("reservations", [])
            if r["order_id"] == order_id
        ]

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
                "received_at": order["occurred_at"],
                "updated_at": iso(utcnow()),
            },
            [staged(event_type, event)],
        )
        try:
            self.db.allocations.insert_one(doc)
        except DuplicateKeyError:
            return False
        self.events_written()
        return True

    def move_allocation(
        self, order_id, from_statuses, status, lines=None, event_type=None, event=None
    ):
        update = {"$set": {"status": status, "updated_at": iso(utcnow())}}
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

    def backorders(self, merchant_id):
        docs = self.db.allocations.find({"merchant_id": merchant_id, "status": "backordered"})
        return sorted(docs, key=lambda d: (d["received_at"], d["_id"]))

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


def new_stock_received(merchant_id, inbound_id, lines, units_good, receipt_id):
    return new_event(
        "stock_received",
        merchant_id=merchant_id,
        inbound_id=inbound_id,
        receipt_id=receipt_id,
        lines=lines,
        units_good=units_good,
    )


def check_unprocessable(condition, message, fields):
    if condition:
        raise Unprocessable(message, fields)
