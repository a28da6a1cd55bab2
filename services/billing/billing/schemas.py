"""Billing input schemas: wallet top-ups."""

from marshmallow import Schema, fields, validate

MAX_TOPUP = (
    1_000_000_000  # Rp 1 billion per transfer: beyond this, a typo is likelier than a deposit
)


class TopupSchema(Schema):
    amount = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=MAX_TOPUP)
    )
    reference = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,79}$",
            error="The bank reference: letters, digits, . _ : / - (max 80).",
        ),
    )
