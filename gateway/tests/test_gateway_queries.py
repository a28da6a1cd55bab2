"""The gateway's reads are the store's work: filtered, sorted and limited by the query."""

from gateway import notify
from gateway.store import GatewayRepository, order_keys


def test_a_merchants_orders_newest_first_limited_and_by_status(db):
    for n, (merchant, status) in enumerate(
        [("mer_1", "received"), ("mer_1", "packed"), ("mer_2", "received"), ("mer_1", "received")]
    ):
        doc = {
            "_id": f"ord_{n}",
            "merchant_id": merchant,
            "external_id": str(n),
            "channel": "shopee",
            "status": status,
            "received_at": f"2026-11-0{n + 1}T00:00:00.000Z",
        }
        db.orders.insert_one(doc | order_keys(doc))
    repo = GatewayRepository(db, lambda: None)
    first, after = repo.orders_of("mer_1", limit=2)
    assert [o["_id"] for o in first] == ["ord_3", "ord_1"]
    rest, end = repo.orders_of("mer_1", limit=2, cursor=after)
    assert [o["_id"] for o in rest] == ["ord_0"] and end is None
    received, _ = repo.orders_of("mer_1", {"status": "received"})
    assert [o["_id"] for o in received] == ["ord_3", "ord_0"]
    # a status change moves the order to the other status's list
    repo.apply_event("order_allocated", {"order_id": "ord_3", "event_id": "e1", "occurred_at": "x"})
    received, _ = repo.orders_of("mer_1", {"status": "received", "channel": "shopee"})
    assert [o["_id"] for o in received] == ["ord_0"]
    allocated, _ = repo.orders_of("mer_1", {"status": "allocated"})
    assert [o["_id"] for o in allocated] == ["ord_3"]
    assert repo.orders_of("mer_1", {"channel": "tokopedia"}) == ([], None)
    # the whole list's index serves the sort: merchant, then received_at and _id, newest first
    assert db.orders.index_information()["merchant_id_1_received_at_-1__id_-1"]
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
    deliveries, after = notify.deliveries_of(db, "wh_1", limit=2)
    assert [d["delivery_id"] for d in deliveries] == ["wh_1:2", "wh_1:1"]
    deliveries, after = notify.deliveries_of(db, "wh_1", limit=2, cursor=after)
    assert [d["delivery_id"] for d in deliveries] == ["wh_1:0"] and after is None


def test_an_order_number_is_the_merchants_once_and_found_by_one_key(db):
    # an order stored before the key existed gets it when the gateway starts
    db.orders.insert_one({"_id": "ord_old", "merchant_id": "mer_1", "external_id": "A-1"})
    db.migrations.delete_many({})
    GatewayRepository.ensure_indexes(db)
    repo = GatewayRepository(db, lambda: None)
    assert repo.order_by_external_id("mer_1", "A-1")["_id"] == "ord_old"
    assert repo.order_by_external_id("mer_2", "A-1") is None
    again = {"_id": "ord_new", "merchant_id": "mer_1", "external_id": "A-1"}
    assert repo.add_order(dict(again), {"event_id": "e1"}) is False
    other = {"_id": "ord_b", "merchant_id": "mer_2", "external_id": "A-1", "received_at": "x"}
    assert repo.add_order(other, {"event_id": "e2"}) is True
    found, after = repo.orders_of("mer_2", {"external_id": "A-1"})
    assert [o["_id"] for o in found] == ["ord_b"] and after is None
    assert "merchant_id_1_external_id_1" not in db.orders.index_information()
