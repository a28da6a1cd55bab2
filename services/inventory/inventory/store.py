"""Inventory's repository: SKUs, bins, stock per SKU, bin and lot, inbounds, allocations,
returns and the movement ledger.

Stock documents (one per merchant, SKU, bin and lot; damaged units sit in the
QUARANTINE location) hold `on_hand`, `reserved` and `available` (= on_hand -
reserved) and the open `reservations` by order id. Every quantity change is one
conditional single-document update that also pushes its movement onto the
document's `_movements` list, so a movement can never be lost or counted without
its change; `flush_movements` then copies them into the `movements` collection
(keyed by movement id, idempotent) and pulls them, like the outbox relay does for
events. A move's movement stays on its source document until its units have landed
(`transfer_landed`), so a crash between the two halves delays the landing but
cannot lose the units.
"""

import uuid
from datetime import timedelta

from pymongo import ASCENDING, ReturnDocument

from gudang_common.clock import iso, utcnow
from gudang_common.errors import Conflict, NotFound
from gudang_common.events import new_event
from gudang_common.pagination import ascending, newest_first, page, time_range
from gudang_common.store import Repository

from .domain import split_count_holds, stock_id, takeable, units_change

MOVEMENT_LIST = newest_first("at")
INBOUND_LIST = ascending("created_at")
RETURN_LIST = ascending("opened_at")
SKU_LIST = ascending("sku")  # unique per merchant; `_id` last as in every list
BIN_LIST = ascending("pick_sequence")
RECENT_APPLIED = 500  # apply keys remembered per stock document for idempotent arrivals
MOVEMENTS = "_movements"
MOVEMENTS_PENDING = "_movements_pending"
LOW = "_low_stock"
CLAIM_STALE_SECONDS = 60  # a claim left by a crashed worker can be taken over after this


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


def _bin_view(doc):
    # bins made before floor coordinates existed answer as not placed
    return {"x_m": None, "y_m": None} | _public(doc)


class InventoryRepository(Repository):
    OUTBOX_COLLECTIONS = ("inbounds", "allocations", "skus", "returns")

    @classmethod
    def ensure_indexes(cls, db):
        super().ensure_indexes(db)
        db.skus.create_index([("merchant_id", ASCENDING), ("sku", ASCENDING)], unique=True)
        db.skus.create_index([("merchant_id", ASCENDING), *SKU_LIST])
        db.bins.create_index(BIN_LIST)
        db.stock.create_index([("merchant_id", ASCENDING), ("sku", ASCENDING)])
        db.inbounds.create_index([("merchant_id", ASCENDING), *INBOUND_LIST])
        db.allocations.create_index([("status", ASCENDING)])
        db.stock.create_index([(MOVEMENTS_PENDING, ASCENDING)])
        db.stock.create_index([("bin", ASCENDING)])
        # the stock ledger a page at a time, newest first, by merchant, SKU or reference
        for key in ("merchant_id", "merchant_sku", "ref"):
            db.movements.create_index([(key, ASCENDING), *MOVEMENT_LIST])
        db.movements.create_index([("stock_id", ASCENDING)])
        db.movements.create_index([("at", ASCENDING)])  # storage days: movements since a day
        db.returns.create_index([("status", ASCENDING), *RETURN_LIST])
        db.returns.create_index([("merchant_id", ASCENDING), *RETURN_LIST])
        # single-field keys for the hot queries: the embedded store indexes each field on its
        # own and intersects, so {merchant_id, sku} would cost the merchant's whole bucket
        db.stock.create_index([("merchant_sku", ASCENDING), ("pick_sequence", ASCENDING)])
        db.allocations.create_index(
            [("backorder_of", ASCENDING), ("received_at", ASCENDING), ("_id", ASCENDING)]
        )
        db.allocations.create_index(
            [("hold_of", ASCENDING), ("received_at", ASCENDING), ("_id", ASCENDING)]
        )

    # (name, help, collection, the documents counted)
    GAUGES = (
        (
            "gudang_inventory_held_orders",
            "Orders waiting while their merchant is on hold",
            "allocations",
            {"status": "on_hold"},
        ),
        (
            "gudang_inventory_movements_pending",
            "Stock documents whose movements wait to be copied into the ledger",
            "stock",
            {MOVEMENTS_PENDING: True},
        ),
        (
            "gudang_inventory_returns_awaiting_inspection",
            "Returned parcels waiting for staff to inspect them",
            "returns",
            {"status": "awaiting_inspection"},
        ),
        (
            "gudang_inventory_backordered_orders",
            "Orders waiting for stock",
            "allocations",
            {"status": "backordered"},
        ),
    )

    @classmethod
    def gauges(cls, db, config):
        def counting(collection, query):
            return lambda: [((), db[collection].count_documents(query))]

        return [(name, text, (), counting(c, q)) for name, text, c, q in cls.GAUGES]

    # --- SKUs -------------------------------------------------------------

    def add_sku(self, merchant_id, data):
        """Register a SKU with its sku_registered event (the gateway's catalog) in one write."""
        doc = dict(
            data,
            _id=f"{merchant_id}:{data['sku']}",
            merchant_id=merchant_id,
            created_at=iso(utcnow()),
        )
        event = new_event(
            "sku_registered",
            merchant_id=merchant_id,
            sku=data["sku"],
            name=data["name"],
            barcode=data["barcode"],
            **{k: data[k] for k in ("weight_g", "length_cm", "width_cm", "height_cm")},
        )
        if not self.insert_once("skus", doc, [("sku_registered", event)]):
            raise Conflict(f"SKU {data['sku']} already exists", {"sku": ["Already registered."]})
        return _public(doc)

    def get_sku(self, merchant_id, sku):
        doc = self.sku_doc(merchant_id, sku)
        if doc is None:
            raise NotFound(f"SKU {sku} not found", {"sku": ["Unknown SKU."]})
        return _public(doc)

    def sku_doc(self, merchant_id, sku):
        return self.db.skus.find_one({"_id": f"{merchant_id}:{sku}"})

    def list_skus(self, merchant_id, limit=None, cursor=None):
        """The merchant's SKUs by code: all of them, or (with `limit`) a page and the next
        page's cursor."""
        query = {"merchant_id": merchant_id}
        if limit is None:
            return [_public(d) for d in self.db.skus.find(query).sort(SKU_LIST)]
        docs, after = page(self.db.skus, query, SKU_LIST, limit, cursor)
        return [_public(d) for d in docs], after

    def update_sku(self, merchant_id, sku, changes):
        doc = self.write_with_events(
            "skus",
            {"_id": f"{merchant_id}:{sku}"},
            {"$set": dict(changes, updated_at=iso(utcnow()))},
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

    def flag_low(self, merchant_id, sku, event):
        """Mark the SKU low with its stock_low event, only if it was not marked already."""
        done = self.write_with_events(
            "skus",
            {"_id": f"{merchant_id}:{sku}", LOW: {"$ne": True}},
            {"$set": {LOW: True}},
            [("stock_low", event)],
        )
        return done is not None

    def clear_low(self, merchant_id, sku):
        return self.db.skus.update_one(
            {"_id": f"{merchant_id}:{sku}", LOW: True}, {"$set": {LOW: False}}
        ).modified_count

    # --- bins -------------------------------------------------------------

    def add_bin(self, data):
        doc = dict(data, _id=data["code"], created_at=iso(utcnow()))
        if not self.insert_once("bins", doc):
            raise Conflict(f"bin {data['code']} already exists", {"code": ["Already exists."]})
        return _bin_view(doc)

    def update_bin(self, code, changes):
        """Renumber a bin and/or set its floor coordinates. Stock documents keep a copy of
        the sequence (allocation sorts by it without reading bins); sending the same change
        again repairs a partial update."""
        doc = self.write_with_events(
            "bins", {"_id": code}, {"$set": dict(changes, updated_at=iso(utcnow()))}
        )
        if doc is None:
            raise NotFound(f"bin {code} not found", {"code": ["Unknown bin."]})
        if "pick_sequence" in changes:
            sequence = {"pick_sequence": changes["pick_sequence"]}
            self.db.stock.update_many({"bin": code}, {"$set": sequence})
        return _bin_view(doc)

    def bin_coordinates(self, codes):
        """The floor coordinates ops set, (x_m, y_m) per bin code; bins without are left out."""
        found = self.db.bins.find(
            {"_id": {"$in": sorted(codes)}, "x_m": {"$ne": None}}, {"x_m": 1, "y_m": 1}
        )
        return {doc["_id"]: (doc["x_m"], doc["y_m"]) for doc in found}

    def get_bin(self, code):
        return self.db.bins.find_one({"_id": code})

    def list_bins(self, limit=500, cursor=None):
        """A page of the warehouse's bins in pick order, and the next page's cursor."""
        docs, after = page(self.db.bins, {}, BIN_LIST, limit, cursor)
        return [_bin_view(d) for d in docs], after

    def first_bin(self):
        docs = list(self.db.bins.find({}).sort("pick_sequence", ASCENDING).limit(1))
        return docs[0] if docs else None

    # --- inbounds ---------------------------------------------------------

    def add_inbound(self, doc):
        self.db.inbounds.insert_one(doc)
        return doc

    def get_inbound(self, inbound_id):
        return self.db.inbounds.find_one({"_id": inbound_id})

    def list_inbounds(self, merchant_id, limit=100, cursor=None):
        """A page of the merchant's inbounds, oldest first, and the next page's cursor."""
        return page(self.db.inbounds, {"merchant_id": merchant_id}, INBOUND_LIST, limit, cursor)

    def record_receipt(self, inbound, receipt, received, discrepancies, status, event):
        """Append a receipt to the inbound, with its stock_received event, in one write.

        The write is conditional on the receipt count read, so two staff members
        receiving the same inbound at once cannot both apply on stale totals."""
        done = self.write_with_events(
            "inbounds",
            {"_id": inbound["_id"], "receipt_count": inbound.get("receipt_count", 0)},
            {
                "$push": {"receipts": receipt},
                "$set": {"received": received, "discrepancies": discrepancies, "status": status},
                "$inc": {"receipt_count": 1},
            },
            [("stock_received", event)],
        )
        if done is None:
            raise Conflict(
                "the inbound changed meanwhile; send the receipt again", {"lines": ["Retry."]}
            )
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
        location,
        qty,
        apply_key,
        kind,
        lot=None,
        expiry=None,
        ref=None,
        reason=None,
        by=None,
    ):
        """Units arrive in a location (a bin document, or the quarantine location), once per
        `apply_key`. The movement is written in the same update."""
        sid = stock_id(merchant_id, sku, location["_id"], lot)
        self._ensure_stock(
            sid, merchant_id, sku, location["_id"], location["pick_sequence"], lot, expiry
        )
        done = self._change(
            {"_id": sid, "applied": {"$ne": apply_key}},
            units_change(location["_id"], qty),
            movement(kind, qty, ref=ref, reason=reason, by=by),
            push={"applied": {"$each": [apply_key], "$slice": -RECENT_APPLIED}},
            stamp="last_in_at",
        )
        return sid if done else None

    def _change(self, query, inc, mv, push=None, pull=None, stamp=None, sets=None):
        """One conditional single-document update: quantities and their movement together."""
        update = {
            "$inc": inc,
            "$push": dict(push or {}, **{MOVEMENTS: mv}),
            "$set": dict(sets or {}, **{MOVEMENTS_PENDING: True}),
        }
        if stamp:
            update["$set"][stamp] = mv["at"]
        if pull:
            update["$pull"] = pull
        done = self.db.stock.find_one_and_update(
            query, update, return_document=ReturnDocument.AFTER
        )
        if done is not None:
            self.flush_movements(done["_id"], done)
        return done

    def get_stock(self, sid):
        return self.db.stock.find_one({"_id": sid}, {MOVEMENTS: 0})

    def stock_for(self, merchant_id, sku):
        """A SKU's stock documents in pick sequence."""
        found = self.db.stock.find({"merchant_sku": f"{merchant_id}:{sku}"}, {MOVEMENTS: 0})
        return list(
            found.sort([("pick_sequence", ASCENDING), ("bin", ASCENDING), ("_id", ASCENDING)])
        )

    def stock_of_merchant(self, merchant_id):
        return list(self.db.stock.find({"merchant_id": merchant_id}, {MOVEMENTS: 0}))

    def try_reserve(self, sid, order_id, qty):
        """Reserve if `qty` units are available and the order holds nothing here yet."""
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

    def take_out(self, sid, location, qty, mv):
        """Units leave a location by staff decision (an adjustment, the first half of a
        move), never more than may be taken there."""
        return self._change(
            {"_id": sid, takeable(location): {"$gte": qty}},
            units_change(location, -qty),
            mv,
            stamp="last_out_at",
        )

    def count(self, sid, location, seen, counted, mv):
        """Set on-hand to what was counted, if nothing moved since `seen` was read and the
        count leaves the reserved units there. The count settles the units held for it
        (short picks): they were counted, found or not."""
        delta = counted - seen["on_hand"]
        inc = units_change(location, delta)
        orders, held = split_count_holds(seen.get("reservations", []))
        query = {"_id": sid, "on_hand": seen["on_hand"], "reserved": {"$lte": counted + held}}
        if not held:
            return self._change(query, inc, mv)
        inc = dict(inc, reserved=-held, available=inc.get("available", 0) + held)
        query["reservations"] = seen["reservations"]
        mv = dict(mv, reserved=-held)
        return self._change(query, inc, mv, sets={"reservations": orders})

    def hold_for_count(self, sid, order_id, hold_key, missing, mv):
        """Turn the missing units of an order's reservation into a hold for the bin's count,
        in one write: nobody can reserve units the packer did not find. The rest of the
        order's reservation here goes back to available. Returns the stock, or None."""
        for _ in range(5):
            doc = self.get_stock(sid)
            found = {r["order_id"]: r["qty"] for r in doc.get("reservations", [])}
            if hold_key in found or order_id not in found:
                return doc
            hold = min(missing, found[order_id])
            keep = [r for r in doc["reservations"] if r["order_id"] != order_id]
            back = found[order_id] - hold
            done = self._change(
                {"_id": sid, "reservations": doc["reservations"]},
                {"reserved": -back, "available": back},
                dict(mv, reserved=-back),
                sets={"reservations": keep + [{"order_id": hold_key, "qty": hold}]},
            )
            if done is not None:
                return done
        raise Conflict("stock kept moving", {"stock_id": ["Try again."]})

    def reservations_of(self, merchant_id, sku, order_id):
        return [
            (d, r["qty"])
            for d in self.stock_for(merchant_id, sku)
            for r in d.get("reservations", [])
            if r["order_id"] == order_id
        ]

    # --- movement ledger ----------------------------------------------------

    def flush_movements(self, sid, doc=None):
        """Copy a stock document's pending movements into `movements` (keyed by movement
        id, so copying twice is harmless) and drop them, except a move's movement, which
        stays until its units have landed (`transfer_landed`). `doc` is the document as
        the write that pushed them returned it, so it is not read again."""
        if doc is None:
            doc = self.db.stock.find_one(
                {"_id": sid}, {MOVEMENTS: 1, "merchant_id": 1, "sku": 1, "bin": 1, "lot": 1}
            )
        pending = (doc or {}).get(MOVEMENTS) or []
        for mv in pending:
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
            self.insert_once("movements", record)
        self._drop_movements(sid, [mv["movement_id"] for mv in pending if "transfer" not in mv])
        return len(pending)

    def _drop_movements(self, sid, ids):
        self.pull_exactly(self.db.stock, sid, MOVEMENTS, "movement_id", ids, MOVEMENTS_PENDING)

    def moves_in_flight(self, sid):
        """(stock document, movements) of a source whose moved units have not landed yet."""
        doc = self.db.stock.find_one({"_id": sid})
        return doc, [mv for mv in (doc or {}).get(MOVEMENTS) or [] if "transfer" in mv]

    def transfer_landed(self, sid, movement_id):
        self._drop_movements(sid, [movement_id])

    def flush_pending_movements(self, merchant_id=None):
        """Copy what a crash left between a stock write and its ledger copy (few documents:
        the pending flag alone selects them). Returns the stock ids it looked at."""
        pending = self.db.stock.find({MOVEMENTS_PENDING: True}, {"merchant_id": 1})
        sids = [d["_id"] for d in pending if merchant_id in (None, d["merchant_id"])]
        for sid in sids:
            self.flush_movements(sid)
        return sids

    def movements(self, merchant_id, filters, limit, cursor=None):
        """A page of the merchant's movements, newest first, and the next page's cursor. The
        most selective key picks the candidates: an order or receipt reference (unique, so
        another merchant's reference yields nothing), else merchant + SKU, else the merchant."""
        filters = {k: v for k, v in filters.items() if v is not None}
        since, until = filters.pop("since", None), filters.pop("until", None)
        if filters.get("ref"):
            pass  # an order's or receipt's few movements; other filters narrow them
        elif filters.get("sku"):
            filters["merchant_sku"] = f"{merchant_id}:{filters.pop('sku')}"
        else:
            filters["merchant_id"] = merchant_id
        if since or until:
            filters["at"] = time_range(since, until)
        found, after = page(self.db.movements, filters, MOVEMENT_LIST, limit, cursor)
        return [_public(d) for d in found if d["merchant_id"] == merchant_id], after

    def movements_of_stock(self, sid):
        return list(self.db.movements.find({"stock_id": sid}))

    # --- returns ------------------------------------------------------------

    def open_return(self, doc):
        return self.insert_once("returns", doc)

    def follow_correction(self, return_id, correction, from_status, to_status):
        """Move a return between awaiting inspection and withdrawn for a newer correction."""
        return self.db.returns.find_one_and_update(
            {
                "_id": return_id,
                "status": {"$in": [from_status, to_status]},
                "$or": [{"correction": None}, {"correction": {"$lt": correction}}],
            },
            {"$set": {"status": to_status, "correction": correction}},
        )

    def get_return(self, return_id):
        return self.db.returns.find_one({"_id": return_id})

    def list_returns(self, merchant_id=None, status=None, limit=100, cursor=None):
        """A page of returns, oldest first (a merchant's, or by status for the floor), and
        the next page's cursor."""
        query = {}
        if merchant_id:
            query["merchant_id"] = merchant_id
        if status:
            query["status"] = status
        return page(self.db.returns, query, RETURN_LIST, limit, cursor)

    def record_inspection(self, return_id, inspection, event):
        return self.write_with_events(
            "returns",
            {"_id": return_id, "status": "awaiting_inspection"},
            {"$set": {"status": "inspected", "inspection": inspection}},
            [("return_inspected", event)],
        )

    # --- allocations ------------------------------------------------------

    def get_allocation(self, order_id):
        return self.db.allocations.find_one({"_id": order_id})

    def save_allocation(self, order, status, lines, event_type, event):
        """Record the outcome for an order with its event; False if one exists already."""
        doc = {
            "_id": order["order_id"],
            "merchant_id": order["merchant_id"],
            "status": status,
            "order": order,
            "lines": lines,
            "skus": sorted({line["sku"] for line in order["lines"]}),
            "received_at": order["occurred_at"],
            "updated_at": iso(utcnow()),
        }
        if status == "backordered":
            doc["backorder_of"] = order["merchant_id"]  # the merchant's queue, one index bucket
        if status == "on_hold":
            doc["hold_of"] = order["merchant_id"]  # the merchant's held orders, likewise
        return self.insert_once("allocations", doc, [(event_type, event)])

    def move_allocation(self, order_id, from_statuses, status):
        """One conditional write (the allocation, with the order it keeps, is not read back)."""
        self.db.allocations.update_one(
            {"_id": order_id, "status": {"$in": list(from_statuses)}},
            {
                "$set": {"status": status, "updated_at": iso(utcnow())},
                # nothing moves into backordered or on_hold this way, only out
                "$unset": {"backorder_of": "", "hold_of": ""},
            },
        )

    def claim_backorder(self, order_id, token, status="backordered"):
        """The right to allocate a waiting order (backordered, or on_hold), or to give back
        what it holds: taken if free, stale (its worker crashed) or already this token's."""
        stale = iso(utcnow() - timedelta(seconds=CLAIM_STALE_SECONDS))
        return self.write_with_events(
            "allocations",
            {
                "_id": order_id,
                "status": status,
                "$or": [{"claim": None}, {"claim.at": {"$lt": stale}}, {"claim.token": token}],
            },
            {"$set": {"claim": {"token": token, "at": iso(utcnow())}}},
        )

    def allocate_claimed(self, order_id, token, lines, event, status="backordered"):
        return self.write_with_events(
            "allocations",
            {"_id": order_id, "status": status, "claim.token": token},
            {
                "$set": {
                    "status": "allocated",
                    "lines": lines,
                    "claim": None,
                    "updated_at": iso(utcnow()),
                },
                "$unset": {"backorder_of": "", "hold_of": ""},
            },
            [("order_allocated", event)],
        )

    def requeue_short_picked(self, order_id, event_id, backordered):
        """A short-picked order joins its merchant's backorder queue (at its own age), once
        per short pick; `backordered` is the order_backordered it announces."""
        return self.write_with_events(
            "allocations",
            {"_id": order_id, "status": "allocated", "short_picks": {"$ne": event_id}},
            {
                "$set": {
                    "status": "backordered",
                    "backorder_of": backordered["merchant_id"],
                    "claim": None,
                    "updated_at": iso(utcnow()),
                },
                "$push": {"short_picks": event_id},
            },
            [("order_backordered", backordered)],
        )

    def backorder_claimed_held(self, order_id, token, merchant_id, event):
        """A released order short of stock joins the merchant's backorder queue."""
        return self.write_with_events(
            "allocations",
            {"_id": order_id, "status": "on_hold", "claim.token": token},
            {
                "$set": {
                    "status": "backordered",
                    "backorder_of": merchant_id,
                    "claim": None,
                    "updated_at": iso(utcnow()),
                },
                "$unset": {"hold_of": ""},
            },
            [("order_backordered", event)],
        )

    def held_orders(self, merchant_id):
        """The merchant's orders waiting for its release, oldest first (`hold_of` is set only
        while an order waits, so the query reads the held orders, not the history)."""
        return list(
            self.db.allocations.find({"hold_of": merchant_id}).sort(
                [("received_at", ASCENDING), ("_id", ASCENDING)]
            )
        )

    def has_held_orders(self, merchant_id):
        return self.db.allocations.find_one({"hold_of": merchant_id}, {"_id": 1}) is not None

    # --- merchants on hold (billing's merchant_on_hold / merchant_released) --

    def record_hold(self, merchant_id, on_hold, crossing, event_id):
        """Keep the merchant's hold as of billing's crossing `crossing`, unless a later one is
        kept already (hold and release arrive on separate queues, in any order); a repeat
        changes nothing. Returns whether this crossing is now the one kept."""
        state = {"on_hold": on_hold, "crossing": crossing, "event_id": event_id}
        if self.db.merchant_holds.update_one(
            {"_id": merchant_id, "crossing": {"$lt": crossing}}, {"$set": state}
        ).matched_count:
            return True
        return self.insert_once("merchant_holds", dict(state, _id=merchant_id))

    def merchant_on_hold(self, merchant_id):
        doc = self.db.merchant_holds.find_one({"_id": merchant_id})
        return bool(doc and doc["on_hold"])

    def unclaim(self, order_id, token):
        self.db.allocations.update_one(
            {"_id": order_id, "claim.token": token}, {"$set": {"claim": None}}
        )

    def backorders(self, merchant_id):
        """The merchant's waiting orders, oldest first (`backorder_of` is set only while an
        order waits, so the query reads the queue, not the history)."""
        return list(
            self.db.allocations.find({"backorder_of": merchant_id}).sort(
                [("received_at", ASCENDING), ("_id", ASCENDING)]
            )
        )

    def backordered_skus(self, merchant_id):
        """SKUs some waiting order of this merchant needs (a new order must queue behind)."""
        return set(self.db.allocations.distinct("skus", {"backorder_of": merchant_id}))

    def cancel_unseen(self, order_id, merchant_id):
        """A cancel that arrives before the order: leave a tombstone so it is never allocated."""
        return self.insert_once(
            "allocations",
            {
                "_id": order_id,
                "merchant_id": merchant_id,
                "status": "cancelled",
                "lines": [],
                "received_at": iso(utcnow()),
            },
        )

    # --- storage days (storage_days.py) -------------------------------------

    def storage_snapshot(self, since):
        """Every stock document's on-hand with its unflushed movements, then the sum per
        merchant of the ledger's movements from `since` up to the moment the read began
        (a range on the `at` index, so this query never scans the ledger)."""
        started = iso(utcnow())
        stock = list(self.db.stock.find({}, {"merchant_id": 1, "on_hand": 1, MOVEMENTS: 1}))
        # up to and including the read's own millisecond: a movement stamped in it was,
        # as a rule, written before the stock was read (a write racing the read itself
        # can still be miscounted: a window of milliseconds, once a day)
        window = {"at": {"$gte": since, "$lte": started}}
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
