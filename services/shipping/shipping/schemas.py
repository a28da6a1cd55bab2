"""Shipping input schemas: rate quotes and courier tracking webhooks."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from gudang_common.couriers import COURIERS
from gudang_common.events import Rupiah, Timestamp

from .domain import COURIER_STATUSES

POSTAL_CODE = validate.Regexp(r"^[0-9]{5}$", error="Five digits.")


def _dimension():
    return fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=300))


class QuoteSchema(Schema):
    courier = fields.String(
        required=True, validate=validate.OneOf(sorted(COURIERS), error="Unknown courier.")
    )
    weight_g = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=50000))
    length_cm = _dimension()
    width_cm = _dimension()
    height_cm = _dimension()
    postal_code = fields.String(required=True, validate=POSTAL_CODE)
    cod_amount = Rupiah(load_default=0)


class TrackingSchema(Schema):
    awb = fields.String(required=True, validate=validate.Length(min=1, max=64))
    status = fields.String(
        required=True,
        validate=validate.OneOf(sorted(COURIER_STATUSES), error="Must be one of: {choices}."),
    )
    occurred_at = Timestamp(required=True)
    reason = fields.String(load_default=None, validate=validate.Length(min=1, max=500))

    @validates_schema
    def _reason_of_failure(self, data, **kwargs):
        if data.get("status") == "failed" and not data.get("reason"):
            raise ValidationError("Required when status is failed.", field_name="reason")
