"""Gateway routes that front inventory: SKUs, stock, inbounds, bins and receiving."""

from gudang_common.errors import Conflict
from gudang_common.web import http, json_body

API = "/api/v1"


class InventoryRoutes:
    """Mixed into GatewayService (which provides _auth, _rpc, store and the inventory proxy)."""

    @http("POST", f"{API}/skus")
    def register_sku(self, request):
        caller = self._auth(request, "merchant")
        payload = json_body(request)
        try:
            sku = self._rpc(self.inventory, "register_sku", caller.id, payload)
        except Conflict:
            self.store.remember_sku(caller.id, payload["sku"])
            raise
        self.store.remember_sku(caller.id, sku["sku"])
        return 201, sku

    @http("GET", f"{API}/skus")
    def list_skus(self, request):
        caller = self._auth(request, "merchant")
        return {"skus": self._rpc(self.inventory, "list_skus", caller.id)}

    @http("GET", f"{API}/skus/<sku>")
    def get_sku(self, request, sku):
        caller = self._auth(request, "merchant")
        return self._rpc(self.inventory, "get_sku", caller.id, sku)

    @http("GET", f"{API}/stock")
    def stock(self, request):
        caller = self._auth(request, "merchant")
        return {"stock": self._rpc(self.inventory, "stock_levels", caller.id)}

    @http("POST", f"{API}/inbounds")
    def create_inbound(self, request):
        caller = self._auth(request, "merchant")
        return 201, self._rpc(self.inventory, "create_inbound", caller.id, json_body(request))

    @http("GET", f"{API}/inbounds/<inbound_id>")
    def get_inbound(self, request, inbound_id):
        caller = self._auth(request, "merchant", "staff")
        merchant_id = caller.id if caller.role == "merchant" else None
        return self._rpc(self.inventory, "get_inbound", merchant_id, inbound_id)

    # --- warehouse (staff) ------------------------------------------------

    @http("POST", f"{API}/bins")
    def create_bin(self, request):
        self._auth(request, "staff", "admin")
        return 201, self._rpc(self.inventory, "create_bin", json_body(request))

    @http("GET", f"{API}/bins")
    def list_bins(self, request):
        self._auth(request, "staff", "admin")
        return {"bins": self._rpc(self.inventory, "list_bins")}

    @http("POST", f"{API}/warehouse/inbounds/<inbound_id>/receive")
    def receive_inbound(self, request, inbound_id):
        caller = self._auth(request, "staff")
        return self._rpc(
            self.inventory, "receive_inbound", inbound_id, json_body(request), caller.id
        )
