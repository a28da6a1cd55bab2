"""Shipping service entrypoints: RPC for the gateway, the handler that books packed orders."""

from gudang_common import service as base
from gudang_common.consumer import domain_event_handler
from gudang_common.couriers import origin_postal_code
from gudang_common.errors import EXPECTED, load
from gudang_common.service import rpc
from gudang_common.store import ServiceStore

from . import operations
from .schemas import HandoverScanSchema, TrackingSchema
from .store import ShippingRepository

tracking_schema, handover_scan_schema = TrackingSchema(), HandoverScanSchema()


class ShippingService(base.BaseService):
    name = "shipping"
    store = ServiceStore(ShippingRepository)

    # --- RPC (through the gateway) ----------------------------------------

    @rpc(expected_exceptions=EXPECTED)
    def record_tracking(self, courier, payload):
        return operations.record_tracking(self.store, courier, load(tracking_schema, payload))

    @rpc(expected_exceptions=EXPECTED)
    def create_manifest(self, courier, staff_id):
        return operations.create_manifest(self.store, courier, staff_id)

    @rpc(expected_exceptions=EXPECTED)
    def get_manifest(self, manifest_id):
        return operations.get_manifest(self.store, manifest_id)

    @rpc(expected_exceptions=EXPECTED)
    def scan_for_manifest(self, manifest_id, payload):
        awb = load(handover_scan_schema, payload)["awb"]
        return operations.scan_parcel(self.store, manifest_id, awb)

    @rpc(expected_exceptions=EXPECTED)
    def close_manifest(self, manifest_id, staff_id):
        return operations.close_manifest(self.store, manifest_id, staff_id)

    @rpc(expected_exceptions=EXPECTED)
    def label_pdf(self, order_id, sender):
        return operations.label_document(self.store, order_id, sender)

    @rpc(expected_exceptions=EXPECTED)
    def manifest_pdf(self, manifest_id):
        return operations.manifest_document(self.store, manifest_id)

    # --- events -----------------------------------------------------------

    @domain_event_handler("gateway", "order_received")
    def on_order_received(self, order):
        operations.accept_order(self.store, order)

    @domain_event_handler("packing", "order_packed")
    def on_order_packed(self, packed):
        operations.book_parcel(self.store, packed, origin_postal_code(self.config))
