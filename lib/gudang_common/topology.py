"""Who consumes which event, and the RabbitMQ queues that follow from it.

Every service declares the whole topology when it starts, so that an event
published while its consumer is down (or has never run) waits in the consumer's
durable queue instead of being dropped as unroutable.

Per consumed event there is a main queue `evt-<source>-<event>--<consumer>`
and a delay queue `<main>.retry` whose expired messages go back to the main
queue. A message that fails its last attempt, or cannot be decoded, is rejected
and RabbitMQ dead-letters it through the `gudang.dlx` exchange into the
consumer's dead-letter queue `<consumer>.dlq`.
"""

from kombu import Exchange, Queue

from .events import EVENTS

DLX = Exchange("gudang.dlx", type="direct", durable=True)

# the events of an order's timeline: the gateway's read model follows each (gateway.tracking)
ORDER_TIMELINE = (
    "order_allocated",
    "order_held",
    "order_backordered",
    "order_rejected",
    "order_picked",
    "order_short_picked",
    "order_packed",
    "order_cancelled",
    "parcel_booked",
    "parcel_dispatched",
    "parcel_in_transit",
    "parcel_delivered",
    "parcel_delivery_failed",
    "parcel_returned",
    "parcel_returned_by_buyer",
    "parcel_outcome_corrected",
)

# (consumer service, source service, event type)
SUBSCRIPTIONS = [
    ("inventory", "gateway", "order_received"),
    ("inventory", "inventory", "stock_received"),
    ("inventory", "packing", "order_packed"),
    ("inventory", "packing", "order_cancelled"),
    ("inventory", "packing", "order_short_picked"),
    ("inventory", "shipping", "parcel_returned"),
    ("inventory", "shipping", "parcel_returned_by_buyer"),
    ("inventory", "inventory", "return_inspected"),
    ("gateway", "inventory", "stock_low"),
    ("gateway", "inventory", "sku_registered"),
    ("packing", "inventory", "order_allocated"),
    ("packing", "inventory", "sku_registered"),
    ("shipping", "gateway", "order_received"),
    ("shipping", "packing", "order_packed"),
    ("billing", "gateway", "promoter_registered"),
    ("billing", "gateway", "merchant_registered"),
    ("billing", "inventory", "stock_received"),
    ("billing", "packing", "order_packed"),
    ("billing", "shipping", "parcel_booked"),
    ("billing", "shipping", "parcel_delivered"),
    ("billing", "shipping", "parcel_returned"),
    ("billing", "shipping", "parcel_outcome_corrected"),
    ("inventory", "shipping", "parcel_outcome_corrected"),
    ("inventory", "billing", "merchant_on_hold"),
    ("inventory", "billing", "merchant_released"),
] + [("gateway", EVENTS[event][0], event) for event in ORDER_TIMELINE]

SERVICES = ("gateway", "inventory", "packing", "shipping", "billing")


def event_exchange(source):
    # the same declaration nameko's EventDispatcher makes, so the two never clash
    return Exchange(f"{source}.events", type="topic", durable=True, delivery_mode=2)


def queue_name(consumer, source, event_type):
    return f"evt-{source}-{event_type}--{consumer}"


def dead_letter_queue_name(consumer):
    return f"{consumer}.dlq"


def main_queue(consumer, source, event_type):
    return Queue(
        queue_name(consumer, source, event_type),
        exchange=event_exchange(source),
        routing_key=event_type,
        durable=True,
        auto_delete=False,
        queue_arguments={
            "x-dead-letter-exchange": DLX.name,
            "x-dead-letter-routing-key": consumer,
        },
    )


def retry_queue(consumer, source, event_type):
    name = queue_name(consumer, source, event_type)
    return Queue(
        f"{name}.retry",
        durable=True,
        auto_delete=False,
        queue_arguments={
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": name,
        },
    )


def dead_letter_queue(consumer):
    return Queue(
        dead_letter_queue_name(consumer),
        exchange=DLX,
        routing_key=consumer,
        durable=True,
        auto_delete=False,
    )


def subscription(consumer, source, event_type):
    if (consumer, source, event_type) not in SUBSCRIPTIONS:
        raise LookupError(
            f"{consumer} handles {source}.{event_type} but topology.SUBSCRIPTIONS does not list it"
        )
    if EVENTS.get(event_type, (None,))[0] != source:
        raise LookupError(f"{event_type} is not published by {source}")


def declare_all(channel):
    """Declare every exchange and queue of the platform (idempotent)."""
    DLX(channel).declare()
    for service in SERVICES:
        event_exchange(service)(channel).declare()
        dead_letter_queue(service)(channel).declare()
    for consumer, source, event_type in SUBSCRIPTIONS:
        main_queue(consumer, source, event_type)(channel).declare()
        retry_queue(consumer, source, event_type)(channel).declare()


def declare_topology(amqp_uri):
    from kombu import Connection

    with Connection(amqp_uri) as conn:
        conn.ensure_connection(
            max_retries=30, interval_start=0.5, interval_step=0.5, interval_max=2
        )
        declare_all(conn.default_channel)
