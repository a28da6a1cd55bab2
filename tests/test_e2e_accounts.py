"""Accounts through the HTTP API: passwords, sessions and CSRF, named API keys, rate limits.

Only the gateway runs (accounts, keys and sessions are its own), with small limits, so that
the last tests here are throttled for real.
"""

import uuid

import pytest

from scripts.simulate import Api
from scripts.supervisor import Platform
from tests.conftest import ADMIN_KEY, platform_env, platform_ports

PASSWORD = "kopi susu gula aren"
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


def sign_up(gateway, role="merchant", password=PASSWORD):
    tag = uuid.uuid4().hex[:8]
    body = {"name": f"Toko {tag}", "email": f"owner.{tag}@example.id", "phone": "081311112222"}
    if password is not None:
        body["password"] = password
    status, answer = fresh(gateway).request("POST", f"/{role}s", body=body)
    assert status == 201, answer
    return body["email"], answer


def sign_in(api, email, password=PASSWORD, role="merchant", headers=None):
    body = {"email": email, "password": password, "role": role}
    return api.http.post(f"{api.base}/sessions", json=body, headers=headers or {}, timeout=30)


def test_sign_up_with_a_password_then_sign_in_sets_a_safe_cookie(gateway):
    email, merchant = sign_up(gateway)
    api = fresh(gateway)
    resp = sign_in(api, email)
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert body["role"] == "merchant" and body["id"] == merchant["merchant_id"]
    assert body["csrf_token"] and body["expires_at"].endswith("Z")
    cookie = resp.headers["Set-Cookie"]
    for part in ("gudang_session=", "HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=604800"):
        assert part in cookie
    assert "Secure" not in cookie
    assert resp.headers["Cache-Control"] == "no-store"
    # the session authenticates what the key does
    status, me = api.request("GET", "/merchants/me")
    assert status == 200 and me["merchant_id"] == merchant["merchant_id"]
    assert "password" not in str(me)
    status, current = api.request("GET", "/sessions/current")
    assert status == 200 and current["csrf_token"] == body["csrf_token"]


def test_the_cookie_is_secure_when_a_trusted_proxy_says_https(gateway):
    email, _ = sign_up(gateway)
    resp = sign_in(fresh(gateway), email, headers={"X-Forwarded-Proto": "https"})
    assert resp.status_code == 201 and "; Secure" in resp.headers["Set-Cookie"]


def test_a_session_without_its_csrf_token_cannot_post(gateway):
    email, _ = sign_up(gateway)
    api = fresh(gateway)
    csrf = sign_in(api, email).json()["csrf_token"]
    status, answer = api.request("POST", "/api-keys", body={"name": "plugin"})
    assert status == 403 and answer["error"]["code"] == "CSRF_FAILED"
    status, answer = api.request(
        "POST", "/api-keys", body={"name": "plugin"}, headers={"X-CSRF-Token": "x" + csrf}
    )
    assert status == 403 and answer["error"]["code"] == "CSRF_FAILED"
    status, answer = api.request(
        "POST", "/api-keys", body={"name": "plugin"}, headers={"X-CSRF-Token": csrf}
    )
    assert status == 201 and answer["api_key"].startswith("mk_")


def test_sign_in_fails_alike_for_an_unknown_email_a_wrong_password_and_no_password(gateway):
    email, _ = sign_up(gateway)
    keyless_email, _ = sign_up(gateway, password=None)
    api = fresh(gateway)
    answers = [
        sign_in(api, email, "wrong password here"),
        sign_in(api, f"nobody.{uuid.uuid4().hex[:8]}@example.id"),
        sign_in(api, keyless_email, "kopi susu gula aren"),
    ]
    assert {r.status_code for r in answers} == {401}
    assert len({r.content for r in answers}) == 1
    assert answers[0].json()["error"]["code"] == "UNAUTHORIZED"
    assert all("Set-Cookie" not in r.headers for r in answers)


def test_a_weak_password_is_refused_at_sign_up_naming_the_field(gateway):
    tag = uuid.uuid4().hex[:8]
    body = {"name": "Toko Mawar", "email": f"mawar.{tag}@example.id", "phone": "081311112222"}
    for weak in ("pendek", f"mawar.{tag}123", "TokoMawar2026"):
        status, answer = fresh(gateway).request(
            "POST", "/merchants", body=dict(body, password=weak)
        )
        assert status == 400 and "password" in answer["error"]["fields"], weak


def test_a_promoter_signs_in_with_its_role(gateway):
    email, promoter = sign_up(gateway, role="promoter")
    resp = sign_in(fresh(gateway), email, role="promoter")
    assert resp.status_code == 201 and resp.json()["id"] == promoter["promoter_id"]
    # as a merchant, that email has no account: the same 401
    assert sign_in(fresh(gateway), email, role="merchant").status_code == 401


def test_sign_out_ends_the_session(gateway):
    email, _ = sign_up(gateway)
    api = fresh(gateway)
    csrf = sign_in(api, email).json()["csrf_token"]
    status, _ = api.request("DELETE", "/sessions/current")
    assert status == 403  # signing out changes state too
    status, _ = api.request("DELETE", "/sessions/current", headers={"X-CSRF-Token": csrf})
    assert status == 200
    assert api.request("GET", "/merchants/me")[0] == 401


def test_a_password_set_later_with_the_key_then_changed_with_the_current_one(gateway):
    email, merchant = sign_up(gateway, password=None)
    api, key = fresh(gateway), merchant["api_key"]
    status, _ = api.request("POST", "/merchants/me/password", key, {"password": PASSWORD})
    assert status == 200
    other = fresh(gateway)
    assert sign_in(other, email).status_code == 201
    new = "teh manis panas sekali"
    status, answer = api.request("POST", "/merchants/me/password", key, {"password": new})
    assert status == 401 and "current_password" in answer["error"]["fields"]
    status, _ = api.request(
        "POST", "/merchants/me/password", key, {"password": new, "current_password": PASSWORD}
    )
    assert status == 200
    # the browser signed in with the old password is signed out
    assert other.request("GET", "/merchants/me")[0] == 401
    assert sign_in(fresh(gateway), email, new).status_code == 201


def test_keys_are_named_shown_once_listed_and_revoked_at_once(gateway):
    _, merchant = sign_up(gateway)
    api, first = fresh(gateway), merchant["api_key"]
    status, created = api.request("POST", "/api-keys", first, {"name": "Shopee sync"})
    assert status == 201 and created["name"] == "Shopee sync"
    second = created["api_key"]
    assert api.request("GET", "/merchants/me", second)[0] == 200
    status, listed = api.request("GET", "/api-keys", first)
    keys = listed["api_keys"]
    assert [k["name"] for k in keys] == ["default", "Shopee sync"]
    assert keys[0]["prefix"] == first[:8] and keys[0]["last_used_at"]
    assert first not in str(listed) and second not in str(listed)
    status, revoked = api.request("DELETE", f"/api-keys/{created['key_id']}", first)
    assert status == 200 and revoked["revoked_at"]
    status, answer = api.request("GET", "/merchants/me", second)
    assert status == 401 and answer["error"]["code"] == "UNAUTHORIZED"
    status, listed = api.request("GET", "/api-keys", first)
    assert listed["api_keys"][1]["revoked_at"] == revoked["revoked_at"]


def test_the_last_key_stays_while_there_is_no_password(gateway):
    _, merchant = sign_up(gateway, password=None)
    api, key = fresh(gateway), merchant["api_key"]
    only = api.request("GET", "/api-keys", key)[1]["api_keys"][0]
    status, answer = api.request("DELETE", f"/api-keys/{only['key_id']}", key)
    assert status == 409 and "key_id" in answer["error"]["fields"]
    assert api.request("GET", "/merchants/me", key)[0] == 200
    # with a password the account can always sign in and make a new key: the last may go
    _, with_password = sign_up(gateway)
    key = with_password["api_key"]
    only = api.request("GET", "/api-keys", key)[1]["api_keys"][0]
    assert api.request("DELETE", f"/api-keys/{only['key_id']}", key)[0] == 200
    assert api.request("GET", "/merchants/me", key)[0] == 401


def test_keys_are_isolated_between_tenants(gateway):
    _, alice = sign_up(gateway)
    _, budi = sign_up(gateway)
    _, rina = sign_up(gateway, role="promoter")
    api = fresh(gateway)
    alices = api.request("GET", "/api-keys", alice["api_key"])[1]["api_keys"]
    budis = api.request("GET", "/api-keys", budi["api_key"])[1]["api_keys"]
    assert {k["key_id"] for k in alices}.isdisjoint({k["key_id"] for k in budis})
    for intruder in (budi["api_key"], rina["api_key"]):
        status, _ = api.request("DELETE", f"/api-keys/{alices[0]['key_id']}", intruder)
        assert status == 404
    assert api.request("GET", "/merchants/me", alice["api_key"])[0] == 200
    # staff keys stay the admin's business
    status, _ = api.request("GET", "/api-keys", ADMIN_KEY)
    assert status == 403


# --- throttled: these spend this module's small limits, so they come last -----------------


def test_sign_ins_for_one_email_are_limited(gateway):
    email, _ = sign_up(gateway)
    api = fresh(gateway)
    answers = [sign_in(api, email, "wrong password here") for _ in range(6)]
    assert [r.status_code for r in answers] == [401] * 5 + [429]
    refused = answers[-1]
    assert refused.json()["error"]["code"] == "RATE_LIMITED"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # even the right password waits for the window
    assert sign_in(api, email).status_code == 429


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
    # ops see the refusals, which never reach a worker
    metrics = api.http.get(gateway.rstrip("/") + "/metrics", timeout=30).text
    assert 'gudang_rate_limited_total{limit="RATE_LIMIT_BAD_AUTH_PER_IP"}' in metrics
    assert 'gudang_rate_limited_total{limit="RATE_LIMIT_PER_KEY"} 1.0' in metrics
