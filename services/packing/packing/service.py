"""Packing service entrypoints: pick lists, the pack station and its box catalog, for the
tablet (through the gateway)."""

from gudang_common import service as base
from gudang_common.consumer import domain_event_handler
from gudang_common.errors import EXPECTED, FloorRefusal, load
from gudang_common.service import rpc
from gudang_common.store import ServiceStore

from . import catalog, floor, operations, picking, schemas, station
from .floor_metrics import FloorMetrics
from .store import PackingRepository
from .walk import FloorPlan

pack_schema, cancel_schema = schemas.PackSchema(), schemas.CancelSchema()
box_schema, box_change_schema = schemas.BoxSchema(), schemas.BoxChangeSchema()
verify_schema, open_schema = schemas.VerifySchema(), schemas.OpenStationSchema()
scan_schema, short_schema = schemas.ScanSchema(), schemas.ShortPickSchema()
reassign_schema = schemas.ReassignSchema()


class PackingService(base.BaseService):
    name = "packing"
    store = ServiceStore(PackingRepository)
    floor = FloorMetrics()
    floor_plan = FloorPlan()  # the layout pick lists are walked on (WALK_* config)

    @rpc(expected_exceptions=EXPECTED)
    def next_pick_list(self, packer_id, size=None):
        size = int(size or self.config.get("PICK_LIST_SIZE", 10))
        return operations.next_pick_list(self.store, packer_id, size, self.floor_plan)

    @rpc(expected_exceptions=EXPECTED)
    def scan_pick(self, pick_list_id, packer_id, payload):
        data = load(scan_schema, payload)
        answer = self._counting_refusals(
            "pick", packer_id, picking.scan, self.store, pick_list_id, packer_id, data
        )
        self.floor.scanned(packer_id, answer)
        return answer

    @rpc(expected_exceptions=EXPECTED)
    def short_pick(self, pick_list_id, packer_id, payload):
        data = load(short_schema, payload)
        done = picking.short_pick(self.store, pick_list_id, packer_id, data)
        self.floor.short_picks.labels(packer_id).inc(data["qty"])
        return done

    @rpc(expected_exceptions=EXPECTED)
    def confirm_picked(self, pick_list_id, packer_id):
        view = picking.confirm_picked(self.store, pick_list_id, packer_id, self.floor_plan)
        self.floor.walked(packer_id, view)
        return view

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
        data = load(pack_schema, payload)
        return self._counting_refusals(
            "pack",
            packer_id,
            station.pack_order,
            self.store,
            order_id,
            packer_id,
            data,
            observe=self.floor.order_packed,
        )

    @rpc(expected_exceptions=EXPECTED)
    def open_station(self, packer_id, payload):
        data = load(open_schema, payload)
        return self._counting_refusals(
            "open", packer_id, station.open_order, self.store, data["code"]
        )

    @rpc(expected_exceptions=EXPECTED)
    def verify_unit(self, order_id, packer_id, payload):
        data = load(verify_schema, payload)
        return self._counting_refusals(
            "verify",
            packer_id,
            station.verify_unit,
            self.store,
            order_id,
            data["code"],
            data["qty"],
        )

    def _counting_refusals(self, where, packer_id, action, *args, **kwargs):
        """`action`'s answer; a floor refusal is counted (where, by whom, why) and raised."""
        try:
            return action(*args, **kwargs)
        except FloorRefusal as refusal:
            self.floor.scan_refused(where, packer_id, refusal.code)
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
