"""Property-based requests from the served OpenAPI description against the running platform:
no answer is a 5xx, every answer conforms to the spec (status and body), and every 4xx has
the one error shape.

schemathesis runs as its CLI in a subprocess: its pytest plugin would import hypothesis-driven
requests into this test process, which nameko's eventlet has monkey-patched."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gateway import openapi
from scripts.simulate import eventually, place_order, receive_stock, register_world
from tests.conftest import ADMIN_KEY

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "one_error_shape",
    ]
)
# (caller, operations, seconds): about 75 s in all, so the whole suite stays in budget
PASSES = [
    ("merchant", None, 35),
    ("staff", r"^/(warehouse|bins|inbounds/|orders/\{order_id\}$)", 20),
    ("admin", r"^/(admin|staff|merchants/\{merchant_id\}|bins)", 20),
]


@pytest.fixture(scope="module")
def world(api):
    world = register_world(api, ADMIN_KEY, skus=1, units=5)
    inbound_id = receive_stock(api, world, 3)
    order_id = place_order(api, world, 1)
    return world, inbound_id, order_id


def _pick_list_of(api, world):
    """The staff's open pick list (the order above, once allocated), so scans get past 404."""
    found = eventually(
        lambda: api.ok("GET", "/warehouse/pick-lists/next", world.staff["api_key"])["pick_list"]
    )
    return found["pick_list_id"]


def _config(tmp_path, world, inbound_id, order_id, pick_list_id):
    """Real ids among the generated ones (half the time), so the fuzzer gets past the 404s."""
    ids = {
        "pick_list_id": [pick_list_id],
        "order_id": [order_id],
        "inbound_id": [inbound_id],
        "merchant_id": [world.merchant["merchant_id"]],
        "sku": list(world.skus),
        "code": ["A-01-01-1-01"],
    }
    lines = []
    for name, values in ids.items():
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values)}", ""]
    lines.append("[parameters]")
    for name in ids:
        lines.append(f'"path.{name}" = {{ dictionary = "{name}", probability = 0.5 }}')
    path = tmp_path / "schemathesis.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _failures_of(output):
    """The report's failures (each with its curl to reproduce), without the warnings."""
    start = output.find("FAILURES")
    end = output.find("WARNINGS", start)
    return output[start:end] if start >= 0 else output[-6000:]


# CPython 3.11.7's own bug (gh-106905), hit inside the request generator now and then: a
# crash of the fuzzer, not a finding about the platform, so that pass is run again (up to
# twice: the list routes' query parameters give it more cases, and it hit two runs in a row)
GENERATOR_BUG = "AST constructor recursion depth mismatch"
GENERATOR_RETRIES = 2


def _schemathesis(command, env, cwd, seconds):
    # in cwd (a temporary directory): schemathesis keeps its cache of crashes there
    return subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, timeout=seconds + 120
    )


def test_fuzzing_the_served_spec_finds_no_5xx_and_only_the_one_error_shape(
    platform, api, world, tmp_path
):
    world, inbound_id, order_id = world
    keys = {
        "merchant": world.merchant["api_key"],
        "staff": world.staff["api_key"],
        "admin": ADMIN_KEY,
    }
    config = _config(tmp_path, world, inbound_id, order_id, _pick_list_of(api, world))
    spec_url = platform.url("gateway") + "/api/v1/openapi.json"
    env = dict(
        os.environ,
        SCHEMATHESIS_HOOKS="schemathesis_checks",
        PYTHONPATH=str(ROOT / "tests"),
        NO_COLOR="1",
    )
    failures = []
    for caller, paths, seconds in PASSES:
        command = [
            str(Path(sys.executable).parent / "schemathesis"),
            "--config-file",
            str(config),
            "run",
            spec_url,
            "--header",
            f"Authorization: Bearer {keys[caller]}",
            "--checks",
            CHECKS,
            "--max-time",
            str(seconds),
            "--workers",
            "2",
            "--seed",
            "20261124",
            "--no-shrink",
            "--max-failures",
            "20",
        ]
        if paths:
            command += ["--include-path-regex", paths]
        run = _schemathesis(command, env, tmp_path, seconds)
        for _ in range(GENERATOR_RETRIES):
            if run.returncode == 0 or GENERATOR_BUG not in run.stdout + run.stderr:
                break
            run = _schemathesis(command, env, tmp_path, seconds)  # the generator's, not ours
        if run.returncode != 0:
            failures.append(
                f"--- as {caller} ---\n{_failures_of(run.stdout)}\n{run.stderr[-2000:]}"
            )
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/admin/storage-billing", {"day": "1969-12-31"}, "day"),
        ("/admin/invoices", {"month": "0000-05"}, "month"),
        ("/admin/invoices", {"month": "0001-01"}, "month"),
    ],
)
def test_money_days_and_months_billing_cannot_place_are_a_400(api, path, body, field):
    status, payload = api.request("POST", path, ADMIN_KEY, body)
    assert (status, list(payload["error"].get("fields", {}))) == (400, [field]), payload


def test_the_docs_page_shows_every_operation_from_the_gateway_alone(platform):
    base = platform.url("gateway")
    run = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "api_docs_driver.py"), base],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, PYTHONPATH=str(ROOT / "tests")),
    )
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["operations"] == len(openapi.ROUTES)
    assert "3.1" in report["version"]
    assert all(url.startswith(base + "/") for url in report["requests"]), report["requests"]
    # a script or style the CSP refused would be reported here
    assert not [m for m in report["console"] if m.startswith(("error", "pageerror"))], report
