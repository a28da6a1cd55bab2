"""Accounts through the HTTP API: rate limits.

Only the gateway runs (accounts, keys and sessions are its own), with small limits, so that
the last tests here are throttled for real.
"""

import uuid

import pytest

from scripts.simulate import Api
from scripts.supervisor import Platform
from tests.conftest import platform_env, platform_ports

LIMITS = {
    "RATE_LIMIT_PER_KEY": "40/minute",
    "RATE_LIMIT_PER_IP": "100000/minute",
    "RATE_LIMIT_BAD_AUTH_PER_IP": "30/minute",
    "RATE_LIMIT_LOGIN": "5/minute",
    "RATE_LIMIT_LOGIN_PER_IP": "100000/minute",
    # the tests stand in for a TLS-terminating proxy on loopback
    "GUDANG_TRUSTED_PROXIES": "127.0.0.1",
}


@pytest.fixture(scope="module")
def gateway(vhost, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("accounts")
    env = dict(platform_env(vhost), **LIMITS)
    with Platform(
        data_dir=tmp / "data", env=env, log_dir=tmp / "log", ports=platform_ports()
    ) as plat:
        plat.start("gateway")
        plat.wait_healthy("gateway")
        yield plat.url("gateway")


def fresh(gateway):
    """A client of its own: its own cookie jar, as a separate browser would have."""
    return Api(gateway)


def sign_up(gateway, role="merchant"):
    tag = uuid.uuid4().hex[:8]
    body = {"name": f"Toko {tag}", "email": f"owner.{tag}@example.id", "phone": "081311112222"}
    status, answer = fresh(gateway).request("POST", f"/{role}s", body=body)
    assert status == 201, answer
    return body["email"], answer


# --- throttled: these spend this module's small limits, so they come last -----------------


def test_a_key_over_its_limit_gets_429_with_retry_after(gateway):
    _, merchant = sign_up(gateway)
    api, key = fresh(gateway), merchant["api_key"]
    seen = []
    for _ in range(41):
        resp = api.http.get(
            f"{api.base}/merchants/me", headers={"Authorization": f"Bearer {key}"}, timeout=30
        )
        seen.append(resp)
    assert [r.status_code for r in seen] == [200] * 40 + [429]
    assert seen[0].headers["RateLimit-Limit"] == "40"
    assert seen[0].headers["X-RateLimit-Remaining"] == "39"
    refused = seen[-1]
    assert refused.json()["error"]["code"] == "RATE_LIMITED"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["RateLimit-Remaining"] == "0"
    # another key of the same address is not held back by this one
    _, other = sign_up(gateway)
    assert api.request("GET", "/merchants/me", other["api_key"])[0] == 200


def test_three_hundred_bad_keys_get_429(gateway):
    api = fresh(gateway)
    statuses = [api.request("GET", "/orders", f"mk_guess{n}")[0] for n in range(300)]
    assert statuses.count(401) <= 30
    assert statuses[-1] == 429
