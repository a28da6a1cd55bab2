"""Packing's repository: pack tasks (one per allocated order), pick lists and the products
the floor scans."""

from pymongo import ASCENDING, ReturnDocument

from gudang_common.clock import iso, utcnow
from gudang_common.store import Repository

from .domain import OPEN_STATUSES


class PackingRepository(Repository):
    OUTBOX_COLLECTIONS = ("tasks",)

    @classmethod
    def ensure_indexes(cls, db):
        super().ensure_indexes(db)
        db.tasks.create_index([("status", ASCENDING), ("allocated_at", ASCENDING)])
        db.tasks.create_index([("pick_list_id", ASCENDING)])
        db.pick_lists.create_index([("packer_id", ASCENDING), ("status", ASCENDING)])
        # set only while a list is building or open: one small bucket per packer on the
        # embedded store, which would otherwise copy the packer's whole history of lists
        db.pick_lists.create_index([("open_for", ASCENDING)])
        # a scanned barcode names one of the merchant's SKUs
        db.products.create_index([("merchant_id", ASCENDING), ("barcode", ASCENDING)])

    @classmethod
    def gauges(cls, db, config):
        def backlog():
            return [
                ((stage,), db.tasks.count_documents({"status": stage})) for stage in OPEN_STATUSES
            ]

        return [
            ("gudang_packing_backlog", "Orders waiting in each packing stage", ("status",), backlog)
        ]

    def add_product(self, doc):
        return self.insert_once("products", doc)

    def get_product(self, merchant_id, sku):
        return self.db.products.find_one({"_id": f"{merchant_id}:{sku}"})

    def product_by_barcode(self, merchant_id, barcode):
        return self.db.products.find_one({"merchant_id": merchant_id, "barcode": barcode})

    def add_task(self, doc):
        return self.insert_once("tasks", doc)

    def get_task(self, order_id):
        return self.db.tasks.find_one({"_id": order_id})

    def waiting_tasks(self, limit):
        """Ids of the oldest waiting tasks: a few more than asked for, since another
        packer may claim some of them first."""
        docs = (
            self.db.tasks.find({"status": "waiting"}, {"_id": 1})
            .sort([("allocated_at", ASCENDING), ("_id", ASCENDING)])
            .limit(limit * 3)
        )
        return [d["_id"] for d in docs]

    def claim(self, order_id, pick_list_id, packer_id):
        return self.db.tasks.find_one_and_update(
            {"_id": order_id, "status": "waiting"},
            {"$set": {"status": "picking", "pick_list_id": pick_list_id, "packer_id": packer_id}},
            return_document=ReturnDocument.AFTER,
        )

    def tasks_of_list(self, pick_list_id):
        return list(self.db.tasks.find({"pick_list_id": pick_list_id}))

    def open_list_of(self, packer_id):
        """The packer's unfinished list, one still building (a crash interrupted it) first."""
        docs = list(self.db.pick_lists.find({"open_for": packer_id}))
        return min(docs, key=lambda d: (d["status"] != "building", d["created_at"]), default=None)

    def add_list(self, doc):
        self.db.pick_lists.insert_one(dict(doc, open_for=doc["packer_id"]))

    def get_list(self, pick_list_id):
        return self.db.pick_lists.find_one({"_id": pick_list_id})

    def set_list(self, pick_list_id, fields):
        update = {"$set": fields}
        if fields.get("status") in ("picked", "empty"):
            update["$unset"] = {"open_for": ""}
        return self.db.pick_lists.find_one_and_update(
            {"_id": pick_list_id}, update, return_document=ReturnDocument.AFTER
        )

    def move_task(
        self, order_id, from_statuses, to_status, fields, event_type, event, extra_filter=None
    ):
        """Change a task's status with its event, in one conditional write."""
        query = {"_id": order_id, "status": {"$in": list(from_statuses)}}
        query.update(extra_filter or {})
        return self.write_with_events(
            "tasks",
            query,
            {"$set": dict(fields, status=to_status, updated_at=iso(utcnow()))},
            [(event_type, event)],
        )

    def add_cancelled_tombstone(self, order_id, merchant_id, event):
        doc = {
            "_id": order_id,
            "merchant_id": merchant_id,
            "status": "cancelled",
            "lines": [],
            "allocated_at": iso(utcnow()),
        }
        return self.insert_once("tasks", doc, [("order_cancelled", event)])
