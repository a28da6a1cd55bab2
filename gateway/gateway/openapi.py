"""The OpenAPI 3.1 description of /api/v1, built with apispec from the marshmallow schemas.

One entry per route in ROUTES: who may call it, the schema its body is loaded with (the
gateway's own, or the one the owning service loads), its query, its success answers and
the error statuses it can give. tests check ROUTES against the gateway's url_map both
ways, so a route without an entry, or an entry without a route, fails the build.

A new route: add `(method, path): Op(...)` below, path as in docs/api.md under /api/v1.
"""

from dataclasses import dataclass, field

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import Schema, fields, validate

from billing.domain import WITHDRAWAL_STATUSES
from billing.schemas import (
    BankAccountSchema,
    CreditLimitSchema,
    RateCardSchema,
    TopupSchema,
    WithdrawalPaidSchema,
    WithdrawalRejectSchema,
    WithdrawalSchema,
)
from gudang_common.couriers import COURIERS
from inventory.schemas import (
    AdjustmentSchema,
    BinSchema,
    BinUpdateSchema,
    CycleCountSchema,
    InboundSchema,
    InspectSchema,
    MovementQuerySchema,
    MoveSchema,
    ReceiveSchema,
    SkuSchema,
    SkuUpdateSchema,
    SlowMovingQuerySchema,
)
from packing.schemas import (
    BoxChangeSchema,
    BoxSchema,
    CancelSchema,
    OpenStationSchema,
    PackSchema,
    ReassignSchema,
    ScanSchema,
    ShortPickSchema,
    VerifySchema,
)
from shipping.schemas import HandoverScanSchema

from . import accounts, imports
from .payments import VaPaidSchema
from .schemas import (
    ApiKeySchema,
    MerchantSchema,
    OrderListQuerySchema,
    OrderSchema,
    PasswordChangeSchema,
    PromoterSchema,
    SignInSchema,
    StaffSchema,
    WebhookSchema,
    WebhookSubscriptionSchema,
)

API = "/api/v1"
SESSION_ROLES = {"merchant", "promoter"}  # staff and admin use keys only

# --- bodies no schema loads in one piece (the route reads a field or two): described here ---


class ManifestRequest(Schema):
    courier = fields.String(required=True, validate=validate.OneOf(sorted(COURIERS)))


class StorageBillingRequest(Schema):
    day = fields.Date(load_default=None, allow_none=True, metadata={"description": "WIB day"})


class InvoiceIssueRequest(Schema):
    month = fields.String(required=True, validate=validate.Regexp(r"^\d{4}-\d{2}$"))
    merchant_id = fields.String(load_default=None, allow_none=True)


class PageQuery(Schema):
    """Every list: a page of `limit` items, the next one by the answer's `next_cursor`."""

    limit = fields.Integer(metadata={"description": "items on this page"})
    cursor = fields.String(
        metadata={"description": "the `next_cursor` of the page before (opaque); none: page 1"}
    )


class LangQuery(Schema):
    lang = fields.String(validate=validate.OneOf(["id", "en"]))


class OrdersQuery(PageQuery, OrderListQuerySchema):
    pass


class WarehouseReturnsQuery(PageQuery):
    status = fields.String(
        validate=validate.OneOf(["awaiting_inspection", "inspected", "withdrawn"])
    )


class WithdrawalsQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(WITHDRAWAL_STATUSES))


class ImportQuery(Schema):
    format = fields.String(validate=validate.OneOf(["auto", *imports.FORMATS]))
    dry_run = fields.Boolean()


IMPORT_FORM = {
    "type": "object",
    "required": ["file"],
    "properties": {
        "file": {"type": "string", "contentMediaType": "application/octet-stream"},
        "format": {"type": "string"},
        "dry_run": {"type": "string"},
    },
}

ERROR = {
    "type": "object",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
        }
    },
}

# status: what it means on every route (docs/api.md, the error table)
ERROR_MEANINGS = {
    400: "missing or malformed field, bad JSON; `fields` names them",
    401: "no, unknown or revoked API key; expired session",
    403: "a key of the wrong role (FORBIDDEN), or a session without its CSRF token (CSRF_FAILED)",
    404: "unknown, or not yours",
    409: "conflicts with what exists (or an Idempotency-Key still running)",
    413: "body over 1 MiB (uploads: 20 MiB)",
    422: "well-formed but impossible",
    429: "over a rate limit (Retry-After)",
    502: "a service failed unexpectedly",
    503: "the owning service is not running, or the gateway is saturated",
    504: "the owning service did not answer in time",
}
EVERY_ROUTE = (429, 503)
AUTHENTICATED = (401, 403)
UPSTREAM = (502, 503, 504)

JSON, PDF, CSV = "application/json", "application/pdf", "text/csv"


@dataclass(frozen=True)
class Op:
    summary: str
    who: tuple = ()  # roles that may call it; () is public
    body: object = None  # a marshmallow schema class, or a JSON schema dict
    query: tuple = ()  # marshmallow schema classes whose fields are query parameters
    ok: dict = field(default_factory=lambda: {200: "the answer"})  # status: description
    errors: tuple = ()  # besides EVERY_ROUTE and, with `who`, AUTHENTICATED
    upstream: bool = True  # answered by another service over RPC
    content: str = JSON  # of the success answer
    body_type: str = JSON
    body_required: bool = True
    idempotent: bool = False  # takes an Idempotency-Key (the route runs through _once)
    signed: bool = False  # X-Gudang-Signature: HMAC of the raw body (courier webhooks)
    callback_token: bool = False  # x-callback-token: the payment provider's token


M, P, S, ADMIN, FIN = "merchant", "promoter", "staff", "admin", "finance"
MONEY = (ADMIN, FIN)


def _money_out(owner, role, noun, what, back_to):
    """The routes of one kind of money out (billing's money_out): the owner's bank
    account, asking and the owner's list; finance's list and steps."""
    requests = f"{noun}s"
    return {
        ("GET", f"/{owner}s/me/bank-account"): Op(f"The {owner}'s bank account (masked)", (role,)),
        ("PUT", f"/{owner}s/me/bank-account"): Op(
            f"Put the bank account {requests} go to on file",
            (role,),
            body=BankAccountSchema,
            errors=(400,),
        ),
        ("POST", f"/{requests}"): Op(
            f"Ask for a {noun} of {what}",
            (role,),
            body=WithdrawalSchema,
            ok={201: f"the {noun}, `requested`"},
            errors=(400, 409, 422),
            idempotent=True,
        ),
        ("GET", f"/{requests}"): Op(
            f"The {owner}'s {requests}", (role,), query=(PageQuery,), errors=(400,)
        ),
    } | _money_out_steps(noun, back_to)


def _money_out_steps(noun, back_to):
    one = f"/admin/{noun}s/{{{noun}_id}}"
    return {
        ("GET", f"/admin/{noun}s"): Op(
            f"{noun.capitalize()}s to handle", MONEY, query=(WithdrawalsQuery,), errors=(400,)
        ),
        ("POST", f"{one}/approve"): Op(
            f"Approve a {noun}", MONEY, body_required=False, errors=(404, 409)
        ),
        ("POST", f"{one}/paid"): Op(
            f"Mark a {noun} paid with the bank's transfer reference",
            MONEY,
            body=WithdrawalPaidSchema,
            errors=(400, 404, 409),
        ),
        ("POST", f"{one}/reject"): Op(
            f"Reject a {noun} (the money goes back to {back_to})",
            MONEY,
            body=WithdrawalRejectSchema,
            errors=(400, 404, 409),
        ),
    }


ROUTES = {
    # --- accounts ---
    ("POST", "/promoters"): Op(
        "Sign up a promoter",
        body=PromoterSchema,
        ok={201: "`{promoter_id, referral_code, api_key}`"},
        errors=(400,),
        upstream=False,
    ),
    ("POST", "/merchants"): Op(
        "Sign up a merchant",
        body=MerchantSchema,
        ok={201: "`{merchant_id, api_key, promoter_id, referral_refused}`"},
        errors=(400,),
        upstream=False,
    ),
    ("GET", "/merchants/me"): Op("The merchant's profile", (M,), upstream=False),
    ("POST", "/staff"): Op(
        "Create a staff account (admin key)",
        (ADMIN,),
        body=StaffSchema,
        ok={201: "`{staff_id, api_key, role}`"},
        errors=(400,),
        upstream=False,
    ),
    ("GET", "/promoters/me/earnings"): Op(
        "The promoter's commissions: total, pending, available, each with its fee", (P,)
    ),
    ("POST", "/sessions"): Op(
        "Sign in with email and password",
        body=SignInSchema,
        ok={201: "`{role, id, expires_at, csrf_token}` and the session cookie"},
        errors=(400, 401),
        upstream=False,
    ),
    ("GET", "/sessions/current"): Op("The current session", (M, P), errors=(404,), upstream=False),
    ("DELETE", "/sessions/current"): Op(
        "Sign out", (M, P), ok={200: "`{signed_out: true}`"}, errors=(404,), upstream=False
    ),
    ("POST", "/merchants/me/password"): Op(
        "Set or change the merchant's password",
        (M,),
        body=PasswordChangeSchema,
        ok={200: "`{password_set: true}`"},
        errors=(400, 409),
        upstream=False,
    ),
    ("POST", "/promoters/me/password"): Op(
        "Set or change the promoter's password",
        (P,),
        body=PasswordChangeSchema,
        ok={200: "`{password_set: true}`"},
        errors=(400, 409),
        upstream=False,
    ),
    ("GET", "/api-keys"): Op(
        "The caller's API keys", (M, P), query=(PageQuery,), errors=(400,), upstream=False
    ),
    ("POST", "/api-keys"): Op(
        "Create an API key",
        (M, P),
        body=ApiKeySchema,
        ok={201: "the key's entry and `api_key`, shown once"},
        errors=(400, 409),
        upstream=False,
    ),
    ("DELETE", "/api-keys/{key_id}"): Op(
        "Revoke an API key", (M, P), errors=(404, 409), upstream=False
    ),
    # --- catalog, stock and inbound ---
    ("POST", "/skus"): Op(
        "Register a SKU", (M,), body=SkuSchema, ok={201: "the SKU"}, errors=(400, 409)
    ),
    ("GET", "/skus"): Op("The merchant's SKUs", (M,), query=(PageQuery,), errors=(400,)),
    ("GET", "/skus/{sku}"): Op("One SKU", (M,), errors=(404,)),
    ("PATCH", "/skus/{sku}"): Op("Change a SKU", (M,), body=SkuUpdateSchema, errors=(400, 404)),
    ("GET", "/stock"): Op("Stock per SKU", (M,)),
    ("GET", "/stock.csv"): Op("Stock per SKU as CSV", (M,), content=CSV),
    ("GET", "/movements"): Op(
        "The stock ledger", (M,), query=(MovementQuerySchema,), errors=(400,)
    ),
    ("GET", "/reports/slow-moving"): Op(
        "Slow-moving SKUs", (M,), query=(SlowMovingQuerySchema,), errors=(400,)
    ),
    ("GET", "/alerts/low-stock"): Op("Low-stock alerts", (M,), upstream=False),
    ("GET", "/returns"): Op(
        "The merchant's returned parcels", (M,), query=(PageQuery,), errors=(400,)
    ),
    ("POST", "/inbounds"): Op(
        "Announce an inbound shipment",
        (M,),
        body=InboundSchema,
        ok={201: "the inbound"},
        errors=(400, 409, 422),
        idempotent=True,
    ),
    ("GET", "/inbounds"): Op("The merchant's inbounds", (M,), query=(PageQuery,), errors=(400,)),
    ("GET", "/inbounds/{inbound_id}"): Op("One inbound", (M, S), errors=(404,)),
    # --- orders ---
    ("POST", "/orders"): Op(
        "Place an order",
        (M,),
        body=OrderSchema,
        ok={202: "`{order_id, status: received}`", 200: "the same external_id again"},
        errors=(400, 422),
    ),
    ("GET", "/orders"): Op("The merchant's orders", (M,), query=(OrdersQuery,), errors=(400,)),
    ("GET", "/orders/{order_id}"): Op(
        "One order and its timeline", (M, S), query=(LangQuery,), errors=(404,), upstream=False
    ),
    ("POST", "/orders/{order_id}/cancel"): Op(
        "Cancel an order until it is packed",
        (M,),
        body=CancelSchema,
        body_required=False,
        errors=(400, 404, 409),
    ),
    ("GET", "/orders/{order_id}/label.pdf"): Op(
        "The order's courier label", (M, S), content=PDF, errors=(404,)
    ),
    ("POST", "/orders/imports"): Op(
        "Import orders from a CSV or XLSX file",
        (M,),
        body=IMPORT_FORM,
        body_type="multipart/form-data",
        query=(ImportQuery,),
        ok={200: "the import report"},
        errors=(400, 413),
    ),
    ("GET", "/orders/imports/template.csv"): Op("The import template", content=CSV, upstream=False),
    ("GET", "/wallet"): Op("The wallet and its entries", (M,), query=(PageQuery,), errors=(400,)),
    ("GET", "/invoices"): Op("The merchant's invoices", (M,), query=(PageQuery,), errors=(400,)),
    ("GET", "/invoices/{number}.pdf"): Op("An invoice as PDF", (M,), content=PDF, errors=(404,)),
    ("GET", "/invoices/{number}.csv"): Op("An invoice as CSV", (M,), content=CSV, errors=(404,)),
    # --- webhooks ---
    ("POST", "/webhooks"): Op(
        "Subscribe a URL to order steps and stock alerts",
        (M,),
        body=WebhookSubscriptionSchema,
        ok={201: "`{webhook_id, url, events, secret}`"},
        errors=(400,),
        upstream=False,
    ),
    ("GET", "/webhooks"): Op(
        "The merchant's webhooks", (M,), query=(PageQuery,), errors=(400,), upstream=False
    ),
    ("DELETE", "/webhooks/{webhook_id}"): Op(
        "Deactivate a webhook", (M,), errors=(404,), upstream=False
    ),
    ("GET", "/webhooks/{webhook_id}/deliveries"): Op(
        "Recent deliveries", (M,), query=(PageQuery,), errors=(400, 404), upstream=False
    ),
    # --- couriers and buyers ---
    ("POST", "/couriers/{courier}/webhook"): Op(
        "A courier's status report (signed with X-Gudang-Signature)",
        body=WebhookSchema,
        errors=(400, 401, 404),
        signed=True,
    ),
    ("GET", "/track/{awb}"): Op(
        "A parcel's public tracking", query=(LangQuery,), errors=(404,), upstream=False
    ),
    # --- warehouse (staff) ---
    ("POST", "/bins"): Op(
        "Create a bin", (S, ADMIN), body=BinSchema, ok={201: "the bin"}, errors=(400, 409)
    ),
    ("GET", "/bins"): Op("Every bin", (S, ADMIN), query=(PageQuery,), errors=(400,)),
    ("PATCH", "/bins/{code}"): Op(
        "Renumber a bin or place it on the floor plan",
        (S, ADMIN),
        body=BinUpdateSchema,
        errors=(400, 404),
    ),
    ("POST", "/warehouse/inbounds/{inbound_id}/receive"): Op(
        "Receive an inbound",
        (S,),
        body=ReceiveSchema,
        errors=(400, 404, 409, 422),
        idempotent=True,
    ),
    ("GET", "/warehouse/returns"): Op(
        "Returned parcels", (S,), query=(WarehouseReturnsQuery,), errors=(400,)
    ),
    ("POST", "/warehouse/returns/{return_id}/inspect"): Op(
        "Inspect a return", (S,), body=InspectSchema, errors=(400, 404, 409)
    ),
    ("POST", "/warehouse/adjustments"): Op(
        "Adjust stock",
        (S,),
        body=AdjustmentSchema,
        ok={201: "the stock"},
        errors=(400, 404, 409, 422),
        idempotent=True,
    ),
    ("POST", "/warehouse/cycle-counts"): Op(
        "Record a cycle count",
        (S,),
        body=CycleCountSchema,
        ok={201: "the count"},
        errors=(400, 404, 409, 422),
        idempotent=True,
    ),
    ("POST", "/warehouse/moves"): Op(
        "Move stock between bins",
        (S,),
        body=MoveSchema,
        ok={201: "the move"},
        errors=(400, 404, 409, 422),
        idempotent=True,
    ),
    ("GET", "/warehouse/pick-lists/next"): Op("Take the next pick list", (S,)),
    ("POST", "/warehouse/pick-lists/{pick_list_id}/picked"): Op(
        "Confirm a pick list (409 PICK_INCOMPLETE names the stops not scanned)",
        (S,),
        body_required=False,
        errors=(404, 409),
    ),
    ("POST", "/warehouse/pick-lists/{pick_list_id}/scans"): Op(
        "Scan a tote label, a bin or a unit on a pick list",
        (S,),
        body=ScanSchema,
        errors=(400, 404, 409),
    ),
    ("POST", "/warehouse/pick-lists/{pick_list_id}/short"): Op(
        "Short-pick units not in their bin", (S,), body=ShortPickSchema, errors=(400, 404, 409)
    ),
    ("GET", "/warehouse/my-work"): Op("Your open pick list and picked, unpacked orders", (S,)),
    ("GET", "/warehouse/floor"): Op(
        "Open pick lists, totes and packers (supervisor or admin)", (S, ADMIN)
    ),
    ("POST", "/warehouse/pick-lists/{pick_list_id}/reassign"): Op(
        "Hand a pick list to another packer (supervisor or admin)",
        (S, ADMIN),
        body=ReassignSchema,
        errors=(400, 404, 409, 422),
    ),
    ("POST", "/warehouse/pick-lists/{pick_list_id}/release"): Op(
        "Release a pick list: its orders wait again (supervisor or admin)",
        (S, ADMIN),
        body_required=False,
        errors=(404, 409),
    ),
    ("POST", "/warehouse/orders/{order_id}/pack"): Op(
        "Pack an order",
        (S,),
        body=PackSchema,
        ok={200: "packed, with its AWB", 202: "packed; the AWB is being booked"},
        errors=(400, 404, 409, 422),
    ),
    ("GET", "/warehouse/boxes"): Op("The box catalog", (S, ADMIN)),
    ("POST", "/warehouse/boxes"): Op(
        "Add a box to the catalog",
        (S, ADMIN),
        body=BoxSchema,
        ok={201: "the box"},
        errors=(400, 409),
    ),
    ("PATCH", "/warehouse/boxes/{code}"): Op(
        "Change or retire a box", (S, ADMIN), body=BoxChangeSchema, errors=(400, 404)
    ),
    ("POST", "/warehouse/pack-station/open"): Op(
        "Open a picked order at the pack station",
        (S,),
        body=OpenStationSchema,
        errors=(400, 404, 409),
    ),
    ("POST", "/warehouse/orders/{order_id}/verify"): Op(
        "Check a unit by scanning it at packing",
        (S,),
        body=VerifySchema,
        errors=(400, 404, 409, 422),
    ),
    ("GET", "/warehouse/orders/{order_id}/label.pdf"): Op(
        "An order's courier label", (S,), content=PDF, errors=(404,)
    ),
    ("POST", "/warehouse/manifests"): Op(
        "Open a courier's pickup manifest",
        (S,),
        body=ManifestRequest,
        ok={201: "the manifest"},
        errors=(400, 409, 422),
        idempotent=True,
    ),
    ("GET", "/warehouse/manifests/{manifest_id}"): Op("A manifest", (S,), errors=(404,)),
    ("POST", "/warehouse/manifests/{manifest_id}/scans"): Op(
        "Scan a parcel onto the courier's pickup",
        (S,),
        body=HandoverScanSchema,
        errors=(400, 404, 409),
    ),
    ("POST", "/warehouse/manifests/{manifest_id}/close"): Op(
        "Close a pickup: scanned parcels handed over",
        (S,),
        body_required=False,
        errors=(404, 422),
    ),
    ("GET", "/warehouse/manifests/{manifest_id}.pdf"): Op(
        "A manifest as PDF", (S,), content=PDF, errors=(404,)
    ),
    # --- money (finance or admin) ---
    ("POST", "/admin/storage-billing"): Op(
        "Bill a day's storage now",
        MONEY,
        body=StorageBillingRequest,
        body_required=False,
        errors=(400,),
    ),
    ("GET", "/admin/rate-cards"): Op("Rate card versions", MONEY),
    ("POST", "/admin/rate-cards"): Op(
        "Add a rate card version",
        MONEY,
        body=RateCardSchema,
        ok={201: "the new version"},
        errors=(400, 409),
    ),
    ("POST", "/admin/invoices"): Op(
        "Issue an ended month's invoices",
        MONEY,
        body=InvoiceIssueRequest,
        ok={201: "`{month, issued: [number]}`"},
        errors=(400, 404),
    ),
    ("POST", "/merchants/{merchant_id}/topups"): Op(
        "Record a deposit into a merchant's wallet",
        MONEY,
        body=TopupSchema,
        ok={201: "the deposit"},
        errors=(400, 404, 409, 422),
        idempotent=True,
    ),
    ("POST", "/payments/webhook"): Op(
        "The payment provider's virtual-account-paid callback: a top-up once per payment id",
        body=VaPaidSchema,
        ok={200: "`{status: credited, payment_id, account_number, amount, currency}`"},
        errors=(400, 401, 404, 409),
        callback_token=True,
    ),
    ("PUT", "/admin/merchants/{merchant_id}/credit-limit"): Op(
        "Set how far below zero a merchant's wallet may go before it is held",
        MONEY,
        body=CreditLimitSchema,
        errors=(400, 404),
    ),
    # --- money out: a merchant's COD withdrawals, a promoter's payouts (the same steps) ---
    **_money_out("merchant", M, "withdrawal", "settled money", "the wallet"),
    **_money_out("promoter", P, "payout", "available commission", "the promoter's commission"),
    # --- this description ---
    ("GET", "/openapi.json"): Op("This OpenAPI description", upstream=False),
}

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def _security(method, op):
    if not op.who:
        return []
    ways = [{"apiKey": []}]
    if SESSION_ROLES & set(op.who):
        ways.append({"session": [], "csrf": []} if method in STATE_CHANGING else {"session": []})
    return ways


def _path_params(path):
    names = [part[1:-1] for part in path.replace(".", "/.").split("/") if part.startswith("{")]
    return [
        {"in": "path", "name": name, "required": True, "schema": {"type": "string"}}
        for name in names
    ]


IDEMPOTENCY_KEY = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "description": "1-100 characters: a repeat with the same key and body gets the first "
    "answer (Idempotent-Replayed: true); the same key with another body is a 422; "
    "while the first runs, a 409",
    "schema": {"type": "string", "minLength": 1, "maxLength": 100},
}


def _required_header(name, description):
    return {
        "in": "header",
        "name": name,
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


SIGNATURE = _required_header(
    "X-Gudang-Signature", "sha256=<hex HMAC-SHA256 of the raw body with GUDANG_COURIER_SECRET>"
)
CALLBACK_TOKEN = _required_header(
    "x-callback-token", "the payment provider's callback token (GUDANG_PAYMENT_CALLBACK_TOKEN)"
)


def _operation(method, path, op):
    operation = {
        "summary": op.summary,
        # grouped by the path's first part (orders, skus, warehouse, admin, ...) on the docs page
        "tags": [path.split("/")[1].split(".")[0]],
        "operationId": f"{method.lower()}{path}".replace("/", "_")
        .replace("{", "")
        .replace("}", ""),
        "security": _security(method, op),
        "parameters": _path_params(path)
        + [{"in": "query", "schema": q} for q in op.query]
        + [IDEMPOTENCY_KEY] * op.idempotent
        + [SIGNATURE] * op.signed
        + [CALLBACK_TOKEN] * op.callback_token,
        "responses": _responses(op),
    }
    if op.who:
        operation["description"] = "Who: " + ", ".join(op.who) + "."
    if op.body is not None:
        operation["requestBody"] = {
            "required": op.body_required,
            "content": {op.body_type: {"schema": op.body}},
        }
    return operation


def _responses(op):
    """The route's answers: its successes, then every error it can give (by reference)."""
    responses = {}
    for status, description in op.ok.items():
        if op.content == JSON:
            schema = {"type": ["object", "array"]}
        else:
            schema = {"type": "string", "contentMediaType": op.content}
        responses[str(status)] = {
            "description": description,
            "content": {op.content: {"schema": schema}},
        }
    errors = set(EVERY_ROUTE) | set(op.errors)
    if op.who:
        errors |= set(AUTHENTICATED)
    if op.upstream:
        errors |= set(UPSTREAM)
    if op.body is not None:
        errors |= {400, 413}
    for status in sorted(errors):
        responses[str(status)] = {"$ref": f"#/components/responses/E{status}"}
    return responses


def build_spec():
    spec = APISpec(
        title="Gudang",
        version="1",
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
        info={
            "description": "Warehouse-as-a-service for Indonesian online sellers. "
            "Money is integer rupiah; times UTC ISO 8601. See docs/api.md."
        },
        servers=[{"url": API}],
    )
    spec.components.security_scheme("apiKey", {"type": "http", "scheme": "bearer"})
    spec.components.security_scheme(
        "session", {"type": "apiKey", "in": "cookie", "name": accounts.SESSION_COOKIE}
    )
    spec.components.security_scheme(
        "csrf", {"type": "apiKey", "in": "header", "name": accounts.CSRF_HEADER}
    )
    spec.components.schema("Error", ERROR)
    for status, meaning in ERROR_MEANINGS.items():
        spec.components.response(
            f"E{status}",
            {
                "description": meaning,
                "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}},
            },
        )
    for (method, path), op in ROUTES.items():
        spec.path(path=path, operations={method.lower(): _operation(method, path, op)})
    return spec.to_dict()
