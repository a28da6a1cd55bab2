"""A merchant on hold: its new orders wait unreserved, and go on oldest first when it is
released; orders allocated before the hold keep going."""

import pytest
from inventory_samples import embedded_repository, sample_sku
from inventory_samples import order_received as order_event

from gudang_common.events import new_event
from inventory import allocation, receiving, reports


@pytest.fixture
def repo(tmp_path):
    with embedded_repository(tmp_path) as repo:
        yield repo


def stock_up(repo, units, sku="SKU-1"):
    if repo.sku_doc("mer_a", sku) is None:
        repo.add_sku("mer_a", sample_sku(sku))
    if repo.get_bin("A-01-01-1-01") is None:
        repo.add_bin({"code": "A-01-01-1-01", "pick_sequence": 1})
    inbound = receiving.create_inbound(repo, "mer_a", {"lines": [{"sku": sku, "qty": units}]})
    lines = [{"sku": sku, "qty_good": units, "qty_damaged": 0, "bin": "A-01-01-1-01"}]
    receiving.receive_inbound(repo, inbound["inbound_id"], {"lines": lines}, "stf_1")
    event = repo.get_inbound(inbound["inbound_id"])["_outbox"][-1]["body"]
    receiving.put_away(repo, event)
    return event


def hold_event(event_type, crossing):
    return new_event(event_type, merchant_id="mer_a", balance=-1, credit_limit=0, crossing=crossing)


def held(repo, crossing=1):
    event = hold_event("merchant_on_hold", crossing)
    allocation.record_hold(repo, event, on_hold=True)
    return event


def released(repo, crossing=2):
    event = hold_event("merchant_released", crossing)
    allocation.record_hold(repo, event, on_hold=False)
    return event


def status(repo, n):
    return repo.get_allocation(f"ord_{n:04d}")["status"]


def published(repo, n):
    return [e["type"] for e in repo.get_allocation(f"ord_{n:04d}").get("_outbox", [])]


def available(repo, sku="SKU-1"):
    return {lvl["sku"]: lvl for lvl in reports.stock_levels(repo, "mer_a")}[sku]["available"]


def test_orders_of_a_held_merchant_wait_unreserved(repo):
    stock_up(repo, 5)
    assert allocation.allocate_order(repo, order_event(0, [{"sku": "SKU-1", "qty": 1}])) == (
        "allocated"
    )
    held(repo)
    assert allocation.allocate_order(repo, order_event(1, [{"sku": "SKU-1", "qty": 2}])) == (
        "on_hold"
    )
    assert status(repo, 1) == "on_hold"
    assert published(repo, 1) == ["order_held"]
    body = repo.get_allocation("ord_0001")["_outbox"][0]["body"]
    assert body["reason"] == "merchant_on_hold"
    assert available(repo) == 4  # the order allocated before the hold keeps its units
    assert status(repo, 0) == "allocated"


def test_released_orders_go_on_oldest_first(repo):
    stock_up(repo, 3)
    held(repo)
    for n, qty in ((1, 2), (2, 2), (3, 1)):
        allocation.allocate_order(repo, order_event(n, [{"sku": "SKU-1", "qty": qty}]))
    assert [status(repo, n) for n in (1, 2, 3)] == ["on_hold"] * 3
    released(repo)
    # the oldest takes 2 of the 3 units; the second is short and queues; the youngest
    # needs the same SKU, so it waits behind the second rather than take its unit
    assert [status(repo, n) for n in (1, 2, 3)] == ["allocated", "backordered", "backordered"]
    assert published(repo, 1) == ["order_held", "order_allocated"]
    assert published(repo, 2) == ["order_held", "order_backordered"]
    assert repo.held_orders("mer_a") == []
    stock_up(repo, 3)
    assert allocation.allocate_backorders(repo, "mer_a", {"SKU-1"}) == 2
    assert [status(repo, n) for n in (1, 2, 3)] == ["allocated"] * 3
    assert available(repo) == 1


def test_duplicate_and_late_hold_events_change_nothing(repo):
    stock_up(repo, 5)
    hold = held(repo, crossing=1)
    release = released(repo, crossing=2)
    allocation.record_hold(repo, hold, on_hold=True)  # an old hold redelivered late
    assert not repo.merchant_on_hold("mer_a")
    assert allocation.allocate_order(repo, order_event(1, [{"sku": "SKU-1", "qty": 1}])) == (
        "allocated"
    )
    allocation.record_hold(repo, release, on_hold=False)  # the release again
    assert published(repo, 1) == ["order_allocated"]
    assert available(repo) == 4


def test_a_release_arriving_before_its_hold_leaves_the_merchant_free(repo):
    stock_up(repo, 5)
    release = hold_event("merchant_released", 2)
    allocation.record_hold(repo, release, on_hold=False)
    held(repo, crossing=1)
    assert not repo.merchant_on_hold("mer_a")


def test_a_redelivered_order_of_a_held_merchant_is_held_once(repo):
    stock_up(repo, 5)
    held(repo)
    order = order_event(1, [{"sku": "SKU-1", "qty": 1}])
    allocation.allocate_order(repo, order)
    assert allocation.allocate_order(repo, order) == "duplicate"
    assert published(repo, 1) == ["order_held"]


def test_a_held_order_can_be_cancelled_and_is_never_allocated(repo):
    stock_up(repo, 5)
    held(repo)
    allocation.allocate_order(repo, order_event(1, [{"sku": "SKU-1", "qty": 1}]))
    allocation.cancel(repo, {"order_id": "ord_0001", "merchant_id": "mer_a"})
    released(repo)
    assert status(repo, 1) == "cancelled"
    assert available(repo) == 5


def test_an_order_arriving_during_a_release_waits_behind_the_held_ones(repo):
    stock_up(repo, 5)
    held(repo)
    allocation.allocate_order(repo, order_event(1, [{"sku": "SKU-1", "qty": 1}]))
    # the release is recorded, its held orders not served yet (a worker between the two)
    repo.record_hold("mer_a", False, 2, "evt")
    assert allocation.allocate_order(repo, order_event(2, [{"sku": "SKU-1", "qty": 1}])) == (
        "on_hold"
    )
    body = repo.get_allocation("ord_0002")["_outbox"][0]["body"]
    assert body["reason"] == "older_orders_held"
    # recording it served the queue, oldest first
    assert [status(repo, n) for n in (1, 2)] == ["allocated", "allocated"]


def test_a_pass_stops_at_an_older_order_another_pass_is_serving(repo):
    stock_up(repo, 1)
    held(repo)
    for n in (1, 2):
        allocation.allocate_order(repo, order_event(n, [{"sku": "SKU-1", "qty": 1}]))
    repo.claim_backorder("ord_0001", "other-pass", status="on_hold")
    released(repo)
    # the younger order did not take the unit the older one is being served with
    assert [status(repo, n) for n in (1, 2)] == ["on_hold", "on_hold"]
    repo.unclaim("ord_0001", "other-pass")
    assert allocation.release_held_orders(repo, "mer_a") == 2
    assert [status(repo, n) for n in (1, 2)] == ["allocated", "backordered"]
