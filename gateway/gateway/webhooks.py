"""Courier webhooks are signed: X-Gudang-Signature: sha256=<hex HMAC-SHA256 of the raw body>."""

import hashlib
import hmac

from gudang_common.errors import Unauthorized


def sign(secret, body):
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret, body, signature):
    if not signature or not hmac.compare_digest(sign(secret, body), signature.strip()):
        raise Unauthorized(
            "bad webhook signature",
            {"X-Gudang-Signature": ["Missing or wrong HMAC-SHA256 signature."]},
        )
