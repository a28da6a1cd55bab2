"""A buyer follows a parcel by its AWB through the real processes: the JSON and the page show
the steps, the courier and the city, nothing else; AWBs cannot be walked; a phone renders it.

The phone's screenshots go to a temporary directory; with UPDATE_SCREENSHOTS=1 they replace
the ones in docs/screenshots (a random AWB and the time make every run's pictures differ,
so an ordinary test run must not touch tracked files)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from scripts.simulate import deliver, eventually, order_body, register_world, work_pick_lists
from tests.conftest import ADMIN_KEY, COURIER_SECRET

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
PUBLIC_KEYS = {
    "awb",
    "courier",
    "courier_name",
    "status",
    "status_label",
    "destination_city",
    "timeline",
}


@pytest.fixture(scope="module")
def delivered(api):
    """One COD order taken all the way to the buyer's door; (world, order, awb)."""
    world = register_world(api, ADMIN_KEY, skus=1, units=5)
    key = world.merchant["api_key"]
    body = order_body(world, 0, cod_amount=189_000)
    order_id = api.ok("POST", "/orders", key, body)["order_id"]
    eventually(lambda: api.ok("GET", f"/orders/{order_id}", key)["status"] == "allocated")
    work_pick_lists(api, world.staff["api_key"])
    awb = eventually(lambda: api.ok("GET", f"/orders/{order_id}", key)["awb"], what="AWB")
    deliver(api, COURIER_SECRET, "jne", awb)
    eventually(
        lambda: api.ok("GET", f"/orders/{order_id}", key)["status"] == "delivered",
        what="delivered",
    )
    return world, api.ok("GET", f"/orders/{order_id}", key), body, awb


def _secrets_of(order, body):
    """What must never reach a buyer's screen: who, where exactly, money, package, ids."""
    recipient = body["recipient"]
    parcel_booked = next(s for s in order["timeline"] if s["event"] == "parcel_booked")
    return [
        recipient["name"],
        recipient["phone"],
        recipient["address"],
        recipient["postal_code"],
        "189000",
        str(order["shipping_cost"]),
        str(parcel_booked["detail"]["chargeable_weight_g"]),
        order["order_id"],
        order["external_id"],
        body["lines"][0]["sku"],
        "event_id",
        "pick_list_id",
        "merchant_id",
    ] + [step["event_id"] for step in order["timeline"]]


def test_the_tracking_json_holds_only_the_minimum(api, delivered):
    world, order, body, awb = delivered
    public = api.ok("GET", f"/track/{awb}")
    assert set(public) == PUBLIC_KEYS
    assert public["awb"] == awb and public["courier"] == "jne" and public["courier_name"] == "JNE"
    assert public["status"] == "delivered" and public["status_label"] == "Paket diterima pembeli"
    assert public["destination_city"] == "Bandung"
    events = [step["event"] for step in public["timeline"]]
    assert events[0] == "order_received" and events[-1] == "parcel_delivered"
    assert {"order_packed", "parcel_booked", "parcel_dispatched", "parcel_in_transit"} <= set(
        events
    )
    for step in public["timeline"]:
        assert set(step) == {"event", "label", "at", "at_wib"}
        assert step["at"].endswith("Z") and step["at_wib"].endswith(" WIB")
    text = json.dumps(public, ensure_ascii=False)
    for secret in _secrets_of(order, body):
        assert secret not in text, secret

    english = api.ok("GET", f"/track/{awb.lower()}?lang=en")  # typed in lower case
    assert english["status_label"] == "Delivered to the buyer"
    assert english["timeline"][0]["label"] == "Order received"

    # the merchant's own view still has everything, and the link to send the buyer
    assert (
        order["cod_amount"] == 189_000 and order["recipient"]["name"] == body["recipient"]["name"]
    )
    base = api.base.rsplit("/api/v1", 1)[0]
    assert order["tracking_url"] == f"{base}/track/{awb}"


def test_the_tracking_page_is_html_with_the_minimum_and_safe_headers(api, delivered):
    world, order, body, awb = delivered
    base = api.base.rsplit("/api/v1", 1)[0]
    resp = requests.get(f"{base}/track/{awb}", timeout=10)
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/html")
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert awb in resp.text and "Bandung" in resp.text and "Paket diterima pembeli" in resp.text
    for secret in _secrets_of(order, body):
        assert secret not in resp.text, secret

    missing = requests.get(f"{base}/track/JN000000000001", timeout=10)
    assert missing.status_code == 404 and "Resi tidak ditemukan" in missing.text
    assert missing.headers["Content-Type"].startswith("text/html")
    malformed = requests.get(f"{base}/track/%3Cscript%3E?lang=en", timeout=10)
    assert malformed.status_code == 404 and "Tracking number not found" in malformed.text
    assert "<script>" not in malformed.text

    search = requests.get(f"{base}/track", params={"awb": f" {awb.lower()} "}, timeout=10)
    assert search.status_code == 200 and search.url == f"{base}/track/{awb}?lang=id"

    css = requests.get(f"{base}/static/gudang.css", timeout=10)
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
    assert requests.get(f"{base}/static/tablet.html", timeout=10).status_code == 404


def test_the_json_error_for_an_unknown_or_malformed_awb(api, delivered):
    for awb in ("JN000000000001", "not-an-awb!", "x" * 200):
        status, payload = api.request("GET", f"/track/{awb}")
        assert status == 404 and payload["error"]["code"] == "NOT_FOUND"
        assert list(payload["error"]["fields"]) == ["awb"]


def test_walking_awbs_finds_nothing(api, delivered):
    world, order, body, awb = delivered
    serial = int(awb[2:])
    walked = [f"JN{n:012d}" for n in range(1, 41)]  # from the first serial up
    walked += [f"JN{n:012d}" for n in range(serial - 20, serial + 21) if n != serial]
    found = [a for a in walked if api.request("GET", f"/track/{a}")[0] != 404]
    assert found == []


def test_a_buyer_opens_the_tracking_page_on_a_phone(api, delivered, tmp_path):
    world, order, body, awb = delivered
    shots = SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path
    base = api.base.rsplit("/api/v1", 1)[0]
    driver = Path(__file__).with_name("tracking_driver.py")
    run = subprocess.run(
        [sys.executable, str(driver), base, awb, str(shots)],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])

    for lang, words in (
        ("id", ("Lacak paket", "Paket diterima pembeli", "Kota tujuan", "Riwayat paket", "WIB")),
        ("en", ("Track your parcel", "Delivered to the buyer", "Destination city", "WIB")),
    ):
        seen = report[lang]
        assert seen["status"] == 200 and seen["lang"] == lang
        for word in words + (awb, "JNE", "Bandung"):
            assert word in seen["text"], (lang, word)
        for secret in _secrets_of(order, body):
            assert secret not in seen["text"], (lang, secret)
        assert seen["scroll_width"] <= 360  # nothing wider than the phone
        assert seen["font_families"] == []  # system fonts only
        assert all(r["url"].startswith(report["origin"]) for r in seen["requests"])
        assert sum(r["bytes"] for r in seen["requests"]) < 20_000
        assert not any(r["type"] == "script" for r in seen["requests"])
    assert report["id"]["switch"] == "English" and report["en"]["switch"] == "Bahasa Indonesia"
    assert report["after_switch"].endswith(f"/track/{awb}?lang=en")
    assert (
        report["missing"]["status"] == 404 and "Resi tidak ditemukan" in report["missing"]["text"]
    )
    assert report["searched"]["awb"] == awb
    for name in ("tracking-id.png", "tracking-en.png", "tracking-404.png"):
        assert (shots / name).stat().st_size > 10_000
