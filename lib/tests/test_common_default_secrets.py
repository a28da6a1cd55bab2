"""Shipped secrets are refused outside development."""

import pytest

from gudang_common.default_secrets import DefaultSecrets, check, default_secrets

OWN = {
    "ADMIN_API_KEY": "k3y-of-our-own",
    "COURIER_WEBHOOK_SECRET": "s3cret-of-our-own",
    "PAYMENT_CALLBACK_TOKEN": "t0ken-of-our-own",
    "AMQP_URI": "pyamqp://gudang:long-password@rabbitmq:5672/",
}


@pytest.fixture(autouse=True)
def no_env(monkeypatch):
    monkeypatch.delenv("GUDANG_ENV", raising=False)


@pytest.mark.parametrize(
    "change, named",
    [
        ({"ADMIN_API_KEY": "dev-admin-key"}, "GUDANG_ADMIN_KEY"),
        ({"COURIER_WEBHOOK_SECRET": "dev-courier-secret"}, "GUDANG_COURIER_SECRET"),
        ({"ADMIN_API_KEY": "change-me-admin-key"}, "GUDANG_ADMIN_KEY"),
        (
            {"PAYMENT_CALLBACK_TOKEN": "dev-payment-callback-token"},
            "GUDANG_PAYMENT_CALLBACK_TOKEN",
        ),
        ({"AMQP_URI": "pyamqp://guest:guest@rabbitmq:5672/"}, "guest"),
    ],
)
def test_a_shipped_secret_stops_the_start(change, named):
    config = dict(OWN, **change)
    with pytest.raises(DefaultSecrets, match=named):
        check(config, "gateway")


def test_own_secrets_and_a_local_guest_broker_start():
    check(OWN, "gateway")
    check(dict(OWN, AMQP_URI="pyamqp://guest:guest@localhost:5672/vh"), "gateway")
    assert default_secrets({"AMQP_URI": "pyamqp://guest:guest@127.0.0.1"}) == []


def test_development_mode_allows_them(monkeypatch):
    shipped = {"ADMIN_API_KEY": "dev-admin-key", "COURIER_WEBHOOK_SECRET": "dev-courier-secret"}
    check(dict(shipped, GUDANG_ENV="development"), "gateway")
    monkeypatch.setenv("GUDANG_ENV", "development")
    check(shipped, "gateway")
