"""Gateway entrypoints: the public HTTP API, and the read model built from every order event.

Each route authenticates, loads its input with a schema, calls the owning
service through a bounded RPC (503/504 instead of a hang) or its own store, and
answers JSON. Errors map to HTTP in one place (gudang_common.web.error_response).
"""

import base64
import hashlib
import uuid
from pathlib import Path
from urllib.parse import quote

import eventlet
from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from gudang_common import service as base
from gudang_common.clock import iso, utcnow
from gudang_common.consumer import domain_event_handler
from gudang_common.couriers import COURIERS, courier_problem, origin_postal_code
from gudang_common.errors import (
    Conflict,
    NotFound,
    ServiceUnavailable,
    Unauthorized,
    Unprocessable,
    UpstreamTimeout,
    ValidationFailed,
    load,
)
from gudang_common.events import new_event
from gudang_common.rpc import BoundedRpcProxy, call
from gudang_common.store import ServiceStore
from gudang_common.web import http, json_body, json_response

from . import (
    account_routes,
    accounts,
    billing_routes,
    egress,
    i18n,
    imports,
    inventory_routes,
    notify,
    openapi,
    pages,
    ratelimit,
    webhooks,
)
from .auth import authenticate
from .awb_wait import AwbWaits, wait_for_awb
from .schemas import (
    MerchantSchema,
    OrderSchema,
    PromoterSchema,
    StaffSchema,
    WebhookSchema,
    WebhookSubscriptionSchema,
)
from .store import GatewayRepository
from .tracking import normalise_awb, public_view, timeline_view
from .upload import uploaded_file

promoter_schema, merchant_schema, staff_schema = PromoterSchema(), MerchantSchema(), StaffSchema()
order_schema, webhook_schema = OrderSchema(), WebhookSchema()
webhook_subscription_schema = WebhookSubscriptionSchema()

API = "/api/v1"
ANY_SKU = object()  # inventory could not say which SKUs it knows: it decides later
TABLET_HTML = (Path(__file__).parent / "static" / "tablet.html").read_bytes()
API_DOCS_HTML = (Path(__file__).parent / "static" / "api-docs.html").read_bytes()
# built once at import (a few milliseconds): a declaration apispec cannot take stops the start
OPENAPI_SPEC = openapi.build_spec()


def _new_id(prefix):
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


def _referral_code(name):
    letters = "".join(c for c in name.upper() if c.isalpha())[:4] or "GDG"
    return f"{letters}-{uuid.uuid4().hex[:6].upper()}"


def order_view(doc, lang="id"):
    return {
        "order_id": doc["_id"],
        "external_id": doc["external_id"],
        "channel": doc["channel"],
        "status": doc["status"],
        "courier": doc.get("courier"),
        "awb": doc.get("awb"),
        "shipping_cost": doc.get("shipping_cost"),
        "cod_amount": doc["cod_amount"],
        "recipient": doc["recipient"],
        "lines": doc["lines"],
        "received_at": doc["received_at"],
        "timeline": timeline_view(doc.get("timeline", []), lang),
        # a parcel outcome shipping corrected after telling it: for the merchant to see
        "exception": doc.get("exception"),
    }


def _timeline_handler(source, event_type):
    @domain_event_handler(source, event_type)
    def handler(self, event):
        self._apply(event_type, event)

    handler.__name__ = f"on_{event_type}"
    return handler


class GatewayService(
    account_routes.AccountRoutes,
    billing_routes.BillingRoutes,
    inventory_routes.InventoryRoutes,
    base.BaseService,
):
    name = "gateway"
    store = ServiceStore(GatewayRepository)
    inventory = BoundedRpcProxy("inventory")
    packing = BoundedRpcProxy("packing")
    shipping = BoundedRpcProxy("shipping")
    billing = BoundedRpcProxy("billing")
    deliverer = notify.WebhookDeliverer()
    limits = ratelimit.RateLimits()
    awb_waits = AwbWaits()

    # --- helpers ----------------------------------------------------------

    def _auth(self, request, *roles):
        try:
            return authenticate(request, self.store, self.config.get("ADMIN_API_KEY"), *roles)
        except Unauthorized:
            if ratelimit.credential(request):  # a guess, not a request that forgot its key
                self.limits.bad_credential(request)
            raise

    def _rpc(self, proxy, method, *args, timeout=None):
        timeout = timeout or float(self.config.get("RPC_TIMEOUT_SECONDS", 5))
        return call(proxy, method, *args, timeout=timeout)

    def _once(self, request, caller, perform):
        """Run a mutating request once per `Idempotency-Key` (when the client sends one).

        A repeat gets the first answer back; the same key with another request is a
        422; a key whose first request is still running is a 409. A request that
        fails is forgotten, so the client can fix it and send it again."""
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return perform()
        if not 1 <= len(key) <= 100:
            raise ValidationFailed(
                "bad Idempotency-Key", {"Idempotency-Key": ["1 to 100 characters."]}
            )
        raw = request.get_data(cache=True)
        fingerprint = hashlib.sha256(
            request.method.encode() + request.path.encode() + b"\n" + raw
        ).hexdigest()
        stale = 2 * float(self.config.get("RPC_TIMEOUT_SECONDS", 5)) + 30
        seen = self.store.begin_request(caller.id, key, fingerprint, stale)
        if seen is not None:
            if seen["fingerprint"] != fingerprint:
                raise Unprocessable(
                    "this Idempotency-Key was used for another request",
                    {"Idempotency-Key": ["Already used for a different request."]},
                )
            if seen["state"] == "done":
                return json_response(
                    seen["status"], seen["body"], headers={"Idempotent-Replayed": "true"}
                )
            raise Conflict(
                "the first request with this Idempotency-Key is still running",
                {"Idempotency-Key": ["Still being processed; try again shortly."]},
            )
        try:
            result = perform()
        except Exception:
            self.store.forget_request(caller.id, key)
            raise
        status, body = result if isinstance(result, tuple) else (200, result)
        self.store.finish_request(caller.id, key, status, body)
        return status, body

    def _limit(self, request, default, most):
        try:
            return min(max(int(request.args.get("limit", default)), 1), most)
        except ValueError:
            raise ValidationFailed("limit must be a number", {"limit": ["Not a number."]}) from None

    def _known_skus(self, merchant_id, lines):
        """The SKUs among `lines` (order lines, or SKU codes) that inventory knows, or
        ANY_SKU when it cannot say.

        The catalog follows sku_registered, which may trail a SKU registered a moment
        ago, so a miss asks inventory (the owner of the rule) once. When inventory
        cannot answer, the order is accepted all the same (no order waits for another
        service) and inventory rejects it if a SKU is unknown."""
        skus = {line["sku"] if isinstance(line, dict) else line for line in lines}
        known = set(self.store.known_skus(merchant_id, skus))
        missing = skus - known
        if not missing:
            return known
        timeout = float(self.config.get("SKU_CHECK_TIMEOUT_SECONDS", 2))
        try:
            known |= set(
                self._rpc(
                    self.inventory, "known_skus", merchant_id, sorted(missing), timeout=timeout
                )
            )
        except (ServiceUnavailable, UpstreamTimeout):
            return ANY_SKU
        return known

    @staticmethod
    def _check_skus(lines, known):
        """422 naming each line whose SKU is not among `known`."""
        if known is ANY_SKU:
            return
        unknown = {
            f"lines.{i}.sku": ["Unknown SKU."]
            for i, line in enumerate(lines)
            if line["sku"] not in known
        }
        if unknown:
            raise Unprocessable("order names SKUs you have not registered", unknown)

    def _lang(self, request):
        return i18n.lang_of(request.args.get("lang"))

    def _apply(self, event_type, event):
        if self.store.apply_event(event_type, event):
            self.orders_counter().labels(event_type).inc()
        else:
            self.metrics.duplicates.labels(self.name, event_type).inc()
        # also on a duplicate: a crash may have come between the timeline and the deliveries
        notify.enqueue(self.store.db, event_type, event)

    def orders_counter(self):
        metrics = self.metrics
        if not hasattr(metrics, "order_events"):
            metrics.order_events = metrics.counter(
                "gudang_order_events",
                "Order events applied to the tracking read model",
                ("event_type",),
            )
        return metrics.order_events

    def _document(self, reply):
        """A PDF shipping drew (base64 over RPC), as the browser opens and prints it."""
        # a label names the buyer: no cache, neither the browser's nor a proxy's, keeps it
        headers = {
            "Content-Disposition": f'inline; filename="{reply["filename"]}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        }
        pdf = base64.b64decode(reply["content_base64"])
        return Response(pdf, mimetype="application/pdf", headers=headers)

    def _label(self, doc):
        """The order's label and packing slip; 404 until shipping has booked its AWB."""
        merchant = self.store.get_account("merchants", doc["merchant_id"]) or {}
        # the gateway owns accounts: the sender is the merchant as it is named today
        sender = {
            "name": merchant.get("name") or doc["merchant_id"],
            "phone": merchant.get("phone"),
        }
        return self._document(self._rpc(self.shipping, "label_pdf", doc["_id"], sender))

    # --- accounts ---------------------------------------------------------

    # Sign-up answers the same (201, a new account and its key) whether or not the email
    # is known: a 409 would tell anyone who is a customer. The new key opens only the new
    # account; an existing one is neither changed nor reachable through sign-up.

    def _register(self, role, doc, **facts):
        """Store a new promoter or merchant (in `<role>s`) with its `<role>_registered` event,
        in the same write; False when its id or a unique field is taken."""
        event_type = f"{role}_registered"
        event = new_event(event_type, name=doc["name"], **facts)
        doc = dict(doc, created_at=iso(utcnow()))
        return self.store.add_account(f"{role}s", doc, event_type, event)

    @http("POST", f"{API}/promoters")
    def register_promoter(self, request):
        data = self._password_hashed(load(promoter_schema, json_body(request)))
        promoter_id = _new_id("prm")
        for _ in range(5):
            # the code's unique index decides: another promoter may have drawn the same one
            code = _referral_code(data["name"])
            doc = dict(data, _id=promoter_id, referral_code=code)
            if self._register("promoter", doc, promoter_id=promoter_id, referral_code=code):
                break
        else:
            raise Conflict("no free referral code; try again")
        api_key = self.store.add_api_key("promoter", promoter_id)
        return 201, {"promoter_id": promoter_id, "referral_code": code, "api_key": api_key}

    @http("POST", f"{API}/merchants")
    def register_merchant(self, request):
        data = self._password_hashed(load(merchant_schema, json_body(request)))
        promoter_id, refused = self._referrer(data)
        merchant_id = _new_id("mer")
        doc = dict(data, _id=merchant_id, promoter_id=promoter_id)
        self._register("merchant", doc, merchant_id=merchant_id, promoter_id=promoter_id)
        api_key = self.store.add_api_key("merchant", merchant_id)
        answer = {"merchant_id": merchant_id, "api_key": api_key, "promoter_id": promoter_id}
        return 201, answer | {"referral_refused": refused}

    def _referrer(self, data):
        """(promoter_id, None), or (None, "self_referral") for a merchant signing up with its
        own promoter's email or phone. The gateway decides: it holds both accounts' contact
        details, which billing never needs to see; the merchant still signs up, unreferred.
        A referral is made at sign-up only: no route links a code later."""
        if not data.get("referral_code"):
            return None, None
        promoter = self.store.promoter_by_code(data["referral_code"].strip().upper())
        if promoter is None:
            raise ValidationFailed(
                "unknown referral code", {"referral_code": ["No promoter has this code."]}
            )
        if accounts.is_self_referral(promoter, data):
            return None, "self_referral"
        return promoter["_id"], None

    @http("GET", f"{API}/merchants/me")
    def merchant_me(self, request):
        caller = self._auth(request, "merchant")
        doc = self.store.get_account("merchants", caller.id)
        return {k: doc.get(k) for k in ("name", "email", "phone", "promoter_id", "created_at")} | {
            "merchant_id": caller.id
        }

    @http("POST", f"{API}/staff")
    def register_staff(self, request):
        self._auth(request, "admin")
        data = load(staff_schema, json_body(request))
        staff_id = _new_id("stf")
        self.store.add_account("staff", dict(data, _id=staff_id, created_at=iso(utcnow())))
        return 201, {
            "staff_id": staff_id,
            "api_key": self.store.add_api_key("staff", staff_id, data["role"]),
            "role": data["role"],
        }

    @http("GET", f"{API}/promoters/me/earnings")
    def promoter_earnings(self, request):
        caller = self._auth(request, "promoter")
        return self._rpc(self.billing, "promoter_earnings", caller.id)

    @http("GET", f"{API}/wallet")
    def wallet(self, request):
        caller = self._auth(request, "merchant")
        return self._rpc(
            self.billing, "wallet", caller.id, self._limit(request, default=50, most=1000)
        )

    @http("POST", f"{API}/admin/storage-billing")
    def run_storage_billing(self, request):
        """Bill a day's storage now (the billing service also does it after each WIB midnight)."""
        self._auth(request, "admin", "finance")
        day = json_body(request, required=False).get("day")
        return self._rpc(self.billing, "run_storage_billing", day, timeout=60)

    @http("PUT", f"{API}/admin/merchants/<merchant_id>/credit-limit")
    def set_credit_limit(self, request, merchant_id):
        """How far below zero the merchant's wallet may go before its new orders wait."""
        caller = self._auth(request, "admin", "finance")
        if self.store.get_account("merchants", merchant_id) is None:
            raise NotFound("unknown merchant", {"merchant_id": ["Unknown merchant."]})
        payload = json_body(request)
        return self._rpc(self.billing, "set_credit_limit", merchant_id, payload, caller.id)

    @http("POST", f"{API}/merchants/<merchant_id>/topups")
    def record_topup(self, request, merchant_id):
        caller = self._auth(request, "admin", "finance")
        if self.store.get_account("merchants", merchant_id) is None:
            raise NotFound("unknown merchant", {"merchant_id": ["Unknown merchant."]})
        payload = json_body(request)
        return self._once(
            request,
            caller,
            lambda: (201, self._rpc(self.billing, "record_topup", merchant_id, payload)),
        )

    # --- warehouse (staff) ------------------------------------------------

    @http("GET", f"{API}/warehouse/pick-lists/next")
    def next_pick_list(self, request):
        caller = self._auth(request, "staff")
        pick_list = self._rpc(self.packing, "next_pick_list", caller.id)
        if pick_list is None:
            return 200, {"pick_list": None, "message": "Tidak ada pesanan untuk diambil."}
        return {"pick_list": pick_list}

    @http("POST", f"{API}/warehouse/pick-lists/<pick_list_id>/picked")
    def confirm_picked(self, request, pick_list_id):
        caller = self._auth(request, "staff")
        return {"pick_list": self._rpc(self.packing, "confirm_picked", pick_list_id, caller.id)}

    @http("POST", f"{API}/warehouse/orders/<order_id>/pack")
    def pack_order(self, request, order_id):
        caller = self._auth(request, "staff")
        # the label needs the AWB: shipping books it on order_packed. Registered before the
        # RPC so that a parcel_booked applied while it returns still wakes this call.
        waiter = self.awb_waits.register(order_id)
        try:
            packed = self._rpc(self.packing, "pack_order", order_id, caller.id, json_body(request))
            order = wait_for_awb(
                lambda: self.store.get_order(order_id),
                waiter,
                float(self.config.get("PACK_AWB_WAIT_SECONDS", 5)),
                slow_poll=float(self.config.get("PACK_AWB_POLL_SECONDS", 0.25)),
            )
        finally:
            self.awb_waits.forget(order_id, waiter)
        body = {"order_id": order_id, "status": "packed", "package": packed["package"]}
        if order is not None and order.get("awb"):
            body.update(
                awb=order["awb"], courier=order["courier"], shipping_cost=order.get("shipping_cost")
            )
            return 200, body
        body.update(awb=None, message="AWB is being booked; fetch the order again shortly.")
        return 202, body

    @http("GET", f"{API}/warehouse/orders/<order_id>/label.pdf")
    def warehouse_label(self, request, order_id):
        """The label to print after packing; the same URL reprints it."""
        self._auth(request, "staff")
        doc = self.store.get_order(order_id)
        if doc is None:
            raise NotFound(f"order {order_id} not found", {"order_id": ["Unknown order."]})
        return self._label(doc)

    @http("POST", f"{API}/warehouse/manifests")
    def create_manifest(self, request):
        caller = self._auth(request, "staff")
        courier = json_body(request).get("courier")
        if not isinstance(courier, str) or courier not in COURIERS:
            raise ValidationFailed("unknown courier", {"courier": ["Unknown courier."]})
        return self._once(
            request,
            caller,
            lambda: (201, self._rpc(self.shipping, "create_manifest", courier, caller.id)),
        )

    @http("GET", f"{API}/warehouse/manifests/<manifest_id>")
    def get_manifest(self, request, manifest_id):
        self._auth(request, "staff")
        return self._rpc(self.shipping, "get_manifest", manifest_id)

    @http("GET", f"{API}/warehouse/manifests/<manifest_id>.pdf")
    def manifest_pdf(self, request, manifest_id):
        """The hand-over list the courier signs at pickup."""
        self._auth(request, "staff")
        return self._document(self._rpc(self.shipping, "manifest_pdf", manifest_id))

    # --- orders -------------------------------------------------------------

    @http("POST", f"{API}/orders")
    def create_order(self, request):
        caller = self._auth(request, "merchant")
        data = load(order_schema, json_body(request))
        self._check_order(caller.id, data)
        order, created = self._receive_order(caller.id, data)
        if not created:
            return 200, {"order_id": order["_id"], "status": order["status"], "duplicate": True}
        return 202, {"order_id": order["_id"], "status": "received"}

    def _check_order(self, merchant_id, data, known=None):
        """Refuse at intake what cannot be fulfilled: a courier that cannot carry the parcel
        (400) or a SKU the merchant has not registered (422). `known`: the merchant's SKUs
        among these, when the caller looked them up for many orders at once."""
        problem = courier_problem(
            data["courier"],
            data["recipient"]["postal_code"],
            data["cod_amount"],
            origin_postal_code(self.config),
        )
        if problem:
            field, message = problem
            raise ValidationFailed(f"invalid request: {field}", {field: [message]})
        self._check_skus(
            data["lines"], self._known_skus(merchant_id, data["lines"]) if known is None else known
        )

    def _receive_order(self, merchant_id, data):
        """Store a checked order with its order_received event in one local write.

        Returns (order, created); the merchant's order with the same external_id, if there
        is one, instead of a second order."""
        existing = self.store.order_by_external_id(merchant_id, data["external_id"])
        if existing is not None:
            return existing, False
        order_id = _new_id("ord")
        event = new_event("order_received", merchant_id=merchant_id, order_id=order_id, **data)
        doc = dict(
            data,
            _id=order_id,
            merchant_id=merchant_id,
            status="received",
            awb=None,
            received_at=event["occurred_at"],
            timeline=[
                {
                    "event": "order_received",
                    "event_id": event["event_id"],
                    "at": event["occurred_at"],
                    "detail": {},
                }
            ],
            seen=[event["event_id"]],
        )
        if not self.store.add_order(doc, event):  # the same external_id raced in
            return self.store.order_by_external_id(merchant_id, data["external_id"]), False
        self.orders_counter().labels("order_received").inc()
        return doc, True

    @http("POST", f"{API}/orders/imports")
    def import_orders(self, request):
        """Orders from a CSV/XLSX file: a preview with ?dry_run=true, else every good order
        created; bad rows reported by line and column (docs/api.md)."""
        caller = self._auth(request, "merchant")
        upload = uploaded_file(request)
        fmt = request.args.get("format") or request.form.get("format") or "auto"
        flag = request.args.get("dry_run") or request.form.get("dry_run") or ""
        dry_run = flag.lower() in {"1", "true", "yes"}
        parsed = imports.parse(upload.stream, fmt, pause=eventlet.sleep)
        known = self._known_skus(caller.id, parsed.skus())
        return imports.apply(
            parsed,
            check=lambda data: self._check_order(caller.id, data, known),
            existing=lambda data: self.store.order_by_external_id(caller.id, data["external_id"]),
            create=None if dry_run else lambda data: self._receive_order(caller.id, data),
            pause=eventlet.sleep,
        )

    @http("GET", f"{API}/orders/imports/template.csv")
    def import_template(self, request):
        """Gudang's own import template (public: it holds only example rows)."""
        return Response(
            imports.template_csv(),
            mimetype="text/csv",
            headers={"Content-Disposition": 'attachment; filename="gudang-orders.csv"'},
        )

    @http("GET", f"{API}/orders")
    def list_orders(self, request):
        caller = self._auth(request, "merchant")
        limit = self._limit(request, default=50, most=200)
        docs = self.store.orders_of(caller.id, request.args.get("status"), limit)
        keys = ("external_id", "status", "awb", "courier", "received_at", "cod_amount")
        return {"orders": [{"order_id": d["_id"]} | {k: d.get(k) for k in keys} for d in docs]}

    def _visible_order(self, request, order_id):
        caller = self._auth(request, "merchant", "staff")
        doc = self.store.get_order(order_id)
        if doc is None or (caller.role == "merchant" and doc["merchant_id"] != caller.id):
            raise NotFound(f"order {order_id} not found", {"order_id": ["Unknown order."]})
        return caller, doc

    @http("GET", f"{API}/orders/<order_id>")
    def get_order(self, request, order_id):
        _, doc = self._visible_order(request, order_id)
        view = order_view(doc, self._lang(request))
        view["tracking_url"] = self._tracking_url(request, doc.get("awb"))
        return view

    @http("GET", f"{API}/orders/<order_id>/label.pdf")
    def order_label(self, request, order_id):
        """The merchant's copy of its order's label, the one the packer printed."""
        _, doc = self._visible_order(request, order_id)
        return self._label(doc)

    def _tracking_url(self, request, awb):
        """The link a seller sends the buyer: on GUDANG_PUBLIC_URL, else the host asked."""
        if not awb:
            return None
        base = self.config.get("PUBLIC_BASE_URL") or request.host_url
        return f"{base.rstrip('/')}/track/{awb}"

    @http("POST", f"{API}/orders/<order_id>/cancel")
    def cancel_order(self, request, order_id):
        caller, doc = self._visible_order(request, order_id)
        if caller.role != "merchant":
            raise NotFound(f"order {order_id} not found", {"order_id": ["Unknown order."]})
        payload = json_body(request, required=False)
        return self._rpc(self.packing, "cancel_order", caller.id, order_id, payload)

    def _tracked(self, awb):
        """The order behind a public AWB, or None (also for a malformed one)."""
        awb = normalise_awb(awb)
        return self.store.order_by_awb(awb) if awb else None

    @http("GET", f"{API}/track/<awb>")
    def track(self, request, awb):
        """Public tracking by AWB for buyers: the steps, the courier, the city; nothing else."""
        doc = self._tracked(awb)
        if doc is None:
            raise NotFound("unknown AWB", {"awb": ["Unknown AWB."]})
        return public_view(doc, self._lang(request))

    # --- the buyer's pages --------------------------------------------------

    @http("GET", "/track/<awb>")
    def track_page(self, request, awb):
        """The page behind the link a seller sends a buyer: the same view as the JSON, in HTML."""
        lang = self._lang(request)
        doc = self._tracked(awb)
        if doc is None:
            return pages.render("not_found.html", lang, 404, request.path, asked=awb[:40])
        return pages.render("track.html", lang, path=request.path, view=public_view(doc, lang))

    @http("GET", "/track")
    def track_search(self, request):
        """The search box's target (`?awb=`): to the parcel's page, or the empty search."""
        lang = self._lang(request)
        asked = request.args.get("awb", "")
        if asked:
            awb = normalise_awb(asked) or asked.strip()[:40]
            return redirect(f"/track/{quote(awb, safe='')}?lang={lang}", code=303)
        return pages.render("search.html", lang, path=request.path)

    @http("GET", "/static/<name>")
    def static_file(self, request, name):
        found = pages.static_response(request, name)
        if found is None:
            raise NotFound("no such file", {"name": ["Unknown file."]})
        return found

    # --- the packer's tablet ---------------------------------------------------

    @http("GET", "/tablet")
    def tablet(self, request):
        """The packer's screen: one static page that talks to this API with a staff key."""
        headers = dict(pages.SECURITY_HEADERS, **{"Cache-Control": "no-cache"})
        return Response(TABLET_HTML, mimetype="text/html", headers=headers)

    # --- the API's own description ------------------------------------------

    @http("GET", f"{API}/openapi.json")
    def openapi_spec(self, request):
        """OpenAPI 3.1, built from the routes' declarations and their marshmallow schemas."""
        return OPENAPI_SPEC

    @http("GET", "/api/docs")
    def api_docs(self, request):
        """Swagger UI on the spec above, every file served from here."""
        headers = dict(pages.DOCS_HEADERS, **{"Cache-Control": "no-cache"})
        return Response(API_DOCS_HTML, mimetype="text/html", headers=headers)

    # --- merchant webhooks -------------------------------------------------

    @http("POST", f"{API}/webhooks")
    def add_webhook(self, request):
        caller = self._auth(request, "merchant")
        data = load(webhook_subscription_schema, json_body(request))
        allowed = egress.AllowList(self.config.get("WEBHOOK_ALLOWED_HOSTS"))
        hook = notify.add_webhook(self.store.db, caller.id, data["url"], data["events"], allowed)
        return 201, notify.webhook_view(hook, with_secret=True)

    @http("GET", f"{API}/webhooks")
    def list_webhooks(self, request):
        caller = self._auth(request, "merchant")
        hooks = notify.webhooks_of(self.store.db, caller.id)
        return {"webhooks": [notify.webhook_view(h) for h in hooks]}

    def _own_webhook(self, caller, webhook_id):
        hook = notify.get_webhook(self.store.db, webhook_id)
        if hook is None or hook["merchant_id"] != caller.id:
            raise NotFound("unknown webhook", {"webhook_id": ["Unknown webhook."]})
        return hook

    @http("DELETE", f"{API}/webhooks/<webhook_id>")
    def remove_webhook(self, request, webhook_id):
        caller = self._auth(request, "merchant")
        self._own_webhook(caller, webhook_id)
        notify.deactivate(self.store.db, webhook_id)
        return {"webhook_id": webhook_id, "active": False}

    @http("GET", f"{API}/webhooks/<webhook_id>/deliveries")
    def webhook_deliveries(self, request, webhook_id):
        caller = self._auth(request, "merchant")
        self._own_webhook(caller, webhook_id)
        limit = self._limit(request, default=50, most=500)
        return {"deliveries": notify.deliveries_of(self.store.db, webhook_id, limit)}

    # --- couriers -----------------------------------------------------------

    @http("POST", f"{API}/couriers/<courier>/webhook")
    def courier_webhook(self, request, courier):
        if courier not in COURIERS:
            raise NotFound("unknown courier", {"courier": ["Unknown courier."]})
        raw = request.get_data(cache=True)
        webhooks.verify(
            self.config.get("COURIER_WEBHOOK_SECRET", ""),
            raw,
            request.headers.get("X-Gudang-Signature"),
        )
        payload = load(webhook_schema, json_body(request))
        return self._rpc(self.shipping, "record_tracking", courier, payload)

    # --- the read model -----------------------------------------------------

    on_order_allocated = _timeline_handler("inventory", "order_allocated")
    on_order_held = _timeline_handler("inventory", "order_held")
    on_order_backordered = _timeline_handler("inventory", "order_backordered")
    on_order_rejected = _timeline_handler("inventory", "order_rejected")
    on_order_picked = _timeline_handler("packing", "order_picked")
    on_order_packed = _timeline_handler("packing", "order_packed")
    on_order_cancelled = _timeline_handler("packing", "order_cancelled")

    @domain_event_handler("shipping", "parcel_booked")
    def on_parcel_booked(self, event):
        self._apply("parcel_booked", event)
        self.awb_waits.booked(event["order_id"])  # after the write: the waiter reads the store

    on_parcel_dispatched = _timeline_handler("shipping", "parcel_dispatched")
    on_parcel_in_transit = _timeline_handler("shipping", "parcel_in_transit")
    on_parcel_delivered = _timeline_handler("shipping", "parcel_delivered")
    on_parcel_delivery_failed = _timeline_handler("shipping", "parcel_delivery_failed")
    on_parcel_returned = _timeline_handler("shipping", "parcel_returned")
    on_parcel_returned_by_buyer = _timeline_handler("shipping", "parcel_returned_by_buyer")
    on_parcel_outcome_corrected = _timeline_handler("shipping", "parcel_outcome_corrected")
