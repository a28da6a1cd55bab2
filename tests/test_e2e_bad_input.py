"""Bad input from outside gets a clear 4xx JSON error naming the field, and changes nothing."""

import json
import uuid

import pytest

from scripts.simulate import courier_update, order_body, place_order, register_world, sign
from tests.conftest import ADMIN_KEY, COURIER_SECRET

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def worlds(api):
    return register_world(api, ADMIN_KEY, skus=1, units=5), register_world(
        api, ADMIN_KEY, skus=1, units=5
    )


def orders_of(api, world):
    return api.ok("GET", "/orders", world.merchant["api_key"])["orders"]


def error_of(api, method, path, key=None, body=None, raw=None, headers=None):
    status, payload = api.request(method, path, key, body, raw=raw, headers=headers)
    assert set(payload) == {"error"}, payload
    return status, payload["error"]


@pytest.mark.parametrize(
    "change, status, field",
    [
        (lambda b: b.pop("recipient"), 400, "recipient"),
        (lambda b: b["lines"][0].update(qty="two"), 400, "lines.0.qty"),
        (lambda b: b["lines"][0].update(qty=-1), 400, "lines.0.qty"),
        (lambda b: b["lines"][0].update(qty=2**62), 400, "lines.0.qty"),
        (lambda b: b.update(lines=[]), 400, "lines"),
        (lambda b: b["recipient"].update(postal_code="4011"), 400, "recipient.postal_code"),
        (lambda b: b.update(cod_amount=10.5), 400, "cod_amount"),
        (lambda b: b.update(courier="pos", cod_amount=100_000), 400, "cod_amount"),
        (lambda b: b["lines"][0].update(sku="NOPE-1"), 422, "lines.0.sku"),
        (lambda b: b.update(courier="gosend"), 400, "courier"),  # Bandung is not the area
    ],
    ids=[
        "missing recipient",
        "qty wrong type",
        "negative qty",
        "absurd qty",
        "no lines",
        "bad postal code",
        "fractional rupiah",
        "cod courier",
        "unknown sku",
        "same-day out of area",
    ],
)
def test_bad_orders_are_refused_naming_the_field(api, worlds, change, status, field):
    world = worlds[0]
    before = len(orders_of(api, world))
    body = order_body(world, 1)
    change(body)
    got, error = error_of(api, "POST", "/orders", world.merchant["api_key"], body)
    assert got == status and field in error["fields"], error
    assert len(orders_of(api, world)) == before


def test_a_merchant_cannot_see_or_cancel_another_merchants_order(api, worlds):
    a, b = worlds
    order_id = place_order(api, a, 1)
    for method, path in (("GET", f"/orders/{order_id}"), ("POST", f"/orders/{order_id}/cancel")):
        status, error = error_of(
            api, method, path, b.merchant["api_key"], {} if method == "POST" else None
        )
        assert status == 404 and error["code"] == "NOT_FOUND"
    # merchant B cannot order, read or receive merchant A's SKU, even knowing its code
    sku = {
        "sku": "ONLY-A-1",
        "name": "A's own",
        "barcode": "ONLY-A-1",
        "weight_g": 100,
        "length_cm": 1,
        "width_cm": 1,
        "height_cm": 1,
    }
    api.ok("POST", "/skus", a.merchant["api_key"], sku)
    status, error = error_of(
        api, "POST", "/orders", b.merchant["api_key"], order_body(b, 1, sku="ONLY-A-1")
    )
    assert status == 422 and "lines.0.sku" in error["fields"]
    status, _ = error_of(api, "GET", "/skus/ONLY-A-1", b.merchant["api_key"])
    assert status == 404
    status, error = error_of(
        api, "POST", "/inbounds", b.merchant["api_key"], {"lines": [{"sku": "ONLY-A-1", "qty": 1}]}
    )
    assert status == 422


def test_sku_barcode_and_types_are_validated(api, worlds):
    world = worlds[0]
    body = {
        "sku": "X-1",
        "name": "x",
        "barcode": "8991234567890",
        "weight_g": "heavy",
        "length_cm": 1,
        "width_cm": 1,
        "height_cm": 1,
    }
    status, error = error_of(api, "POST", "/skus", world.merchant["api_key"], body)
    assert status == 400 and {"barcode", "weight_g"} <= set(error["fields"])


def test_auth_is_required_and_roles_are_kept_apart(api, worlds):
    world = worlds[0]
    status, error = error_of(api, "GET", "/orders")
    assert status == 401 and "Authorization" in error["fields"]
    status, _ = error_of(api, "GET", "/orders", "mk_not-a-key")
    assert status == 401
    status, _ = error_of(api, "GET", "/warehouse/pick-lists/next", world.merchant["api_key"])
    assert status == 403
    status, _ = error_of(api, "POST", "/orders", world.staff["api_key"], order_body(world, 1))
    assert status == 403
    status, _ = error_of(api, "POST", "/staff", world.merchant["api_key"], {"name": "x"})
    assert status == 403


def test_malformed_json_and_unknown_routes(api, worlds):
    world = worlds[0]
    status, error = error_of(api, "POST", "/orders", world.merchant["api_key"], raw=b"{not json")
    assert status == 400 and "_body" in error["fields"]
    status, error = error_of(api, "POST", "/orders", world.merchant["api_key"], raw=b"[1, 2]")
    assert status == 400
    status, error = error_of(api, "GET", "/no/such/route")
    assert status == 404


def test_unknown_referral_code_is_refused(api):
    body = {
        "name": "Toko",
        "email": "toko@example.id",
        "phone": "081311112222",
        "referral_code": "NOPE-000000",
    }
    status, error = error_of(api, "POST", "/merchants", body=body)
    assert status == 400 and "referral_code" in error["fields"]


def test_courier_webhooks_must_be_signed_and_name_a_known_awb(api):
    raw = json.dumps(
        {"awb": "JN000000000001", "status": "delivered", "occurred_at": "2026-11-23T10:00:00Z"}
    ).encode()
    status, error = error_of(
        api, "POST", "/couriers/jne/webhook", raw=raw, headers={"X-Gudang-Signature": "sha256=00"}
    )
    assert status == 401
    status, error = error_of(
        api,
        "POST",
        "/couriers/jne/webhook",
        raw=raw,
        headers={"X-Gudang-Signature": sign("wrong", raw)},
    )
    assert status == 401
    status, payload = courier_update(api, COURIER_SECRET, "jne", "JN999999999999", "delivered")
    assert status == 404 and "awb" in payload["error"]["fields"]
    status, payload = courier_update(api, COURIER_SECRET, "nosuch", "JN999999999999", "delivered")
    assert status == 404
    status, payload = courier_update(api, COURIER_SECRET, "jne", "JN999999999999", "teleported")
    assert status in (400, 404) and payload["error"]["fields"]


def test_receiving_an_unknown_sku_or_bin_changes_nothing(api, worlds):
    world = worlds[0]
    inbound = api.ok(
        "POST",
        "/inbounds",
        world.merchant["api_key"],
        {"lines": [{"sku": world.skus[0], "qty": 3}]},
    )
    path = f"/warehouse/inbounds/{inbound['inbound_id']}/receive"
    status, error = error_of(
        api,
        "POST",
        path,
        world.staff["api_key"],
        {"lines": [{"sku": "OTHER", "qty_good": 1, "qty_damaged": 0}]},
    )
    assert status == 400 and "lines.0.sku" in error["fields"]
    body = {
        "lines": [{"sku": world.skus[0], "qty_good": 1, "qty_damaged": 0, "bin": "Z-99-99-9-99"}]
    }
    status, error = error_of(api, "POST", path, world.staff["api_key"], body)
    assert status == 400 and "lines.0.bin" in error["fields"]
    status, error = error_of(
        api,
        "POST",
        path,
        world.staff["api_key"],
        {"lines": [{"sku": world.skus[0], "qty_good": -1, "qty_damaged": 0}]},
    )
    assert status == 400 and "lines.0.qty_good" in error["fields"]
    assert (
        api.ok("GET", f"/inbounds/{inbound['inbound_id']}", world.merchant["api_key"])["receipts"]
        == []
    )
    level = api.ok("GET", "/stock", world.merchant["api_key"])["stock"][0]
    assert level["on_hand"] == 5


def test_same_day_couriers_are_accepted_within_the_warehouse_area(api, worlds):
    world = worlds[0]
    body = order_body(world, 1, courier="gosend")
    body["recipient"].update(city="Jakarta Timur", postal_code="13940")
    assert api.ok("POST", "/orders", world.merchant["api_key"], body)["status"] == "received"


# --- every JSON route: input no store can hold is a 400 in the one shape ------------------------
DEEP = "[" * 100_000 + "]" * 100_000
BAD_VALUES = {
    "surrogate": "\ud800",
    "2^63": 2**63,
    "int64 max": 2**63 - 1,
    "int64 min": -(2**63),
    "deep": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["x"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],
    "object": {"$gt": ""},
    "float": 1.5e300,
}


def json_routes(world, inbound_id, order_id):
    """(method, path, key, a body the route accepts or nearly does) for every JSON route."""
    m, s = world.merchant["api_key"], world.staff["api_key"]
    sku = world.skus[0]
    return [
        ("POST", "/promoters", None, {"name": "Rina", "email": "r@example.id", "phone": "0811111111"}),
        ("POST", "/merchants", None, {"name": "Toko", "email": "t@example.id", "phone": "0811111111"}),
        ("POST", "/staff", ADMIN_KEY, {"name": "Dewi", "role": "packer"}),
        ("POST", "/admin/storage-billing", ADMIN_KEY, {"day": "2026-11-01"}),
        ("POST", f"/merchants/{world.merchant['merchant_id']}/topups", ADMIN_KEY, {"amount": 1000, "reference": "TRF-1"}),
        ("POST", "/skus", m, {"sku": "FZ-1", "name": "x", "barcode": "FZ-1", "weight_g": 1, "length_cm": 1, "width_cm": 1, "height_cm": 1, "low_stock_threshold": 1}),
        ("PATCH", f"/skus/{sku}", m, {"name": "y", "low_stock_threshold": 2}),
        ("POST", "/inbounds", m, {"lines": [{"sku": sku, "qty": 1}], "note": "n"}),
        ("POST", "/orders", m, order_body(world, 1)),
        ("POST", f"/orders/{order_id}/cancel", m, {"reason": "r"}),
        ("POST", "/webhooks", m, {"url": "http://127.0.0.1:9/hook", "events": ["order_packed"]}),
        ("POST", "/bins", s, {"code": "F-01-01-1-01", "pick_sequence": 1}),
        ("PATCH", "/bins/A-01-01-1-01", s, {"pick_sequence": 1}),
        ("POST", f"/warehouse/inbounds/{inbound_id}/receive", s, {"lines": [{"sku": sku, "qty_good": 0, "qty_damaged": 0}]}),
        ("POST", "/warehouse/returns/ret_nope/inspect", s, {"lines": [{"sku": sku, "qty_good": 1, "qty_damaged": 0}]}),
        ("POST", "/warehouse/adjustments", s, {"merchant_id": world.merchant["merchant_id"], "sku": sku, "bin": "A-01-01-1-01", "qty": 1, "reason": "found"}),
        ("POST", "/warehouse/cycle-counts", s, {"bin": "A-01-01-1-01", "lines": [{"merchant_id": world.merchant["merchant_id"], "sku": sku, "counted": 0}]}),
        ("POST", "/warehouse/moves", s, {"merchant_id": world.merchant["merchant_id"], "sku": sku, "from_bin": "A-01-01-1-01", "to_bin": "QUARANTINE", "qty": 1}),
        ("POST", "/warehouse/orders/ord_nope/pack", s, {"weight_g": 1, "length_cm": 1, "width_cm": 1, "height_cm": 1}),
        ("POST", "/warehouse/manifests", s, {"courier": "jne"}),
        ("POST", "/warehouse/manifests/mf_nope/scans", s, {"awb": "JN000000000001"}),
        ("POST", "/warehouse/boxes", s, {"code": "FZ-BOX", "length_cm": 10, "width_cm": 10, "height_cm": 10, "weight_g": 50, "packaging_fee": 1000}),
        ("PATCH", "/warehouse/boxes/BOX-S", s, {"packaging_fee": 1500, "active": True}),
        ("POST", "/warehouse/pack-station/open", s, {"code": order_id}),
        ("POST", f"/warehouse/orders/{order_id}/verify", s, {"code": sku, "qty": 1}),
        ("POST", f"/warehouse/orders/{order_id}/pack", s, {"box": "BOX-S", "weight_g": 100}),
        ("POST", "/couriers/jne/webhook", None, {"awb": "JN000000000001", "status": "delivered", "occurred_at": "2026-11-23T10:00:00Z"}),
    ]  # fmt: skip


def test_every_json_route_answers_unholdable_input_with_400(api):
    world = register_world(api, ADMIN_KEY, skus=1, units=5)
    inbound = api.ok(
        "POST",
        "/inbounds",
        world.merchant["api_key"],
        {"lines": [{"sku": world.skus[0], "qty": 1}]},
    )
    order_id = place_order(api, world, 1)
    failures = []
    for method, path, key, body in json_routes(world, inbound["inbound_id"], order_id):
        cases = [("deep body", DEEP.encode())]
        for field in body:
            for name, value in BAD_VALUES.items():
                cases.append((f"{field}={name}", json.dumps(dict(body, **{field: value})).encode()))
        for case, raw in cases:
            headers = {"Idempotency-Key": f"fz-{uuid.uuid4().hex}"}
            if path.startswith("/couriers/"):
                headers["X-Gudang-Signature"] = sign(COURIER_SECRET, raw)
            status, payload = api.request(method, path, key, raw=raw, headers=headers)
            shaped = isinstance(payload, dict) and set(payload) == {"error"} or status < 300
            if status >= 500 or not shaped:
                failures.append(f"{method} {path} {case}: {status} {payload}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/merchants", {"name": "Toko \ud800", "email": "s@example.id", "phone": "0811111111"}, "name"),
        ("/promoters", {"name": "\udfff", "email": "s@example.id", "phone": "0811111111"}, "name"),
    ],
)  # fmt: skip
def test_a_lone_surrogate_is_a_400_naming_the_field(api, path, body, field):
    status, error = error_of(api, "POST", path, raw=json.dumps(body).encode())
    assert status == 400 and field in error["fields"], error


def test_bad_webhook_events_and_thresholds_are_400s_naming_the_field(api, worlds):
    key = worlds[0].merchant["api_key"]
    raw = json.dumps({"url": "http://127.0.0.1:9/h", "events": ["\ud800"]}).encode()
    status, error = error_of(api, "POST", "/webhooks", key, raw=raw)
    assert status == 400 and "events.0" in error["fields"], error
    sku = {"sku": "THR-1", "name": "t", "barcode": "THR-1", "weight_g": 1, "length_cm": 1, "width_cm": 1, "height_cm": 1}  # fmt: skip
    for threshold in (2**63, 2**63 - 1, 10**9):
        status, error = error_of(
            api, "POST", "/skus", key, dict(sku, low_stock_threshold=threshold)
        )
        assert status == 400 and "low_stock_threshold" in error["fields"], (threshold, error)
    status, error = error_of(api, "POST", "/orders", key, raw=DEEP.encode())
    assert status == 400 and "_body" in error["fields"]


# --- roles and sign-up ----------------------------------------------------------------------------
def test_money_needs_a_finance_or_the_admin_key(api, worlds):
    world = worlds[0]
    topup = f"/merchants/{world.merchant['merchant_id']}/topups"
    supervisor = api.ok("POST", "/staff", ADMIN_KEY, {"name": "Sari", "role": "supervisor"})
    finance = api.ok("POST", "/staff", ADMIN_KEY, {"name": "Budi", "role": "finance"})
    assert finance["role"] == "finance"
    for key in (world.staff["api_key"], supervisor["api_key"], world.merchant["api_key"]):
        status, error = error_of(api, "POST", topup, key, {"amount": 1000, "reference": "TRF-X"})
        assert status == 403 and error["code"] == "FORBIDDEN", error
        status, _ = error_of(api, "POST", "/admin/storage-billing", key, {"day": "2026-11-01"})
        assert status == 403
    before = api.ok("GET", "/wallet", world.merchant["api_key"])["balance"]
    api.ok("POST", topup, finance["api_key"], {"amount": 25_000, "reference": "TRF-FIN-1"})
    assert api.ok("GET", "/wallet", world.merchant["api_key"])["balance"] == before + 25_000
    api.ok("POST", "/admin/storage-billing", finance["api_key"], {"day": "2026-11-01"})
    # and money people do no floor work
    status, _ = error_of(api, "GET", "/warehouse/pick-lists/next", finance["api_key"])
    assert status == 403


@pytest.mark.parametrize("path", ["/merchants", "/promoters"])
def test_sign_up_does_not_tell_whether_an_email_is_registered(api, path):
    email = f"known.{uuid.uuid4().hex[:8]}@example.id"
    first_body = {"name": "Toko Pertama", "email": email, "phone": "081311112222"}
    first = api.ok("POST", path, body=first_body)
    again = {"name": "Orang Lain", "email": email, "phone": "081399990000"}
    status, second = api.request("POST", path, body=again)
    fresh = {"name": "Toko Baru", "email": f"new.{uuid.uuid4().hex[:8]}@example.id", "phone": "081311112222"}  # fmt: skip
    status_fresh, third = api.request("POST", path, body=fresh)
    assert status == status_fresh == 201
    assert set(second) == set(third) == set(first)
    id_key = "merchant_id" if path == "/merchants" else "promoter_id"
    assert second[id_key] != first[id_key] and second["api_key"] != first["api_key"]
    if path == "/merchants":
        # the first account is untouched, and the new key opens only the new one
        me = api.ok("GET", "/merchants/me", first["api_key"])
        assert (me["merchant_id"], me["name"], me["phone"]) == (
            first["merchant_id"],
            "Toko Pertama",
            "081311112222",
        )
        other = api.ok("GET", "/merchants/me", second["api_key"])
        assert other["merchant_id"] == second["merchant_id"] and other["name"] == "Orang Lain"
        assert api.ok("GET", "/orders", second["api_key"])["orders"] == []


def test_bad_path_and_query_values_are_4xx_not_5xx(api, worlds):
    world = worlds[0]
    m, s = world.merchant["api_key"], world.staff["api_key"]
    bad = ["%00", "%ED%A0%80", "%FF", "99999999999999999999999", "-1", "1e99", "x" * 3000]
    templates = [
        ("/orders?status={v}&limit={v}", m),
        ("/orders/{v}", m),
        ("/skus/{v}", m),
        ("/movements?sku={v}&type={v}&bin={v}&lot={v}&ref={v}&since={v}&until={v}&limit={v}", m),
        ("/reports/slow-moving?days={v}", m),
        ("/inbounds/{v}", m),
        ("/wallet?limit={v}", m),
        ("/webhooks/{v}/deliveries?limit={v}", m),
        ("/track/{v}", None),
        ("/warehouse/returns?status={v}", s),
        ("/warehouse/manifests/{v}", s),
    ]
    failures = []
    for template, key in templates:
        for value in bad:
            path = template.format(v=value)
            status, payload = api.request("GET", path, key)
            shaped = status < 300 or (isinstance(payload, dict) and set(payload) == {"error"})
            if status >= 500 or not shaped:
                failures.append(f"GET {path[:80]}: {status} {str(payload)[:200]}")
    assert not failures, "\n".join(failures)
