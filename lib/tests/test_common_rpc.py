"""The bounded RPC proxy's requests: they expire with the caller's wait and are not kept on disk."""

from nameko.constants import NON_PERSISTENT

from gudang_common.rpc import BoundedRpcProxy


class Container:
    """What the proxy reads of its container."""

    service_name = "gateway"

    def __init__(self, config):
        self.config, self.shared_extensions = config, {}


class WorkerContext:
    def __init__(self, container):
        self.container = container


def test_a_request_is_transient_and_expires_when_the_caller_stops_waiting():
    config = {"AMQP_URI": "memory://", "RPC_TIMEOUT_SECONDS": "3"}
    container = Container(config)
    proxy = BoundedRpcProxy("inventory").bind(container, "inventory")
    proxy.setup()
    method = proxy.get_dependency(WorkerContext(container)).known_skus
    assert method.publisher.delivery_mode == NON_PERSISTENT  # nameko's default: persistent
    assert method.publisher.expiration == 3.0
