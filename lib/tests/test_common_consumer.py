"""The event entrypoint against a real RabbitMQ: every event handled once, acked together
without acking one still being handled, failures retried, poison dead-lettered."""

import random
from collections import Counter

import amqp
import eventlet
import pytest
from kombu import Connection, Producer
from nameko.containers import ServiceContainer

from gudang_common.consumer import _Unsettled, domain_event_handler
from gudang_common.events import new_event
from gudang_common.topology import (
    dead_letter_queue_name,
    declare_topology,
    event_exchange,
    queue_name,
)

pytestmark = pytest.mark.integration

QUEUE = queue_name("billing", "gateway", "promoter_registered")


class Promoters:
    """Handles promoter_registered slowly and in a shuffled order; some fail once."""

    name = "billing"
    handled = Counter()
    attempts = Counter()
    failing_once = set()

    @domain_event_handler("gateway", "promoter_registered")
    def on_promoter_registered(self, event):
        eventlet.sleep(random.random() * 0.02)  # finish out of delivery order
        self.attempts[event["promoter_id"]] += 1
        if event["promoter_id"] in self.failing_once and self.attempts[event["promoter_id"]] == 1:
            raise RuntimeError("the store hiccuped")
        self.handled[event["promoter_id"]] += 1


def _publish(amqp_uri, bodies):
    with Connection(amqp_uri) as conn:
        producer = Producer(conn.channel(), exchange=event_exchange("gateway"), serializer="json")
        for body in bodies:
            producer.publish(body, routing_key="promoter_registered", delivery_mode=2)


def _depth(amqp_uri, queue):
    with Connection(amqp_uri) as conn:
        _, count, _ = conn.default_channel.queue_declare(queue, passive=True)
        return count


def _event(n):
    return new_event(
        "promoter_registered", promoter_id=f"prm_{n}", name="Rina", referral_code=f"R-{n}"
    )


@pytest.fixture
def acks(monkeypatch):
    """Every basic.ack frame sent in this process: (delivery tag, multiple)."""
    sent = []
    original = amqp.Channel.basic_ack

    def basic_ack(channel, delivery_tag, multiple=False, argsig="Lb"):
        sent.append((delivery_tag, multiple))
        return original(channel, delivery_tag, multiple, argsig)

    monkeypatch.setattr(amqp.Channel, "basic_ack", basic_ack)
    return sent


def test_every_event_is_handled_once_and_acked_though_handlers_finish_out_of_order(amqp_uri, acks):
    declare_topology(amqp_uri)
    Promoters.handled, Promoters.attempts = Counter(), Counter()
    Promoters.failing_once = {f"prm_{n}" for n in range(0, 300, 37)}
    poison = {"event_id": "not-a-uuid", "promoter_id": "prm_bad"}
    bodies = [_event(n) for n in range(300)]
    _publish(amqp_uri, bodies[:150] + [poison] + bodies[150:])
    config = {"AMQP_URI": amqp_uri, "max_workers": 10, "EVENT_RETRY_DELAY_SECONDS": 0.05}
    container = ServiceContainer(Promoters, config)
    container.start()
    with eventlet.Timeout(60):
        while len(Promoters.handled) < 300:
            eventlet.sleep(0.05)
    eventlet.sleep(0.5)  # any duplicate delivery would arrive now
    container.stop()
    assert Promoters.handled == Counter({f"prm_{n}": 1 for n in range(300)})
    assert _depth(amqp_uri, QUEUE) == 0  # nothing was left unacked and given back
    assert _depth(amqp_uri, dead_letter_queue_name("billing")) == 1  # only the poison
    assert sum(1 for _, multiple in acks if multiple) > 0
    assert len(acks) < 300 + len(Promoters.failing_once)  # fewer frames than messages


def test_a_multiple_ack_never_covers_a_message_still_being_handled():
    unsettled = _Unsettled()
    unsettled.delivered.update({1, 2, 3, 4, 5, 6})
    unsettled.acks.update({1, 2, 4, 5})  # 3 and 6 are still being handled
    assert unsettled.ready() == (2, [4, 5])
    unsettled.acks.update({3})
    assert unsettled.ready() == (None, [3])  # one message: a plain ack
    unsettled.acks.update({6})
    unsettled.delivered.update({7, 8})
    unsettled.acks.update({7})
    assert unsettled.ready() == (7, [])  # 6 and 7: the lowest still handled is 8
    assert unsettled.delivered == {8}


def _running_until(config, handled):
    """A new instance, once `handled` distinct events are handled."""
    container = ServiceContainer(Promoters, config)
    container.start()
    with eventlet.Timeout(60):
        while len(Promoters.handled) < handled:
            eventlet.sleep(0.005)
    return container


def test_a_crash_mid_flow_loses_no_event(amqp_uri):
    """Killed while handlers are running: the events they held come again to the next
    instance (none was acked before its handler finished)."""
    declare_topology(amqp_uri)
    Promoters.handled, Promoters.attempts, Promoters.failing_once = Counter(), Counter(), set()
    _publish(amqp_uri, [_event(n) for n in range(200)])
    config = {"AMQP_URI": amqp_uri, "max_workers": 10}
    first = _running_until(config, handled=80)
    first.kill()
    _running_until(config, handled=200).stop()
    assert set(Promoters.handled) == {f"prm_{n}" for n in range(200)}
    assert _depth(amqp_uri, QUEUE) == 0
