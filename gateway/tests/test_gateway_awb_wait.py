"""The pack call's wait for the AWB: woken by parcel_booked, a slow poll otherwise, 202 on time out."""

import time

import eventlet
from nameko.testing.services import worker_factory

from gateway.awb_wait import AwbWaiters, wait_for_awb
from gateway.service import GatewayService
from tests.sample_events import parcel_booked


class Orders:
    """The read model as the pack call sees it."""

    def __init__(self):
        self.docs = {"ord_1": {"_id": "ord_1", "awb": None}}
        self.reads = 0

    def read(self):
        self.reads += 1
        return dict(self.docs["ord_1"])

    def book(self, awb="JN000000000001"):
        self.docs["ord_1"]["awb"] = awb


def test_the_answer_comes_as_soon_as_parcel_booked_is_applied():
    waiters, orders = AwbWaiters(), Orders()
    waiter = waiters.register("ord_1")
    booked_at = {}

    def shipping_books_and_the_handler_applies_it():
        eventlet.sleep(0.2)
        orders.book()
        booked_at["t"] = time.monotonic()
        waiters.booked("ord_1")

    eventlet.spawn(shipping_books_and_the_handler_applies_it)
    # a slow poll of 10 s: only the wake can answer within the test's margin
    order = wait_for_awb(orders.read, waiter, seconds=5, slow_poll=10)
    assert order["awb"] == "JN000000000001"
    assert time.monotonic() - booked_at["t"] < 0.05
    assert orders.reads == 2  # once before the wait, once after the wake: no polling


def test_a_wake_for_another_order_only_makes_it_read_again():
    waiters, orders = AwbWaiters(), Orders()
    waiter = waiters.register("ord_1")
    other = waiters.register("ord_2")
    eventlet.spawn_after(0.05, waiters.booked, "ord_2")
    started = time.monotonic()
    order = wait_for_awb(orders.read, waiter, seconds=0.3, slow_poll=10)
    assert order["awb"] is None and time.monotonic() - started >= 0.29
    assert other.event.ready() and not waiter.event.ready()


def test_booked_on_another_replica_is_found_by_the_slow_poll():
    waiters, orders = AwbWaiters(), Orders()
    waiter = waiters.register("ord_1")
    eventlet.spawn_after(0.1, orders.book)  # written by a handler in another process: no wake
    started = time.monotonic()
    order = wait_for_awb(orders.read, waiter, seconds=5, slow_poll=0.25)
    assert order["awb"] == "JN000000000001"
    assert time.monotonic() - started < 0.4


def test_no_awb_in_time_returns_the_order_without_one():
    waiters, orders = AwbWaiters(), Orders()
    waiter = waiters.register("ord_1")
    started = time.monotonic()
    order = wait_for_awb(orders.read, waiter, seconds=0.3, slow_poll=0.25)
    assert order["awb"] is None  # the route answers 202
    assert 0.29 <= time.monotonic() - started < 0.5
    waiters.forget("ord_1", waiter)
    assert len(waiters) == 0
    waiters.booked("ord_1")  # a late parcel_booked finds nobody waiting


def test_the_parcel_booked_handler_wakes_after_applying_the_event():
    service = worker_factory(GatewayService, awb_waits=AwbWaiters())
    waiter = service.awb_waits.register("ord_1")
    woken_before_the_write = []

    def apply(*args):
        woken_before_the_write.append(waiter.event.ready())
        return True, {"external_id": "INV-1"}

    service.store.apply_event_to_order.side_effect = apply
    event = parcel_booked(cost=9000, weight_g=1000)
    service.on_parcel_booked(event)
    assert woken_before_the_write == [False]
    assert waiter.event.ready()


def test_the_pack_route_answers_202_when_no_awb_comes(monkeypatch):
    service = worker_factory(GatewayService, awb_waits=AwbWaiters())
    service.config = {"PACK_AWB_WAIT_SECONDS": "0.2", "PACK_AWB_POLL_SECONDS": "0.05"}
    monkeypatch.setattr(service, "_auth", lambda request, *roles: type("C", (), {"id": "s"})())
    monkeypatch.setattr(service, "_rpc", lambda *a, **kw: {"package": {"box": "S"}})
    monkeypatch.setattr("gateway.warehouse_routes.json_body", lambda request: {})
    service.store.get_order.return_value = {"_id": "ord_1", "awb": None}
    status, body = service.pack_order(object(), "ord_1")
    assert status == 202 and body["awb"] is None
    assert len(service.awb_waits) == 0  # the waiter is gone after the answer
