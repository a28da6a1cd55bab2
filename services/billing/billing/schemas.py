"""Billing input schemas: wallet top-ups, rate card versions, bank accounts, withdrawals."""

from marshmallow import Schema, fields, validate

from .domain import BANKS, BOX_CODE

MAX_TOPUP = (
    1_000_000_000  # Rp 1 billion per transfer: beyond this, a typo is likelier than a deposit
)


def _amount():
    """Money in or out of a wallet: whole rupiah, from 1 to MAX_TOPUP."""
    return fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=MAX_TOPUP))


def _bank_reference(what):
    """A reference the bank gave a transfer, as finance types it."""
    return fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,79}$",
            error=f"{what}: letters, digits, . _ : / - (max 80).",
        ),
    )


class TopupSchema(Schema):
    amount = _amount()
    reference = _bank_reference("The bank reference")


class CreditLimitSchema(Schema):
    # how far below zero fees may take the wallet before new orders wait (0: not at all)
    credit_limit = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=0, max=MAX_TOPUP)
    )


MAX_RATE = 100_000_000  # Rp 100 million for one unit of one fee: beyond this, a typo


def _rupiah():
    return fields.Integer(strict=True, validate=validate.Range(min=0, max=MAX_RATE))


def _bps():
    return fields.Integer(strict=True, validate=validate.Range(min=0, max=10000))


class RateCardSchema(Schema):
    """A new rate card version: from when, and the rates that change (integer rupiah,
    percentages in basis points); the others stay as they were."""

    effective_from = fields.AwareDateTime(required=True)
    inbound_per_unit = _rupiah()
    pick_pack_per_order = _rupiah()
    pick_pack_per_extra_item = _rupiah()
    cod_fee_bps = _bps()
    cod_fee_min = _rupiah()
    commission_bps = _bps()
    storage_per_unit_day = _rupiah()
    label_per_parcel = _rupiah()
    rts_per_parcel = _rupiah()
    packaging_by_box = fields.Dict(
        keys=fields.String(validate=validate.Regexp(BOX_CODE, error="A box code (max 40).")),
        values=_rupiah(),
        validate=validate.Length(max=200),
    )


class BankAccountSchema(Schema):
    """Where the merchant's withdrawals are sent."""

    bank = fields.String(
        required=True,
        validate=validate.OneOf(BANKS, error="One of: " + ", ".join(BANKS) + "."),
    )
    account_number = fields.String(
        required=True,
        validate=validate.Regexp(r"^[0-9]{6,20}$", error="6 to 20 digits, nothing else."),
    )
    account_name = fields.String(
        required=True, validate=validate.Length(min=2, max=100, error="2 to 100 characters.")
    )


class WithdrawalSchema(Schema):
    amount = _amount()


class WithdrawalPaidSchema(Schema):
    transfer_reference = _bank_reference("The bank's transfer reference")


class WithdrawalRejectSchema(Schema):
    reason = fields.String(
        required=True, validate=validate.Length(min=1, max=500, error="1 to 500 characters.")
    )
