"""Fixtures for the cross-service tests: a RabbitMQ vhost per test module, the platform's processes."""

import os

import pytest

from scripts.rabbit import amqp_uri_for, drop_vhost, make_vhost, queue_depth  # noqa: F401
from scripts.simulate import Api
from scripts.supervisor import SERVICES, Platform

ADMIN_KEY = "test-admin-key"
COURIER_SECRET = "test-courier-secret"
PAYMENT_TOKEN = "test-payment-callback-token"


@pytest.fixture(scope="module")
def vhost():
    """A fresh RabbitMQ vhost, so each module sees only its own queues and messages."""
    name = make_vhost("gudang-test")
    yield name
    drop_vhost(name)


def platform_env(vhost):
    """The environment of the platform's processes in a test."""
    return {
        "AMQP_URI": amqp_uri_for(vhost),
        "GUDANG_ADMIN_KEY": ADMIN_KEY,
        "GUDANG_COURIER_SECRET": COURIER_SECRET,
        "GUDANG_PAYMENT_CALLBACK_TOKEN": PAYMENT_TOKEN,
        "EVENT_RETRY_DELAY_SECONDS": "0.05",
        "WEBHOOK_RETRY_BASE_SECONDS": "0.2",
        # the merchant-webhook tests' receiver listens on loopback
        "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
        "RPC_TIMEOUT_SECONDS": "5",
        "MONGO_URI": os.environ.get("MONGO_URI", ""),
        # generous: the suite drives the API far faster than a merchant would, and sends bad
        # keys on purpose; test_e2e_rate_limits runs a gateway of its own with small limits
        "RATE_LIMIT_PER_KEY": "100000/minute",
        "RATE_LIMIT_PER_IP": "100000/minute",
        "RATE_LIMIT_BAD_AUTH_PER_IP": "100000/minute",
        "RATE_LIMIT_LOGIN": "1000/minute",
        "RATE_LIMIT_LOGIN_PER_IP": "100000/minute",
    }


def platform_ports():
    """GUDANG_TEST_PORT_OFFSET lets a test run share the machine with `make run`."""
    offset = int(os.environ.get("GUDANG_TEST_PORT_OFFSET", "0"))
    return {name: spec.port + offset for name, spec in SERVICES.items()} if offset else None


@pytest.fixture(scope="module")
def platform(vhost, tmp_path_factory):
    """The five services as real processes on a private vhost and data directory."""
    tmp = tmp_path_factory.mktemp("platform")
    env = platform_env(vhost)
    ports = platform_ports()
    with Platform(data_dir=tmp / "data", env=env, log_dir=tmp / "log", ports=ports) as plat:
        plat.start_all()
        plat.vhost = vhost
        yield plat


@pytest.fixture(scope="module")
def api(platform):
    return Api(platform.url("gateway"))
