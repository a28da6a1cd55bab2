"""Prometheus metrics per service container, never on the global registry.

Two nameko containers in one process (tests do this) would otherwise collide.
`Metrics` is an observer: it times every worker per entrypoint type (RPC, event,
HTTP, timer) and counts errors, the RED metrics.
"""

import time

from nameko.extensions import DependencyProvider
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class _CallbackCollector:
    """Gauges computed at scrape time (backlogs, queue depths)."""

    def __init__(self):
        self.gauges = []

    def collect(self):
        for name, doc, labels, fn in self.gauges:
            family = GaugeMetricFamily(name, doc, labels=list(labels))
            try:
                for label_values, value in fn():
                    family.add_metric(list(label_values), value)
            except Exception:  # a scrape must not fail because a backlog query did
                continue
            yield family


# (attribute, name, help, labels) of the counters every service keeps beside the RED ones
_SERVICE_COUNTERS = (
    (
        "outbox_failures",
        "gudang_outbox_relay_failures",
        "Relay passes that failed and will be retried",
        ("service",),
    ),
    (
        "retried",
        "gudang_event_retries",
        "Failed event deliveries sent back for another attempt",
        ("service", "queue"),
    ),
    (
        "dead_lettered",
        "gudang_dead_lettered",
        "Messages sent to the dead-letter queue",
        ("service", "queue", "reason"),
    ),
    (
        "duplicates",
        "gudang_duplicate_events",
        "Events already applied, delivered again and ignored",
        ("service", "event_type"),
    ),
)


class ServiceMetrics:
    def __init__(self, service):
        self.service = service
        self.registry = CollectorRegistry(auto_describe=True)
        self._callbacks = _CallbackCollector()
        self.registry.register(self._callbacks)
        worker = ("service", "entrypoint_type", "entrypoint")
        self.calls = self.counter("gudang_entrypoint_calls", "Worker runs", worker)
        self.errors = self.counter("gudang_entrypoint_errors", "Worker runs that raised", worker)
        self.latency = self.histogram(
            "gudang_entrypoint_latency_seconds", "Worker run time", worker
        )
        self.events_published = self.counter(
            "gudang_events_published", "Events relayed from the outbox", ("service", "event_type")
        )
        self.publish_latency = self.histogram(
            "gudang_outbox_publish_seconds", "Confirmed publish time of one event", ("service",)
        )
        for attribute, name, doc, labels in _SERVICE_COUNTERS:
            setattr(self, attribute, self.counter(name, doc, labels))

    def add_gauge(self, name, doc, fn, labels=("service",)):
        self._callbacks.gauges.append((name, doc, labels, fn))

    def counter(self, name, doc, labels):
        return Counter(name, doc, labels, registry=self.registry)

    def histogram(self, name, doc, labels, buckets=LATENCY_BUCKETS):
        return Histogram(name, doc, labels, buckets=buckets, registry=self.registry)

    def render(self):
        return generate_latest(self.registry)


def for_container(container):
    metrics = getattr(container, "_gudang_metrics", None)
    if metrics is None:
        metrics = container._gudang_metrics = ServiceMetrics(container.service_name)
    return metrics


_ENTRYPOINT_TYPES = {
    "Rpc": "rpc",
    "DomainEventHandler": "event",
    "JsonHttp": "http",
    "Timer": "timer",
}


class Metrics(DependencyProvider):
    def setup(self):
        self.metrics = for_container(self.container)
        self._started = {}
        self._children = {}  # entrypoint -> its (calls, errors, latency) series

    def get_dependency(self, worker_ctx):
        return self.metrics

    def worker_setup(self, worker_ctx):
        self._started[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        started = self._started.pop(worker_ctx, None)
        calls, errors, latency = self._series(worker_ctx.entrypoint)
        calls.inc()
        if exc_info is not None:
            errors.inc()
        if started is not None:
            latency.observe(time.perf_counter() - started)

    def _series(self, entrypoint):
        """The entrypoint's labelled series, looked up once (a label lookup per worker
        validated and hashed the labels again each time)."""
        series = self._children.get(entrypoint)
        if series is None:
            name = type(entrypoint).__name__
            labels = (self.container.service_name, _ENTRYPOINT_TYPES.get(name, name.lower()))
            labels += (entrypoint.method_name,)
            metrics = (self.metrics.calls, self.metrics.errors, self.metrics.latency)
            series = self._children[entrypoint] = tuple(m.labels(*labels) for m in metrics)
        return series
