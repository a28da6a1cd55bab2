"""Billing's repository: the immutable postings of the ledger, and who merchants and promoters are.

A posting's `_id` is the key of its cause (`pick_pack:<order_id>`, ...), so a fee is
charged once per cause however often its event arrives: the second insert fails on
the key and changes nothing.

Every posting also carries its owner's running balances (`running`: the merchant's,
or the promoter's for commission and payouts): the balances after it of the owner's
own accounts (the wallet and its withdrawals pending; the commission payable and its
payouts pending), and the owner's sequence number, whose key
(`<owner>#<n>`) is unique. So the balance and the posting are one insert, and two
postings racing for the same number cannot both land: the loser reads the new latest
and tries again. The latest is found without reading the owner's history: a head
document remembers the last number (a hint written after the posting, so a crash in
between only leaves it behind), and the next numbers are looked up by key until one
is missing.
"""

from datetime import timedelta

from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from gudang_common.clock import WIB, iso, parse_iso, utcnow
from gudang_common.pagination import each, index_keys, newest_first, page
from gudang_common.store import Repository, ServiceStore

from . import domain
from .domain import COD_CLEARING, COMMISSION_POSTING_KINDS, check_balanced
from .invoices import invoice_number

# a promoter's postings that earn (or take back) commission, not those that pay it out
ENTRY_LIST = newest_first("occurred_at", "posted_at")
INVOICE_LIST = newest_first("month")
REQUEST_LIST = newest_first("requested_at")
COMMISSION_KINDS = {"$in": list(COMMISSION_POSTING_KINDS)}
# a posting that lost the race for its owner's next sequence number this often gives up
# (the event is redelivered): only a merchant posting hundreds of times at once gets there
RUNNING_ROUNDS = 200
# with the service's own hint of each owner's latest posting, the stored head (for a
# restart or another instance, which walk on from it by key) moves every HEAD_EVERY
# postings: at most HEAD_EVERY - 1 more reads once per owner, one write less per posting
HEAD_EVERY = 16


class LedgerBusy(RuntimeError):
    """Too many postings of one owner raced; the cause is retried (the broker redelivers)."""


def wib_day(occurred_at):
    """The WIB calendar day (YYYY-MM-DD) of a stored UTC time."""
    return parse_iso(occurred_at).astimezone(WIB).date().isoformat()


def _owner_matched(match, account):
    """The owner whose running balance of `account` equals its sum over `match`, or None:
    `match` names the merchant or promoter alone and `account` is one of its own."""
    if len(match) != 1:
        return None
    ((key, party),) = match.items()
    owner = {"merchant_id": "merchant", "promoter_id": "promoter"}.get(key)
    if owner is None or account not in domain.owner_accounts(f"{owner}:{party}"):
        return None
    return f"{owner}:{party}"


OPEN_REQUESTS = ("requested", "approved")


def cod_awaiting_settlement(db, days, now=None):
    """Rupiah of COD credited (less reversed) by postings of the last `days` days."""
    since = iso((now or utcnow()) - timedelta(days=days))
    rows = db.postings.aggregate(
        [
            {"$match": {"lines.account": COD_CLEARING, "occurred_at": {"$gt": since}}},
            {"$unwind": "$lines"},
            {"$match": {"lines.account": COD_CLEARING}},
            {"$group": {"_id": None, "total": {"$sum": "$lines.amount"}}},
        ]
    )
    return -next(iter(rows), {"total": 0})["total"]


def _open_request_gauges(db, collection, what):
    """Count and rupiah of the withdrawals or payouts asked for and not paid or rejected,
    per status, over the (status, requested_at) index."""

    def by_status():
        rows = db[collection].aggregate(
            [
                {"$match": {"status": {"$in": list(OPEN_REQUESTS)}}},
                {"$group": {"_id": "$status", "count": {"$sum": 1}, "rupiah": {"$sum": "$amount"}}},
            ]
        )
        found = {r["_id"]: r for r in rows}
        return [(s, found.get(s, {"count": 0, "rupiah": 0})) for s in OPEN_REQUESTS]

    name = f"gudang_billing_{collection}_pending"
    return [
        (
            name,
            f"{what} not paid yet",
            ("status",),
            lambda: [((s,), r["count"]) for s, r in by_status()],
        ),
        (
            f"{name}_rupiah",
            f"{what} not paid yet, in rupiah",
            ("status",),
            lambda: [((s,), r["rupiah"]) for s, r in by_status()],
        ),
    ]  # withdrawals and payouts not paid nor rejected


class BillingRepository(Repository):
    OUTBOX_COLLECTIONS = ("holds",)
    # called with (fee_type, rupiah) for each fee posted, not for a repeat (BillingStore)
    on_fee_posted = None
    # owner -> the running balances of its latest posting this process saw (BillingStore):
    # a hint like the head, checked the same way (the next number must not exist)
    known_running = None

    @classmethod
    def ensure_indexes(cls, db):
        super().ensure_indexes(db)
        db.postings.create_index([("merchant_id", ASCENDING), ("occurred_at", DESCENDING)])
        db.postings.create_index([("promoter_id", ASCENDING), ("occurred_at", DESCENDING)])
        db.merchants.create_index([("promoter_id", ASCENDING)])
        db.rate_cards.create_index([("effective_from", ASCENDING)], unique=True)
        db.invoices.create_index([("number", ASCENDING)], unique=True, sparse=True)
        db.invoices.create_index([("merchant_id", ASCENDING), *INVOICE_LIST])
        db.postings.create_index([("merchant_id", ASCENDING), ("wib_day", ASCENDING)])
        # a merchant's sum on one account (withdrawal:pending) reads that account's postings only
        db.postings.create_index([("merchant_id", ASCENDING), ("lines.account", ASCENDING)])
        # money requests a page at a time, newest first: an owner's, by status, or everyone's
        for collection, owner in (("withdrawals", "merchant_id"), ("payouts", "promoter_id")):
            for equal in ((owner,), ("status",), ()):
                db[collection].create_index(index_keys(equal, REQUEST_LIST))
        # the wallet's entries a page at a time, newest first; a promoter's latest earnings
        db.postings.create_index(
            [("merchant_id", ASCENDING), ("lines.account", ASCENDING), *ENTRY_LIST]
        )
        db.postings.create_index([("promoter_id", ASCENDING), *ENTRY_LIST])
        db.holds.create_index([("on_hold", ASCENDING)])
        # COD credited lately, everyone's (the gauge of COD awaiting settlement)
        db.postings.create_index([("lines.account", ASCENDING), ("occurred_at", ASCENDING)])
        cls._backfill_wib_day(db)
        cls._backfill_running(db)
        # before the unique index: postings stored before `running` existed get theirs first
        db.postings.create_index([("running.key", ASCENDING)], unique=True, sparse=True)

    @classmethod
    def gauges(cls, db, config):
        """The money ops watch, counted at scrape time over indexed fields."""
        days = int(config.get("COD_SETTLEMENT_DAYS") or domain.COD_SETTLEMENT_DAYS)
        return [
            (
                "gudang_billing_merchants_on_hold",
                "Merchants whose wallet is below their credit limit (orders held)",
                (),
                lambda: [((), db.holds.count_documents({"on_hold": True}))],
            ),
            (
                "gudang_billing_cod_awaiting_settlement_rupiah",
                "COD credited to wallets within the settlement period: not settled by couriers",
                (),
                lambda: [((), cod_awaiting_settlement(db, days))],
            ),
            *_open_request_gauges(db, "withdrawals", "Merchants' withdrawals"),
            *_open_request_gauges(db, "payouts", "Promoters' payouts"),
        ]

    @classmethod
    def _backfill_wib_day(cls, db):
        """Give postings stored before `wib_day` existed their day, once (a marker says it
        was done, so a start does not scan the ledger). The day is derived from
        `occurred_at`, an index key beside the posting's money, which never changes."""
        if db.migrations.find_one({"_id": "postings.wib_day"}) is not None:
            return
        for posting in db.postings.find({"wib_day": {"$exists": False}}, {"occurred_at": 1}):
            db.postings.update_one(
                {"_id": posting["_id"]}, {"$set": {"wib_day": wib_day(posting["occurred_at"])}}
            )
        db.migrations.update_one({"_id": "postings.wib_day"}, {"$set": {"done": True}}, upsert=True)

    @classmethod
    def _backfill_running(cls, db):
        """Give postings stored before running balances existed theirs, once, in the order
        they were posted (a marker says it was done, so a start does not scan the ledger)."""
        if db.migrations.find_one({"_id": "postings.running"}) is not None:
            return
        last = {}
        order = [("posted_at", ASCENDING), ("_id", ASCENDING)]
        for posting in db.postings.find({"running": {"$exists": False}}).sort(order):
            owner = domain.ledger_owner(posting)
            last[owner] = domain.running_after(last.get(owner), owner, posting["lines"])
            db.postings.update_one({"_id": posting["_id"]}, {"$set": {"running": last[owner]}})
        for owner, running in last.items():
            db.ledger_heads.update_one(
                {"_id": owner}, {"$max": {"seq": running["seq"]}}, upsert=True
            )
        db.migrations.update_one({"_id": "postings.running"}, {"$set": {"done": True}}, upsert=True)

    # --- parties ----------------------------------------------------------

    def add_merchant(self, doc):
        return self.insert_once("merchants", doc)

    def get_merchant(self, merchant_id):
        return self.db.merchants.find_one({"_id": merchant_id})

    def merchants_referred_by(self, promoter_id):
        return list(self.db.merchants.find({"promoter_id": promoter_id}))

    def get_merchants(self, merchant_ids):
        """{merchant_id: merchant} for those of `merchant_ids` billing knows, in one query."""
        return {d["_id"]: d for d in self.db.merchants.find({"_id": {"$in": list(merchant_ids)}})}

    def add_promoter(self, doc):
        return self.insert_once("promoters", doc)

    def get_promoter(self, promoter_id):
        return self.db.promoters.find_one({"_id": promoter_id})

    # --- the hold (a merchant's credit limit and whether it is held) -------

    def hold_of(self, merchant_id):
        """The merchant's hold document, made with the defaults the first time it is needed
        (read first: every fee reviews the hold, and only the merchant's first makes it)."""
        found = self.db.holds.find_one({"_id": merchant_id}, {"_outbox": 0})
        if found is not None:
            return found
        self.insert_once(
            "holds", {"_id": merchant_id, "credit_limit": 0, "on_hold": False, "crossing": 0}
        )
        return self.db.holds.find_one({"_id": merchant_id}, {"_outbox": 0})

    def set_credit_limit(self, merchant_id, credit_limit, set_by, at):
        self.hold_of(merchant_id)
        return self.db.holds.find_one_and_update(
            {"_id": merchant_id},
            {"$set": {"credit_limit": credit_limit, "credit_limit_by": set_by, "updated_at": at}},
            projection={"_outbox": 0},
            return_document=ReturnDocument.AFTER,
        )

    def cross_hold(self, hold, on_hold, balance, event_type, event):
        """Record one crossing and its event in one write, only if the hold is still as
        `hold` was read (its crossing number and credit limit): a concurrent reviewer or a
        new credit limit makes this one re-read and decide again."""
        return self.write_with_events(
            "holds",
            {
                "_id": hold["_id"],
                "crossing": hold["crossing"],
                "credit_limit": hold["credit_limit"],
            },
            {
                "$set": {
                    "on_hold": on_hold,
                    "crossing": hold["crossing"] + 1,
                    "balance_at_crossing": balance,
                    "updated_at": event["occurred_at"],
                }
            },
            [(event_type, event)],
        )

    # --- ledger -----------------------------------------------------------

    def add_posting(self, posting):
        """Record a posting once, with its owner's running balances after it, in one
        insert; False when its cause was posted already."""
        check_balanced(posting["lines"])
        # the WIB day of its cause: the key invoices sum a month by, one day at a time
        posting = dict(posting, wib_day=wib_day(posting["occurred_at"]))
        owner = domain.ledger_owner(posting)
        for _ in range(RUNNING_ROUNDS):
            running = domain.running_after(self.latest_running(owner), owner, posting["lines"])
            try:
                self.db.postings.insert_one(dict(posting, running=running))
            except DuplicateKeyError:
                if self.get_posting(posting["_id"]) is not None:
                    return False  # posted before: the cause's key
                continue  # another posting of the owner took this sequence number: read again
            self._count_fee(posting)
            self._remember(running)
            if self.known_running is None or running["seq"] % HEAD_EVERY == 1:
                self._move_head(owner, running["seq"])
            return True
        raise LedgerBusy(f"{owner}: {RUNNING_ROUNDS} postings raced {posting['_id']}")

    def _count_fee(self, posting):
        if self.on_fee_posted is not None and posting["kind"] in domain.FEE_TYPES:
            rupiah = domain.amount_on(posting["lines"], domain.revenue_account(posting["kind"]))
            self.on_fee_posted(posting["kind"], rupiah)

    def _move_head(self, owner, seq):
        """The hint of the owner's last number moves on (never back)."""
        try:
            self.db.ledger_heads.update_one({"_id": owner}, {"$max": {"seq": seq}}, upsert=True)
        except DuplicateKeyError:  # two first postings upserted at once: the other made it
            self.db.ledger_heads.update_one({"_id": owner}, {"$max": {"seq": seq}})

    def latest_running(self, owner):
        """The running balances of the owner's latest posting (None before its first):
        from the number this process last saw (postings are immutable), else the head's,
        on by key until the next number is not there."""
        latest = (self.known_running or {}).get(owner)
        if latest is None:
            head = self.db.ledger_heads.find_one({"_id": owner})
            seq = head["seq"] if head else 0
            latest = self._running_at(owner, seq) if seq else None
        seq = latest["seq"] if latest else 0
        while True:
            following = self._running_at(owner, seq + 1)
            if following is None:
                self._remember(latest)
                return latest
            latest, seq = following, seq + 1

    def _remember(self, running):
        if running is not None and self.known_running is not None:
            self.known_running[running["owner"]] = running

    def _running_at(self, owner, seq):
        found = self.db.postings.find_one({"running.key": domain.running_key(owner, seq)})
        return found["running"] if found else None

    def balance(self, owner, account):
        """`account`'s balance over the owner's postings, read from its latest posting."""
        return domain.running_balance(self.latest_running(owner), account)

    def get_posting(self, posting_id):
        return self.db.postings.find_one({"_id": posting_id})

    def account_balance(self, account, match):
        """Sum of `account`'s lines over the postings that `match`: a running balance when
        `match` names an owner whose postings carry that account's whole sum, else summed."""
        owner = _owner_matched(match, account)
        if owner is not None:
            return self.balance(owner, account)
        return self.ledger_sum(account, match)

    def ledger_sum(self, account, match):
        """Sum of `account`'s lines over the postings that `match` (an indexed filter),
        summed from the entries themselves: what every running balance must equal."""
        rows = self.db.postings.aggregate(
            [
                {"$match": dict(match, **{"lines.account": account})},
                {"$unwind": "$lines"},
                {"$match": {"lines.account": account}},
                {"$group": {"_id": None, "total": {"$sum": "$lines.amount"}}},
            ]
        )
        return next(iter(rows), {"total": 0})["total"]

    def postings_on(self, account, match, limit, cursor=None):
        """A page of the postings that touch `account` among those that `match`, newest
        first, and the next page's cursor."""
        query = dict(match, **{"lines.account": account})
        return page(self.db.postings, query, ENTRY_LIST, limit, cursor)

    def wallet_entries(self, merchant_id, account):
        """(posting_id, amount on the wallet) of every posting on it, oldest first."""
        cursor = self.db.postings.find(
            {"merchant_id": merchant_id, "lines.account": account}, {"lines": 1, "occurred_at": 1}
        )
        order = [("occurred_at", ASCENDING), ("posted_at", ASCENDING), ("_id", ASCENDING)]
        return [
            (p["_id"], sum(ln["amount"] for ln in p["lines"] if ln["account"] == account))
            for p in cursor.sort(order)
        ]

    def commission_postings(self, promoter_id, account):
        """Every posting that credits or debits the promoter's commission account for a fee."""
        match = {"promoter_id": promoter_id, "lines.account": account, "kind": COMMISSION_KINDS}
        return list(self.db.postings.find(match, {"lines": 1, "merchant_id": 1, "reverses": 1}))

    def commission_totals(self, promoter_id, account):
        """{(merchant_id, fee_type, wib_day): amount} credited to the promoter's account."""
        rows = self.db.postings.aggregate(
            [
                {
                    "$match": {
                        "promoter_id": promoter_id,
                        "lines.account": account,
                        "kind": COMMISSION_KINDS,
                    }
                },
                {"$unwind": "$lines"},
                {"$match": {"lines.account": account}},
                {
                    "$group": {
                        "_id": {
                            "merchant_id": "$merchant_id",
                            "fee_type": "$fee_type",
                            "day": "$wib_day",
                        },
                        "total": {"$sum": "$lines.amount"},
                    }
                },
            ]
        )
        return {
            (r["_id"]["merchant_id"], r["_id"]["fee_type"], r["_id"]["day"]): r["total"]
            for r in rows
        }

    def account_totals(self):
        rows = self.db.postings.aggregate(
            [
                {"$unwind": "$lines"},
                {"$group": {"_id": "$lines.account", "total": {"$sum": "$lines.amount"}}},
            ]
        )
        return {r["_id"]: r["total"] for r in rows}

    # --- rate card versions -------------------------------------------------

    def add_rate_card(self, doc):
        """Store a version once (its number and its start are both unique)."""
        return self.insert_once("rate_cards", doc)

    def rate_card_at(self, when):
        """The version in force at `when`: the latest to start at or before it."""
        found = self.db.rate_cards.find({"effective_from": {"$lte": when}})
        return next(iter(found.sort("effective_from", DESCENDING).limit(1)), None)

    def rate_card_from(self, effective_from):
        return self.db.rate_cards.find_one({"effective_from": effective_from})

    def rate_cards(self):
        return list(self.db.rate_cards.find().sort("_id", ASCENDING))

    def last_rate_card_version(self):
        found = list(self.db.rate_cards.find({}, {"_id": 1}).sort("_id", DESCENDING).limit(1))
        return found[0]["_id"] if found else 0

    # --- invoices -----------------------------------------------------------

    def all_merchants(self):
        """Every merchant (a cursor: the count grows with merchants, never with orders)."""
        return self.db.merchants.find({}, {"_id": 1, "name": 1, "registered_at": 1})

    def wallet_sums(self, merchant_id, account, day):
        """The merchant's wallet lines of the postings of one WIB `day`, summed by posting
        kind and fee type, by the database in one aggregate over the (merchant_id,
        wib_day) index: a handful of rows, never a list of postings. One day at a time
        because the embedded store materializes what an aggregate matches: memory then
        follows a day's postings, not a month's (MongoDB streams either way)."""
        rows = self.db.postings.aggregate(
            [
                {"$match": {"merchant_id": merchant_id, "wib_day": day, "lines.account": account}},
                {"$unwind": "$lines"},
                {"$match": {"lines.account": account}},
                {
                    "$group": {
                        "_id": {"kind": "$kind", "fee_type": "$fee_type"},
                        "amount": {"$sum": "$lines.amount"},
                        "count": {"$sum": 1},
                    }
                },
            ]
        )
        return [{"kind": r["_id"]["kind"], "fee_type": r["_id"].get("fee_type"), **r} for r in rows]

    def add_invoice(self, doc):
        return self.insert_once("invoices", doc)

    def get_invoice(self, invoice_id):
        return self.db.invoices.find_one({"_id": invoice_id})

    def invoice_by_number(self, number):
        return self.db.invoices.find_one({"number": number})

    def invoices_of(self, merchant_id, limit, cursor=None):
        """A page of the merchant's issued invoices, newest month first, and the next page's
        cursor."""
        query = {"merchant_id": merchant_id, "number": {"$exists": True}}
        return page(self.db.invoices, query, INVOICE_LIST, limit, cursor)

    def claim_invoice_number(self, issuer, invoice_id, issued_at):
        """The invoice's number from the issuer's counter, without gaps, even across crashes.

        The counter document holds the last number given and the invoice that holds it
        (`holder`); claiming is ONE conditional write on it (`last` as read -> +1, holder
        -> this invoice), so a number exists only together with the invoice it belongs
        to. Writing the number onto the invoice is a second write: a crash between the
        two leaves the number with its holder on the counter, and whoever claims next
        (or this invoice's retry) first writes the holder's number onto it. So every
        number ever given ends up on its invoice: no gap, no number given twice (the
        invoice is re-read after the counter: once a later claim has healed it, it shows
        its number and claims nothing). Conditional on `last`, concurrent claimers
        cannot take the same number: the loser re-reads and tries the next."""
        counter_id = f"invoice:{issuer}"
        self.insert_once("counters", {"_id": counter_id, "last": 0, "holder": None})
        while True:
            counter = self.read_counter(counter_id)
            if counter["holder"] == invoice_id:
                return self._number_invoice(invoice_id, counter["last"], issued_at)
            mine = self.get_invoice(invoice_id)
            if mine.get("number"):
                return mine["number"]
            if counter["holder"] is not None:
                self._number_invoice(counter["holder"], counter["last"], issued_at)
            claimed = self.db.counters.find_one_and_update(
                {"_id": counter_id, "last": counter["last"]},
                {"$inc": {"last": 1}, "$set": {"holder": invoice_id}},
                return_document=ReturnDocument.AFTER,
            )
            if claimed is not None:
                return self._number_invoice(invoice_id, claimed["last"], issued_at)

    def read_counter(self, counter_id):
        return self.db.counters.find_one({"_id": counter_id})

    def _number_invoice(self, invoice_id, seq, issued_at):
        """Write the claimed number onto its invoice (once; a repeat changes nothing)."""
        draft = self.get_invoice(invoice_id)
        if not draft.get("number"):
            number = invoice_number(draft["year"], draft["month_no"], seq)
            self.db.invoices.update_one(
                {"_id": invoice_id, "number": {"$exists": False}},
                {"$set": {"number": number, "seq": seq, "issued_at": issued_at}},
            )
            draft = self.get_invoice(invoice_id)
        return draft["number"]

    # --- daily storage runs -----------------------------------------------

    def storage_run(self, day):
        return self.db.storage_runs.find_one({"_id": day})

    def last_storage_run(self):
        """The latest day billed (YYYY-MM-DD sorts as a date), or None."""
        found = list(self.db.storage_runs.find({}, {"_id": 1}).sort("_id", DESCENDING).limit(1))
        return found[0]["_id"] if found else None

    def invoice_run(self, month):
        return self.db.invoice_runs.find_one({"_id": month})

    def record_invoice_run(self, month, issued):
        self.db.invoice_runs.update_one(
            {"_id": month},
            {"$set": {"issued": len(issued), "finished_at": iso(utcnow())}},
            upsert=True,
        )

    def record_storage_run(self, day, charged):
        self.db.storage_runs.update_one(
            {"_id": day},
            {"$set": {"charged": charged, "merchants": len(charged), "finished_at": iso(utcnow())}},
            upsert=True,
        )

    # --- COD settlement and withdrawals --------------------------------------

    def cod_credited_since(self, merchant_id, wallet, since):
        """COD credited to the wallet (less its reversals) by postings after `since`: the
        cash couriers have not settled yet. Only COD postings touch COD clearing; the
        wallet's entries index read from `since` on bounds the sum to the period."""
        query = {
            "merchant_id": merchant_id,
            "lines.account": COD_CLEARING,
            "occurred_at": {"$gt": since},
        }
        return sum(
            domain.amount_on(p["lines"], wallet) for p in each(self.db.postings, query, ENTRY_LIST)
        )

    # --- money out: withdrawals and payouts, each kind in its own collections ----

    def bank_account(self, collection, owner_id):
        return self.db[collection].find_one({"_id": owner_id})

    def put_bank_account(self, collection, owner_id, fields):
        self.db[collection].update_one({"_id": owner_id}, {"$set": fields}, upsert=True)
        return self.bank_account(collection, owner_id)

    def request_guard(self, collection, owner_id):
        """The owner's one document every request must claim (see money_out.request)."""
        self.insert_once(collection, {"_id": owner_id, "version": 0, "holder": None})
        return self.db[collection].find_one({"_id": owner_id})

    def add_request(self, collection, doc):
        return self.insert_once(collection, doc)

    def get_request(self, collection, request_id):
        return self.db[collection].find_one({"_id": request_id})

    def requests(self, collection, match, limit, cursor=None):
        """A page of the requests that `match`, newest first, and the next page's cursor."""
        return page(self.db[collection], match, REQUEST_LIST, limit, cursor)

    def claim_request_guard(self, collection, owner_id, version, holder):
        """True when this request moved the guard from `version` on: no one else did since."""
        claimed = self.db[collection].find_one_and_update(
            {"_id": owner_id, "version": version},
            {"$inc": {"version": 1}, "$set": {"holder": holder}},
        )
        return claimed is not None

    def move_request(self, collection, request_id, starts, fields):
        """One conditional write: the request leaves one of `starts` for `fields`; None
        when it was in none of them (another step came first)."""
        return self.db[collection].find_one_and_update(
            {"_id": request_id, "status": {"$in": list(starts)}},
            {"$set": fields},
            return_document=ReturnDocument.AFTER,
        )


class BillingStore(ServiceStore):
    """The service store, and a counter of the fees posted (per container's registry)."""

    def setup(self):
        super().setup()
        self.known_running = {}  # BillingRepository.known_running, shared by the workers
        self.fees = self.metrics.counter(
            "gudang_billing_fees_posted", "Fees posted to the ledger", ("fee_type",)
        )
        self.fee_rupiah = self.metrics.counter(
            "gudang_billing_fees_posted_rupiah", "Rupiah of the fees posted", ("fee_type",)
        )

    def count_fee(self, fee_type, rupiah):
        self.fees.labels(fee_type).inc()
        self.fee_rupiah.labels(fee_type).inc(rupiah)

    def get_dependency(self, worker_ctx):
        repo = super().get_dependency(worker_ctx)
        repo.on_fee_posted = self.count_fee
        repo.known_running = self.known_running
        return repo
