"""Inventory service entrypoints: RPC for the gateway, handlers for the order's events."""

from datetime import date

from gudang_common import service as base
from gudang_common.consumer import domain_event_handler
from gudang_common.errors import EXPECTED, NotFound, ValidationFailed, load
from gudang_common.pagination import check_limit
from gudang_common.service import rpc
from gudang_common.store import ServiceStore

from . import allocation, receiving, reports, returns, short_picks, staff_changes, storage_days
from .schemas import (
    AdjustmentSchema,
    BinSchema,
    BinUpdateSchema,
    CycleCountSchema,
    InboundSchema,
    InspectSchema,
    MovementQuerySchema,
    MoveSchema,
    ReceiveSchema,
    SkuSchema,
    SkuUpdateSchema,
    SlowMovingQuerySchema,
)
from .store import InventoryRepository

PAGE_MOST = 500  # items on one page of a list
sku_schema, sku_update_schema, bin_schema = SkuSchema(), SkuUpdateSchema(partial=True), BinSchema()
inbound_schema, receive_schema, inspect_schema = InboundSchema(), ReceiveSchema(), InspectSchema()
adjustment_schema, count_schema, move_schema = AdjustmentSchema(), CycleCountSchema(), MoveSchema()
movement_query_schema, slow_query_schema = MovementQuerySchema(), SlowMovingQuerySchema()
bin_update_schema = BinUpdateSchema()


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
    def update_sku(self, merchant_id, sku, payload):
        if not isinstance(payload, dict) or {"sku", "tracks_lots"} & set(payload):
            raise ValidationFailed(
                "the SKU code and lot tracking are fixed once registered",
                {k: ["Cannot be changed."] for k in {"sku", "tracks_lots"} & set(payload or {})},
            )
        changes = load(sku_update_schema, payload)
        if not changes:
            raise ValidationFailed("nothing to change", {"_body": ["Name at least one field."]})
        return self.store.update_sku(merchant_id, sku, changes)

    @rpc(expected_exceptions=EXPECTED)
    def list_skus(self, merchant_id, limit=PAGE_MOST, cursor=None):
        skus, after = self.store.list_skus(merchant_id, check_limit(limit, PAGE_MOST), cursor)
        return {"skus": skus, "next_cursor": after}

    @rpc(expected_exceptions=EXPECTED)
    def known_skus(self, merchant_id, skus):
        return sorted(self.store.known_skus(merchant_id, skus))

    @rpc(expected_exceptions=EXPECTED)
    def create_bin(self, payload):
        return self.store.add_bin(load(bin_schema, payload))

    @rpc(expected_exceptions=EXPECTED)
    def update_bin(self, code, payload):
        return self.store.update_bin(code, load(bin_update_schema, payload))

    @rpc(expected_exceptions=EXPECTED)
    def list_bins(self, limit=PAGE_MOST, cursor=None):
        bins, after = self.store.list_bins(check_limit(limit, PAGE_MOST), cursor)
        return {"bins": bins, "next_cursor": after}

    @rpc(expected_exceptions=EXPECTED)
    def create_inbound(self, merchant_id, payload):
        return receiving.create_inbound(self.store, merchant_id, load(inbound_schema, payload))

    @rpc(expected_exceptions=EXPECTED)
    def get_inbound(self, merchant_id, inbound_id):
        doc = self.store.get_inbound(inbound_id)
        if doc is None or (merchant_id is not None and doc["merchant_id"] != merchant_id):
            raise NotFound(f"inbound {inbound_id} not found", {"inbound_id": ["Unknown inbound."]})
        return receiving.inbound_view(doc, self.store)

    @rpc(expected_exceptions=EXPECTED)
    def list_inbounds(self, merchant_id, limit=100, cursor=None):
        docs, after = self.store.list_inbounds(merchant_id, check_limit(limit, PAGE_MOST), cursor)
        return {"inbounds": [receiving.inbound_view(d) for d in docs], "next_cursor": after}

    @rpc(expected_exceptions=EXPECTED)
    def receive_inbound(self, inbound_id, payload, staff_id):
        return receiving.receive_inbound(
            self.store, inbound_id, load(receive_schema, payload), staff_id
        )

    @rpc(expected_exceptions=EXPECTED)
    def stock_levels(self, merchant_id):
        return reports.stock_levels(self.store, merchant_id)

    @rpc(expected_exceptions=EXPECTED)
    def stock_csv(self, merchant_id):
        return reports.stock_csv(reports.stock_levels(self.store, merchant_id))

    @rpc(expected_exceptions=EXPECTED)
    def movements(self, merchant_id, query):
        filters = load(movement_query_schema, query, what="query")
        limit, cursor = filters.pop("limit"), filters.pop("cursor")
        found, after = reports.movements(self.store, merchant_id, filters, limit, cursor)
        return {"movements": found, "next_cursor": after}

    @rpc(expected_exceptions=EXPECTED)
    def slow_moving(self, merchant_id, query):
        days = load(slow_query_schema, query, what="query")["days"]
        return reports.slow_moving_report(self.store, merchant_id, days)

    @rpc(expected_exceptions=EXPECTED)
    def list_returns(self, merchant_id, status=None, limit=100, cursor=None):
        limit = check_limit(limit, PAGE_MOST)
        docs, after = self.store.list_returns(merchant_id, status, limit, cursor)
        return {"returns": [returns.return_view(d) for d in docs], "next_cursor": after}

    @rpc(expected_exceptions=EXPECTED)
    def inspect_return(self, return_id, payload, staff_id):
        return returns.inspect_return(
            self.store, return_id, load(inspect_schema, payload), staff_id
        )

    @rpc(expected_exceptions=EXPECTED)
    def adjust_stock(self, payload, staff_id):
        return staff_changes.adjust_stock(self.store, load(adjustment_schema, payload), staff_id)

    @rpc(expected_exceptions=EXPECTED)
    def cycle_count(self, payload, staff_id):
        return staff_changes.cycle_count(self.store, load(count_schema, payload), staff_id)

    @rpc(expected_exceptions=EXPECTED)
    def move_stock(self, payload, staff_id):
        return staff_changes.move_stock(self.store, load(move_schema, payload), staff_id)

    @rpc(expected_exceptions=EXPECTED)
    def storage_units_on(self, day):
        """Units on hand per merchant as the WIB `day` (YYYY-MM-DD, ended) ended."""
        return {"day": day, "merchants": storage_days.units_on(self.store, date.fromisoformat(day))}

    # --- events -----------------------------------------------------------

    @domain_event_handler("gateway", "order_received")
    def on_order_received(self, order):
        allocation.allocate_order(self.store, order)

    @domain_event_handler("billing", "merchant_on_hold")
    def on_merchant_on_hold(self, event):
        allocation.record_hold(self.store, event, on_hold=True)

    @domain_event_handler("billing", "merchant_released")
    def on_merchant_released(self, event):
        allocation.record_hold(self.store, event, on_hold=False)

    @domain_event_handler("inventory", "stock_received")
    def on_stock_received(self, event):
        skus = receiving.put_away(self.store, event)
        if skus:
            allocation.allocate_backorders(self.store, event["merchant_id"], skus)

    @domain_event_handler("packing", "order_packed")
    def on_order_packed(self, event):
        allocation.ship_out(self.store, event)

    @domain_event_handler("packing", "order_cancelled")
    def on_order_cancelled(self, event):
        allocation.cancel(self.store, event)

    @domain_event_handler("packing", "order_short_picked")
    def on_order_short_picked(self, event):
        short_picks.record_short_pick(self.store, event)

    @domain_event_handler("shipping", "parcel_returned")
    def on_parcel_returned(self, event):
        returns.open_return(self.store, event)

    @domain_event_handler("shipping", "parcel_returned_by_buyer")
    def on_parcel_returned_by_buyer(self, event):
        returns.open_return(self.store, event)

    @domain_event_handler("shipping", "parcel_outcome_corrected")
    def on_parcel_outcome_corrected(self, event):
        returns.follow_correction(self.store, event)

    @domain_event_handler("inventory", "return_inspected")
    def on_return_inspected(self, event):
        returns.restock_return(self.store, event)
