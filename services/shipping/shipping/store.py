"""Shipping's repository: parcels (one per order) with their tracking, and their AWBs.

A parcel's `_id` is its order id, so a redelivered order_packed cannot book twice;
its AWB is unique (a unique index), so a random number that clashes is refused.
Tracking updates are conditional on the parcel's `version` and on the report's key
not being recorded yet: the entry, the new status and the event go in one write.
"""

import secrets

from pymongo import ASCENDING, ReturnDocument

from gudang_common.couriers import COURIERS
from gudang_common.store import Repository, staged, update_with_events

from .domain import STAGE

AWB_DIGITS = 12


class AwbTaken(Exception):
    """The random AWB drawn for a new parcel belongs to another parcel: draw again."""


class ShippingRepository(Repository):
    OUTBOX_COLLECTIONS = ("parcels",)

    @classmethod
    def ensure_indexes(cls, db):
        super().ensure_indexes(db)
        db.parcels.create_index([("awb", ASCENDING)], unique=True)
        db.parcels.create_index([("merchant_id", ASCENDING)])
        db.parcels.create_index([("status", ASCENDING)])
        db.parcels.create_index([("manifest_id", ASCENDING)])
        db.parcels.create_index([("corrections", ASCENDING)])
        db.manifests.create_index([("courier", ASCENDING), ("status", ASCENDING)])

    @classmethod
    def gauges(cls, db, config):
        def parcels_by_status():
            # one index-backed count per status: a scrape must stay cheap however many parcels
            return [
                (("shipping", status), db.parcels.count_documents({"status": status}))
                for status in STAGE
            ]

        def corrected():
            return [(("shipping",), db.parcels.count_documents({"corrections": {"$gt": 0}}))]

        return [
            ("gudang_parcels", "Parcels per status", ("service", "status"), parcels_by_status),
            (
                "gudang_parcels_outcome_corrected",
                "Parcels whose told outcome a late courier report corrected (exceptions)",
                ("service",),
                corrected,
            ),
        ]

    @staticmethod
    def new_awb(courier):
        """A new airway bill number: the courier's prefix and 12 random digits.

        Random, not a serial: buyers track by AWB without an account, so the next or
        previous number must not be someone else's parcel."""
        digits = secrets.randbelow(10**AWB_DIGITS)
        return f"{COURIERS[courier]['awb_prefix']}{digits:0{AWB_DIGITS}d}"

    def add_parcel(self, doc, event):
        """Store a booked parcel with its parcel_booked event; False if the order has one.

        Raises AwbTaken when the AWB, not the order, clashed."""
        if self.insert_once("parcels", doc, [("parcel_booked", event)]):
            return True
        if self.get_parcel(doc["_id"]) is None:
            raise AwbTaken(doc["awb"])
        return False

    def get_order(self, order_id):
        return self.db.orders.find_one({"_id": order_id})

    def get_parcel(self, order_id):
        return self.db.parcels.find_one({"_id": order_id})

    def find_by_awb(self, awb):
        return self.db.parcels.find_one({"awb": awb})

    def add_tracking(self, parcel, entry, fields, events=()):
        """Append a tracking entry (and its events) unless recorded or the parcel moved on.

        Returns the updated parcel, or None when the condition failed: re-read and decide
        again. The parcel is not read back: the write is conditional on the version read,
        so the parcel now is the one read plus exactly this change."""
        query = {
            "_id": parcel["_id"],
            "version": parcel["version"],
            "tracking.key": {"$ne": entry["key"]},
        }
        update = {"$push": {"tracking": entry}, "$set": fields, "$inc": {"version": 1}}
        staged_events = [staged(event_type, body) for event_type, body in events]
        done = self.db.parcels.update_one(query, update_with_events(update, staged_events))
        if done.matched_count != 1:
            return None
        if staged_events:
            self.events_written()
        tracking = [*parcel["tracking"], entry]
        return dict(parcel, **fields, tracking=tracking, version=parcel["version"] + 1)

    # --- pickup manifests -------------------------------------------------

    def parcels_awaiting_pickup(self, courier):
        """Booked parcels of a courier on no manifest yet (the day's backlog, not history)."""
        # the status index narrows to the backlog; an index on courier would not help the
        # embedded store, which would gather the courier's whole history to intersect it
        return list(
            self.db.parcels.find(
                {"status": "booked", "courier": courier, "manifest_id": None}, {"tracking": 0}
            )
        )

    def add_manifest(self, doc):
        self.db.manifests.insert_one(doc)

    def claim_for_manifest(self, order_id, manifest_id):
        return self.db.parcels.find_one_and_update(
            {"_id": order_id, "status": "booked", "manifest_id": None},
            {"$set": {"manifest_id": manifest_id}},
            return_document=ReturnDocument.AFTER,
        )

    def scan_for_manifest(self, order_id, manifest_id, scanned_at):
        """Mark a booked parcel as scanned onto the manifest (the first scan's time stays)."""
        return self.db.parcels.find_one_and_update(
            {
                "_id": order_id,
                "status": "booked",
                "manifest_id": {"$in": [None, manifest_id]},
                "handover_scanned_at": None,
            },
            {"$set": {"manifest_id": manifest_id, "handover_scanned_at": scanned_at}},
            projection={"tracking": 0},
            return_document=ReturnDocument.AFTER,
        )

    def release_from_manifest(self, order_id, manifest_id):
        """A parcel the courier did not take waits for the next pickup."""
        self.db.parcels.update_one(
            {"_id": order_id, "manifest_id": manifest_id, "handover_scanned_at": None},
            {"$set": {"manifest_id": None}},
        )

    def parcels_on_manifest(self, manifest_id):
        return list(self.db.parcels.find({"manifest_id": manifest_id}, {"tracking": 0}))

    def set_manifest(self, manifest_id, fields):
        return self.db.manifests.find_one_and_update(
            {"_id": manifest_id}, {"$set": fields}, return_document=ReturnDocument.AFTER
        )

    def open_manifest_of(self, courier):
        return self.db.manifests.find_one({"courier": courier, "status": "open"})

    def get_manifest(self, manifest_id):
        return self.db.manifests.find_one({"_id": manifest_id})
