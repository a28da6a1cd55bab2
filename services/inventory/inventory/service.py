"""Inventory service entrypoints: RPC for the gateway, handlers for the order's events."""

from nameko.rpc import rpc

from gudang_common import service as base
from gudang_common.consumer import domain_event_handler
from gudang_common.errors import EXPECTED, NotFound, load
from gudang_common.store import ServiceStore

from . import operations
from .schemas import BinSchema, InboundSchema, ReceiveSchema, SkuSchema
from .store import InventoryRepository

sku_schema, bin_schema, inbound_schema, receive_schema = (
    SkuSchema(),
    BinSchema(),
    InboundSchema(),
    ReceiveSchema(),
)


class InventoryService(base.BaseService):
    name = "inventory"
    store = ServiceStore(InventoryRepository)

    # --- RPC (through the gateway) ----------------------------------------

    @rpc(expected_exceptions=EXPECTED)
    def register_sku(self, merchant_id, payload):
        return self.store.add_sku(merchant_id, load(sku_schema, payload))

    @rpc(expected_exceptions=EXPECTED)
    def get_sku(self, merchant_id, sku):
        return self.store.get_sku(merchant_id, sku)

    @rpc(expected_exceptions=EXPECTED)
    def list_skus(self, merchant_id):
        return self.store.list_skus(merchant_id)

    @rpc(expected_exceptions=EXPECTED)
    def create_bin(self, payload):
        return self.store.add_bin(load(bin_schema, payload))

    @rpc(expected_exceptions=EXPECTED)
    def list_bins(self):
        return self.store.list_bins()

    @rpc(expected_exceptions=EXPECTED)
    def create_inbound(self, merchant_id, payload):
        return operations.create_inbound(self.store, merchant_id, load(inbound_schema, payload))

    @rpc(expected_exceptions=EXPECTED)
    def get_inbound(self, merchant_id, inbound_id):
        doc = self.store.get_inbound(inbound_id)
        if doc is None or (merchant_id is not None and doc["merchant_id"] != merchant_id):
            raise NotFound(f"inbound {inbound_id} not found", {"inbound_id": ["Unknown inbound."]})
        return operations.inbound_view(doc)

    @rpc(expected_exceptions=EXPECTED)
    def receive_inbound(self, inbound_id, payload, staff_id):
        return operations.receive_inbound(
            self.store, inbound_id, load(receive_schema, payload), staff_id
        )

    @rpc(expected_exceptions=EXPECTED)
    def stock_levels(self, merchant_id):
        return operations.stock_levels(self.store, merchant_id)

    # --- events -----------------------------------------------------------

    @domain_event_handler("gateway", "order_received")
    def on_order_received(self, order):
        operations.allocate_order(self.store, order)

    @domain_event_handler("inventory", "stock_received")
    def on_stock_received(self, event):
        operations.put_away(self.store, event)
        skus = {line["sku"] for line in event["lines"] if line["qty_good"] > 0}
        if skus:
            operations.allocate_backorders(self.store, event["merchant_id"], skus)

    @domain_event_handler("packing", "order_packed")
    def on_order_packed(self, event):
        operations.ship_out(self.store, event)

    @domain_event_handler("packing", "order_cancelled")
    def on_order_cancelled(self, event):
        operations.cancel(self.store, event)
