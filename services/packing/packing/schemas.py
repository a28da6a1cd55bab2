"""Packing input schemas."""

from marshmallow import Schema, fields, validate

from gudang_common.events import PackageSchema


class PackSchema(PackageSchema):
    box = fields.String(load_default=None, validate=validate.Length(max=40))


class CancelSchema(Schema):
    reason = fields.String(
        load_default="cancelled by merchant", validate=validate.Length(min=1, max=300)
    )
