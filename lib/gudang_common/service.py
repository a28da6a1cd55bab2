"""What every service has: its store, metrics, /health and /metrics, and the declared topology."""

import inspect
import sys

from amqp.exceptions import RecoverableConnectionError
from eventlet.semaphore import Semaphore
from kombu import Connection, Producer, serialization
from nameko.constants import AMQP_SSL_CONFIG_KEY, AMQP_URI_CONFIG_KEY, LOGIN_METHOD_CONFIG_KEY
from nameko.dependency_providers import Config
from nameko.exceptions import IncorrectSignature, UnserializableValueError, serialize
from nameko.extensions import DependencyProvider
from nameko.messaging import QueueConsumer
from nameko.rpc import Rpc, RpcConsumer, get_rpc_exchange
from werkzeug.wrappers import Response

from .default_secrets import DefaultSecretsGuard
from .errors import ServiceUnavailable
from .metrics import CONTENT_TYPE, Metrics, for_container
from .topology import dead_letter_queue_name, declare_topology
from .web import http

# a connection the broker dropped (a restart, a cut): a new one may well work
CONNECTION_ERRORS = (OSError, RecoverableConnectionError, ConnectionError)


def let_go(connection):
    """Close a kept connection (None passes); one the broker dropped is only let go.
    Returns None, for the attribute that held it."""
    if connection is not None:
        try:
            connection.release()
        except CONNECTION_ERRORS:
            connection.collect()
    return None


class Topology(DependencyProvider):
    """Declares every exchange and queue before anything is consumed or published,
    and reports the depth of this service's dead-letter queue."""

    def setup(self):
        self.amqp_uri = self.container.config[AMQP_URI_CONFIG_KEY]
        declare_topology(self.amqp_uri)
        service = self.container.service_name
        self._probe, self._probe_lock = None, Semaphore()
        for_container(self.container).add_gauge(
            "gudang_dead_letter_messages",
            "Messages waiting in the service's dead-letter queue",
            lambda: [((service,), self.dead_letter_depth())],
        )

    def dead_letter_depth(self):
        """Asked on a connection kept between scrapes (one per scrape cost a TCP and an
        AMQP handshake each time); one the broker dropped is opened again once."""
        name = dead_letter_queue_name(self.container.service_name)
        with self._probe_lock:
            try:
                return self._depth(name)
            except CONNECTION_ERRORS:
                self._probe = let_go(self._probe)
                return self._depth(name)

    def _depth(self, name):
        if self._probe is None:
            self._probe = Connection(self.amqp_uri, connect_timeout=2)
        try:
            _, count, _ = self._probe.default_channel.queue_declare(name, passive=True)
        except Exception:  # the channel may be closed by it: start afresh next time
            self._probe = let_go(self._probe)
            raise
        return count

    def stop(self):
        self._probe = let_go(self._probe)

    def kill(self):
        self._probe = let_go(self._probe)

    def consumers_ready(self):
        """Whether every queue consumer of the container consumes: RPC requests, events and
        RPC replies. Until then an answer to this service's first RPC call has no queue to
        land in, though its HTTP server already answers."""
        return all(
            extension._consumers_ready.ready()
            for extension in self.container.shared_extensions.values()
            if isinstance(extension, QueueConsumer)
        )

    def get_dependency(self, worker_ctx):
        return self


class ReplySender:
    """A container's RPC replies: one kept connection and channel, one reply at a time,
    no publisher confirm, not written to disk.

    nameko's responder took a pooled producer per reply (a new Connection object, a pool
    acquire, kombu's ensure) and waited for a confirm. A reply is worth something only
    while its caller waits (seconds): lost with a connection or a broker restart it is a
    timeout for the caller, confirmed or not, so a confirm protected nothing. A reply
    the broker's cut connection refused is sent again once on a new connection. The
    request is acked only after its reply was handed to the broker, as before."""

    def __init__(self, amqp_uri, ssl=None, login_method=None):
        self.amqp_uri, self.ssl, self.login_method = amqp_uri, ssl, login_method
        self._lock = Semaphore()
        self._connection = self._producer = None

    def publish(self, encoded, exchange, request):
        """Send `encoded` (content type, encoding, body) to the caller of `request`."""
        with self._lock:
            try:
                self._send(encoded, exchange, request.properties)
            except CONNECTION_ERRORS:
                self.close()  # dropped by the broker while idle: once more on a new one
                self._send(encoded, exchange, request.properties)

    def _send(self, encoded, exchange, properties):
        if self._producer is None:
            connection = Connection(self.amqp_uri, ssl=self.ssl, login_method=self.login_method)
            self._producer = Producer(connection.channel(), auto_declare=False)
            self._connection = connection
        content_type, content_encoding, body = encoded
        self._producer.publish(
            body,
            content_type=content_type,
            content_encoding=content_encoding,
            exchange=exchange,
            routing_key=properties["reply_to"],
            correlation_id=properties.get("correlation_id"),
            delivery_mode=1,  # transient: nobody waits for it after a broker restart
        )

    def close(self):
        self._connection, self._producer = let_go(self._connection), None


def encode_reply(request, result, exc_info):
    """(encoded reply, result, exc_info) as nameko's Responder makes them, encoded once in
    the request's serializer (it encoded the result a first time only to see that it
    could): a result that cannot be encoded becomes an UnserializableValueError."""
    serializer = serialization.registry.type_to_name[request.properties["content_type"]]
    error = serialize(exc_info[1]) if exc_info is not None else None
    try:
        return serialization.dumps({"result": result, "error": error}, serializer), result, exc_info
    except Exception:
        exc_info = sys.exc_info()
        error = serialize(UnserializableValueError(result))  # always encodes
        return serialization.dumps({"result": None, "error": error}, serializer), None, exc_info


class LeanRpcConsumer(RpcConsumer):
    """nameko's RPC consumer, answering through its ReplySender and one exchange object
    made at setup instead of a pooled, confirmed publisher and a new exchange per reply,
    with the reply encoded once."""

    def setup(self):
        super().setup()
        config = self.container.config
        self.exchange = get_rpc_exchange(config)
        self.replies = ReplySender(
            config[AMQP_URI_CONFIG_KEY],
            ssl=config.get(AMQP_SSL_CONFIG_KEY),
            login_method=config.get(LOGIN_METHOD_CONFIG_KEY),
        )

    def handle_result(self, message, result, exc_info):
        encoded, result, exc_info = encode_reply(message, result, exc_info)
        self.replies.publish(encoded, self.exchange, message)
        self.queue_consumer.ack_message(message)
        return result, exc_info

    def stop(self):
        super().stop()
        self.replies.close()

    def kill(self):
        super().kill()
        self.replies.close()


class LeanRpc(Rpc):
    rpc_consumer = LeanRpcConsumer()

    def setup(self):
        super().setup()
        method = getattr(self.container.service_cls, self.method_name)
        self.signature = inspect.signature(method)

    def check_signature(self, args, kwargs):
        """nameko's check, with the method's signature read once: inspect.getcallargs
        read it again on every call."""
        try:
            self.signature.bind(None, *args, **kwargs)  # None stands for the service
        except TypeError as exc:
            raise IncorrectSignature(f"{self.method_name}(): {exc}") from None


rpc = LeanRpc.decorator


class BaseService:
    """Mixin: subclasses set `name` and `store = ServiceStore(TheirRepository)`."""

    default_secrets = DefaultSecretsGuard()
    config = Config()
    metrics = Metrics()
    topology = Topology()

    @http("GET", "/health", probe=True)
    def health(self, request):
        if not self.topology.consumers_ready():
            raise ServiceUnavailable(
                f"{self.name} is starting", {"_service": ["Its queue consumers are not ready yet."]}
            )
        self.store.ping()
        return {"status": "ok", "service": self.name}

    @http("GET", "/metrics", probe=True)
    def prometheus_metrics(self, request):
        return Response(
            self.metrics.render(), mimetype=CONTENT_TYPE.split(";")[0], content_type=CONTENT_TYPE
        )
