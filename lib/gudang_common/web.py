"""HTTP entrypoint that speaks JSON both ways, with one error shape for every 4xx/5xx,
and an HTTP edge that slow, idle or hostile clients cannot freeze.

{"error": {"code": "VALIDATION_ERROR", "message": "...", "fields": {"lines.0.qty": ["..."]}}}

nameko's own web server (nameko.web.server, handlers) accepts every connection with
no timeout and spawns a worker from the container's pool for each request; the route
then reads the body inside that worker. A client that sends headers and half a body
holds a worker for as long as it likes, and the pool is the one event handlers need
too. Here, before any worker is spawned, the connection's green thread reads the
request head within HTTP_HEADER_TIMEOUT_SECONDS and the whole body (bounded size,
chunked or not) within HTTP_BODY_TIMEOUT_SECONDS; an idle keep-alive connection is
closed after HTTP_IDLE_TIMEOUT_SECONDS; a client address holds at most
HTTP_MAX_CONNECTIONS_PER_CLIENT connections (HTTP_MAX_CONNECTIONS in all); and HTTP
workers take at most HTTP_MAX_WORKERS of the container's max_workers, so events,
timers and RPC always have the rest.
"""

import errno
import json
import logging
import math
import os
import re
import socket
import tempfile
from collections import Counter
from functools import partial
from http import HTTPStatus

import eventlet
from eventlet import wsgi
from eventlet.semaphore import Semaphore
from nameko.exceptions import RemoteError, UnknownService
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import HttpOnlyProtocol, WebServer, WsgiApp
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from .errors import (
    GudangError,
    PayloadTooLarge,
    RequestTimeout,
    ServiceUnavailable,
    TooManyConnections,
    UriTooLong,
    ValidationFailed,
)

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
# a file upload (multipart/form-data: order imports) may be larger; it is spooled to a
# temporary file past MAX_BODY_BYTES, so a big upload costs disk, not the gateway's memory
MAX_UPLOAD_BYTES = 20 * 1024 * 1024 + 64 * 1024  # a 20 MiB file and the form's small fields
MAX_JSON_DEPTH = 32
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # what MongoDB (BSON int64) can hold
_BAD_CHARS = re.compile("[\ud800-\udfff\x00]")  # lone surrogates cannot be stored; nor NUL
_READ_CHUNK = 64 * 1024

# config key: default
EDGE_DEFAULTS = {
    "HTTP_HEADER_TIMEOUT_SECONDS": 10.0,
    "HTTP_BODY_TIMEOUT_SECONDS": 30.0,
    "HTTP_UPLOAD_TIMEOUT_SECONDS": 300.0,
    "HTTP_IDLE_TIMEOUT_SECONDS": 30.0,
    "HTTP_MAX_CONNECTIONS_PER_CLIENT": 100,
    "HTTP_MAX_CONNECTIONS": 2000,
    "HTTP_QUEUE_TIMEOUT_SECONDS": 10.0,
}


def json_response(status, payload, headers=None):
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return Response(
        # never fail while answering: a surrogate that slipped into a message becomes "?"
        text.encode("utf-8", "replace"),
        status=status,
        mimetype="application/json",
        headers=headers,
    )


def error_body(code, message, fields=None):
    body = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return {"error": body}


def error_response(exc):
    if isinstance(exc, GudangError):
        return json_response(exc.status, exc.to_json(), headers=getattr(exc, "headers", None))
    if isinstance(exc, eventlet.Timeout):
        return json_response(
            504, error_body("UPSTREAM_TIMEOUT", "a service did not answer in time")
        )
    if isinstance(exc, UnknownService):
        return json_response(503, error_body("SERVICE_UNAVAILABLE", f"service unavailable: {exc}"))
    if isinstance(exc, RemoteError):
        log.error("remote error: %s", exc)
        return json_response(
            502, error_body("UPSTREAM_ERROR", "a service failed to handle the request")
        )
    if isinstance(exc, HTTPException):
        code = (exc.name or "error").upper().replace(" ", "_")
        return json_response(exc.code or 500, error_body(code, exc.description or exc.name))
    log.exception("unexpected error", exc_info=exc)
    return json_response(500, error_body("INTERNAL_ERROR", "unexpected error"))


# --- JSON input -----------------------------------------------------------------------------


def _refuse_constant(name):
    raise ValueError(f"{name} is not JSON")


def _path(parts):
    return ".".join(str(p) for p in parts) or "_body"


def check_json(data):
    """Refuse what parses as JSON but no store or service can take: nesting deeper than
    MAX_JSON_DEPTH, strings with lone surrogates or NUL, integers outside signed 64 bits,
    infinite numbers. Walks without recursion, naming the field at fault."""
    stack = [(data, (), 1)]
    while stack:
        value, where, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise ValidationFailed(
                    "request body is nested too deeply",
                    {_path(where): [f"Nested deeper than {MAX_JSON_DEPTH} levels."]},
                )
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and _BAD_CHARS.search(key):
                    raise ValidationFailed(
                        "invalid Unicode in a field name", {_path(where): ["Invalid Unicode."]}
                    )
                stack.append((item, (*where, key), depth + 1))
        elif isinstance(value, str):
            if _BAD_CHARS.search(value):
                raise ValidationFailed(
                    f"invalid Unicode in {_path(where)}",
                    {_path(where): ["Invalid Unicode (a lone surrogate or NUL)."]},
                )
        elif isinstance(value, bool) or value is None:
            pass
        elif isinstance(value, int):
            if not INT64_MIN <= value <= INT64_MAX:
                raise ValidationFailed(
                    f"number out of range: {_path(where)}",
                    {_path(where): ["Out of range (signed 64-bit)."]},
                )
        elif isinstance(value, float) and not math.isfinite(value):
            raise ValidationFailed(
                f"number out of range: {_path(where)}", {_path(where): ["Not a finite number."]}
            )
    return data


def json_body(request, required=True):
    """The request's JSON object, or a 400 naming the problem (the edge already bounded
    its size and read it whole, chunked or not)."""
    raw = request.get_data(cache=True)
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge("request body too large", {"_body": ["Larger than 1 MiB."]})
    if not raw:
        if required:
            raise ValidationFailed(
                "request body is empty", {"_body": ["A JSON object is required."]}
            )
        return {}
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except RecursionError:
        raise ValidationFailed(
            "request body is nested too deeply",
            {"_body": [f"Nested deeper than {MAX_JSON_DEPTH} levels."]},
        ) from None
    except UnicodeDecodeError:
        raise ValidationFailed(
            "request body is not UTF-8", {"_body": ["Not valid UTF-8."]}
        ) from None
    except ValueError:
        raise ValidationFailed(
            "request body is not valid JSON", {"_body": ["Not valid JSON."]}
        ) from None
    if not isinstance(data, dict):
        raise ValidationFailed(
            "request body must be a JSON object", {"_body": ["Not a JSON object."]}
        )
    return check_json(data)


# --- the edge: connections, request heads and bodies ----------------------------------------


class _HeadTimeout(Exception):
    pass


class GuardedHttpProtocol(HttpOnlyProtocol):
    """eventlet's HTTP protocol with a deadline on the wait for a request and on its head,
    and its protocol errors (bad request line, headers too long, URI too long) in the one
    JSON error shape.

    The socket timeout alone restarts with every byte, so a client dripping a header a
    byte at a time would never be cut off; an eventlet.Timeout bounds the whole read."""

    def _read_request_line(self):
        line = ""
        with eventlet.Timeout(self.server.idle_timeout, False):
            line = super()._read_request_line()
        if len(line) >= self.server.url_length_limit:
            self._refuse(UriTooLong("request line too long", {"_request": ["Over 8 KiB."]}))
            return ""
        return line

    def parse_request(self):
        try:
            with eventlet.Timeout(self.server.header_timeout, _HeadTimeout):
                return super().parse_request()
        except _HeadTimeout:
            self._refuse(
                RequestTimeout(
                    "the request headers did not arrive in time", {"_request": ["Too slow."]}
                )
            )
        except (wsgi.HeaderLineTooLong, wsgi.HeadersTooLarge):
            self._refuse(
                ValidationFailed("request headers too large", {"_request": ["Too large."]})
            )
        return False

    def send_error(self, code, message=None, explain=None):
        # http.server's HTML page (or a 505 for an unknown HTTP version) on malformed input
        status = code if 400 <= code < 500 else 400
        error = ValidationFailed(message or "malformed request", {"_request": ["Malformed."]})
        error.status = status
        self._refuse(error)

    def _refuse(self, error):
        self.close_connection = 1
        try:
            self.wfile.write(raw_error_response(error))
            self.wfile.flush()
        except OSError:
            pass

    def get_environ(self):
        env = super().get_environ()
        env["gudang.close_connection"] = partial(setattr, self, "close_connection", 1)
        return env


def is_upload(environ):
    return environ.get("CONTENT_TYPE", "").lower().startswith("multipart/form-data")


def read_body(environ, timeout, upload_timeout=None):
    """Read the whole request body within `timeout` seconds, at most MAX_BODY_BYTES (a
    file upload: MAX_UPLOAD_BYTES within `upload_timeout`, spooled to disk past
    MAX_BODY_BYTES), and hand it on as an ordinary Content-Length body."""
    limit, too_large = MAX_BODY_BYTES, "Larger than 1 MiB."
    if is_upload(environ):
        limit, too_large = MAX_UPLOAD_BYTES, "Larger than 20 MiB."
        timeout = upload_timeout or timeout
    transfer = environ.get("HTTP_TRANSFER_ENCODING", "").strip().lower()
    if transfer and transfer != "chunked":
        raise ValidationFailed(
            "unsupported Transfer-Encoding",
            {"Transfer-Encoding": ["Only chunked is supported."]},
        )
    stream = environ["wsgi.input"]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length > limit:
        raise PayloadTooLarge("request body too large", {"_body": [too_large]})
    if not transfer and not length:
        return
    body, size = tempfile.SpooledTemporaryFile(max_size=MAX_BODY_BYTES), 0
    timed_out = RequestTimeout(
        "the request body did not arrive in time", {"_body": ["Sent too slowly."]}
    )
    try:
        with eventlet.Timeout(timeout, timed_out):
            while True:
                want = _READ_CHUNK if transfer else min(_READ_CHUNK, length - size)
                if want <= 0:
                    break
                data = stream.read(want)
                if not data:
                    break
                body.write(data)
                size += len(data)
                if size > limit:
                    raise PayloadTooLarge("request body too large", {"_body": [too_large]})
    except TimeoutError:  # the socket's own timeout
        raise timed_out from None
    except wsgi.ChunkReadError:
        raise ValidationFailed(
            "malformed chunked body", {"Transfer-Encoding": ["Malformed chunk."]}
        ) from None
    if not transfer and size < length:
        raise ValidationFailed(
            "request body shorter than Content-Length", {"_body": ["Incomplete body."]}
        )
    body.seek(0)
    environ["wsgi.input"] = body
    environ["CONTENT_LENGTH"] = str(size)
    environ.pop("HTTP_TRANSFER_ENCODING", None)


def _nothing():
    pass


class JsonWsgiApp(WsgiApp):
    def __call__(self, environ, start_response):
        try:
            read_body(environ, self.server.body_timeout, self.server.http_upload_timeout_seconds)
        except OSError:  # the client went away mid-body
            environ.get("gudang.close_connection", _nothing)()
            return error_response(
                ValidationFailed("request body incomplete", {"_body": ["Incomplete body."]})
            )(environ, start_response)
        except GudangError as exc:
            # what is left of the body is unread: the connection cannot carry another request
            environ.get("gudang.close_connection", _nothing)()
            return error_response(exc)(environ, start_response)
        request = Request(environ, shallow=True)
        adapter = self.url_map.bind_to_environ(environ)
        try:
            provider, values = adapter.match()
            request.path_values = values
            rv = provider.handle_request(request)
        except HTTPException as exc:
            rv = error_response(exc)
        return rv(environ, start_response)


def raw_error_response(exc):
    """An error in the one shape, as bytes for a socket no WSGI app will answer on."""
    body = json.dumps(exc.to_json(), separators=(",", ":")).encode()
    retry = "Retry-After: 1\r\n" if exc.status in (429, 503) else ""
    return (
        f"HTTP/1.1 {exc.status} {HTTPStatus(exc.status).phrase}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{retry}"
        "Connection: close\r\n\r\n"
    ).encode() + body


class JsonWebServer(WebServer):
    """nameko's WebServer with the edge's limits (see the module docstring)."""

    def setup(self):
        config = self.container.config

        def setting(key, default):  # the service's config.yml, else the environment
            value = config.get(key)
            return os.environ.get(key, default) if value in (None, "") else value

        for key, default in EDGE_DEFAULTS.items():
            setattr(self, key.lower(), type(default)(setting(key, default)))
        max_workers = int(self.container.max_workers)
        http_workers = int(setting("HTTP_MAX_WORKERS", 0) or max(1, max_workers * 3 // 4))
        self.http_slots = Semaphore(min(http_workers, max_workers))
        self.header_timeout = self.http_header_timeout_seconds
        self.body_timeout = self.http_body_timeout_seconds
        self.open_connections = Counter()

    def get_wsgi_app(self):
        return JsonWsgiApp(self)

    def get_wsgi_server(self, sock, wsgi_app, protocol=GuardedHttpProtocol, debug=False):
        access_log = logging.getLogger("nameko.web.server")
        server = wsgi.Server(
            sock,
            sock.getsockname(),
            wsgi_app,
            protocol=protocol,
            debug=debug,
            log=access_log,
            # eventlet formats each request's access line before the logger drops it: only
            # when the logger prints it (INFO) is it worth the formatting
            log_output=access_log.isEnabledFor(logging.INFO),
            # per socket operation: also bounds a write to a client that stopped reading
            socket_timeout=max(self.header_timeout, self.body_timeout),
        )
        server.header_timeout = self.header_timeout
        server.idle_timeout = self.http_idle_timeout_seconds
        return server

    def run(self):
        while self._is_accepting:
            try:
                sock, addr = self._sock.accept()
            except OSError as exc:
                if exc.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    log.error("cannot accept HTTP connections: %s", exc)
                    eventlet.sleep(0.1)
                    continue
                raise
            client = addr[0]
            refusal = None
            if self.open_connections[client] >= self.http_max_connections_per_client:
                refusal = TooManyConnections(
                    "too many connections from your address",
                    {"_connection": [f"At most {self.http_max_connections_per_client}."]},
                )
            elif self.open_connections.total() >= self.http_max_connections:
                refusal = ServiceUnavailable(
                    "too many connections", {"_connection": ["Try again shortly."]}
                )
            if refusal is not None:
                eventlet.spawn_n(self._refuse, sock, refusal)
                continue
            self.open_connections[client] += 1
            # an answer written in two pieces (eventlet's wsgi flushes its buffer, then the
            # rest) must not wait for the client's delayed ACK (40 ms) under Nagle
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(self._serv.socket_timeout)
            self.container.spawn_managed_thread(partial(self.process_request, sock, addr))

    def process_request(self, sock, address):
        try:
            super().process_request(sock, address)
        except Exception:
            # nameko kills the container when a managed thread fails: one bad connection
            # must not take the service down
            log.exception("HTTP connection from %s failed", address[0])
            sock.close()
        finally:
            self.open_connections[address[0]] -= 1
            if self.open_connections[address[0]] <= 0:
                del self.open_connections[address[0]]

    @staticmethod
    def _refuse(sock, refusal):
        try:
            sock.settimeout(1)
            sock.sendall(raw_error_response(refusal))
            sock.shutdown(socket.SHUT_WR)
            # let the client read the answer before the close resets the connection
            with eventlet.Timeout(1, False):
                while sock.recv(4096):
                    pass
        except OSError:
            pass
        finally:
            sock.close()


class JsonHttp(HttpRequestHandler):
    """@http that returns dicts as JSON: `return 201, {...}` or `return {...}`."""

    server = JsonWebServer()

    def __init__(self, method, url, probe=False, **kwargs):
        # probes (/health, /metrics) skip the HTTP limit: a gateway saturated by API calls
        # is busy, not dead, and its orchestrator must not restart it for that
        self.probe = probe
        self.checked_shapes = set()
        super().__init__(method, url, **kwargs)

    def check_signature(self, args, kwargs):
        # a route's arguments are the same names on every request (its URL rule's): each
        # shape is checked against the method once, not with inspect on every request
        shape = (len(args), tuple(kwargs))
        if shape not in self.checked_shapes:
            super().check_signature(args, kwargs)
            self.checked_shapes.add(shape)

    def handle_request(self, request):
        if self.probe:
            return super().handle_request(request)
        # a dependency with `screen_request` (the gateway's rate limits) may answer for the
        # service before a worker is spent, and may add headers to every answer
        extra = {}
        for dependency in self.container.dependencies:
            screen = getattr(dependency, "screen_request", None)
            if screen is not None:
                refused, headers = screen(request)
                if refused is not None:
                    return refused
                extra.update(headers)
        response = self._in_a_slot(request)
        for name, value in extra.items():
            response.headers.setdefault(name, value)
        return response

    def _in_a_slot(self, request):
        # at most HTTP_MAX_WORKERS of the container's workers serve HTTP at once
        if not self.server.http_slots.acquire(timeout=self.server.http_queue_timeout_seconds):
            busy = ServiceUnavailable(
                "busy: no worker free for this request", {"_request": ["Try again shortly."]}
            )
            return json_response(busy.status, busy.to_json(), headers={"Retry-After": "1"})
        try:
            return super().handle_request(request)
        finally:
            self.server.http_slots.release()

    def response_from_result(self, result):
        if isinstance(result, Response):
            return result
        if isinstance(result, tuple):
            status, payload = result
        else:
            status, payload = 200, result
        return json_response(status, payload)

    def response_from_exception(self, exc):
        return error_response(exc)


http = JsonHttp.decorator
