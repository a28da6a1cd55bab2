"""End to end, over HTTP only: a transfer into a held merchant's virtual account, reported by
the payment provider's callback, tops the wallet up once and releases its held orders."""

import pytest

from scripts.simulate import eventually, place_order, register_world
from tests.conftest import ADMIN_KEY, PAYMENT_TOKEN

pytestmark = pytest.mark.e2e

GOOD = {"x-callback-token": PAYMENT_TOKEN}


def callback(virtual_account, payment_id, amount, changes=None):
    """A callback as Xendit sends one for a fixed virtual account paid (its extra fields too)."""
    body = {
        "id": "57fb4e076fa3fa296b7f5a97",
        "owner_id": "5824128aa6f9f9b648be9d76",
        "external_id": "topup-1",
        "payment_id": payment_id,
        "callback_virtual_account_id": "57fb4df9af86ce19778ad359",
        "merchant_code": "8808",
        "account_number": virtual_account["account_number"],
        "bank_code": virtual_account["bank_code"],
        "amount": amount,
        "currency": "IDR",
        "transaction_timestamp": "2026-11-24T01:15:03.080Z",
        "created": "2026-11-24T01:15:03.080Z",
        "updated": "2026-11-24T01:15:03.080Z",
    }
    return {k: v for k, v in dict(body, **(changes or {})).items() if v is not None}


def post(api, body, headers=GOOD):
    return api.request("POST", "/payments/webhook", body=body, headers=headers)


def wallet(api, world):
    return api.ok("GET", "/wallet", world.merchant["api_key"])


@pytest.fixture(scope="module")
def world(api):
    # credit limit 0: the inbound fee (5 units x Rp 500) takes the wallet to Rp -2,500
    return register_world(api, ADMIN_KEY, skus=1, units=5, credit_limit=0)


@pytest.fixture(scope="module")
def virtual_account(api, world):
    account = api.ok("GET", "/merchants/me", world.merchant["api_key"])["virtual_account"]
    assert account["bank_code"] == "BNI" and account["account_number"].startswith("8808")
    assert len(account["account_number"]) == 14
    again = api.ok("GET", "/merchants/me", world.merchant["api_key"])["virtual_account"]
    assert again == account
    return account


def test_a_bad_token_is_refused_and_credits_nothing(api, world, virtual_account):
    body = callback(virtual_account, "pay-bad-token", 2_500)
    for headers in ({}, {"x-callback-token": "guessed"}):
        status, payload = post(api, body, headers)
        assert status == 401 and "x-callback-token" in payload["error"]["fields"]
    assert wallet(api, world)["balance"] == -2_500


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"amount": 2500.5}, "amount"),
        ({"amount": "2500"}, "amount"),
        ({"amount": 0}, "amount"),
        ({"payment_id": None}, "payment_id"),
        ({"payment_id": "a b"}, "payment_id"),
        ({"account_number": "88O8"}, "account_number"),
        ({"bank_code": "NOPE"}, "bank_code"),
        ({"currency": "USD"}, "currency"),
        ({"transaction_timestamp": "yesterday"}, "transaction_timestamp"),
    ],
)
def test_each_bad_field_is_named(api, world, virtual_account, changes, field):
    status, payload = post(api, callback(virtual_account, "pay-bad-field", 2_500, changes))
    assert status == 400 and field in payload["error"]["fields"], payload


def test_an_unknown_virtual_account_is_404(api, world, virtual_account):
    for changes in ({"account_number": "880899999999999"}, {"bank_code": "BCA"}):
        status, payload = post(api, callback(virtual_account, "pay-unknown", 2_500, changes))
        assert status == 404 and "account_number" in payload["error"]["fields"]


def test_a_paid_virtual_account_releases_the_held_merchant_once(api, world, virtual_account):
    eventually(lambda: wallet(api, world)["on_hold"], what="the hold")
    order_id = place_order(api, world, 1, qty=1)
    key = world.merchant["api_key"]
    eventually(
        lambda: api.ok("GET", f"/orders/{order_id}", key)["status"] == "on_hold",
        what="the order held",
    )

    body = callback(virtual_account, "pay-5f2a9c", 2_500)
    status, answer = post(api, body)
    assert status == 200, answer
    assert answer == {
        "status": "credited",
        "payment_id": "pay-5f2a9c",
        "account_number": virtual_account["account_number"],
        "amount": 2_500,
        "currency": "IDR",
    }
    eventually(
        lambda: api.ok("GET", f"/orders/{order_id}", key)["status"] == "allocated",
        what="the order released",
    )
    assert post(api, body) == (200, answer)  # the provider retries: nothing more
    after = wallet(api, world)
    assert (after["balance"], after["on_hold"]) == (0, False)
    topups = [e for e in after["entries"] if e["kind"] == "topup"]
    assert [(e["amount"], e["ref"]) for e in topups] == [(2_500, "xendit:pay-5f2a9c")]

    status, payload = post(api, callback(virtual_account, "pay-5f2a9c", 9_000))
    assert status == 409 and "amount" in payload["error"]["fields"]
    assert wallet(api, world)["balance"] == 0
