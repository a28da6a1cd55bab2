"""What every service has: its store, metrics, /health and /metrics, and the declared topology."""

from kombu import Connection
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.dependency_providers import Config
from nameko.extensions import DependencyProvider
from nameko.messaging import QueueConsumer
from werkzeug.wrappers import Response

from .default_secrets import DefaultSecretsGuard
from .errors import ServiceUnavailable
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
