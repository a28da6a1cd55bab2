"""HTTP entrypoint that speaks JSON both ways, with one error shape for every 4xx/5xx.

{"error": {"code": "VALIDATION_ERROR", "message": "...", "fields": {"lines.0.qty": ["..."]}}}
"""

import json
import logging

import eventlet
from nameko.exceptions import RemoteError, UnknownService
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import WebServer, WsgiApp
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from .errors import GudangError, ValidationFailed

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 5 * 1024 * 1024


def json_response(status, payload, headers=None):
    return Response(
        json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
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


def json_body(request, required=True):
    """The request's JSON object, or a 400 naming the problem."""
    if request.content_length and request.content_length > MAX_BODY_BYTES:
        raise ValidationFailed("request body too large", {"_body": ["Larger than 5 MiB."]})
    raw = request.get_data(cache=True)
    if not raw:
        if required:
            raise ValidationFailed(
                "request body is empty", {"_body": ["A JSON object is required."]}
            )
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ValidationFailed(
            "request body is not valid JSON", {"_body": ["Not valid JSON."]}
        ) from None
    if not isinstance(data, dict):
        raise ValidationFailed(
            "request body must be a JSON object", {"_body": ["Not a JSON object."]}
        )
    return data


class JsonWsgiApp(WsgiApp):
    def __call__(self, environ, start_response):
        request = Request(environ, shallow=True)
        adapter = self.url_map.bind_to_environ(environ)
        try:
            provider, values = adapter.match()
            request.path_values = values
            rv = provider.handle_request(request)
        except HTTPException as exc:
            rv = error_response(exc)
        return rv(environ, start_response)


class JsonWebServer(WebServer):
    def get_wsgi_app(self):
        return JsonWsgiApp(self)


class JsonHttp(HttpRequestHandler):
    """@http that returns dicts as JSON: `return 201, {...}` or `return {...}`."""

    server = JsonWebServer()

    def handle_request(self, request):
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
        response = super().handle_request(request)
        for name, value in extra.items():
            response.headers.setdefault(name, value)
        return response

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
