"""Gateway routes that front billing's money operations: rate card versions and invoices."""

from gudang_common.web import http, json_body

API = "/api/v1"


class BillingRoutes:
    """Mixed into GatewayService (which provides _auth, _rpc and the billing proxy)."""

    @http("GET", f"{API}/admin/rate-cards")
    def rate_cards(self, request):
        self._auth(request, "admin")
        return self._rpc(self.billing, "rate_cards")

    @http("POST", f"{API}/admin/rate-cards")
    def add_rate_card(self, request):
        caller = self._auth(request, "admin")
        return 201, self._rpc(self.billing, "add_rate_card", json_body(request), caller.id)
