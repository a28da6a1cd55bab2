"""Shipping input schemas: courier tracking webhooks."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from gudang_common.events import Timestamp

from .domain import COURIER_STATUSES


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


class HandoverScanSchema(Schema):
    awb = fields.String(required=True, validate=validate.Length(min=1, max=64))
