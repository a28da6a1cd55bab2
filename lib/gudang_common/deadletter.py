"""Look at and replay a service's dead-letter queue.

    python -m gudang_common.deadletter list inventory
    python -m gudang_common.deadletter replay inventory [--limit N]

Replay moves each message back to the queue it died in (from RabbitMQ's
x-death header) with a fresh attempt count; consumers are idempotent, so a
replay of something already applied changes nothing.
"""

import argparse
import json
import os

from kombu import Connection, Producer

from .consumer import ATTEMPT_HEADER
from .topology import dead_letter_queue_name


def _origin(message):
    deaths = (message.headers or {}).get("x-death") or []
    return deaths[0]["queue"] if deaths else None


def peek(amqp_uri, service, limit=100):
    """The dead letters of `service` (left in place), oldest first."""
    out = []
    with Connection(amqp_uri) as conn:
        channel = conn.channel()
        held = []
        for _ in range(limit):
            message = channel.basic_get(dead_letter_queue_name(service), no_ack=False)
            if message is None:
                break
            held.append(message)
            out.append({"queue": _origin(message), "body": message.body.decode("utf-8", "replace")})
        for message in held:
            channel.basic_reject(message.delivery_tag, requeue=True)
        channel.close()
    return out


def replay(amqp_uri, service, limit=1000):
    """Move up to `limit` dead letters back to their queues; returns how many moved."""
    moved = 0
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        channel = conn.channel()
        producer = Producer(channel)
        for _ in range(limit):
            message = channel.basic_get(dead_letter_queue_name(service), no_ack=False)
            if message is None:
                break
            origin = _origin(message)
            if origin is None:
                channel.basic_reject(message.delivery_tag, requeue=True)
                break
            producer.publish(
                message.body,
                exchange="",
                routing_key=origin,
                content_type=message.properties.get("content_type", "application/json"),
                content_encoding=message.properties.get("content_encoding", "utf-8"),
                headers={ATTEMPT_HEADER: 1},
                delivery_mode=2,
            )
            channel.basic_ack(message.delivery_tag)
            moved += 1
        channel.close()
    return moved


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["list", "replay"])
    parser.add_argument("service")
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument(
        "--amqp-uri", default=os.environ.get("AMQP_URI", "pyamqp://guest:guest@localhost:5672/")
    )
    args = parser.parse_args(argv)
    if args.action == "list":
        print(json.dumps(peek(args.amqp_uri, args.service, args.limit), indent=2))
    else:
        print(f"replayed {replay(args.amqp_uri, args.service, args.limit)} message(s)")


if __name__ == "__main__":
    main()
