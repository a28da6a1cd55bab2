"""Inventory input schemas: what merchants and staff may send."""

from marshmallow import Schema, ValidationError, fields, validate, validates

from .domain import BIN_CODE, barcode_problem

SKU_CODE = validate.Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", error="Letters, digits, . _ - (max 64)."
)


class SkuSchema(Schema):
    sku = fields.String(required=True, validate=SKU_CODE)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    barcode = fields.String(required=True)
    weight_g = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=50000))
    length_cm = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=300))
    width_cm = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=300))
    height_cm = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=300))

    @validates("barcode")
    def _barcode(self, value, **kwargs):
        problem = barcode_problem(value)
        if problem:
            raise ValidationError(problem)


class BinSchema(Schema):
    code = fields.String(
        required=True,
        validate=validate.Regexp(
            BIN_CODE, error="Use zone-aisle-rack-level-bin, e.g. A-01-02-3-04."
        ),
    )
    pick_sequence = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=0, max=10_000_000)
    )


class InboundLineSchema(Schema):
    sku = fields.String(required=True, validate=SKU_CODE)
    qty = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=1_000_000))


class InboundSchema(Schema):
    lines = fields.List(
        fields.Nested(InboundLineSchema), required=True, validate=validate.Length(min=1, max=500)
    )
    expected_at = fields.Date(load_default=None)
    note = fields.String(load_default="", validate=validate.Length(max=500))


class ReceiveLineSchema(Schema):
    sku = fields.String(required=True, validate=SKU_CODE)
    qty_good = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=0, max=1_000_000)
    )
    qty_damaged = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=0, max=1_000_000)
    )
    bin = fields.String(load_default=None, validate=validate.Regexp(BIN_CODE))


class ReceiveSchema(Schema):
    lines = fields.List(
        fields.Nested(ReceiveLineSchema), required=True, validate=validate.Length(min=1, max=500)
    )
