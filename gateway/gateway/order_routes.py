"""Gateway routes of a merchant's orders: intake one by one or from a file, the list, one
order with its timeline, its label and its cancellation."""

import eventlet
from werkzeug.wrappers import Response

from gudang_common.couriers import courier_problem, origin_postal_code
from gudang_common.errors import (
    NotFound,
    ServiceUnavailable,
    Unprocessable,
    UpstreamTimeout,
    ValidationFailed,
    load,
)
from gudang_common.events import new_event
from gudang_common.ids import new_id
from gudang_common.web import http, json_body

from . import imports
from .schemas import OrderListQuerySchema, OrderSchema
from .tracking import timeline_view
from .upload import uploaded_file

order_schema, order_list_query = OrderSchema(), OrderListQuerySchema()

API = "/api/v1"
ANY_SKU = object()  # inventory could not say which SKUs it knows: it decides later


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


class OrderRoutes:
    """Mixed into GatewayService (which provides _auth, _rpc, _once, store and the proxies)."""

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
        order_id = new_id("ord")
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
        return self._import_file(caller.id, upload.stream, fmt, dry_run)

    def _import_file(self, merchant_id, stream, fmt, dry_run):
        """The import report of an order file (the API's and the dashboard's)."""
        parsed = imports.parse(stream, fmt, pause=eventlet.sleep)
        known = self._known_skus(merchant_id, parsed.skus())
        return imports.apply(
            parsed,
            check=lambda data: self._check_order(merchant_id, data, known),
            existing=lambda data: self.store.order_by_external_id(merchant_id, data["external_id"]),
            create=None if dry_run else lambda data: self._receive_order(merchant_id, data),
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
        filters = self._query(request, order_list_query)
        docs, after = self.store.orders_of(caller.id, filters, limit, self._cursor(request))
        keys = ("external_id", "channel", "status", "awb", "courier", "received_at", "cod_amount")
        orders = [{"order_id": d["_id"]} | {k: d.get(k) for k in keys} for d in docs]
        return {"orders": orders, "next_cursor": after}

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
