"""Fixtures of the shared package's tests: a private RabbitMQ vhost per test."""

import uuid

import pytest
import requests

MGMT = ("http://localhost:15672", ("guest", "guest"))


@pytest.fixture
def amqp_uri():
    name = f"gudang-unit-{uuid.uuid4().hex[:8]}"
    requests.put(f"{MGMT[0]}/api/vhosts/{name}", auth=MGMT[1], timeout=10).raise_for_status()
    requests.put(
        f"{MGMT[0]}/api/permissions/{name}/guest",
        json={"configure": ".*", "write": ".*", "read": ".*"},
        auth=MGMT[1],
        timeout=10,
    ).raise_for_status()
    yield f"pyamqp://guest:guest@localhost:5672/{name}"
    requests.delete(f"{MGMT[0]}/api/vhosts/{name}", auth=MGMT[1], timeout=10)
