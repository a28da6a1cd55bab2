"""Packing service entrypoints: pick lists and packing for the tablet (through the gateway)."""

from nameko.rpc import rpc

from gudang_common import service as base
from gudang_common.consumer import domain_event_handler
from gudang_common.errors import EXPECTED, load
from gudang_common.store import ServiceStore

from . import catalog, operations
from .schemas import CancelSchema, PackSchema
from .store import PackingRepository
from .walk import Layout

pack_schema, cancel_schema = PackSchema(), CancelSchema()


class PackingService(base.BaseService):
    name = "packing"
    store = ServiceStore(PackingRepository)

    def _layout(self):
        """The floor plan pick lists are walked on (WALK_* config)."""
        return Layout.from_config(self.config)

    @rpc(expected_exceptions=EXPECTED)
    def next_pick_list(self, packer_id, size=None):
        size = int(size or self.config.get("PICK_LIST_SIZE", 10))
        return operations.next_pick_list(self.store, packer_id, size, self._layout())

    @rpc(expected_exceptions=EXPECTED)
    def confirm_picked(self, pick_list_id, packer_id):
        return operations.confirm_picked(self.store, pick_list_id, packer_id, self._layout())

    @rpc(expected_exceptions=EXPECTED)
    def pack_order(self, order_id, packer_id, payload):
        return operations.pack(self.store, order_id, packer_id, load(pack_schema, payload))

    @rpc(expected_exceptions=EXPECTED)
    def cancel_order(self, merchant_id, order_id, payload):
        data = load(cancel_schema, payload or {})
        return operations.cancel(self.store, merchant_id, order_id, data["reason"])

    @domain_event_handler("inventory", "order_allocated")
    def on_order_allocated(self, event):
        operations.accept_allocation(self.store, event)

    @domain_event_handler("inventory", "sku_registered")
    def on_sku_registered(self, event):
        catalog.remember_sku(self.store, event)
