"""Inventory input schemas: what merchants and staff may send."""

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from .domain import ADJUST_REASONS, BIN_CODE, QUARANTINE, barcode_problem

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
    tracks_lots = fields.Boolean(load_default=False)
    low_stock_threshold = fields.Integer(
        strict=True,
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=0, max=1_000_000),  # as many units as one receipt may hold
    )

    @validates("barcode")
    def _barcode(self, value, **kwargs):
        problem = barcode_problem(value)
        if problem:
            raise ValidationError(problem)


class Metres(fields.Float):
    """A distance on the floor plan in metres: a JSON number, not text or true/false."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


def _floor_coordinate(**kwargs):
    return Metres(allow_none=True, validate=validate.Range(min=0, max=10_000), **kwargs)


class BinPlaceSchema(Schema):
    """Where ops put a bin on the floor plan (x across the aisles, y along them from the
    front cross-aisle), both or neither; null clears it (the walk then reads the code)."""

    x_m = _floor_coordinate()
    y_m = _floor_coordinate()

    @validates_schema
    def _both_or_neither(self, data, **kwargs):
        if (data.get("x_m") is None) != (data.get("y_m") is None):
            missing = "y_m" if data.get("y_m") is None else "x_m"
            raise ValidationError({missing: ["Set x_m and y_m together (or both null)."]})


class BinSchema(BinPlaceSchema):
    code = fields.String(
        required=True,
        validate=validate.Regexp(
            BIN_CODE, error="Use zone-aisle-rack-level-bin, e.g. A-01-02-3-04."
        ),
    )
    pick_sequence = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=0, max=10_000_000)
    )
    x_m = _floor_coordinate(load_default=None)
    y_m = _floor_coordinate(load_default=None)


class SkuUpdateSchema(SkuSchema):
    """Partial update; the code and whether the SKU tracks lots are fixed once registered."""

    class Meta:
        exclude = ("sku", "tracks_lots")


LOT = validate.Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$", error="Letters, digits, . _ / - (max 40)."
)
LOCATION = validate.Regexp(
    rf"{BIN_CODE.pattern}|^{QUARANTINE}$",
    error=f"A bin code (zone-aisle-rack-level-bin) or {QUARANTINE}.",
)


class BinUpdateSchema(BinPlaceSchema):
    """Renumber a bin, place it on the floor plan, or both."""

    pick_sequence = fields.Integer(strict=True, validate=validate.Range(min=0, max=10_000_000))

    @validates_schema
    def _something(self, data, **kwargs):
        if not data:
            raise ValidationError({"pick_sequence": ["Send pick_sequence, or x_m and y_m."]})


class InboundLineSchema(Schema):
    sku = fields.String(required=True, validate=SKU_CODE)
    qty = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=1_000_000))
    lot = fields.String(load_default=None, allow_none=True, validate=LOT)
    expiry = fields.Date(load_default=None, allow_none=True)


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
    lot = fields.String(load_default=None, allow_none=True, validate=LOT)
    expiry = fields.Date(load_default=None, allow_none=True)
    over_reason = fields.String(load_default=None, validate=validate.Length(min=3, max=200))


class ReceiveSchema(Schema):
    lines = fields.List(
        fields.Nested(ReceiveLineSchema), required=True, validate=validate.Length(min=1, max=500)
    )


class InspectLineSchema(Schema):
    sku = fields.String(required=True, validate=SKU_CODE)
    lot = fields.String(load_default=None, allow_none=True, validate=LOT)
    qty_good = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=0, max=100_000)
    )
    qty_damaged = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=0, max=100_000)
    )
    bin = fields.String(load_default=None, validate=validate.Regexp(BIN_CODE))


class InspectSchema(Schema):
    lines = fields.List(
        fields.Nested(InspectLineSchema), required=True, validate=validate.Length(min=1, max=200)
    )


class StockRefSchema(Schema):
    """Which stock a staff action is about: a merchant's SKU (and lot)."""

    merchant_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    sku = fields.String(required=True, validate=SKU_CODE)
    lot = fields.String(load_default=None, allow_none=True, validate=LOT)


class AdjustmentSchema(StockRefSchema):
    bin = fields.String(required=True, validate=LOCATION)
    expiry = fields.Date(load_default=None, allow_none=True)
    qty = fields.Integer(
        strict=True,
        required=True,
        validate=[
            validate.Range(min=-1_000_000, max=1_000_000),
            validate.NoneOf([0], error="Must not be zero."),
        ],
    )
    reason = fields.String(required=True, validate=validate.OneOf(ADJUST_REASONS))
    note = fields.String(load_default="", validate=validate.Length(max=300))


class CountLineSchema(StockRefSchema):
    expiry = fields.Date(load_default=None, allow_none=True)
    counted = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=0, max=1_000_000)
    )


class CycleCountSchema(Schema):
    bin = fields.String(required=True, validate=LOCATION)
    lines = fields.List(
        fields.Nested(CountLineSchema), required=True, validate=validate.Length(min=1, max=500)
    )
    note = fields.String(load_default="", validate=validate.Length(max=300))


class MoveSchema(StockRefSchema):
    from_bin = fields.String(required=True, validate=LOCATION)
    to_bin = fields.String(required=True, validate=LOCATION)
    qty = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=1_000_000))
    reason = fields.String(load_default=None, validate=validate.Length(max=300))


MOVEMENT_TYPES = (
    "receive",
    "put_away",
    "reserve",
    "release",
    "pick",
    "adjust",
    "return",
    "quarantine",
    "count_hold",  # units a packer did not find, held until the bin's cycle count
)


class MovementQuerySchema(Schema):
    sku = fields.String(load_default=None, validate=SKU_CODE)
    type = fields.String(load_default=None, validate=validate.OneOf(MOVEMENT_TYPES))
    bin = fields.String(load_default=None, validate=LOCATION)
    lot = fields.String(load_default=None, validate=LOT)
    ref = fields.String(load_default=None, validate=validate.Length(max=64))
    since = fields.AwareDateTime(load_default=None)
    until = fields.AwareDateTime(load_default=None)
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    cursor = fields.String(load_default=None)


class SlowMovingQuerySchema(Schema):
    days = fields.Integer(load_default=30, validate=validate.Range(min=1, max=3650))
