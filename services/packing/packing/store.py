"""Packing's repository: pack tasks (one per allocated order), pick lists and the products
the floor scans."""

from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from gudang_common.clock import iso, utcnow
from gudang_common.store import Repository, staged, update_with_events

from .boxes import default_boxes
from .domain import OPEN_STATUSES

RECENT_SCANS = 200  # answers kept per pick list for retried scans


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
        # the pack station opens an order by its tote; a packer's picked, unpacked orders
        db.tasks.create_index([("tote", ASCENDING), ("status", ASCENDING)])
        db.tasks.create_index([("packer_id", ASCENDING), ("status", ASCENDING)])
        # a scanned barcode names one of the merchant's SKUs
        db.products.create_index([("merchant_id", ASCENDING), ("barcode", ASCENDING)])
        # the pack station opens an order by the tote it was picked into or its number
        db.tasks.create_index([("tote", ASCENDING)])
        db.tasks.create_index([("external_id", ASCENDING)])
        cls._ship_default_boxes(db)

    @staticmethod
    def _ship_default_boxes(db):
        """A new warehouse starts with the usual cartons; ops' changes are never undone."""
        if db.boxes.find_one({}, {"_id": 1}) is not None:
            return
        for box in default_boxes():
            try:
                db.boxes.insert_one(dict(box, _id=box["code"]))
            except DuplicateKeyError:  # another instance shipped it first
                continue

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

    # --- the box catalog and the pack station ---------------------------------------

    def all_boxes(self):
        return list(self.db.boxes.find({}).sort([("_id", ASCENDING)]))

    def get_box(self, code):
        return self.db.boxes.find_one({"_id": code})

    def add_box(self, doc):
        return self.insert_once("boxes", doc)

    def change_box(self, code, changes):
        if not changes:
            return self.get_box(code)
        return self.db.boxes.find_one_and_update(
            {"_id": code}, {"$set": changes}, return_document=ReturnDocument.AFTER
        )

    def picked_task_in_tote(self, tote):
        return self.db.tasks.find_one({"tote": tote, "status": "picked"})

    def picked_tasks_by_external_id(self, external_id):
        return list(self.db.tasks.find({"external_id": external_id, "status": "picked"}).limit(5))

    def set_verified(self, order_id, seq, rows):
        """Store the units checked so far, unless another scan was stored since `seq`.
        True when stored."""
        current = {"$in": [None, 0]} if not seq else seq
        done = self.db.tasks.update_one(
            {"_id": order_id, "status": "picked", "verify_seq": current},
            {"$set": {"verified": rows, "verify_seq": (seq or 0) + 1}},
        )
        return done.matched_count == 1

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
        """True when the waiting order is now on the list (one conditional write)."""
        done = self.db.tasks.update_one(
            {"_id": order_id, "status": "waiting"},
            {"$set": {"status": "picking", "pick_list_id": pick_list_id, "packer_id": packer_id}},
        )
        return done.matched_count == 1

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
        if fields.get("status") in ("picked", "empty", "released"):
            update["$unset"] = {"open_for": ""}
        return self.db.pick_lists.find_one_and_update(
            {"_id": pick_list_id}, update, return_document=ReturnDocument.AFTER
        )

    def move_task(
        self, order_id, from_statuses, to_status, fields, event_type, event, extra_filter=None
    ):
        """Change a task's status with its event, in one conditional write. True when it
        moved; the task is not read back (the caller knows what it wrote)."""
        query = {"_id": order_id, "status": {"$in": list(from_statuses)}}
        query.update(extra_filter or {})
        update = {"$set": dict(fields, status=to_status, updated_at=iso(utcnow()))}
        update = update_with_events(update, [staged(event_type, event)])
        if self.db.tasks.update_one(query, update).matched_count != 1:
            return False
        self.events_written()
        return True

    # --- the pick floor (picking.py) -----------------------------------------

    def reallocate_task(self, event):
        """A new allocation of a short-picked order: it waits to be picked again, once per
        allocation event (a redelivered first allocation changes nothing)."""
        return self.db.tasks.find_one_and_update(
            {
                "_id": event["order_id"],
                "status": "short_picked",
                "allocations": {"$ne": event["event_id"]},
            },
            {
                "$set": {"status": "waiting", "lines": event["lines"], "updated_at": iso(utcnow())},
                "$unset": {"pick_list_id": "", "packer_id": "", "tote": ""},
                "$push": {"allocations": event["event_id"]},
            },
            return_document=ReturnDocument.AFTER,
        )

    def save_progress(self, pick_list_id, version, progress, answer=None):
        """Store a list's scan progress if nobody stored another since `version` was read;
        the answer is kept under its scan id so a retried scan gets it back. True when
        stored (the list, with its recent answers, is not read back: nobody needs it)."""
        update = {"$set": {"progress": progress}, "$inc": {"version": 1}}
        if answer is not None:
            update["$push"] = {"recent_scans": {"$each": [answer], "$slice": -RECENT_SCANS}}
        done = self.db.pick_lists.update_one(
            {"_id": pick_list_id, "status": "open", "version": version}, update
        )
        return done.matched_count == 1

    def tote_holder(self, tote):
        return self.db.totes.find_one({"_id": tote})

    def take_tote(self, tote, order_id, pick_list_id, free_from=None):
        """Bind a tote to an order: a new tote, or one whose order `free_from` is done with it."""
        doc = {"order_id": order_id, "pick_list_id": pick_list_id, "at": iso(utcnow())}
        if free_from is None:
            return self.insert_once("totes", dict(doc, _id=tote))
        done = self.db.totes.update_one({"_id": tote, "order_id": free_from}, {"$set": doc})
        return done.matched_count == 1

    def set_task_tote(self, order_id, pick_list_id, tote):
        self.db.tasks.update_one(
            {"_id": order_id, "pick_list_id": pick_list_id, "status": "picking"},
            {"$set": {"tote": tote}},
        )

    def task_in_tote(self, tote, statuses=("picking", "picked")):
        return self.db.tasks.find_one({"tote": tote, "status": {"$in": list(statuses)}})

    def picked_of(self, packer_id):
        return list(self.db.tasks.find({"packer_id": packer_id, "status": "picked"}))

    def all_picked(self):
        return list(self.db.tasks.find({"status": "picked"}).sort("allocated_at", ASCENDING))

    def open_lists(self):
        return list(self.db.pick_lists.find({"open_for": {"$exists": True}}))

    def hand_list_to(self, pick_list_id, from_packer, to_packer):
        done = self.db.pick_lists.find_one_and_update(
            {"_id": pick_list_id, "status": "open", "packer_id": from_packer},
            {"$set": {"packer_id": to_packer, "open_for": to_packer}},
            return_document=ReturnDocument.AFTER,
        )
        if done is not None:
            self.db.tasks.update_many(
                {"pick_list_id": pick_list_id, "status": {"$in": ["picking", "picked"]}},
                {"$set": {"packer_id": to_packer}},
            )
        return done

    def release_tasks(self, pick_list_id):
        """The list's unpicked orders wait again; their totes are free."""
        self.db.tasks.update_many(
            {"pick_list_id": pick_list_id, "status": "picking"},
            {
                "$set": {"status": "waiting", "updated_at": iso(utcnow())},
                "$unset": {"pick_list_id": "", "packer_id": "", "tote": ""},
            },
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
