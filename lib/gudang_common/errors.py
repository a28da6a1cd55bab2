"""Errors that cross service boundaries and map to one HTTP status each.

Every error that crosses an RPC is registered with nameko so that the caller gets
the same typed exception back (not a generic RemoteError) and the gateway can map it
to HTTP.
"""

from nameko.exceptions import deserialize_to_instance


class GudangError(Exception):
    status = 500
    code = "INTERNAL_ERROR"

    def __init__(self, message, fields=None):
        # args must stay JSON-serialisable: nameko rebuilds the error from them
        super().__init__(message, fields or {})

    @property
    def message(self):
        return self.args[0]

    @property
    def fields(self):
        return self.args[1] if len(self.args) > 1 else {}

    def to_json(self):
        body = {"code": self.code, "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        return {"error": body}


@deserialize_to_instance
class ValidationFailed(GudangError):
    status = 400
    code = "VALIDATION_ERROR"


@deserialize_to_instance
class Unauthorized(GudangError):
    status = 401
    code = "UNAUTHORIZED"


@deserialize_to_instance
class Forbidden(GudangError):
    status = 403
    code = "FORBIDDEN"


@deserialize_to_instance
class CsrfFailed(GudangError):
    status = 403
    code = "CSRF_FAILED"


@deserialize_to_instance
class NotFound(GudangError):
    status = 404
    code = "NOT_FOUND"


@deserialize_to_instance
class Conflict(GudangError):
    status = 409
    code = "CONFLICT"


@deserialize_to_instance
class Unprocessable(GudangError):
    status = 422
    code = "UNPROCESSABLE"


@deserialize_to_instance
class FloorRefusal(GudangError):
    """A scan or step on the warehouse floor refused for a reason the tablet names in the
    packer's language: `code` is that reason (e.g. EXTRA_UNIT), stable for clients to map,
    and `status` the HTTP status it answers with (404, 409 or 422)."""

    def __init__(self, message, fields=None, code="CONFLICT", status=409):
        # all four in args: nameko rebuilds the error from them on the caller's side
        Exception.__init__(self, message, fields or {}, code, status)

    @property
    def code(self):
        return self.args[2]

    @property
    def status(self):
        return int(self.args[3])  # nameko sends an error's args as text


# The HTTP edge's own refusals (gudang_common.web), raised before any RPC: never sent
# between services, so not registered with nameko.
class RequestTimeout(GudangError):
    status = 408
    code = "REQUEST_TIMEOUT"


class UriTooLong(GudangError):
    status = 414
    code = "URI_TOO_LONG"


class PayloadTooLarge(GudangError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"


class TooManyConnections(GudangError):
    status = 429
    code = "TOO_MANY_CONNECTIONS"


class RateLimited(GudangError):
    """Too many requests; `headers` (Retry-After, RateLimit-*) go out with the answer."""

    status = 429
    code = "RATE_LIMITED"

    def __init__(self, message, fields=None, headers=None):
        super().__init__(message, fields)
        self.headers = dict(headers or {})


@deserialize_to_instance
class ServiceUnavailable(GudangError):
    status = 503
    code = "SERVICE_UNAVAILABLE"


@deserialize_to_instance
class UpstreamTimeout(GudangError):
    status = 504
    code = "UPSTREAM_TIMEOUT"


EXPECTED = (
    ValidationFailed,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    Unprocessable,
    FloorRefusal,
)


def flatten_messages(messages, prefix=""):
    """Turn marshmallow's nested error dict into {"lines.0.qty": [...]}."""
    flat = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict):
                flat.update(flatten_messages(value, path))
            else:
                flat[path] = value if isinstance(value, list) else [value]
    else:
        flat[prefix or "_schema"] = messages if isinstance(messages, list) else [messages]
    return flat


def validation_failed(marshmallow_error, what="request"):
    fields = flatten_messages(marshmallow_error.messages)
    names = ", ".join(sorted(fields))
    return ValidationFailed(f"invalid {what}: {names}", fields)


def load(schema, data, what="request"):
    """Load `data` with a marshmallow schema, raising ValidationFailed naming the fields."""
    from marshmallow import ValidationError

    try:
        return schema.load(data)
    except ValidationError as exc:
        raise validation_failed(exc, what) from None
