"""`domain_event_handler`: an event entrypoint with bounded retries and a dead-letter queue.

nameko's own event_handler acks a failing message (it is gone) or, with
requeue_on_error, loops on it hot. Here a failure sends the message to the
queue's delay queue (it comes back after a growing delay) until
EVENT_MAX_ATTEMPTS; then it is rejected and RabbitMQ dead-letters it into
`<service>.dlq`, where ops see it in metrics and can replay it
(`python -m gudang_common.deadletter`). A payload that fails its schema, or a
message that cannot be decoded at all, goes to the dead-letter queue at once:
no number of retries makes it valid, and it must not kill the consumer.

Acks are sent a moment after the handler finished, together: the handlers that finish
in the same turn of the event loop have their messages acked by one `multiple` ack up
to the highest delivery tag below which every delivered message is done (acks above a
message still being handled go one by one, so none is ever acked early). A crash
before that moment leaves the messages unacked: the broker delivers them again and
the handlers absorb the repeat, as for any redelivery.
"""

import logging

import eventlet
from nameko.amqp.publish import Publisher
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.events import EventHandler
from nameko.exceptions import ContainerBeingKilled
from nameko.messaging import Consumer, QueueConsumer

from .errors import ValidationFailed
from .events import validate_event
from .metrics import for_container
from .topology import main_queue, retry_queue, subscription

log = logging.getLogger(__name__)

ATTEMPT_HEADER = "x-gudang-attempt"


# a connection the broker dropped: it takes every unacked message back on its own
CONNECTION_LOST = (ConnectionError, OSError)


class _Unsettled:
    """One channel's delivered messages not yet acked or rejected, and the acks to send."""

    def __init__(self):
        self.delivered = set()
        self.acks = set()

    def ready(self):
        """(the tag one `multiple` ack covers or None, the tags to ack one by one)."""
        covered = None
        for tag in sorted(self.delivered | self.acks):
            if tag not in self.acks:
                break
            covered = tag
        acks, self.acks = sorted(self.acks), set()
        self.delivered.difference_update(acks)
        if covered is None or acks[1:2] == [] or acks[1] > covered:
            return None, acks  # nothing, or one message, below the first one still handled
        return covered, [tag for tag in acks if tag > covered]


class SafeQueueConsumer(QueueConsumer):
    """A queue consumer that dead-letters undecodable messages instead of crashing, and
    acks the messages handled in one turn of the event loop together."""

    def __init__(self):
        super().__init__()
        self._unsettled = {}  # channel -> _Unsettled
        self._flush_due = False

    def _of(self, channel):
        unsettled = self._unsettled.get(channel)
        if unsettled is None:
            unsettled = self._unsettled[channel] = _Unsettled()
        return unsettled

    def handle_message(self, provider, body, message):
        self._of(message.channel).delivered.add(message.delivery_tag)
        super().handle_message(provider, body, message)

    def ack_message(self, message):
        if not message.channel.connection:
            return  # the broker has taken it back already
        self._of(message.channel).acks.add(message.delivery_tag)
        message._state = "ACK"  # sent with the others in a moment
        if not self._flush_due:
            self._flush_due = True
            eventlet.spawn_n(self.send_acks)  # after the handlers finishing now

    def send_acks(self):
        self._flush_due = False
        for channel, unsettled in list(self._unsettled.items()):
            if not channel.connection:  # replaced after a reconnect: the broker took them back
                del self._unsettled[channel]
                continue
            covered, singles = unsettled.ready()
            try:
                if covered is not None:
                    channel.basic_ack(covered, multiple=True)
                for tag in singles:
                    channel.basic_ack(tag)
            except CONNECTION_LOST:
                continue

    def _settled(self, message):
        self._of(message.channel).delivered.discard(message.delivery_tag)

    def requeue_message(self, message):
        self._settled(message)
        super().requeue_message(message)

    def reject_message(self, message):
        """Dead-letter the message (no requeue) at once."""
        self._settled(message)
        if message.channel.connection:
            try:
                message.reject(requeue=False)
            except CONNECTION_LOST:
                pass

    def stop(self):
        self.send_acks()
        super().stop()

    def get_consumers(self, consumer_cls, channel):
        consumers = super().get_consumers(consumer_cls, channel)
        for consumer in consumers:
            consumer.on_decode_error = self._on_decode_error
        return consumers

    def _on_decode_error(self, message, exc):
        log.error("undecodable message on %s dead-lettered: %s", message.delivery_info, exc)
        metrics = for_container(self.container)
        queue = message.delivery_info.get("routing_key", "?")
        metrics.dead_lettered.labels(self.container.service_name, queue, "undecodable").inc()
        self.reject_message(message)


class DomainEventHandler(EventHandler):
    queue_consumer = SafeQueueConsumer()

    def __init__(self, source_service, event_type, **kwargs):
        super().__init__(
            source_service, event_type, reliable_delivery=True, requeue_on_error=False, **kwargs
        )

    def setup(self):
        service = self.container.service_name
        subscription(service, self.source_service, self.event_type)
        config = self.container.config
        self.queue = main_queue(service, self.source_service, self.event_type)
        self.retry_queue = retry_queue(service, self.source_service, self.event_type)
        self.max_attempts = int(config.get("EVENT_MAX_ATTEMPTS", 5))
        self.retry_delay = float(config.get("EVENT_RETRY_DELAY_SECONDS", 0.2))
        self.metrics = for_container(self.container)
        self.publisher = Publisher(
            config[AMQP_URI_CONFIG_KEY], use_confirms=True, mandatory=True, serializer="json"
        )
        Consumer.setup(self)  # skip EventHandler.setup: the queue is ours, with its DLX

    def handle_message(self, body, message):
        try:
            if not isinstance(body, dict):
                raise ValidationFailed("event body is not a JSON object")
            payload = validate_event(self.event_type, body)
        except ValidationFailed as exc:
            log.error("invalid %s dead-lettered: %s %s", self.event_type, exc.message, exc.fields)
            self.metrics.dead_lettered.labels(
                self.container.service_name, self.queue.name, "invalid"
            ).inc()
            self.queue_consumer.reject_message(message)
            return
        context_data = self.unpack_message_headers(message)
        try:
            self.container.spawn_worker(
                self,
                (payload,),
                {},
                context_data=context_data,
                handle_result=lambda worker_ctx, result=None, exc_info=None: self._done(
                    message, body, result, exc_info
                ),
            )
        except ContainerBeingKilled:
            self.queue_consumer.requeue_message(message)

    def _done(self, message, body, result, exc_info):
        if exc_info is None:
            self.queue_consumer.ack_message(message)
            return result, exc_info
        attempt = int((message.headers or {}).get(ATTEMPT_HEADER, 1))
        service = self.container.service_name
        if attempt < self.max_attempts:
            delay = min(self.retry_delay * 2 ** (attempt - 1), 30.0)
            try:
                self.publisher.publish(
                    body,
                    exchange="",
                    routing_key=self.retry_queue.name,
                    expiration=delay,
                    headers={ATTEMPT_HEADER: attempt + 1},
                    message_id=body.get("event_id"),
                )
            except Exception:
                # cannot schedule the retry: give the message back to the broker instead
                log.exception("could not schedule retry of %s", self.event_type)
                self.queue_consumer.requeue_message(message)
                return result, exc_info
            self.metrics.retried.labels(service, self.queue.name).inc()
            self.queue_consumer.ack_message(message)
            log.warning(
                "%s attempt %s failed, retry in %.1fs: %s",
                self.event_type,
                attempt,
                delay,
                exc_info[1],
            )
        else:
            log.error(
                "%s failed %s times, dead-lettered: %r", self.event_type, attempt, exc_info[1]
            )
            self.metrics.dead_lettered.labels(service, self.queue.name, "failed").inc()
            self.queue_consumer.reject_message(message)
        return result, exc_info


domain_event_handler = DomainEventHandler.decorator
