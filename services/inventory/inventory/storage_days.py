"""Units each merchant held at the end of a WIB day, for billing's daily storage fee.

On-hand at the end of day D is the on-hand now less every movement since D ended.
That reads every stock document (which grows with SKUs, bins and lots, not with
orders) and the movements since D ended, found through an index on `at` (a range
that grows with the days since D, not with the ledger's history), so billing
yesterday costs the same after a thousand days of orders as after one.
"""

from datetime import date, timedelta

from gudang_common.clock import iso, wib_day_start_utc

from .store import MOVEMENTS


def day_end(day: date):
    """The UTC instant (stored form) a WIB day ends."""
    return iso(wib_day_start_utc(day + timedelta(days=1)))


def units_on(repo, day: date):
    """{merchant_id: units} on hand (quarantine included) as the WIB `day` ended."""
    end = day_end(day)
    snapshot = repo.storage_snapshot(end)
    return units_at(end, snapshot["stock"], snapshot["moved_since"], snapshot["flushed"])


def units_at(end, stock_docs, moved_since, flushed):
    """Pure: the stock as read, less the movements from `end` on.

    `moved_since` sums, per merchant, the ledger's movements from `end` up to the
    read. A stock document's unflushed movements are already in its on-hand but not
    yet in the ledger, so those from `end` on are taken off here, except the ones
    (`flushed`) that reached the ledger while it was being read and so are already
    in `moved_since`."""
    units = {}
    for doc in stock_docs:
        held = doc["on_hand"]
        for mv in doc.get(MOVEMENTS) or []:
            if mv["at"] >= end and mv["movement_id"] not in flushed:
                held -= mv["qty"]
        units[doc["merchant_id"]] = units.get(doc["merchant_id"], 0) + held
    for merchant_id, qty in moved_since.items():
        units[merchant_id] = units.get(merchant_id, 0) - qty
    return {merchant_id: n for merchant_id, n in sorted(units.items()) if n > 0}
