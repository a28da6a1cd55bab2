"""Low stock: a SKU whose sellable units fall to its threshold alerts once per crossing."""

from gudang_common.clock import today_wib
from gudang_common.events import new_event

from .domain import crossed_low, sellable_fefo
from .store import LOW


def check_low_stock(repo, merchant_id, skus, today=None):
    """Emit stock_low once when a SKU's available units fall to its threshold."""
    today = today or today_wib()
    for sku in skus:
        doc = repo.sku_doc(merchant_id, sku)
        threshold = (doc or {}).get("low_stock_threshold")
        if threshold is None:
            continue
        available = sum(
            s["available"] for s in sellable_fefo(repo.stock_for(merchant_id, sku), today)
        )
        change = crossed_low(available, threshold, doc.get(LOW, False))
        if change == "low":
            event = new_event(
                "stock_low",
                merchant_id=merchant_id,
                sku=sku,
                available=available,
                threshold=threshold,
            )
            repo.flag_low(merchant_id, sku, event)
        elif change == "recovered":
            repo.clear_low(merchant_id, sku)
