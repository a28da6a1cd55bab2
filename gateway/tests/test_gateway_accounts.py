"""Signing in: the password policy, hashes, sessions, CSRF, proxies, and keys in the store."""

from datetime import timedelta

import pytest
from argon2 import PasswordHasher

from gateway import accounts
from gudang_common.clock import iso, parse_iso, utcnow

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
