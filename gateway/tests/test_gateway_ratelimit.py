"""The gateway's rate limits: per key, per address, bad credentials, sign-ins, and their headers."""

import threading

import pytest
from limits.storage import MemoryStorage
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gateway.ratelimit import Limiter, SweptMemoryStorage, parse_limits, refused_response
from gudang_common.errors import RateLimited

CONFIG = {
    "RATE_LIMIT_PER_KEY": "3/minute",
    "RATE_LIMIT_PER_IP": "5/minute",
    "RATE_LIMIT_BAD_AUTH_PER_IP": "2/minute",
    "RATE_LIMIT_LOGIN": "2/minute",
    "RATE_LIMIT_LOGIN_PER_IP": "4/minute",
    "TRUSTED_PROXIES": "10.0.0.1",
}


def request(key=None, addr="198.51.100.7", path="/api/v1/orders", forwarded=None):
    headers = {}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    if forwarded:
        headers["X-Forwarded-For"] = forwarded
    environ = EnvironBuilder(path=path, headers=headers).get_environ()
    environ["REMOTE_ADDR"] = addr
    return Request(environ)


@pytest.fixture
def limiter():
    return Limiter(CONFIG, SweptMemoryStorage())  # what the gateway counts in


def test_counting_starts_no_thread_and_closed_windows_are_swept(monkeypatch):
    storage = SweptMemoryStorage()
    started = []
    monkeypatch.setattr(threading.Timer, "start", lambda timer: started.append(timer))
    limiter = Limiter(CONFIG, storage)
    for n in range(50):
        limiter.screen(request(f"mk_{n}", addr=f"198.51.100.{n}"))
    assert started == []  # the stock storage started one per count
    closed = next(iter(storage.expirations))
    storage.expirations[closed] = 0.0  # its window has closed, and no one asks again
    storage.next_sweep = 0.0
    limiter.screen(request("mk_new", addr="203.0.113.9"))
    assert closed not in storage.storage and closed not in storage.expirations
    assert len(storage.storage) == 100 - 1 + 2  # per key and per address: mk_new adds two


def test_limits_parse_one_several_or_none():
    assert [str(x) for x in parse_limits("20/second;600/minute")] == [
        "20 per 1 second",
        "600 per 1 minute",
    ]
    assert parse_limits("off") == [] and parse_limits("") == []


def test_a_key_over_its_limit_is_refused_with_retry_after_and_both_header_families(limiter):
    verdicts = [limiter.screen(request("mk_a")) for _ in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert verdicts[0].remaining == 2
    response = refused_response(verdicts[-1])
    assert response.status_code == 429
    assert response.json["error"]["code"] == "RATE_LIMITED"
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    for name in ("RateLimit-", "X-RateLimit-"):
        assert response.headers[name + "Limit"] == "3"
        assert response.headers[name + "Remaining"] == "0"
    # another key from the same address gets through, until the address's own limit (the
    # refused request counted there too)
    assert limiter.screen(request("mk_b")).allowed
    assert not limiter.screen(request("mk_c")).allowed


def test_every_request_counts_against_its_address_a_refused_one_too(limiter):
    for _ in range(4):
        limiter.screen(request("mk_a", addr="203.0.113.1"))
    assert limiter.screen(request(addr="203.0.113.1")).allowed
    assert not limiter.screen(request(addr="203.0.113.1")).allowed


def test_bad_credentials_bar_the_address_from_presenting_more(limiter):
    for n in range(2):
        assert limiter.screen(request(f"guess{n}")).allowed
        limiter.bad_credential(request(f"guess{n}"))
    assert not limiter.screen(request("guess2")).allowed
    assert not limiter.screen(request("mk_good")).allowed
    # another address, and this one without a credential (public tracking), are not barred
    assert limiter.screen(request("mk_good", addr="203.0.113.2")).allowed
    assert limiter.screen(request()).allowed


def test_sign_ins_are_limited_per_email_and_per_address(limiter):
    limiter.sign_in(request(), "Siti@example.id")
    limiter.sign_in(request(), "siti@example.id ")
    with pytest.raises(RateLimited) as refused:
        limiter.sign_in(request(addr="203.0.113.3"), "siti@example.id")
    assert "Retry-After" in refused.value.headers
    limiter.sign_in(request(), "budi@example.id")
    limiter.sign_in(request(), "ani@example.id")
    with pytest.raises(RateLimited):
        limiter.sign_in(request(), "dewi@example.id")


def test_a_trusted_proxy_passes_on_the_client_address(limiter):
    for _ in range(5):
        assert limiter.screen(request(addr="10.0.0.1", forwarded="192.0.2.1")).allowed
    assert not limiter.screen(request(addr="10.0.0.1", forwarded="192.0.2.1")).allowed
    assert limiter.screen(request(addr="10.0.0.1", forwarded="192.0.2.2")).allowed


def test_static_files_and_probes_are_not_counted(limiter):
    for _ in range(10):
        assert limiter.screen(request(path="/static/gudang.css")) is None
        assert limiter.screen(request(path="/health")) is None


def test_each_refusal_is_reported_with_its_limit():
    refused = []
    limiter = Limiter(CONFIG, MemoryStorage(), on_refused=refused.append)
    for _ in range(4):
        limiter.screen(request("mk_a"))
    with pytest.raises(RateLimited):
        for _ in range(3):
            limiter.sign_in(request(addr="203.0.113.4"), "siti@example.id")
    assert refused == ["RATE_LIMIT_PER_KEY", "RATE_LIMIT_LOGIN"]
