"""Packing service entrypoints: pick lists, the pack station and its box catalog, for the
tablet (through the gateway)."""

from nameko.rpc import rpc

from gudang_common import service as base
from gudang_common.consumer import domain_event_handler
from gudang_common.errors import EXPECTED, FloorRefusal, load
from gudang_common.store import ServiceStore

from . import catalog, operations, schemas, station
from .floor_metrics import FloorMetrics
from .store import PackingRepository
from .walk import Layout

pack_schema, cancel_schema = schemas.PackSchema(), schemas.CancelSchema()
box_schema, box_change_schema = schemas.BoxSchema(), schemas.BoxChangeSchema()
verify_schema, open_schema = schemas.VerifySchema(), schemas.OpenStationSchema()


class PackingService(base.BaseService):
    name = "packing"
    store = ServiceStore(PackingRepository)
    floor = FloorMetrics()

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
        data = load(pack_schema, payload)
        return self._counting_refusals(
            "pack",
            station.pack_order,
            self.store,
            order_id,
            packer_id,
            data,
            observe=self.floor.order_packed,
        )

    @rpc(expected_exceptions=EXPECTED)
    def open_station(self, payload):
        data = load(open_schema, payload)
        return self._counting_refusals("open", station.open_order, self.store, data["code"])

    @rpc(expected_exceptions=EXPECTED)
    def verify_unit(self, order_id, payload):
        data = load(verify_schema, payload)
        return self._counting_refusals(
            "verify", station.verify_unit, self.store, order_id, data["code"], data["qty"]
        )

    def _counting_refusals(self, where, action, *args, **kwargs):
        try:
            return action(*args, **kwargs)
        except FloorRefusal as refusal:
            self.floor.scan_refused(where, refusal.code)
            raise

    @rpc(expected_exceptions=EXPECTED)
    def list_boxes(self):
        return station.list_boxes(self.store)

    @rpc(expected_exceptions=EXPECTED)
    def add_box(self, payload):
        return station.add_box(self.store, load(box_schema, payload))

    @rpc(expected_exceptions=EXPECTED)
    def change_box(self, code, payload):
        return station.change_box(self.store, code, load(box_change_schema, payload))

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
