"""Gateway routes of webhooks: the merchant's subscriptions and their deliveries, and the
couriers' tracking reports coming in."""

from gudang_common.couriers import COURIERS
from gudang_common.errors import (
    NotFound,
    load,
)
from gudang_common.web import http, json_body

from . import egress, notify, webhooks
from .schemas import WebhookSchema, WebhookSubscriptionSchema

webhook_schema, webhook_subscription_schema = WebhookSchema(), WebhookSubscriptionSchema()

API = "/api/v1"


class WebhookRoutes:
    """Mixed into GatewayService (which provides _auth, _rpc, store and the shipping proxy)."""

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
        limit = self._limit(request, default=100, most=500)
        hooks, after = notify.webhooks_of(self.store.db, caller.id, limit, self._cursor(request))
        return {"webhooks": [notify.webhook_view(h) for h in hooks], "next_cursor": after}

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
        found, after = notify.deliveries_of(self.store.db, webhook_id, limit, self._cursor(request))
        return {"deliveries": found, "next_cursor": after}

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
