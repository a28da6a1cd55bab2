"""The services' RPC entrypoint: every call answered once, errors typed, the request acked
after its reply, and the reply sent without a confirm round trip."""

import time
from urllib.parse import quote

import pytest
import requests
from kombu import Connection
from nameko.containers import ServiceContainer
from nameko.exceptions import IncorrectSignature, RemoteError
from nameko.standalone.rpc import ServiceRpcProxy

from gudang_common.errors import EXPECTED, NotFound
from gudang_common.service import LeanRpcConsumer, rpc

pytestmark = pytest.mark.integration


class Counter:
    name = "counter"
    calls = []

    @rpc(expected_exceptions=EXPECTED)
    def add(self, a, b):
        self.calls.append((a, b))
        return {"sum": a + b}

    @rpc
    def odd(self):
        return {"at": object()}  # nothing JSON can carry

    @rpc(expected_exceptions=EXPECTED)
    def missing(self, sku):
        raise NotFound(f"sku {sku} not found", {"sku": ["Unknown SKU."]})


@pytest.fixture
def counter(amqp_uri):
    Counter.calls = []
    container = ServiceContainer(Counter, {"AMQP_URI": amqp_uri})
    container.start()
    yield container
    container.stop()


def _waiting(amqp_uri, queue):
    with Connection(amqp_uri) as conn:
        _, count, _ = conn.default_channel.queue_declare(queue, passive=True)
        return count


def test_every_call_is_answered_once_and_its_request_acked(counter, amqp_uri):
    with ServiceRpcProxy("counter", {"AMQP_URI": amqp_uri}, timeout=5) as proxy:
        answers = [proxy.add(n, 1) for n in range(20)]
    assert answers == [{"sum": n + 1} for n in range(20)]
    assert Counter.calls == [(n, 1) for n in range(20)]  # none performed twice
    assert _waiting(amqp_uri, "rpc-counter") == 0  # every request acked


def test_an_error_reaches_the_caller_typed(counter, amqp_uri):
    with ServiceRpcProxy("counter", {"AMQP_URI": amqp_uri}, timeout=5) as proxy:
        with pytest.raises(NotFound) as raised:
            proxy.missing("KAOS-1")
    assert raised.value.fields == {"sku": ["Unknown SKU."]}


def test_a_result_that_cannot_be_encoded_reaches_the_caller_as_an_error(counter, amqp_uri):
    with ServiceRpcProxy("counter", {"AMQP_URI": amqp_uri}, timeout=5) as proxy:
        with pytest.raises(RemoteError) as raised:
            proxy.odd()
        assert raised.value.exc_type == "UnserializableValueError"
        assert proxy.add(1, 2) == {"sum": 3}  # the service goes on answering
    assert _waiting(amqp_uri, "rpc-counter") == 0


def test_a_call_with_wrong_arguments_is_refused_and_performs_nothing(counter, amqp_uri):
    with ServiceRpcProxy("counter", {"AMQP_URI": amqp_uri}, timeout=5) as proxy:
        for args, kwargs in (((1,), {}), ((1, 2, 3), {}), ((1,), {"c": 2})):
            with pytest.raises(IncorrectSignature):
                proxy.add(*args, **kwargs)
        assert proxy.add(a=1, b=2) == {"sum": 3}
    assert Counter.calls == [(1, 2)]


def test_replies_share_one_connection_which_a_cut_does_not_break(counter, amqp_uri):
    consumer = next(ext for ext in counter.extensions if isinstance(ext, LeanRpcConsumer))
    with ServiceRpcProxy("counter", {"AMQP_URI": amqp_uri}, timeout=5) as proxy:
        proxy.add(1, 1)
        kept = consumer.replies._connection
        assert proxy.add(2, 2) == {"sum": 4} and consumer.replies._connection is kept
        kept.connection.sock.close()  # the broker's end is gone: the next reply reconnects
        assert proxy.add(3, 3) == {"sum": 6}
        assert consumer.replies._connection is not kept
    assert Counter.calls == [(1, 1), (2, 2), (3, 3)]


def _cut_by_the_broker(amqp_uri, local_port):
    """Close, from the broker's side, the vhost's connection from `local_port`."""
    vhost = amqp_uri.rsplit("/", 1)[1]
    base, auth = "http://localhost:15672", ("guest", "guest")
    for _ in range(50):  # the management API lists a new connection after a moment
        conns = requests.get(f"{base}/api/vhosts/{vhost}/connections", auth=auth, timeout=10)
        named = [c["name"] for c in conns.json() if c.get("peer_port") == local_port]
        if named:
            url = f"{base}/api/connections/{quote(named[0], safe='')}"
            requests.delete(url, auth=auth, timeout=10).raise_for_status()
            return
        time.sleep(0.1)
    raise AssertionError(f"no connection from port {local_port}")


def test_a_reply_after_the_broker_closed_the_kept_connection_is_not_lost(counter, amqp_uri):
    """The broker closing the service's reply connection costs no call its answer."""
    consumer = next(ext for ext in counter.extensions if isinstance(ext, LeanRpcConsumer))
    with ServiceRpcProxy("counter", {"AMQP_URI": amqp_uri}, timeout=5) as proxy:
        assert proxy.add(1, 1) == {"sum": 2}
        kept = consumer.replies._connection
        _cut_by_the_broker(amqp_uri, kept.connection.sock.getsockname()[1])
        time.sleep(0.3)  # the broker's close has reached the service's socket
        assert proxy.add(2, 2) == {"sum": 4}  # answered, not a timeout
        assert consumer.replies._connection is not kept
    assert Counter.calls == [(1, 1), (2, 2)]
