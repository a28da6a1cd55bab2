"""What every service has: its store, metrics, /health and /metrics, and the declared topology."""

from kombu import Connection
from nameko.amqp.publish import Publisher
from nameko.constants import AMQP_SSL_CONFIG_KEY, AMQP_URI_CONFIG_KEY, LOGIN_METHOD_CONFIG_KEY
from nameko.dependency_providers import Config
from nameko.extensions import DependencyProvider
from nameko.rpc import Responder, Rpc, RpcConsumer, get_rpc_exchange
from werkzeug.wrappers import Response

from .default_secrets import DefaultSecretsGuard
from .metrics import CONTENT_TYPE, Metrics, for_container
from .topology import dead_letter_queue_name, declare_topology
from .web import http


class Topology(DependencyProvider):
    """Declares every exchange and queue before anything is consumed or published,
    and reports the depth of this service's dead-letter queue."""

    def setup(self):
        self.amqp_uri = self.container.config[AMQP_URI_CONFIG_KEY]
        declare_topology(self.amqp_uri)
        service = self.container.service_name
        for_container(self.container).add_gauge(
            "gudang_dead_letter_messages",
            "Messages waiting in the service's dead-letter queue",
            lambda: [((service,), self.dead_letter_depth())],
        )

    def dead_letter_depth(self):
        with Connection(self.amqp_uri, connect_timeout=2) as conn:
            name = dead_letter_queue_name(self.container.service_name)
            _, count, _ = conn.default_channel.queue_declare(name, passive=True)
            return count

    def get_dependency(self, worker_ctx):
        return self


class ReplyPublisher(Publisher):
    """Answers to RPC callers: no publisher confirm, not written to disk.

    A reply is worth something only while its caller waits (seconds): a reply lost with a
    connection or a broker restart is a timeout for the caller, confirmed or not, so a
    confirm per reply would cost a round trip and protect nothing. The request itself is
    acked only after its reply was handed to the broker, as before."""

    use_confirms = False
    delivery_mode = 1  # transient: nobody waits for it after a broker restart


class LeanRpcConsumer(RpcConsumer):
    """nameko's RPC consumer, answering through one ReplyPublisher made at setup instead of
    a confirmed publisher and a new exchange object per reply."""

    def setup(self):
        super().setup()
        config = self.container.config
        self.exchange = get_rpc_exchange(config)
        self.publisher = ReplyPublisher(
            config[AMQP_URI_CONFIG_KEY],
            ssl=config.get(AMQP_SSL_CONFIG_KEY),
            login_method=config.get(LOGIN_METHOD_CONFIG_KEY),
        )

    def handle_result(self, message, result, exc_info):
        responder = Responder(None, self.exchange, None, message)
        responder.publisher_cls = lambda *args, **kwargs: self.publisher
        result, exc_info = responder.send_response(result, exc_info)
        self.queue_consumer.ack_message(message)
        return result, exc_info


class LeanRpc(Rpc):
    rpc_consumer = LeanRpcConsumer()


rpc = LeanRpc.decorator


class BaseService:
    """Mixin: subclasses set `name` and `store = ServiceStore(TheirRepository)`."""

    default_secrets = DefaultSecretsGuard()
    config = Config()
    metrics = Metrics()
    topology = Topology()

    @http("GET", "/health", probe=True)
    def health(self, request):
        self.store.ping()
        return {"status": "ok", "service": self.name}

    @http("GET", "/metrics", probe=True)
    def prometheus_metrics(self, request):
        return Response(
            self.metrics.render(), mimetype=CONTENT_TYPE.split(";")[0], content_type=CONTENT_TYPE
        )
