"""Top-ups paid by bank transfer into a merchant's virtual account, as a payment provider
reports them.

The callback is shaped like Xendit's "fixed virtual account paid" callback: a JSON body
with the provider's `payment_id` (its reference for this one payment), the
`account_number` and `bank_code` paid into and the `amount` (whole rupiah), and the
provider's verification token in the `x-callback-token` header, compared with
PAYMENT_CALLBACK_TOKEN. Each merchant gets one virtual account number: the bank's
merchant prefix (PAYMENT_VA_PREFIX) and ten digits drawn from its id, kept by the
gateway so that a callback finds its merchant by one lookup.
"""

import hashlib
import hmac

from marshmallow import EXCLUDE, Schema, fields, validate

from gudang_common.errors import Unauthorized

# the banks Xendit opens fixed virtual accounts at (its bank_code values)
VA_BANKS = ("BCA", "BNI", "BRI", "MANDIRI", "PERMATA", "BSI", "BJB", "CIMB", "SAHABAT_SAMPOERNA")
MAX_PAYMENT = 1_000_000_000  # as for a top-up by ops: Rp 1 billion per transfer
VA_DIGITS = 10


class VaPaidSchema(Schema):
    """What the gateway reads of the callback; the provider's other fields are ignored."""

    class Meta:
        unknown = EXCLUDE

    payment_id = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$", error="The provider's payment id (max 64)."
        ),
    )
    account_number = fields.String(
        required=True,
        validate=validate.Regexp(r"^[0-9]{8,20}$", error="The virtual account's digits."),
    )
    bank_code = fields.String(required=True, validate=validate.OneOf(VA_BANKS))
    amount = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=MAX_PAYMENT)
    )
    currency = fields.String(load_default="IDR", validate=validate.OneOf(["IDR"]))
    transaction_timestamp = fields.AwareDateTime(required=True, format="iso")
    external_id = fields.String(load_default=None, validate=validate.Length(max=255))


def check_callback_token(expected, sent):
    """401 unless the header carries the configured token (none configured: none passes)."""
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(expected, sent):
        raise Unauthorized(
            "bad callback token", {"x-callback-token": ["Not the provider's callback token."]}
        )


def va_number(prefix, merchant_id, attempt=0):
    """The merchant's virtual account number: the prefix and ten digits of a hash of its id
    (`attempt` draws again after the rare clash with another merchant's)."""
    digest = hashlib.sha256(f"{merchant_id}:{attempt}".encode()).hexdigest()
    return f"{prefix}{int(digest, 16) % 10**VA_DIGITS:0{VA_DIGITS}d}"


def topup_reference(payment_id):
    """The top-up's reference in billing: the provider's payment id, named as such."""
    return f"xendit:{payment_id}"
