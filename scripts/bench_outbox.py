"""Benchmark: events per second the outbox relay publishes, batched confirms against one per event.

    .venv/bin/python -m scripts.bench_outbox [--documents 2000] [--events-each 2] [--rounds 3]

Both modes drain the same outbox (an embedded store under a temporary directory, a private
vhost with the real topology) through `OutboxRelay.drain`; only the publishing differs. The
per-event mode publishes as the relay did before batching: nameko's `Publisher` with confirms
and `mandatory`, one confirm awaited per event. Rounds alternate the modes so that a neighbour's
load on the machine falls on both.
"""

import eventlet  # noqa: E402

eventlet.monkey_patch()

import argparse  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from nameko.amqp.publish import Publisher  # noqa: E402

from gudang_common.events import new_event  # noqa: E402
from gudang_common.metrics import ServiceMetrics  # noqa: E402
from gudang_common.store import (  # noqa: E402
    OutboxRelay,
    insert_with_events,
    open_database,
    staged,
)
from gudang_common.topology import declare_topology, queue_name  # noqa: E402

from . import rabbit  # noqa: E402


class PerEventRelay(OutboxRelay):
    """The relay as it published before batching: one confirmed publish at a time."""

    def publish_batch(self, events):
        if not hasattr(self, "publisher"):
            self.publisher = Publisher(
                self.amqp_uri,
                use_confirms=True,
                mandatory=True,
                serializer="json",
                declare=[self.exchange],
            )
        for event in events:
            self.publisher.publish(
                event["body"],
                exchange=self.exchange,
                routing_key=event["type"],
                message_id=event["body"]["event_id"],
                headers={"x-gudang-event-type": event["type"]},
            )


def _stage(db, documents, events_each):
    for n in range(documents):
        events = [
            staged(
                "promoter_registered",
                new_event(
                    "promoter_registered", promoter_id=f"prm_{n}", name="R", referral_code="R"
                ),
            )
            for _ in range(events_each)
        ]
        db.promoters.insert_one(insert_with_events({"_id": f"prm_{n}"}, events))


def _purge(amqp_uri):
    from kombu import Connection

    with Connection(amqp_uri) as conn:
        conn.default_channel.queue_purge(queue_name("billing", "gateway", "promoter_registered"))


def one_round(relay_cls, amqp_uri, documents, events_each):
    with tempfile.TemporaryDirectory() as data_dir:
        client, db = open_database({"DATA_DIR": data_dir}, "gateway")
        _stage(db, documents, events_each)
        relay = relay_cls(db, ["promoters"], amqp_uri, "gateway", ServiceMetrics("gateway"))
        started = time.perf_counter()
        published = 0
        while n := relay.drain():
            published += n
        elapsed = time.perf_counter() - started
        assert relay.pending() == 0 and published == documents * events_each
        relay.close()
        client.close()
    _purge(amqp_uri)  # the queue is bounded by nothing here; keep the broker light
    return published / elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--events-each", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    vhost = rabbit.make_vhost("gudang-bench-outbox")
    try:
        amqp_uri = rabbit.amqp_uri_for(vhost)
        declare_topology(amqp_uri)
        rates = {"per event": [], "batched": []}
        for _ in range(args.rounds):
            rates["per event"].append(
                one_round(PerEventRelay, amqp_uri, args.documents, args.events_each)
            )
            rates["batched"].append(
                one_round(OutboxRelay, amqp_uri, args.documents, args.events_each)
            )
        total = args.documents * args.events_each
        print(f"outbox relay, {total} events in {args.documents} documents, {args.rounds} rounds")
        for mode, values in rates.items():
            shown = ", ".join(f"{v:,.0f}" for v in values)
            print(f"  {mode:9s}: median {sorted(values)[len(values) // 2]:,.0f} events/s ({shown})")
    finally:
        rabbit.drop_vhost(vhost)


if __name__ == "__main__":
    main()
