"""The event catalog: every event any service publishes, defined once.

Events are facts in the past tense. Each carries `event_id` (UUID), `occurred_at`
(UTC, ISO 8601) and `merchant_id` where there is one. docs/events.md is generated
from this module (`python -m gudang_common.events > docs/events.md`) and a test
keeps the two equal.
"""

import uuid

from marshmallow import INCLUDE, Schema, ValidationError, fields, validate

from .clock import iso, parse_iso, utcnow  # noqa: F401  (re-exported: events carry these times)
from .errors import load


class Timestamp(fields.String):
    """An ISO 8601 timestamp with a timezone, kept as a string."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            parse_iso(text)
        except ValueError:
            raise ValidationError("Not a valid ISO 8601 timestamp with timezone.") from None
        return text


Rupiah = lambda **kw: fields.Integer(strict=True, validate=validate.Range(min=0), **kw)  # noqa: E731
Qty = lambda **kw: fields.Integer(strict=True, validate=validate.Range(min=1), **kw)  # noqa: E731


class EventSchema(Schema):
    class Meta:
        unknown = INCLUDE  # newer publishers may add fields; consumers ignore them

    event_id = fields.UUID(required=True)
    occurred_at = Timestamp(required=True)


class MerchantEventSchema(EventSchema):
    merchant_id = fields.String(required=True)


class OrderEventSchema(MerchantEventSchema):
    """An event about one of the merchant's orders."""

    order_id = fields.String(required=True)


class ParcelEventSchema(OrderEventSchema):
    """An event about the order's parcel: the courier's AWB names it."""

    awb = fields.String(required=True)
    courier = fields.String(required=True)


class RecipientSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    phone = fields.String(required=True, validate=validate.Regexp(r"^\+?[0-9]{8,15}$"))
    address = fields.String(required=True, validate=validate.Length(min=5, max=500))
    city = fields.String(required=True, validate=validate.Length(min=2, max=80))
    postal_code = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{5}$"))


class OrderLineSchema(Schema):
    sku = fields.String(required=True, validate=validate.Length(min=1, max=64))
    qty = Qty(required=True)


class AllocatedLineSchema(OrderLineSchema):
    bin = fields.String(required=True)
    pick_sequence = fields.Integer(required=True)
    # lot-tracked SKUs: which lot to pick (FEFO decided it), and its expiry date
    lot = fields.String(load_default=None, allow_none=True)
    expiry = fields.String(load_default=None, allow_none=True)
    # the bin's floor coordinates in metres where ops set them; null: packing places the
    # bin by its code (packing/walk.py)
    x_m = fields.Float(load_default=None, allow_none=True)
    y_m = fields.Float(load_default=None, allow_none=True)


class PackageSchema(Schema):
    weight_g = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=50000))
    length_cm = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=300))
    width_cm = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=300))
    height_cm = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=300))


class PackedPackageSchema(PackageSchema):
    # the carton from packing's box catalog (null: the packer's own carton, sizes typed)
    # and its packaging fee in rupiah at the time of packing, which billing charges
    box = fields.String(load_default=None, allow_none=True)
    packaging_fee = Rupiah(load_default=0)


class ReceivedLineSchema(Schema):
    sku = fields.String(required=True)
    qty_good = fields.Integer(strict=True, required=True, validate=validate.Range(min=0))
    qty_damaged = fields.Integer(strict=True, required=True, validate=validate.Range(min=0))
    bin = fields.String(required=True)


# --- gateway -----------------------------------------------------------------


class PromoterRegistered(EventSchema):
    promoter_id = fields.String(required=True)
    name = fields.String(required=True)
    referral_code = fields.String(required=True)


class MerchantRegistered(MerchantEventSchema):
    name = fields.String(required=True)
    promoter_id = fields.String(required=True, allow_none=True)


class OrderReceived(OrderEventSchema):
    external_id = fields.String(required=True)
    channel = fields.String(required=True)
    courier = fields.String(required=True)
    recipient = fields.Nested(RecipientSchema, required=True)
    lines = fields.List(fields.Nested(OrderLineSchema), required=True, validate=validate.Length(1))
    cod_amount = Rupiah(required=True)


# --- inventory ---------------------------------------------------------------


class SkuRegistered(MerchantEventSchema):
    sku = fields.String(required=True)
    name = fields.String(required=True)
    barcode = fields.String(required=True)
    # one unit's weight and size (the pack station suggests a box from them); absent from
    # events written before they were carried
    weight_g = fields.Integer(strict=True)
    length_cm = fields.Integer(strict=True)
    width_cm = fields.Integer(strict=True)
    height_cm = fields.Integer(strict=True)


class StockReceived(MerchantEventSchema):
    inbound_id = fields.String(required=True)
    receipt_id = fields.String(required=True)
    lines = fields.List(fields.Nested(ReceivedLineSchema), required=True)
    units_good = fields.Integer(strict=True, required=True)


class OrderAllocated(OrderEventSchema):
    external_id = fields.String(required=True)
    lines = fields.List(fields.Nested(AllocatedLineSchema), required=True)


class OrderBackordered(OrderEventSchema):
    short = fields.List(fields.Nested(OrderLineSchema), required=True)


class OrderRejected(OrderEventSchema):
    reason = fields.String(required=True)
    skus = fields.List(fields.String(), required=True)


class OrderHeld(OrderEventSchema):
    reason = fields.String(required=True)


class StockLow(MerchantEventSchema):
    sku = fields.String(required=True)
    available = fields.Integer(strict=True, required=True)
    threshold = fields.Integer(strict=True, required=True)


class ReturnInspected(MerchantEventSchema):
    return_id = fields.String(required=True)
    order_id = fields.String(required=True)
    units_good = fields.Integer(strict=True, required=True, validate=validate.Range(min=0))
    units_damaged = fields.Integer(strict=True, required=True, validate=validate.Range(min=0))


# --- packing -----------------------------------------------------------------


class OrderPicked(OrderEventSchema):
    pick_list_id = fields.String(required=True)
    packer_id = fields.String(required=True)


class OrderShortPicked(OrderPicked):
    bin = fields.String(required=True)
    sku = fields.String(required=True)
    lot = fields.String(allow_none=True, load_default=None)
    qty_missing = Qty(required=True)
    reason = fields.String(required=True)


class OrderPacked(OrderEventSchema):
    packer_id = fields.String(required=True)
    package = fields.Nested(PackedPackageSchema, required=True)
    lines = fields.List(fields.Nested(AllocatedLineSchema), required=True)


class OrderCancelled(OrderEventSchema):
    reason = fields.String(required=True)


# --- shipping ----------------------------------------------------------------


class ParcelBooked(ParcelEventSchema):
    chargeable_weight_g = fields.Integer(strict=True, required=True)
    shipping_cost = Rupiah(required=True)
    cod_amount = Rupiah(required=True)


class ParcelStatusChanged(ParcelEventSchema):
    courier_status = fields.String(required=True)


class ParcelDelivered(ParcelStatusChanged):
    cod_amount = Rupiah(required=True)


class ParcelDeliveryFailed(ParcelStatusChanged):
    reason = fields.String(required=True)


OUTCOMES = ("delivered", "returned")


class ParcelOutcomeCorrected(ParcelEventSchema):
    # 1, 2, ... per parcel: billing keys the money of each correction by it
    correction = fields.Integer(strict=True, required=True, validate=validate.Range(min=1))
    previous_outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    outcome = fields.String(required=True, validate=validate.OneOf(OUTCOMES))
    # the courier report that decides the outcome now, and when the courier says it happened
    courier_status = fields.String(required=True)
    decided_at = Timestamp(required=True)
    cod_amount = Rupiah(required=True)


# --- billing -----------------------------------------------------------------


class MerchantHoldChanged(MerchantEventSchema):
    # may be negative: the wallet is a deposit that fees can overdraw
    balance = fields.Integer(strict=True, required=True)
    credit_limit = fields.Integer(strict=True, required=True)
    # 1, 2, ... per merchant: hold and release travel on separate queues, so a consumer
    # keeps the state of the highest crossing it has seen
    crossing = fields.Integer(strict=True, required=True, validate=validate.Range(min=1))


# (event_type, source service, schema, what it means)
CATALOG = [
    (
        "promoter_registered",
        "gateway",
        PromoterRegistered,
        "A promoter signed up and holds a referral code.",
    ),
    (
        "merchant_registered",
        "gateway",
        MerchantRegistered,
        "A merchant signed up, optionally referred by a promoter.",
    ),
    ("order_received", "gateway", OrderReceived, "The gateway stored a merchant's order durably."),
    (
        "sku_registered",
        "inventory",
        SkuRegistered,
        "A merchant registered a SKU; orders may name it from now on.",
    ),
    (
        "stock_received",
        "inventory",
        StockReceived,
        "Staff received (part of) an inbound; good units are sellable.",
    ),
    (
        "order_allocated",
        "inventory",
        OrderAllocated,
        "Every line of the order is reserved in a bin.",
    ),
    (
        "order_backordered",
        "inventory",
        OrderBackordered,
        "Not enough stock; the order waits for an inbound.",
    ),
    (
        "order_rejected",
        "inventory",
        OrderRejected,
        "The order names SKUs the merchant does not have.",
    ),
    (
        "order_held",
        "inventory",
        OrderHeld,
        "The merchant is on hold (wallet below its credit limit): the order waits, unreserved,"
        " until the merchant is released, then goes on oldest first.",
    ),
    (
        "stock_low",
        "inventory",
        StockLow,
        "A SKU's available units fell to its low-stock threshold (once per crossing).",
    ),
    (
        "return_inspected",
        "inventory",
        ReturnInspected,
        "Staff inspected a returned parcel: good units go back to a bin, damaged to quarantine.",
    ),
    ("order_picked", "packing", OrderPicked, "A packer picked the order's items from their bins."),
    (
        "order_short_picked",
        "packing",
        OrderShortPicked,
        "Units were not in their bin: the order left its pick list; inventory holds the "
        "missing units for a count and allocates the order again or backorders it.",
    ),
    (
        "order_packed",
        "packing",
        OrderPacked,
        "The order is packed, weighed and measured; stock leaves on hand. `package.box` names"
        " the carton from packing's box catalog and `package.packaging_fee` its fee, charged"
        " by billing as it travels here.",
    ),
    (
        "order_cancelled",
        "packing",
        OrderCancelled,
        "The merchant cancelled before packing; reservations are released.",
    ),
    (
        "parcel_booked",
        "shipping",
        ParcelBooked,
        "The courier gave an AWB; the shipping cost is known.",
    ),
    (
        "parcel_dispatched",
        "shipping",
        ParcelStatusChanged,
        "The courier picked the parcel up: its report says so, or the pickup manifest the"
        " parcel's AWB was scanned onto was closed (`courier_status` picked_up, at the closing"
        " time).",
    ),
    (
        "parcel_in_transit",
        "shipping",
        ParcelStatusChanged,
        "The parcel moves through the courier's network.",
    ),
    (
        "parcel_delivered",
        "shipping",
        ParcelDelivered,
        "The buyer received the parcel; COD (if any) was collected.",
    ),
    ("parcel_delivery_failed", "shipping", ParcelDeliveryFailed, "A delivery attempt failed."),
    (
        "parcel_returned",
        "shipping",
        ParcelStatusChanged,
        "The parcel came back to the warehouse undelivered (return to sender); no COD.",
    ),
    (
        "parcel_returned_by_buyer",
        "shipping",
        ParcelStatusChanged,
        "The buyer sent a delivered parcel back (courier status `returned_by_buyer`);"
        " it is expected at the warehouse. The delivery stands: its COD stays credited.",
    ),
    (
        "parcel_outcome_corrected",
        "shipping",
        ParcelOutcomeCorrected,
        "An exception: a courier report stamped before the one that decided the parcel's outcome"
        " arrived late and decides otherwise (the earliest final report wins). `outcome`"
        " returned: billing reverses the COD, its fee and the fee's commission with new"
        " postings; delivered: billing credits them.",
    ),
    (
        "merchant_on_hold",
        "billing",
        MerchantHoldChanged,
        "Fees took the merchant's wallet below its credit limit (once per crossing):"
        " its new orders wait instead of going to the warehouse.",
    ),
    (
        "merchant_released",
        "billing",
        MerchantHoldChanged,
        "A top-up or credit brought the wallet back to its credit limit or above (once per"
        " crossing): the merchant's held orders go to the warehouse, oldest first.",
    ),
]

EVENTS = {name: (source, schema) for name, source, schema, _ in CATALOG}
_SCHEMA_INSTANCES = {name: schema() for name, (_, schema) in EVENTS.items()}


def new_event(event_type, merchant_id=None, **payload):
    """Build and validate an event payload, stamping id and time."""
    if event_type not in EVENTS:
        raise KeyError(f"unknown event type {event_type}")
    body = {"event_id": str(uuid.uuid4()), "occurred_at": iso(utcnow())}
    if merchant_id is not None:
        body["merchant_id"] = merchant_id
    body.update(payload)
    validate_event(event_type, body)
    return body


def validate_event(event_type, body):
    """Raise ValidationFailed if `body` is not a valid `event_type` payload."""
    loaded = load(_SCHEMA_INSTANCES[event_type], body, what=f"{event_type} event")
    loaded["event_id"] = str(loaded["event_id"])
    return loaded


def _describe_fields(schema, indent=""):
    lines = []
    for name, field in schema.fields.items():
        kind = type(field).__name__
        if isinstance(field, fields.Nested):
            lines.append(f"{indent}- `{name}` (object{'' if field.required else ', optional'})")
            lines.extend(_describe_fields(field.schema, indent + "  "))
            continue
        if isinstance(field, fields.List) and isinstance(field.inner, fields.Nested):
            lines.append(f"{indent}- `{name}` (list of objects)")
            lines.extend(_describe_fields(field.inner.schema, indent + "  "))
            continue
        kind = {"Function": "integer"}.get(kind, kind.lower())
        if isinstance(field, fields.List):
            kind = f"list of {type(field.inner).__name__.lower()}"
        extra = ", nullable" if field.allow_none else ""
        lines.append(f"{indent}- `{name}` ({kind}{extra})")
    return lines


def render_markdown():
    from .topology import SUBSCRIPTIONS

    out = [
        "# Events",
        "",
        "Generated from `lib/gudang_common/events.py` by `python -m gudang_common.events`;",
        "a test fails when this file and the code disagree.",
        "",
        "Every event is published to the topic exchange `<source>.events` with the event",
        "type as routing key, as JSON, persistent, with publisher confirms and `mandatory`",
        "set, from the source service's transactional outbox. Every payload carries",
        "`event_id` (UUID, the consumers' idempotency key) and `occurred_at` (UTC ISO 8601).",
        "Money is integer rupiah.",
        "",
    ]
    for name, source, schema, meaning in CATALOG:
        consumers = sorted(c for c, s, e in SUBSCRIPTIONS if e == name)
        out.append(f"## `{name}`")
        out.append("")
        out.append(f"{meaning}")
        out.append("")
        out.append(
            f"Published by **{source}**; consumed by {', '.join(consumers) or 'nobody yet'}."
        )
        out.append("")
        out.extend(_describe_fields(schema()))
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    print(render_markdown())
