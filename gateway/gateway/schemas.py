"""Gateway input schemas: accounts and orders as merchants, promoters and staff send them."""

from marshmallow import Schema, fields, validate

from gudang_common.couriers import COURIERS, DEFAULT_COURIER
from gudang_common.events import OrderLineSchema, RecipientSchema

from .tracking import RANK

PHONE = validate.Regexp(
    r"^(\+62|62|0)8[0-9]{7,12}$", error="Indonesian mobile number, e.g. +6281234567890."
)
CHANNELS = (
    "api",
    "shopee",
    "tokopedia",
    "bukalapak",
    "lazada",
    "tiktok",
    "instagram",
    "whatsapp",
    "website",
    "other",
)
# packers and supervisors work the floor; finance moves money (top-ups, storage billing)
STAFF_ROLES = ("packer", "supervisor", "finance")
MAX_COD = 50_000_000  # rupiah; above this couriers refuse COD
ORDER_STATUSES = tuple(RANK)  # received ... returned_by_buyer, rejected, cancelled
MAX_LINE_QTY = 100_000  # units of one SKU in one order: beyond it, a typo, not an order


# the policy itself (accounts.password_problem) needs the email and name: checked after loading
def _password():
    return fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class PromoterSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    email = fields.Email(required=True)
    phone = fields.String(required=True, validate=PHONE)
    password = _password()


class MerchantSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    email = fields.Email(required=True)
    phone = fields.String(required=True, validate=PHONE)
    referral_code = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(min=4, max=20)
    )
    password = _password()


class SignInSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=320))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    role = fields.String(load_default="merchant", validate=validate.OneOf(["merchant", "promoter"]))


class PasswordChangeSchema(Schema):
    password = fields.String(required=True, validate=validate.Length(max=1000))
    current_password = fields.String(load_default=None, allow_none=True)


class ApiKeySchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=60))


class StaffSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    role = fields.String(load_default="packer", validate=validate.OneOf(STAFF_ROLES))


class OrderLineInputSchema(OrderLineSchema):
    qty = fields.Integer(
        strict=True, required=True, validate=validate.Range(min=1, max=MAX_LINE_QTY)
    )


class OrderSchema(Schema):
    external_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    courier = fields.String(load_default=DEFAULT_COURIER, validate=validate.OneOf(sorted(COURIERS)))
    recipient = fields.Nested(RecipientSchema, required=True)
    lines = fields.List(
        fields.Nested(OrderLineInputSchema), required=True, validate=validate.Length(min=1, max=100)
    )
    cod_amount = fields.Integer(
        strict=True, load_default=0, validate=validate.Range(min=0, max=MAX_COD)
    )


class WebhookSchema(Schema):
    awb = fields.String(required=True, validate=validate.Length(min=4, max=40))
    status = fields.String(required=True)
    occurred_at = fields.String(required=True)
    reason = fields.String(load_default=None, allow_none=True)


class WebhookSubscriptionSchema(Schema):
    url = fields.String(required=True, validate=validate.Length(min=8, max=500))
    events = fields.List(fields.String(), load_default=list)


class OrderListQuerySchema(Schema):
    """`GET /orders` filters: each goes into the indexed query (docs/api.md, Lists)."""

    status = fields.String(load_default=None, validate=validate.OneOf(ORDER_STATUSES))
    channel = fields.String(load_default=None, validate=validate.OneOf(CHANNELS))
    external_id = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    since = fields.AwareDateTime(load_default=None)
    until = fields.AwareDateTime(load_default=None)
