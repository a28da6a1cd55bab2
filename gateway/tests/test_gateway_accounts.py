"""Signing in: the password policy, hashes, sessions, CSRF, proxies, and keys in the store."""

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gateway import accounts
from gateway.auth import authenticate
from gateway.store import key_id
from gudang_common.clock import iso, parse_iso, utcnow
from gudang_common.errors import CsrfFailed, Unauthorized

EMAIL, NAME = "siti.rahayu@example.id", "Toko Batik Siti"


@pytest.mark.parametrize(
    "password, problem",
    [
        ("short1!", "At least 10 characters."),
        ("x" * 129, "At most 128 characters."),
        ("aaaaaaaaaaaa", "Not one character repeated."),
        ("Siti.Rahayu2026", "Must not contain your email address."),
        ("tokobatiksiti!!", "Must not contain your name."),
        (None, "Not a string."),
    ],
)
def test_a_password_is_refused_for_a_reason(password, problem):
    assert accounts.password_problem(password, EMAIL, NAME) == problem


def test_a_passphrase_passes_and_short_names_do_not_block_it():
    assert accounts.password_problem("kopi susu gula aren", EMAIL, NAME) is None
    # a two-letter email or name would forbid too much
    assert accounts.password_problem("ab kopi susu aren", "ab@x.id", "Ab") is None


def test_a_hash_verifies_only_its_password_and_is_rehashed_when_parameters_change():
    stored = accounts.hash_password("kopi susu gula aren")
    assert stored.startswith("$argon2id$")
    assert accounts.verify_password(stored, "kopi susu gula aren") == (True, None)
    assert accounts.verify_password(stored, "kopi susu gula arem") == (False, None)
    old = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash("kopi susu gula")
    ok, new_hash = accounts.verify_password(old, "kopi susu gula")
    assert ok and new_hash and not accounts.HASHER.check_needs_rehash(new_hash)


def test_an_unknown_account_is_verified_against_a_dummy_hash():
    assert accounts.verify_password(None, "anything at all") == (False, None)
    assert accounts.dummy_hash().startswith("$argon2id$")


def test_a_session_lives_12_hours_idle_and_7_days_at_most():
    now = parse_iso(iso(utcnow()))  # as stored: to the millisecond
    token, doc = accounts.new_session("merchant", "mer_1", now)
    assert doc["_id"] == accounts.token_hash(token) and token not in str(doc)
    assert accounts.session_live(doc, now + timedelta(hours=11, minutes=59))
    assert not accounts.session_live(doc, now + timedelta(hours=12))
    doc["last_seen_at"] = iso(now + timedelta(days=6, hours=23))
    assert accounts.session_expires_at(doc) == now + timedelta(days=7)


def test_the_cookie_is_httponly_lax_on_root_and_secure_only_over_https():
    cookie = accounts.session_cookie("tok", secure=False, max_age=60)
    assert cookie == "gudang_session=tok; Path=/; Max-Age=60; HttpOnly; SameSite=Lax"
    assert accounts.session_cookie("tok", secure=True, max_age=60).endswith("; Secure")


def test_forwarded_headers_count_only_from_trusted_proxies():
    proxies = accounts.trusted_networks("10.0.0.0/8, 127.0.0.1")
    assert accounts.client_address("203.0.113.9", "1.2.3.4", proxies) == "203.0.113.9"
    # the client wrote the leftmost entry itself; the proxy appended the real peer
    assert accounts.client_address("10.0.0.5", "1.2.3.4, 198.51.100.7", proxies) == "198.51.100.7"
    assert accounts.client_address("10.0.0.5", "198.51.100.7, 10.0.0.9", proxies) == "198.51.100.7"
    assert accounts.came_over_https("http", "10.0.0.5", "https", proxies)
    assert not accounts.came_over_https("http", "203.0.113.9", "https", proxies)
    assert accounts.came_over_https("https", "203.0.113.9", None, proxies)


def request(method="GET", headers=None, cookie=None, **kwargs):
    headers = dict(headers or {})
    if cookie:
        headers["Cookie"] = f"gudang_session={cookie}"
    builder = EnvironBuilder(method=method, path="/api/v1/orders", headers=headers, **kwargs)
    return Request(builder.get_environ())


def test_a_revoked_key_is_refused_at_once(repo):
    key = repo.add_api_key("merchant", "mer_1")
    caller = authenticate(request(headers={"Authorization": f"Bearer {key}"}), repo, "", "merchant")
    assert caller.id == "mer_1"
    doc = repo.api_keys_of("mer_1")[0][0]
    assert repo.set_key_revoked(doc["_id"], iso(utcnow()))
    with pytest.raises(Unauthorized):
        authenticate(request(headers={"Authorization": f"Bearer {key}"}), repo, "", "merchant")


def test_last_used_is_written_at_most_once_a_minute(repo):
    key = repo.add_api_key("merchant", "mer_1")
    repo.principal(key)
    first = repo.api_keys_of("mer_1")[0][0]["last_used_at"]
    assert first is not None
    repo.principal(key)
    assert repo.api_keys_of("mer_1")[0][0]["last_used_at"] == first
    stale = iso(utcnow() - timedelta(minutes=2))
    repo.db.api_keys.update_many({}, {"$set": {"last_used_at": stale}})
    repo.principal(key)
    assert repo.api_keys_of("mer_1")[0][0]["last_used_at"] > stale


def test_keys_are_listed_per_principal_with_their_public_id_and_never_the_secret(repo):
    mine = repo.add_api_key("merchant", "mer_1")
    repo.create_api_key("merchant", "mer_1", "shop plugin")
    repo.add_api_key("merchant", "mer_2")
    # created in the same millisecond here, so their order is not what is checked
    docs = {d["name"]: d for d in repo.api_keys_of("mer_1")[0]}
    assert sorted(docs) == ["default", "shop plugin"]
    assert docs["default"]["prefix"] == mine[:8] and mine not in str(docs)
    plugin = key_id(docs["shop plugin"]["_id"])
    assert repo.api_key_of("mer_1", plugin)["name"] == "shop plugin"
    assert repo.api_key_of("mer_2", plugin) is None
    assert repo.api_key_of("mer_1", "key_.*") is None


def test_a_session_needs_its_csrf_token_to_change_anything(repo):
    token, doc = accounts.new_session("merchant", "mer_1", utcnow())
    repo.add_session(doc)
    assert authenticate(request(cookie=token), repo, "", "merchant").session_id == doc["_id"]
    with pytest.raises(CsrfFailed):
        authenticate(request("POST", cookie=token), repo, "", "merchant")
    with pytest.raises(CsrfFailed):
        authenticate(request("POST", {"X-CSRF-Token": "wrong"}, cookie=token), repo, "", "merchant")
    ok = request("POST", {"X-CSRF-Token": doc["csrf_token"]}, cookie=token)
    assert authenticate(ok, repo, "", "merchant").id == "mer_1"
    form = request("POST", cookie=token, data={"csrf_token": doc["csrf_token"]})
    assert authenticate(form, repo, "", "merchant").id == "mer_1"


def test_a_bearer_key_wins_over_a_cookie_and_needs_no_csrf_token(repo):
    key = repo.add_api_key("merchant", "mer_2")
    req = request("POST", {"Authorization": f"Bearer {key}"}, cookie="whatever")
    assert authenticate(req, repo, "", "merchant").id == "mer_2"


def test_an_expired_or_ended_session_is_refused(repo):
    token, doc = accounts.new_session("merchant", "mer_1", utcnow() - timedelta(days=8))
    repo.add_session(doc)
    with pytest.raises(Unauthorized):
        authenticate(request(cookie=token), repo, "", "merchant")
    assert repo.db.sessions.count_documents({}) == 0
    token, doc = accounts.new_session("merchant", "mer_1", utcnow())
    repo.add_session(doc)
    repo.end_sessions_of("mer_1")
    with pytest.raises(Unauthorized):
        authenticate(request(cookie=token), repo, "", "merchant")


def test_sessions_past_their_seven_days_go_at_the_next_sign_in(repo):
    _, old = accounts.new_session("merchant", "mer_1", utcnow() - timedelta(days=8))
    _, other = accounts.new_session("merchant", "mer_2", utcnow() - timedelta(days=8))
    repo.add_session(old)
    repo.add_session(other)
    repo.add_session(accounts.new_session("merchant", "mer_1", utcnow())[1])
    assert repo.db.sessions.count_documents({"principal_id": "mer_1"}) == 1
    assert repo.db.sessions.count_documents({"principal_id": "mer_2"}) == 1


def test_self_referral_is_the_promoters_own_email_or_phone():
    promoter = {"email": "Budi@Example.id", "phone": "+6281234567890"}
    other = {"email": "siti@example.id", "phone": "081299990000"}
    assert not accounts.is_self_referral(promoter, other)
    assert accounts.is_self_referral(promoter, dict(other, email="budi@example.ID"))
    assert accounts.is_self_referral(promoter, dict(other, phone="081234567890"))
    assert accounts.is_self_referral(promoter, dict(other, phone="6281234567890"))
