"""Checks schemathesis runs on every answer of the gateway (loaded by its CLI through
SCHEMATHESIS_HOOKS, in tests/test_e2e_openapi_fuzz.py)."""

import schemathesis


@schemathesis.check
def one_error_shape(ctx, response, case):
    """Every 4xx and 5xx is {"error": {"code", "message", "fields"?}}, whatever was sent."""
    if response.status_code < 400:
        return None
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"error"}, f"not the error shape: {body!r}"
    error = body["error"]
    assert isinstance(error, dict) and set(error) <= {"code", "message", "fields"}, body
    assert isinstance(error.get("code"), str) and isinstance(error.get("message"), str), body
    assert isinstance(error.get("fields", {}), dict), body
    return None
