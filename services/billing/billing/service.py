"""Billing service entrypoints: RPC for the gateway, handlers that post fees from events."""

from datetime import date

from nameko.rpc import rpc
from nameko.timer import timer

from gudang_common import service as base
from gudang_common.clock import yesterday_wib
from gudang_common.consumer import domain_event_handler
from gudang_common.errors import EXPECTED, ValidationFailed, load
from gudang_common.rpc import BoundedRpcProxy, call
from gudang_common.store import ServiceStore

from . import operations
from .domain import RateCard
from .schemas import TopupSchema
from .store import BillingRepository

topup_schema = TopupSchema()


class BillingService(base.BaseService):
    name = "billing"
    store = ServiceStore(BillingRepository)
    inventory = BoundedRpcProxy("inventory")

    @property
    def rate_card(self):
        return RateCard.from_config(self.config)

    # --- RPC (through the gateway) ----------------------------------------

    @rpc(expected_exceptions=EXPECTED)
    def wallet(self, merchant_id, limit=50):
        return operations.wallet(self.store, merchant_id, limit)

    @rpc(expected_exceptions=EXPECTED)
    def promoter_earnings(self, promoter_id, limit=50):
        return operations.promoter_earnings(self.store, promoter_id, limit)

    @rpc(expected_exceptions=EXPECTED)
    def record_topup(self, merchant_id, payload):
        return operations.record_topup(self.store, merchant_id, load(topup_schema, payload))

    @rpc(expected_exceptions=EXPECTED)
    def run_storage_billing(self, day=None):
        """Charge the storage fee of `day` (YYYY-MM-DD, WIB; default yesterday) now."""
        if day is None:
            day = yesterday_wib()
        else:
            try:
                day = date.fromisoformat(day)
            except (TypeError, ValueError):
                raise ValidationFailed("day must be YYYY-MM-DD", {"day": ["Not a date."]}) from None
        units = call(self.inventory, "storage_units", timeout=30)["merchants"]
        charged = operations.charge_storage(self.store, self.rate_card, day.isoformat(), units)
        self.store.record_storage_run(day.isoformat(), charged)
        return {"day": day.isoformat(), "charged": charged}

    @timer(interval=300)
    def daily_storage(self):
        """Once a WIB day has ended, bill its storage (idempotent per merchant and day)."""
        yesterday = yesterday_wib().isoformat()
        if self.store.storage_run(yesterday) is None:
            self.run_storage_billing(yesterday)

    # --- events -----------------------------------------------------------

    @domain_event_handler("gateway", "promoter_registered")
    def on_promoter_registered(self, event):
        operations.register_promoter(self.store, event)

    @domain_event_handler("gateway", "merchant_registered")
    def on_merchant_registered(self, event):
        operations.register_merchant(self.store, event)

    @domain_event_handler("inventory", "stock_received")
    def on_stock_received(self, event):
        operations.charge_inbound(self.store, self.rate_card, event)

    @domain_event_handler("packing", "order_packed")
    def on_order_packed(self, event):
        operations.charge_pick_pack(self.store, self.rate_card, event)

    @domain_event_handler("shipping", "parcel_booked")
    def on_parcel_booked(self, event):
        operations.pass_through_shipping(self.store, event)

    @domain_event_handler("shipping", "parcel_delivered")
    def on_parcel_delivered(self, event):
        operations.settle_cod(self.store, self.rate_card, event)

    @domain_event_handler("shipping", "parcel_outcome_corrected")
    def on_parcel_outcome_corrected(self, event):
        operations.correct_cod(self.store, self.rate_card, event)
