"""The HTTP edge: slow, idle and greedy clients cannot take the workers; bodies are read whole."""

import io
import json
import socket
import time
from contextlib import closing, contextmanager

import eventlet
import pytest
import requests
from eventlet.event import Event
from nameko.containers import ServiceContainer
from nameko.testing.services import entrypoint_hook
from nameko.timer import timer

from gudang_common.web import JsonWebServer, http, json_body

GATE = {"event": Event()}


class EdgeService:
    name = "edge_test"

    @http("GET", "/health")
    def health(self, request):
        return {"status": "ok"}

    @http("GET", "/probe", probe=True)
    def probe(self, request):
        return {"status": "ok"}

    @http("POST", "/echo")
    def echo(self, request):
        return json_body(request)

    @http("POST", "/upload")
    def upload(self, request):
        data = request.files["file"].read()
        return {"bytes": len(data), "spooled": not isinstance(request.stream, io.BytesIO)}

    @http("GET", "/block")
    def block(self, request):
        GATE["event"].wait()
        return {"blocked": False}

    @timer(interval=3600)
    def tick(self):
        """Stands in for an event handler: any non-HTTP worker from the same pool."""
        return "ticked"


def _free_port():
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def edge(**config):
    port = _free_port()
    settings = {
        "AMQP_URI": "memory://",
        "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
        "max_workers": 4,
        "HTTP_MAX_WORKERS": 2,
        "HTTP_HEADER_TIMEOUT_SECONDS": 1,
        "HTTP_BODY_TIMEOUT_SECONDS": 1,
        "HTTP_IDLE_TIMEOUT_SECONDS": 1,
    }
    settings.update(config)
    GATE["event"] = Event()
    container = ServiceContainer(EdgeService, settings)
    container.start()
    try:
        yield container, port
    finally:
        GATE["event"].send(None) if not GATE["event"].ready() else None
        container.kill()


def connect(port, source="127.0.0.1"):
    return socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))


def read_response(sock, timeout=5):
    sock.settimeout(timeout)
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data


def status_and_json(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body) if body else None


def timed_get(port, path="/health", timeout=5):
    started = time.monotonic()
    resp = requests.get(f"http://127.0.0.1:{port}{path}", timeout=timeout)
    return resp, time.monotonic() - started


def test_slow_bodies_do_not_hold_the_workers():
    with edge(HTTP_BODY_TIMEOUT_SECONDS=30) as (_, port):
        slow = []
        for _ in range(40):
            sock = connect(port)
            sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{")
            slow.append(sock)
        eventlet.sleep(0.2)
        resp, took = timed_get(port)
        assert resp.status_code == 200 and took < 1.0, took
        resp = requests.post(f"http://127.0.0.1:{port}/echo", json={"a": 1}, timeout=5)
        assert resp.json() == {"a": 1}
        for sock in slow:
            sock.close()


def test_a_slow_body_is_cut_off_with_408():
    with edge() as (_, port), closing(connect(port)) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{")
        started = time.monotonic()
        status, body = status_and_json(read_response(sock))
        assert status == 408 and body["error"]["code"] == "REQUEST_TIMEOUT"
        assert time.monotonic() - started < 3


def test_a_dripping_request_head_is_cut_off():
    with edge() as (_, port), closing(connect(port)) as sock:
        started = time.monotonic()
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\n")
        for _ in range(10):  # a byte now and then resets a plain socket timeout, not this one
            try:
                sock.sendall(b"X")
            except OSError:
                break
            eventlet.sleep(0.3)
        raw = read_response(sock)
        assert raw == b"" or raw.startswith(b"HTTP/1.1 408"), raw
        assert time.monotonic() - started < 4


def test_an_idle_connection_is_closed():
    with edge() as (_, port), closing(connect(port)) as sock:
        started = time.monotonic()
        assert read_response(sock) == b""
        assert time.monotonic() - started < 3


def test_a_chunked_body_is_read():
    def chunks():
        yield b'{"name": "Toko '
        yield b'Batik"}'

    with edge() as (_, port):
        resp = requests.post(f"http://127.0.0.1:{port}/echo", data=chunks(), timeout=5)
        assert resp.status_code == 200, resp.text
        assert resp.json() == {"name": "Toko Batik"}


def test_a_body_over_the_limit_is_refused_unread():
    with edge() as (_, port), closing(connect(port)) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n")
        status, body = status_and_json(read_response(sock))
        assert status == 413 and body["error"]["code"] == "PAYLOAD_TOO_LARGE"


def test_a_file_upload_may_be_larger_and_waits_on_disk_not_in_memory():
    big = b"x" * (3 * 1024 * 1024)
    with edge(HTTP_BODY_TIMEOUT_SECONDS=10) as (_, port):
        url = f"http://127.0.0.1:{port}/upload"
        resp = requests.post(url, files={"file": ("orders.csv", big)}, timeout=10)
        assert resp.status_code == 200, resp.text
        assert resp.json() == {"bytes": len(big), "spooled": True}
        # the same size as a JSON body is refused
        resp = requests.post(f"http://127.0.0.1:{port}/echo", data=big, timeout=10)
        assert resp.status_code == 413


def test_an_upload_over_its_bound_is_refused_unread():
    with edge() as (_, port), closing(connect(port)) as sock:
        sock.sendall(
            b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            b"Content-Length: 30000000\r\n\r\n"
        )
        status, body = status_and_json(read_response(sock))
        assert status == 413 and body["error"]["fields"] == {"_body": ["Larger than 20 MiB."]}


def test_connections_per_client_address_are_capped():
    with edge(HTTP_MAX_CONNECTIONS_PER_CLIENT=5, HTTP_IDLE_TIMEOUT_SECONDS=30) as (_, port):
        held = [connect(port, "127.0.0.3") for _ in range(5)]
        eventlet.sleep(0.2)
        with closing(connect(port, "127.0.0.3")) as extra:
            extra.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            status, body = status_and_json(read_response(extra))
            assert status == 429 and body["error"]["code"] == "TOO_MANY_CONNECTIONS"
        with closing(connect(port, "127.0.0.4")) as other:
            other.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert status_and_json(read_response(other))[0] == 200
        for sock in held:
            sock.close()
        eventlet.sleep(0.2)
        with closing(connect(port, "127.0.0.3")) as again:
            again.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert status_and_json(read_response(again))[0] == 200


def test_busy_http_workers_leave_room_for_event_handlers():
    with edge() as (container, port):
        waiting = [
            eventlet.spawn(requests.get, f"http://127.0.0.1:{port}/block", timeout=30)
            for _ in range(6)  # more than the whole pool of 4
        ]
        eventlet.sleep(0.5)
        with eventlet.Timeout(2):
            with entrypoint_hook(container, "tick") as tick:
                assert tick() == "ticked"
        # a health probe is not queued behind the API calls
        resp, took = timed_get(port, "/probe", timeout=2)
        assert resp.status_code == 200 and took < 1.0
        GATE["event"].send(None)
        assert all(gt.wait().status_code == 200 for gt in waiting)


@pytest.mark.parametrize(
    "raw, field",
    [
        (b"[" * 100_000 + b"]" * 100_000, "_body"),
        (b'{"a":' * 40 + b"1" + b"}" * 40, "a.a.a.a.a"),
        (b'{"name": "\\ud800"}', "name"),
        (b'{"events": ["\\udfff"]}', "events.0"),
        (b'{"name": "a\\u0000b"}', "name"),
        (b'{"lines": [{"qty": 9223372036854775808}]}', "lines.0.qty"),
        (b'{"qty": -9223372036854775809}', "qty"),
        (b'{"qty": 1e999}', "qty"),
        (b'{"qty": NaN}', "_body"),
        (b'{"name": "\xff"}', "_body"),
        (b"", "_body"),
    ],
    ids=[
        "deep array",
        "deep object",
        "lone surrogate",
        "surrogate in a list",
        "NUL",
        "2^63",
        "below int64",
        "infinite",
        "NaN",
        "not utf-8",
        "empty",
    ],
)
def test_json_bodies_no_store_can_hold_are_400_naming_the_field(raw, field):
    with edge() as (_, port):
        resp = requests.post(f"http://127.0.0.1:{port}/echo", data=raw, timeout=10)
        assert resp.status_code == 400, resp.text
        error = resp.json()["error"]
        assert error["code"] == "VALIDATION_ERROR", error
        assert any(name.startswith(field) for name in error["fields"]), error


def test_int64_edges_and_real_unicode_pass():
    body = {"qty": 2**63 - 1, "low": -(2**63), "name": "Kopi ☕ 😀", "nested": [[[1]]]}
    with edge() as (_, port):
        resp = requests.post(f"http://127.0.0.1:{port}/echo", json=body, timeout=10)
        assert resp.status_code == 200 and resp.json() == body


def test_limits_come_from_config_or_else_the_environment(monkeypatch):
    monkeypatch.setenv("HTTP_MAX_CONNECTIONS_PER_CLIENT", "7")
    monkeypatch.setenv("HTTP_BODY_TIMEOUT_SECONDS", "99")
    with edge(HTTP_BODY_TIMEOUT_SECONDS=2) as (container, _):
        server = container.shared_extensions[JsonWebServer]
        assert server.http_max_connections_per_client == 7
        assert server.body_timeout == 2.0  # config wins
        assert server.http_slots.balance == 2  # HTTP_MAX_WORKERS of max_workers 4


@pytest.mark.parametrize(
    "raw, status",
    [
        (b"GET /" + b"x" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"NONSENSE\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 400),
        (b"GET /health HTTP/1.1\r\nX-Long: " + b"y" * 70000 + b"\r\n\r\n", 400),
    ],
    ids=["uri too long", "bad request line", "unsupported version", "header too long"],
)
def test_malformed_http_is_a_4xx_in_the_one_shape(raw, status):
    with edge() as (_, port), closing(connect(port)) as sock:
        sock.sendall(raw)
        got, body = status_and_json(read_response(sock))
        assert got == status and set(body) == {"error"}, body


def test_answers_are_sent_without_waiting_for_the_clients_delayed_ack(monkeypatch):
    # eventlet's wsgi writes an answer over 16 KB in two pieces; with Nagle on, the second
    # waits for the client's delayed ACK: 40 ms on every larger page or list
    accepted = []
    serve = JsonWebServer.process_request

    def seen(self, sock, address):
        accepted.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        return serve(self, sock, address)

    monkeypatch.setattr(JsonWebServer, "process_request", seen)
    with edge() as (_, port):
        assert timed_get(port)[0].status_code == 200
    assert accepted and all(accepted)


def test_a_routes_signature_is_checked_once_per_shape_and_access_lines_only_when_logged(
    monkeypatch,
):
    import inspect
    import logging

    checks = []
    real = inspect.getcallargs
    monkeypatch.setattr(inspect, "getcallargs", lambda *a, **kw: checks.append(a) or real(*a, **kw))
    access_log = logging.getLogger("nameko.web.server")
    level = access_log.level
    access_log.setLevel(logging.WARNING)
    try:
        with edge() as (container, port):
            for _ in range(3):
                assert requests.get(f"http://127.0.0.1:{port}/health", timeout=5).ok
            assert len(checks) == 1
            assert container.shared_extensions[JsonWebServer]._serv.log_output is False
    finally:
        access_log.setLevel(level)
