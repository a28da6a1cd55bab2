"""Packing service entrypoints: pick lists and packing for the tablet (through the gateway)."""

from nameko.rpc import rpc

from gudang_common import service as base
from gudang_common.consumer import domain_event_handler
from gudang_common.errors import EXPECTED, FloorRefused, load
from gudang_common.store import ServiceStore

from . import catalog, floor, operations, picking
from .floor_metrics import FloorMetrics
from .schemas import CancelSchema, PackSchema, ReassignSchema, ScanSchema, ShortPickSchema
from .store import PackingRepository

pack_schema, cancel_schema = PackSchema(), CancelSchema()
scan_schema, short_schema, reassign_schema = ScanSchema(), ShortPickSchema(), ReassignSchema()


class PackingService(base.BaseService):
    name = "packing"
    store = ServiceStore(PackingRepository)
    floor_metrics = FloorMetrics()

    @rpc(expected_exceptions=EXPECTED)
    def next_pick_list(self, packer_id, size=None):
        size = int(size or self.config.get("PICK_LIST_SIZE", 10))
        return operations.next_pick_list(self.store, packer_id, size)

    @rpc(expected_exceptions=EXPECTED)
    def scan_pick(self, pick_list_id, packer_id, payload):
        data = load(scan_schema, payload)
        try:
            answer = picking.scan(self.store, pick_list_id, packer_id, data)
        except FloorRefused as refused:
            self.floor_metrics.refused(packer_id, refused)
            raise
        self.floor_metrics.scanned(packer_id, answer)
        return answer

    @rpc(expected_exceptions=EXPECTED)
    def short_pick(self, pick_list_id, packer_id, payload):
        data = load(short_schema, payload)
        done = picking.short_pick(self.store, pick_list_id, packer_id, data)
        self.floor_metrics.short_picks.labels(packer_id).inc(data["qty"])
        return done

    @rpc(expected_exceptions=EXPECTED)
    def confirm_picked(self, pick_list_id, packer_id):
        return picking.confirm_picked(self.store, pick_list_id, packer_id)

    @rpc(expected_exceptions=EXPECTED)
    def floor_view(self, packer_id=None):
        """The whole floor (for a supervisor), or one packer's own work on it."""
        return floor.my_work(self.store, packer_id) if packer_id else floor.floor(self.store)

    @rpc(expected_exceptions=EXPECTED)
    def reassign_pick_list(self, pick_list_id, payload):
        data = load(reassign_schema, payload)
        return floor.reassign(self.store, pick_list_id, data["packer_id"])

    @rpc(expected_exceptions=EXPECTED)
    def release_pick_list(self, pick_list_id):
        return floor.release(self.store, pick_list_id)

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
