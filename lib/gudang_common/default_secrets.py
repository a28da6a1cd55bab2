"""Refuse to start with the secrets this repository ships, except on a development machine.

Anyone who reads the repository knows `dev-admin-key`; a gateway that accepts it
outside development hands out the admin role. So a service starts with a shipped
secret only when GUDANG_ENV=development (which `make run` and docker-compose.yml
set, and say so).
"""

import os
from urllib.parse import urlsplit

from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.extensions import DependencyProvider

DEVELOPMENT = "development"

# config key: (environment variable, the value the repository ships)
SHIPPED = {
    "ADMIN_API_KEY": ("GUDANG_ADMIN_KEY", "dev-admin-key"),
    "COURIER_WEBHOOK_SECRET": ("GUDANG_COURIER_SECRET", "dev-courier-secret"),
    "PAYMENT_CALLBACK_TOKEN": ("GUDANG_PAYMENT_CALLBACK_TOKEN", "dev-payment-callback-token"),
}
PLACEHOLDER = "change-me"  # deploy/k8s ships these until the operator replaces them
LOOPBACK = {"localhost", "127.0.0.1", "::1"}


class DefaultSecrets(Exception):
    pass


def environment(config):
    return (config.get("GUDANG_ENV") or os.environ.get("GUDANG_ENV") or "production").lower()


def default_secrets(config):
    """What in `config` is a secret everyone knows, one sentence each."""
    problems = []
    for key, (variable, shipped) in SHIPPED.items():
        value = config.get(key)
        if value is not None and (value == shipped or str(value).startswith(PLACEHOLDER)):
            problems.append(f"{variable} is the shipped {value!r}")
    amqp = urlsplit(str(config.get(AMQP_URI_CONFIG_KEY) or ""))
    # RabbitMQ lets guest in from loopback only, unless told otherwise; off-box it is open
    if (amqp.username, amqp.password) == ("guest", "guest") and amqp.hostname not in LOOPBACK:
        problems.append(f"AMQP_URI logs in to {amqp.hostname} as RabbitMQ's default guest/guest")
    return problems


def check(config, service_name):
    if environment(config) == DEVELOPMENT:
        return
    problems = default_secrets(config)
    if problems:
        raise DefaultSecrets(
            f"{service_name} refuses to start with default secrets: {'; '.join(problems)}. "
            "Set secrets of your own, or GUDANG_ENV=development on a development machine."
        )


class DefaultSecretsGuard(DependencyProvider):
    """Fails the container's start (before it serves anything) on a shipped secret."""

    def setup(self):
        check(self.container.config, self.container.service_name)

    def get_dependency(self, worker_ctx):
        return None
