"""The platform refuses to start with the secrets the repository ships, outside development."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from scripts.simulate import eventually
from scripts.supervisor import SERVICES
from tests.conftest import amqp_uri_for

pytestmark = pytest.mark.e2e

NAMEKO = str(Path(sys.executable).parent / "nameko")


def port_of_gateway():
    offset = int(os.environ.get("GUDANG_TEST_PORT_OFFSET", "0")) + 20000
    return SERVICES["gateway"].port + offset


def run_gateway(vhost, tmp_path, **env):
    spec = SERVICES["gateway"]
    environ = {
        k: v for k, v in os.environ.items() if not k.startswith("GUDANG_") and k != "MONGO_URI"
    }
    environ.update(
        AMQP_URI=amqp_uri_for(vhost),
        GUDANG_DATA_DIR=str(tmp_path / "data"),
        WEB_SERVER_ADDRESS=f"127.0.0.1:{port_of_gateway()}",
        **env,
    )
    return subprocess.Popen(
        [NAMEKO, *spec.command[1:]],
        cwd=Path(__file__).resolve().parent.parent,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_the_gateway_refuses_the_shipped_admin_key(vhost, tmp_path):
    proc = run_gateway(vhost, tmp_path)  # no GUDANG_ADMIN_KEY: config falls back to dev-admin-key
    try:
        output, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode != 0
    assert "refuses to start with default secrets" in output
    assert "GUDANG_ADMIN_KEY" in output and "GUDANG_COURIER_SECRET" in output
    assert "GUDANG_PAYMENT_CALLBACK_TOKEN" in output


def test_development_mode_starts_with_them(vhost, tmp_path):
    proc = run_gateway(vhost, tmp_path, GUDANG_ENV="development")
    try:
        health = f"http://127.0.0.1:{port_of_gateway()}/health"
        eventually(lambda: requests.get(health, timeout=2).status_code == 200, timeout=60)
    finally:
        # SIGKILL: a SIGTERM while nameko's queue consumer is still starting can hang its stop
        proc.kill()
        proc.communicate()
