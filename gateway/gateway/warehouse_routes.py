"""Gateway routes of the warehouse floor (staff): pick lists, packing, labels, manifests
and the packer's tablet page."""

from pathlib import Path

from werkzeug.wrappers import Response

from gudang_common.couriers import COURIERS
from gudang_common.errors import (
    NotFound,
    Unprocessable,
    ValidationFailed,
)
from gudang_common.web import http, json_body

from . import pages
from .auth import supervising
from .awb_wait import wait_for_awb

API = "/api/v1"
TABLET_HTML = (Path(__file__).parent / "static" / "tablet.html").read_bytes()
STAFF, OPS = ("staff",), ("staff", "admin")


class WarehouseRoutes:
    """Mixed into GatewayService (which provides _auth, _rpc, _document, _label and the proxies)."""

    @http("GET", f"{API}/warehouse/pick-lists/next")
    def next_pick_list(self, request):
        caller = self._auth(request, "staff")
        pick_list = self._rpc(self.packing, "next_pick_list", caller.id)
        if pick_list is None:
            return 200, {"pick_list": None, "message": "Tidak ada pesanan untuk diambil."}
        return {"pick_list": pick_list}

    @http("POST", f"{API}/warehouse/pick-lists/<pick_list_id>/picked")
    def confirm_picked(self, request, pick_list_id):
        caller = self._auth(request, "staff")
        return {"pick_list": self._rpc(self.packing, "confirm_picked", pick_list_id, caller.id)}

    @http("POST", f"{API}/warehouse/pick-lists/<pick_list_id>/scans")
    def scan_pick(self, request, pick_list_id):
        """One scan; the client's `scan_id` (or its Idempotency-Key) makes a retry harmless."""
        caller = self._auth(request, "staff")
        body = json_body(request)
        key = request.headers.get("Idempotency-Key")
        if key and body.get("scan_id") is None:
            body = dict(body, scan_id=key)
        return self._rpc(self.packing, "scan_pick", pick_list_id, caller.id, body)

    @http("POST", f"{API}/warehouse/pick-lists/<pick_list_id>/short")
    def short_pick(self, request, pick_list_id):
        packer = self._auth(request, "staff").id
        return self._rpc(self.packing, "short_pick", pick_list_id, packer, json_body(request))

    @http("GET", f"{API}/warehouse/my-work")
    def my_work(self, request):
        return self._rpc(self.packing, "floor_view", self._auth(request, "staff").id)

    def _supervise(self, request, method, *args):
        """A supervisor's (or the admin's) call to packing about the whole floor."""
        supervising(self._auth(request, "staff", "admin"))
        return self._rpc(self.packing, method, *args)

    @http("GET", f"{API}/warehouse/floor")
    def floor(self, request):
        return self._supervise(request, "floor_view")

    @http("POST", f"{API}/warehouse/pick-lists/<pick_list_id>/reassign")
    def reassign_pick_list(self, request, pick_list_id):
        supervising(self._auth(request, "staff", "admin"))
        body = json_body(request)
        packer = body.get("packer_id")
        if isinstance(packer, str) and packer:
            staff = self.store.get_account("staff", packer)
            if staff is None or staff.get("role") == "finance":
                raise Unprocessable("no such packer", {"packer_id": ["Not a packer's staff id."]})
        return self._rpc(self.packing, "reassign_pick_list", pick_list_id, body)

    @http("POST", f"{API}/warehouse/pick-lists/<pick_list_id>/release")
    def release_pick_list(self, request, pick_list_id):
        return self._supervise(request, "release_pick_list", pick_list_id)

    @http("POST", f"{API}/warehouse/orders/<order_id>/pack")
    def pack_order(self, request, order_id):
        caller = self._auth(request, "staff")
        # the label needs the AWB: shipping books it on order_packed. Registered before the
        # RPC so that a parcel_booked applied while it returns still wakes this call.
        waiter = self.awb_waits.register(order_id)
        try:
            packed = self._rpc(self.packing, "pack_order", order_id, caller.id, json_body(request))
            order = wait_for_awb(
                lambda: self.store.get_order(order_id),
                waiter,
                float(self.config.get("PACK_AWB_WAIT_SECONDS", 5)),
                slow_poll=float(self.config.get("PACK_AWB_POLL_SECONDS", 0.25)),
            )
        finally:
            self.awb_waits.forget(order_id, waiter)
        body = {"order_id": order_id, "status": "packed", "package": packed["package"]}
        if order is not None and order.get("awb"):
            body.update(
                awb=order["awb"], courier=order["courier"], shipping_cost=order.get("shipping_cost")
            )
            return 200, body
        body.update(awb=None, message="AWB is being booked; fetch the order again shortly.")
        return 202, body

    # --- the pack station and its box catalog ---------------------------------------
    # ops (staff or the admin key) keep the box catalog; packers use the station

    def _floor(self, request, roles, proxy, method, *args, with_body=True, by_caller=False):
        """A floor route answered by one RPC: `args`, the caller's id (`by_caller`: the packer
        at the station), then the request's JSON body."""
        caller = self._auth(request, *roles)
        who = [caller.id] if by_caller else []
        return self._rpc(proxy, method, *args, *who, *([json_body(request)] if with_body else []))

    @http("GET", f"{API}/warehouse/boxes")
    def list_boxes(self, request):
        return self._floor(request, OPS, self.packing, "list_boxes", with_body=False)

    @http("POST", f"{API}/warehouse/boxes")
    def add_box(self, request):
        return 201, self._floor(request, OPS, self.packing, "add_box")

    @http("PATCH", f"{API}/warehouse/boxes/<code>")
    def change_box(self, request, code):
        return self._floor(request, OPS, self.packing, "change_box", code)

    @http("POST", f"{API}/warehouse/pack-station/open")
    def open_pack_station(self, request):
        """A scanned tote, order id or order number opens the picked order at the station."""
        return self._floor(request, STAFF, self.packing, "open_station", by_caller=True)

    @http("POST", f"{API}/warehouse/orders/<order_id>/verify")
    def verify_unit(self, request, order_id):
        """One unit scanned again at the station; the progress is kept on the server."""
        return self._floor(request, STAFF, self.packing, "verify_unit", order_id, by_caller=True)

    @http("GET", f"{API}/warehouse/orders/<order_id>/label.pdf")
    def warehouse_label(self, request, order_id):
        """The label to print after packing; the same URL reprints it."""
        self._auth(request, "staff")
        doc = self.store.get_order(order_id)
        if doc is None:
            raise NotFound(f"order {order_id} not found", {"order_id": ["Unknown order."]})
        return self._label(doc)

    @http("POST", f"{API}/warehouse/manifests")
    def create_manifest(self, request):
        caller = self._auth(request, "staff")
        courier = json_body(request).get("courier")
        if not isinstance(courier, str) or courier not in COURIERS:
            raise ValidationFailed("unknown courier", {"courier": ["Unknown courier."]})
        return self._created_once(
            request, caller, self.shipping, "create_manifest", courier, caller.id
        )

    @http("GET", f"{API}/warehouse/manifests/<manifest_id>")
    def get_manifest(self, request, manifest_id):
        self._auth(request, "staff")
        return self._rpc(self.shipping, "get_manifest", manifest_id)

    @http("POST", f"{API}/warehouse/manifests/<manifest_id>/scans")
    def scan_for_manifest(self, request, manifest_id):
        """A parcel's AWB label scanned as the courier takes it."""
        return self._floor(request, STAFF, self.shipping, "scan_for_manifest", manifest_id)

    @http("POST", f"{API}/warehouse/manifests/<manifest_id>/close")
    def close_manifest(self, request, manifest_id):
        """The courier leaves with the scanned parcels; the others wait for the next pickup."""
        caller = self._auth(request, "staff")
        return self._rpc(self.shipping, "close_manifest", manifest_id, caller.id)

    @http("GET", f"{API}/warehouse/manifests/<manifest_id>.pdf")
    def manifest_pdf(self, request, manifest_id):
        """The hand-over list the courier signs at pickup."""
        self._auth(request, "staff")
        return self._document(self._rpc(self.shipping, "manifest_pdf", manifest_id))

    @http("GET", "/tablet")
    def tablet(self, request):
        """The packer's screen: one static page that talks to this API with a staff key."""
        headers = dict(pages.SECURITY_HEADERS, **{"Cache-Control": "no-cache"})
        return Response(TABLET_HTML, mimetype="text/html", headers=headers)
