"""Gateway routes that front inventory: SKUs, stock, movements, inbounds, bins, receiving,
returns, adjustments, cycle counts and moves; and the merchants' low-stock alerts."""

from werkzeug.wrappers import Response

from gudang_common.consumer import domain_event_handler
from gudang_common.web import http, json_body

from . import notify

API = "/api/v1"
ALERTS_KEPT = 200  # newest low-stock alerts kept per merchant


class InventoryRoutes:
    """Mixed into GatewayService (which provides _auth, _rpc, store and the inventory proxy)."""

    @http("POST", f"{API}/skus")
    def register_sku(self, request):
        caller = self._auth(request, "merchant")
        return 201, self._rpc(self.inventory, "register_sku", caller.id, json_body(request))

    @http("GET", f"{API}/skus")
    def list_skus(self, request):
        caller = self._auth(request, "merchant")
        return self._rpc(
            self.inventory, "list_skus", caller.id, *self._list_page(request, 500, 500)
        )

    @http("GET", f"{API}/skus/<sku>")
    def get_sku(self, request, sku):
        caller = self._auth(request, "merchant")
        return self._rpc(self.inventory, "get_sku", caller.id, sku)

    @http("PATCH", f"{API}/skus/<sku>")
    def update_sku(self, request, sku):
        caller = self._auth(request, "merchant")
        return self._rpc(self.inventory, "update_sku", caller.id, sku, json_body(request))

    @http("GET", f"{API}/stock")
    def stock(self, request):
        caller = self._auth(request, "merchant")
        return {"stock": self._rpc(self.inventory, "stock_levels", caller.id)}

    @http("GET", f"{API}/stock.csv")
    def stock_csv(self, request):
        caller = self._auth(request, "merchant")
        text = self._rpc(self.inventory, "stock_csv", caller.id)
        return Response(
            text,
            mimetype="text/csv",
            headers={"Content-Disposition": 'attachment; filename="stock.csv"'},
        )

    @http("GET", f"{API}/movements")
    def movements(self, request):
        caller = self._auth(request, "merchant")
        query = {k: v for k, v in request.args.items() if k != "lang"}
        return self._rpc(self.inventory, "movements", caller.id, query)

    @http("GET", f"{API}/reports/slow-moving")
    def slow_moving(self, request):
        caller = self._auth(request, "merchant")
        return self._rpc(self.inventory, "slow_moving", caller.id, request.args.to_dict())

    @http("GET", f"{API}/returns")
    def merchant_returns(self, request):
        caller = self._auth(request, "merchant")
        page = self._list_page(request, 100, 500)
        return self._rpc(self.inventory, "list_returns", caller.id, None, *page)

    @http("POST", f"{API}/inbounds")
    def create_inbound(self, request):
        caller = self._auth(request, "merchant")
        payload = json_body(request)
        return self._created_once(
            request, caller, self.inventory, "create_inbound", caller.id, payload
        )

    @http("GET", f"{API}/inbounds")
    def list_inbounds(self, request):
        caller = self._auth(request, "merchant")
        page = self._list_page(request, 100, 500)
        return self._rpc(self.inventory, "list_inbounds", caller.id, *page)

    @http("GET", f"{API}/inbounds/<inbound_id>")
    def get_inbound(self, request, inbound_id):
        caller = self._auth(request, "merchant", "staff")
        merchant_id = caller.id if caller.role == "merchant" else None
        return self._rpc(self.inventory, "get_inbound", merchant_id, inbound_id)

    @http("GET", f"{API}/alerts/low-stock")
    def low_stock_alerts(self, request):
        caller = self._auth(request, "merchant")
        return {"alerts": self.store.stock_alerts(caller.id)}

    # --- warehouse (staff) ------------------------------------------------

    @http("POST", f"{API}/bins")
    def create_bin(self, request):
        self._auth(request, "staff", "admin")
        return 201, self._rpc(self.inventory, "create_bin", json_body(request))

    @http("PATCH", f"{API}/bins/<code>")
    def update_bin(self, request, code):
        self._auth(request, "staff", "admin")
        return self._rpc(self.inventory, "update_bin", code, json_body(request))

    @http("GET", f"{API}/bins")
    def list_bins(self, request):
        self._auth(request, "staff", "admin")
        return self._rpc(self.inventory, "list_bins", *self._list_page(request, 500, 500))

    @http("POST", f"{API}/warehouse/inbounds/<inbound_id>/receive")
    def receive_inbound(self, request, inbound_id):
        caller = self._auth(request, "staff")
        payload = json_body(request)
        # a receipt sent twice would count the goods twice: send an Idempotency-Key
        return self._once(
            request,
            caller,
            lambda: self._rpc(self.inventory, "receive_inbound", inbound_id, payload, caller.id),
        )

    @http("GET", f"{API}/warehouse/returns")
    def warehouse_returns(self, request):
        self._auth(request, "staff")
        status = request.args.get("status", "awaiting_inspection")
        page = self._list_page(request, 100, 500)
        return self._rpc(self.inventory, "list_returns", None, status, *page)

    @http("POST", f"{API}/warehouse/returns/<return_id>/inspect")
    def inspect_return(self, request, return_id):
        caller = self._auth(request, "staff")
        return self._rpc(self.inventory, "inspect_return", return_id, json_body(request), caller.id)

    @http("POST", f"{API}/warehouse/adjustments")
    def adjust_stock(self, request):
        return self._staff_stock_change(request, "adjust_stock")

    @http("POST", f"{API}/warehouse/cycle-counts")
    def cycle_count(self, request):
        return self._staff_stock_change(request, "cycle_count")

    @http("POST", f"{API}/warehouse/moves")
    def move_stock(self, request):
        return self._staff_stock_change(request, "move_stock")

    def _staff_stock_change(self, request, method):
        """Adjustments, counts and moves: staff only, once per Idempotency-Key."""
        caller = self._auth(request, "staff")
        payload = json_body(request)
        return self._created_once(request, caller, self.inventory, method, payload, caller.id)

    # --- events -----------------------------------------------------------

    @domain_event_handler("inventory", "sku_registered")
    def on_sku_registered(self, event):
        """The catalog orders are checked against, built from inventory's SKUs, once per SKU."""
        if not self.store.add_to_catalog(event["merchant_id"], event["sku"]):
            self.metrics.duplicates.labels(self.name, "sku_registered").inc()

    @domain_event_handler("inventory", "stock_low")
    def on_stock_low(self, event):
        """Keep the merchant's newest low-stock alerts, once per event (one document per
        merchant, so reading them is a lookup by id)."""
        alert = {k: event[k] for k in ("event_id", "sku", "available", "threshold")}
        alert["at"] = event["occurred_at"]
        self.store.add_stock_alert(event["merchant_id"], alert, ALERTS_KEPT)
        # also on a redelivery: a crash may have come between the alert and the deliveries
        notify.enqueue(self.store.db, "stock_low", event, sender=self.deliverer)
