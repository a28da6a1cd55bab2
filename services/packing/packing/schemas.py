"""Packing input schemas."""

from marshmallow import Schema, fields, validate

from gudang_common.events import PackageSchema

from .pick_rules import SHORT_REASONS


class PackSchema(PackageSchema):
    box = fields.String(load_default=None, validate=validate.Length(max=40))


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
