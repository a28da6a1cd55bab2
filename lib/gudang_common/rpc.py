"""Bounded RPC: nameko's RpcProxy waits forever, so every gateway call goes through here."""

import eventlet
from nameko.constants import NON_PERSISTENT
from nameko.exceptions import UnknownService
from nameko.rpc import RpcProxy

from .errors import ServiceUnavailable, UpstreamTimeout


def call(service_proxy, method, *args, timeout=5.0, **kwargs):
    """Call `method` on the service behind an RpcProxy; wait at most `timeout` seconds.

    Raises ServiceUnavailable (503) when no instance of the service is listening
    and UpstreamTimeout (504) when it does not answer in time. Errors the remote
    method raises arrive typed (see gudang_common.errors).
    """
    service = getattr(service_proxy, "service_name", "service")
    try:
        reply = getattr(service_proxy, method).call_async(*args, **kwargs)
    except UnknownService:
        raise ServiceUnavailable(f"{service} is not running") from None
    try:
        with eventlet.Timeout(timeout):
            return reply.result()
    except eventlet.Timeout:
        raise UpstreamTimeout(f"{service}.{method} did not answer within {timeout:g}s") from None


class BoundedRpcProxy(RpcProxy):
    """An RpcProxy whose requests expire in the broker once the caller has stopped waiting.

    Without it a request to a stopped service waits in its queue, and the service
    performs it on restart although the caller long answered 504. For the same reason a
    request is transient: nameko publishes it persistent, so the broker writes it to disk
    to keep it across its own restart, for a caller that waits seconds at most (which,
    kept, it would perform late too). The broker still confirms each request, which is
    how a service with no instance listening answers 503 at once."""

    def setup(self):
        timeout = float(self.container.config.get("RPC_TIMEOUT_SECONDS", 5))
        self.options.setdefault("expiration", timeout)
        self.options.setdefault("delivery_mode", NON_PERSISTENT)
