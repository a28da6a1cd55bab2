"""The gateway's reads are the store's work: filtered, sorted and limited by the query."""

from gateway import notify
from gateway.store import GatewayRepository


def test_a_merchants_orders_newest_first_limited_and_by_status(db):
    for n, (merchant, status) in enumerate(
        [("mer_1", "received"), ("mer_1", "packed"), ("mer_2", "received"), ("mer_1", "received")]
    ):
        db.orders.insert_one(
            {
                "_id": f"ord_{n}",
                "merchant_id": merchant,
                "external_id": str(n),
                "status": status,
                "received_at": f"2026-11-0{n + 1}T00:00:00.000Z",
            }
        )
    repo = GatewayRepository(db, lambda: None)
    assert [o["_id"] for o in repo.orders_of("mer_1", limit=2)] == ["ord_3", "ord_1"]
    assert [o["_id"] for o in repo.orders_of("mer_1", "received")] == ["ord_3", "ord_0"]
    gauges = {name: fn for name, _, _, fn in GatewayRepository.gauges(db, {})}
    # all were received before the last cut-off; one is packed
    assert gauges["gudang_orders_missed_cutoff"]() == [((), 3)]


def test_a_webhooks_deliveries_newest_first(db):
    for n in range(3):
        db.deliveries.insert_one(
            {
                "_id": f"wh_1:{n}",
                "webhook_id": "wh_1",
                "status": "pending",
                "event": "order_packed",
                "created_at": f"2026-11-0{n + 1}T00:00:00.000Z",
            }
        )
    deliveries = notify.deliveries_of(db, "wh_1", limit=2)
    assert [d["delivery_id"] for d in deliveries] == ["wh_1:2", "wh_1:1"]
