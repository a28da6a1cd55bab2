"""Packing input schemas."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from .boxes import BOX_CODE, SIDES
from .pick_rules import SHORT_REASONS

Side = lambda **kw: fields.Integer(strict=True, validate=validate.Range(min=1, max=300), **kw)  # noqa: E731
Grams = lambda **kw: fields.Integer(strict=True, validate=validate.Range(min=0, max=50000), **kw)  # noqa: E731
Fee = lambda **kw: fields.Integer(  # noqa: E731
    strict=True, validate=validate.Range(min=0, max=1_000_000), **kw
)
BoxCode = lambda **kw: fields.String(validate=validate.Regexp(BOX_CODE), **kw)  # noqa: E731


class PackSchema(Schema):
    """`{box, weight_g}`: the sizes are the box's. `{weight_g, length_cm, width_cm,
    height_cm}` without a box: a carton of the packer's own, measured."""

    weight_g = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=50000))
    box = BoxCode(load_default=None, allow_none=True)
    length_cm = Side()
    width_cm = Side()
    height_cm = Side()

    @validates_schema
    def box_or_sizes(self, data, **kwargs):
        typed = [side for side in SIDES if side in data]
        if data.get("box") and typed:
            raise ValidationError({side: ["The box gives the sizes."] for side in typed})
        if not data.get("box") and len(typed) < 3:
            missing = [side for side in SIDES if side not in data]
            raise ValidationError(
                {"box": ["Choose a box, or type all three sizes."]}
                | {side: ["Missing data for required field."] for side in missing}
            )


class BoxSchema(Schema):
    code = BoxCode(required=True)
    length_cm = Side(required=True)
    width_cm = Side(required=True)
    height_cm = Side(required=True)
    weight_g = Grams(required=True)
    packaging_fee = Fee(required=True)
    active = fields.Boolean(load_default=True)


class BoxChangeSchema(Schema):
    length_cm = Side()
    width_cm = Side()
    height_cm = Side()
    weight_g = Grams()
    packaging_fee = Fee()
    active = fields.Boolean()


class VerifySchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=128))
    qty = fields.Integer(strict=True, load_default=1, validate=validate.Range(min=1, max=100_000))


class OpenStationSchema(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=128))


class CancelSchema(Schema):
    reason = fields.String(
        load_default="cancelled by merchant", validate=validate.Length(min=1, max=300)
    )


class ScanSchema(Schema):
    """One scan on a pick list: a tote label, a bin, or a unit (qty > 1: one unit scanned,
    the count confirmed). `scan_id` names the scan so a retry counts nothing twice."""

    code = fields.String(required=True, validate=validate.Length(min=1, max=80))
    qty = fields.Integer(strict=True, load_default=1, validate=validate.Range(min=1, max=999))
    lot = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=60))
    scan_id = fields.String(required=True, validate=validate.Length(min=1, max=100))


class ShortPickSchema(Schema):
    stop_id = fields.String(required=True, validate=validate.Length(min=1, max=40))
    qty = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=999))
    reason = fields.String(required=True, validate=validate.OneOf(SHORT_REASONS))


class ReassignSchema(Schema):
    packer_id = fields.String(required=True, validate=validate.Length(min=1, max=60))
