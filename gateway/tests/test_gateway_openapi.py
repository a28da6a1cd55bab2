"""The OpenAPI description agrees with the gateway's routes, both ways, and is valid OpenAPI 3.1."""

import re

import pytest
from nameko.containers import ServiceContainer
from openapi_spec_validator import validate
from werkzeug.routing import Map

from gateway import openapi, pages
from gateway.service import API, GatewayService
from gudang_common.web import JsonHttp

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _served():
    """(method, path under /api/v1, path parameters) of every http entrypoint of the gateway,
    read from the url_map nameko's web server builds from them."""
    container = ServiceContainer(GatewayService, {"AMQP_URI": "memory://"})
    url_map = Map([e.get_url_rule() for e in container.entrypoints if isinstance(e, JsonHttp)])
    served = {}
    for rule in url_map.iter_rules():
        if not rule.rule.startswith(API + "/"):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule[len(API) :])
        for method in rule.methods - IGNORED_METHODS:
            served[(method, path)] = set(rule.arguments)
    return served


@pytest.fixture(scope="module")
def spec():
    return openapi.build_spec()


def _described(spec):
    return {
        (method.upper(), path): operation
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    }


def test_every_route_is_described_and_every_description_is_a_route(spec):
    served, described = set(_served()), set(_described(spec))
    assert served - described == set(), "routes missing from gateway/gateway/openapi.py ROUTES"
    assert described - served == set(), "described in ROUTES but not served"


def test_path_parameters_are_the_routes_arguments(spec):
    served = _served()
    for key, operation in _described(spec).items():
        named = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
        assert named == served[key], key


def test_the_spec_is_valid_openapi_3_1(spec):
    assert spec["openapi"] == "3.1.0"
    validate(spec)


def test_every_error_answer_has_the_one_error_shape(spec):
    errors = spec["components"]["responses"]
    for key, operation in _described(spec).items():
        for status, answer in operation["responses"].items():
            if int(status) >= 400:
                ref = answer["$ref"].rsplit("/", 1)[-1]
                schema = errors[ref]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (key, status)
        assert "429" in operation["responses"], key


def test_security_names_keys_sessions_and_csrf(spec):
    described = _described(spec)
    assert described[("GET", "/track/{awb}")]["security"] == []
    assert described[("POST", "/merchants")]["security"] == []
    assert described[("POST", "/api-keys")]["security"] == [
        {"apiKey": []},
        {"session": [], "csrf": []},
    ]
    assert described[("GET", "/api-keys")]["security"] == [{"apiKey": []}, {"session": []}]
    # staff sign in with keys only
    assert described[("POST", "/bins")]["security"] == [{"apiKey": []}]
    for key, operation in described.items():
        if operation["security"]:
            assert {"401", "403"} <= set(operation["responses"]), key


def test_bodies_come_from_the_schemas_the_routes_load(spec):
    order = _described(spec)[("POST", "/orders")]["requestBody"]["content"]["application/json"]
    ref = order["schema"]["$ref"].rsplit("/", 1)[-1]
    fields = spec["components"]["schemas"][ref]
    assert {"external_id", "channel", "recipient", "lines"} <= set(fields["required"])
    assert fields["properties"]["cod_amount"]["maximum"] == 50_000_000


def test_the_docs_page_loads_only_local_files_with_no_inline_script():
    html = (pages.STATIC / "api-docs.html").read_text(encoding="utf-8")
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/static/") for s in sources)
    assert all(pages.static_file(s.removeprefix("/static/")) for s in sources)
    # every script is an empty element with a src: nothing inline for the CSP to refuse
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts and all('src="/static/' in s for s in scripts)
    assert len(re.findall(r"<script[^>]*></script>", html)) == len(scripts)
    assert "script-src 'self'" in pages.DOCS_HEADERS["Content-Security-Policy"]
    assert "unsafe" not in pages.DOCS_HEADERS["Content-Security-Policy"]


def test_headers_the_routes_read_are_described(spec):
    described = _described(spec)

    def headers(key):
        return {
            p["name"]: p["required"] for p in described[key]["parameters"] if p["in"] == "header"
        }

    assert headers(("POST", "/inbounds")) == {"Idempotency-Key": False}
    assert headers(("POST", "/merchants/{merchant_id}/topups")) == {"Idempotency-Key": False}
    assert headers(("POST", "/couriers/{courier}/webhook")) == {"X-Gudang-Signature": True}
    assert headers(("POST", "/payments/webhook")) == {"x-callback-token": True}
    assert headers(("POST", "/orders")) == {}
