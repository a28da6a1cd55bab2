"""Drive Gudang over its public HTTP API the way its users do.

A merchant registers and sends stock in, orders arrive, a packer works pick
lists and packs, a courier posts signed webhooks. Used by the end-to-end tests
and by the benchmarks, never by the services themselves.
"""

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import requests

API = "/api/v1"


class ApiError(AssertionError):
    pass


class Api:
    def __init__(self, base_url="http://127.0.0.1:8000", timeout=30):
        self.base = base_url.rstrip("/") + API
        self.http = requests.Session()
        self.timeout = timeout

    def request(self, method, path, key=None, body=None, raw=None, headers=None):
        hdrs = dict(headers or {})
        if key:
            hdrs["Authorization"] = f"Bearer {key}"
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if data is not None:
            hdrs.setdefault("Content-Type", "application/json")
        resp = self.http.request(
            method, self.base + path, data=data, headers=hdrs, timeout=self.timeout
        )
        try:
            payload = resp.json() if resp.content else None
        except ValueError:
            payload = {"_raw": resp.text}
        return resp.status_code, payload

    def ok(self, method, path, key=None, body=None, expect=(200, 201, 202)):
        status, payload = self.request(method, path, key, body)
        if status not in expect:
            raise ApiError(f"{method} {path} -> {status} {payload}")
        return payload


# the steps of an order that goes well, from intake to the buyer's door
DELIVERED_STEPS = (
    "order_received",
    "order_allocated",
    "order_picked",
    "order_packed",
    "parcel_booked",
    "parcel_dispatched",
    "parcel_in_transit",
    "parcel_delivered",
)


def ean13(first12):
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return first12 + str((10 - total % 10) % 10)


def eventually(check, timeout=30.0, interval=0.1, what="condition"):
    """Retry `check` until it returns something truthy (the system settles; no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except (AssertionError, requests.RequestException) as exc:
            last = exc
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


def order_of(api, world, order_id):
    """The merchant's view of one of its orders."""
    return api.ok("GET", f"/orders/{order_id}", world.merchant["api_key"])


def wait_status(api, world, order_id, status, timeout=40):
    """The order once it reaches `status` (the platform settles; no fixed sleeps)."""
    return eventually(
        lambda: (o := order_of(api, world, order_id))["status"] == status and o,
        timeout=timeout,
        what=f"{order_id} to be {status}",
    )


@dataclass
class World:
    promoter: dict
    merchant: dict
    staff: dict
    skus: list = field(default_factory=list)


# a merchant of the simulation pays its fees later, so fees never put it on hold
SIMULATED_CREDIT_LIMIT = 100_000_000


def register_world(
    api, admin_key, skus=3, units=100, tag=None, credit_limit=SIMULATED_CREDIT_LIMIT
):
    """A promoter, a merchant it referred (with `credit_limit`: 0 holds it at its first
    fee), a packer, bins, SKUs and received stock."""
    tag = tag or uuid.uuid4().hex[:6]
    promoter = api.ok(
        "POST",
        "/promoters",
        body={"name": f"Rina {tag}", "email": f"rina.{tag}@example.id", "phone": "+6281234567890"},
    )
    merchant = api.ok(
        "POST",
        "/merchants",
        body={
            "name": f"Batik {tag}",
            "email": f"owner.{tag}@example.id",
            "phone": "081311112222",
            "referral_code": promoter["referral_code"],
        },
    )
    if credit_limit:
        api.ok(
            "PUT",
            f"/admin/merchants/{merchant['merchant_id']}/credit-limit",
            admin_key,
            {"credit_limit": credit_limit},
        )
    staff = api.ok("POST", "/staff", key=admin_key, body={"name": f"Dewi {tag}", "role": "packer"})
    status, _ = api.request(
        "POST", "/bins", staff["api_key"], {"code": "A-01-01-1-01", "pick_sequence": 1}
    )
    assert status in (201, 409), status
    world = World(promoter, merchant, staff)
    for i in range(skus):
        code = f"BTK-{i:03d}"
        api.ok(
            "POST",
            "/skus",
            merchant["api_key"],
            {
                "sku": code,
                "name": f"Batik tulis {i}",
                "barcode": ean13(f"899{i:09d}"),
                "weight_g": 300,
                "length_cm": 30,
                "width_cm": 20,
                "height_cm": 3,
            },
        )
        world.skus.append(code)
    if units:
        receive_stock(api, world, units)
    return world


def receive_stock(api, world, units):
    inbound = api.ok(
        "POST",
        "/inbounds",
        world.merchant["api_key"],
        {"lines": [{"sku": s, "qty": units} for s in world.skus]},
    )
    api.ok(
        "POST",
        f"/warehouse/inbounds/{inbound['inbound_id']}/receive",
        world.staff["api_key"],
        {"lines": [{"sku": s, "qty_good": units, "qty_damaged": 0} for s in world.skus]},
    )
    return inbound["inbound_id"]


# a buyer in Bandung, as the tests and benchmarks send orders to
RECIPIENT = {
    "name": "Ani Suryani",
    "phone": "+6281299998888",
    "address": "Jl. Merdeka No. 1, Sukajadi",
    "city": "Bandung",
    "postal_code": "40162",
}


def order_body(world, n, cod_amount=0, sku=None, qty=1, courier="jne"):
    return {
        "external_id": f"SHP-{n}-{uuid.uuid4().hex[:6]}",
        "channel": "shopee",
        "courier": courier,
        "recipient": dict(RECIPIENT),
        "lines": [{"sku": sku or world.skus[n % len(world.skus)], "qty": qty}],
        "cod_amount": cod_amount,
    }


def place_order(api, world, n, **kw):
    return api.ok("POST", "/orders", world.merchant["api_key"], order_body(world, n, **kw))[
        "order_id"
    ]


PACKAGE = {"weight_g": 700, "length_cm": 30, "width_cm": 20, "height_cm": 10}


def check_units(api, staff_key, order_id):
    """At the pack station: scan every unit of the order again, by SKU code with its count
    (what is checked already stays checked, so a repeat changes nothing)."""
    opened = api.ok("POST", "/warehouse/pack-station/open", staff_key, {"code": order_id})
    for item in opened["items"]:
        if item["verified"] < item["qty"]:
            body = {"code": item["sku"], "qty": item["qty"] - item["verified"]}
            api.ok("POST", f"/warehouse/orders/{order_id}/verify", staff_key, body)


def scan_on(api, staff_key, pick_list_id, code, qty=1):
    """One scan on a pick list, as the tablet sends it: (status, answer)."""
    body = {"code": code, "qty": qty, "scan_id": uuid.uuid4().hex}
    return api.request("POST", f"/warehouse/pick-lists/{pick_list_id}/scans", staff_key, body)


def pick_by_scan(api, staff_key, pick_list, scan=scan_on):
    """Act as the packer's scanner on a list as last read: a free tote per order still
    without one, then each stop's bin and its units (one scanned, the count confirmed).
    False when a request failed: read the list again and run it again (what was scanned
    stays counted on the server). `scan` sends one scan (a benchmark times it)."""
    list_id = pick_list["pick_list_id"]
    need = sum(1 for o in pick_list["orders"] if o["status"] == "picking" and not o.get("tote"))
    for _ in range(need * 5):  # a tote another packer holds is refused: take another
        if need == 0:
            break
        status, answer = scan(api, staff_key, list_id, f"TOTE-{uuid.uuid4().int % 10**6:06d}")
        if status == 200:
            need -= 1
        elif not (status == 409 and answer["error"]["code"] == "TOTE_BUSY"):
            return False
    for stop in (s for s in pick_list["stops"] if s["remaining"]):
        for code, qty in ((stop["bin"], 1), (stop["sku"], stop["remaining"])):
            status, _ = scan(api, staff_key, list_id, code, qty)
            if status != 200:
                return False
    return True


def work_pick_lists(api, staff_key, until_empty=True):
    """Act as a packer: take pick lists, confirm the pick, check each order's units and pack
    it. Returns packed order ids."""
    packed = []
    while True:
        pick_list = api.ok("GET", "/warehouse/pick-lists/next", staff_key)["pick_list"]
        if not pick_list:
            return packed
        assert pick_by_scan(api, staff_key, pick_list), "a scan failed"
        api.ok("POST", f"/warehouse/pick-lists/{pick_list['pick_list_id']}/picked", staff_key)
        for order in pick_list["orders"]:
            if order["status"] != "picking":
                continue
            check_units(api, staff_key, order["order_id"])
            api.ok("POST", f"/warehouse/orders/{order['order_id']}/pack", staff_key, PACKAGE)
            packed.append(order["order_id"])
        if not until_empty:
            return packed


def sign(secret, body):
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def courier_update(api, secret, courier, awb, status, reason=None, occurred_at=None):
    body = {
        "awb": awb,
        "status": status,
        "occurred_at": occurred_at or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
    }
    if reason:
        body["reason"] = reason
    raw = json.dumps(body).encode()
    return api.request(
        "POST",
        f"/couriers/{courier}/webhook",
        raw=raw,
        headers={"X-Gudang-Signature": sign(secret, raw)},
    )


def deliver(api, secret, courier, awb):
    for status in ("picked_up", "in_transit", "delivered"):
        code, payload = courier_update(api, secret, courier, awb, status)
        if code != 200:
            raise ApiError(f"webhook {status} for {awb} -> {code} {payload}")
