"""The RED metrics every worker is counted in: calls, errors and time per entrypoint."""

from types import SimpleNamespace

from gudang_common.metrics import Metrics


class Rpc:  # named like nameko's entrypoint: counted as "rpc"
    def __init__(self, method_name):
        self.method_name = method_name


class Worker:
    def __init__(self, entrypoint):
        self.entrypoint = entrypoint


def _value(registry, name, **labels):
    return registry.get_sample_value(name, {"service": "svc", **labels})


def test_each_worker_is_counted_under_its_own_entrypoint():
    observer = Metrics()
    observer.container = SimpleNamespace(service_name="svc")
    observer.setup()
    ping, pong = Rpc("ping"), Rpc("pong")
    for entrypoint, failed in ((ping, False), (ping, True), (pong, False), (ping, False)):
        worker = Worker(entrypoint)
        observer.worker_setup(worker)
        observer.worker_result(
            worker, exc_info=(ValueError, ValueError(), None) if failed else None
        )
    registry = observer.metrics.registry
    labels = {"entrypoint_type": "rpc"}
    assert _value(registry, "gudang_entrypoint_calls_total", entrypoint="ping", **labels) == 3
    assert _value(registry, "gudang_entrypoint_errors_total", entrypoint="ping", **labels) == 1
    assert _value(registry, "gudang_entrypoint_calls_total", entrypoint="pong", **labels) == 1
    assert _value(registry, "gudang_entrypoint_errors_total", entrypoint="pong", **labels) == 0
    count = "gudang_entrypoint_latency_seconds_count"
    assert _value(registry, count, entrypoint="ping", **labels) == 3
