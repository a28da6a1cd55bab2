"""The pack call's wait for the AWB: woken by this process's own parcel_booked handler.

The handler runs in another green thread of the same gateway process, so a waiting pack call
holds an eventlet Event that the handler sends once the event is applied to the store. The
store stays the source of truth: a wake only says "read again". With several gateway replicas
the parcel_booked may land on another one; a slow poll of the store covers that case.
"""

import time

from eventlet.event import Event
from nameko.extensions import DependencyProvider


class AwbWaiters:
    """The pack calls waiting in this process, by order id."""

    def __init__(self):
        self._waiting = {}

    def register(self, order_id):
        waiter = _Waiter()
        self._waiting.setdefault(order_id, set()).add(waiter)
        return waiter

    def forget(self, order_id, waiter):
        waiters = self._waiting.get(order_id)
        if waiters is not None:
            waiters.discard(waiter)
            if not waiters:
                del self._waiting[order_id]

    def booked(self, order_id):
        for waiter in list(self._waiting.get(order_id, ())):
            waiter.wake()

    def __len__(self):
        return len(self._waiting)


class _Waiter:
    def __init__(self):
        self.event = Event()

    def wake(self):
        if not self.event.ready():
            self.event.send(True)

    def wait(self, seconds):
        woken = self.event.wait(seconds)
        if woken:
            self.event = Event()  # an Event is sent once; the next wake needs a fresh one


def wait_for_awb(read_order, waiter, seconds, slow_poll=0.25):
    """The order once it has an AWB, or as it stands when `seconds` have passed."""
    deadline = time.monotonic() + seconds
    while True:
        order = read_order()
        if order is not None and order.get("awb"):
            return order
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return order
        waiter.wait(min(slow_poll, remaining))


class AwbWaits(DependencyProvider):
    """One registry per gateway container, shared by its pack calls and its event handlers."""

    def setup(self):
        self.waiters = AwbWaiters()

    def get_dependency(self, worker_ctx):
        return self.waiters
