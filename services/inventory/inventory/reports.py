"""What merchants read about their stock: levels (JSON and CSV), movements, slow movers."""

import csv
import io

from gudang_common.clock import today_wib

from .domain import slow_moving
from .domain import stock_levels as levels_of
from .ledger import finish_pending

CSV_COLUMNS = (
    "sku",
    "on_hand",
    "reserved",
    "available",
    "quarantined",
    "expired",
    "nearest_expiry",
    "low_stock",
)


def stock_levels(repo, merchant_id, today=None):
    """Per SKU: on hand, reserved, available, quarantined, expired, nearest expiry, low
    stock, and each bin and lot."""
    stocks = repo.stock_of_merchant(merchant_id)
    return levels_of(stocks, repo.list_skus(merchant_id), today or today_wib())


def stock_csv(levels):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for level in levels:
        writer.writerow(["" if level[c] is None else level[c] for c in CSV_COLUMNS])
    return out.getvalue()


def movements(repo, merchant_id, filters, limit, cursor=None):
    """A page of the merchant's stock ledger and the next page's cursor."""
    finish_pending(repo, merchant_id)  # exact even after a crash mid-flush
    return repo.movements(merchant_id, filters, limit, cursor)


def slow_moving_report(repo, merchant_id, min_days, today=None):
    today = today or today_wib()
    rows = slow_moving(repo.stock_of_merchant(merchant_id), today, min_days)
    return {"as_of": today, "min_days": min_days, "skus": rows}
