"""The buyer's tracking view and page: only the minimum, both languages, WIB, safe headers."""

import json
import re

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gateway import i18n, pages
from gateway.tracking import normalise_awb, public_view

PUBLIC_FIELDS = "awb courier courier_name status status_label destination_city timeline".split()
SECRET_BITS = (
    "Siti Rahayu",
    "+6281234567890",
    "Jl. Braga",
    "40115",
    "125000",
    "33000",
    "pl_7f3a",
    "ev_",
    "mer_1",
    "ord_1",
    "KAOS-M",
    "3000",
)


def order_doc(status="delivered"):
    """A gateway order as the read model holds it, details and all."""

    def step(event, at, **detail):
        return {"event": event, "event_id": f"ev_{event}", "at": at, "detail": detail}

    return {
        "_id": "ord_1",
        "merchant_id": "mer_1",
        "external_id": "INV/2026/11/0042",
        "status": status,
        "courier": "jne",
        "awb": "JN583920174460",
        "cod_amount": 125000,
        "shipping_cost": 33000,
        "recipient": {
            "name": "Siti Rahayu",
            "phone": "+6281234567890",
            "address": "Jl. Braga No. 1",
            "city": "Bandung",
            "postal_code": "40115",
        },
        "lines": [{"sku": "KAOS-M", "qty": 2}],
        "timeline": [
            step("order_received", "2026-11-23T02:00:00.000Z"),
            step("order_allocated", "2026-11-23T02:00:01.000Z"),
            step("order_picked", "2026-11-23T03:10:00.000Z", pick_list_id="pl_7f3a"),
            step(
                "order_packed",
                "2026-11-23T03:20:00.000Z",
                package={"weight_g": 3000, "length_cm": 20, "width_cm": 15, "height_cm": 10},
            ),
            step(
                "parcel_booked",
                "2026-11-23T03:20:02.000Z",
                awb="JN583920174460",
                courier="jne",
                chargeable_weight_g=3000,
                shipping_cost=33000,
            ),
            step("parcel_dispatched", "2026-11-23T08:00:00.000Z", awb="JN583920174460"),
            step("parcel_in_transit", "2026-11-23T15:00:00.000Z", awb="JN583920174460"),
            step(
                "parcel_delivered",
                "2026-11-24T04:30:00.000Z",
                awb="JN583920174460",
                cod_amount=125000,
            ),
        ],
    }


def test_the_public_view_holds_the_steps_the_courier_and_the_city_only():
    view = public_view(order_doc())
    assert set(view) == set(PUBLIC_FIELDS)
    assert view["destination_city"] == "Bandung" and view["courier_name"] == "JNE"
    assert view["status_label"] == "Paket diterima pembeli"
    assert all(set(step) == {"event", "label", "at", "at_wib"} for step in view["timeline"])
    assert view["timeline"][-1]["at_wib"] == "2026-11-24 11:30:00 WIB"
    text = json.dumps(view)
    for bit in SECRET_BITS:
        assert bit not in text, bit


def test_the_public_view_in_english():
    view = public_view(order_doc("in_transit"), "en")
    assert view["status_label"] == "On the way"
    assert view["timeline"][0]["label"] == "Order received"


@pytest.mark.parametrize(
    "typed,awb",
    [
        ("JN583920174460", "JN583920174460"),
        (" jn 5839-2017-4460 ", "JN583920174460"),
        ("JN58392017446<script>", None),
        ("../../etc/passwd", None),
        ("", None),
        ("J" * 40, None),
    ],
)
def test_awbs_as_buyers_type_them(typed, awb):
    assert normalise_awb(typed) == awb


def test_every_string_is_in_both_languages_and_times_read_as_wib():
    assert all(set(texts) == {"id", "en"} for texts in i18n.strings().values())
    assert all(i18n.text(f"event.{e}", "en") for e in ("order_received", "parcel_delivered"))
    assert i18n.when("2026-11-23T20:30:00.000Z", "id") == "24 Nov 2026, 03.30 WIB"
    assert i18n.when("2026-08-17T03:05:00.000Z", "en") == "17 Aug 2026, 10:05 WIB"
    assert i18n.when("2026-08-17T03:05:00.000Z", "id") == "17 Agu 2026, 10.05 WIB"
    assert i18n.lang_of("en") == "en" and i18n.lang_of("fr") == "id" and i18n.lang_of(None) == "id"


def _visible_text(html):
    body = html.split("<body", 1)[1]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


@pytest.mark.parametrize("lang", ["id", "en"])
def test_the_tracking_page_shows_the_minimum_with_safe_headers(lang):
    view = public_view(order_doc(), lang)
    resp = pages.render("track.html", lang, path="/track/JN583920174460", view=view)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert f'<html lang="{lang}">' in html
    assert "<script" not in html and "style=" not in html and "http" not in html.split("<body")[1]
    text = _visible_text(html)
    assert "JN583920174460" in text and "Bandung" in text and "JNE" in text
    assert i18n.text("event.parcel_delivered", lang) in text
    assert ("24 Nov 2026, 11.30 WIB" if lang == "id" else "24 Nov 2026, 11:30 WIB") in text
    for bit in SECRET_BITS:
        assert bit not in html, bit
    other = "en" if lang == "id" else "id"
    assert f'href="/track/JN583920174460?lang={other}"' in html
    assert len(html.encode()) < 8000


def test_the_not_found_page_escapes_what_was_asked():
    resp = pages.render("not_found.html", "id", 404, "/track/x", asked="<b>JN1</b>")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 404 and "Resi tidak ditemukan" in html
    assert "<b>JN1</b>" not in html and "&lt;b&gt;JN1&lt;/b&gt;" in html


def _request(path, **headers):
    return Request(EnvironBuilder(path=path, headers=headers).get_environ())


def test_static_files_are_cached_by_version_and_revalidated_by_etag():
    css = pages.static_file("gudang.css")
    fresh = pages.static_response(_request(css.url), "gudang.css")
    assert fresh.status_code == 200 and fresh.mimetype == "text/css"
    assert "immutable" in fresh.headers["Cache-Control"]
    bare = pages.static_response(_request("/static/gudang.css"), "gudang.css")
    assert "no-cache" in bare.headers["Cache-Control"]
    again = pages.static_response(
        _request("/static/gudang.css", **{"If-None-Match": bare.headers["ETag"]}), "gudang.css"
    )
    assert again.status_code == 304 and not again.get_data()
    assert pages.static_response(_request("/static/x"), "../service.py") is None
    assert pages.static_response(_request("/static/x"), "tablet.html") is None


def test_a_browser_that_takes_gzip_gets_the_stylesheet_compressed():
    import gzip

    css = pages.static_file("gudang.css")
    packed = pages.static_response(_request(css.url, **{"Accept-Encoding": "gzip, br"}), css.name)
    assert packed.headers["Content-Encoding"] == "gzip" and packed.headers["Vary"]
    assert gzip.decompress(packed.get_data()) == css.body
    assert len(packed.get_data()) < len(css.body) / 3
    plain = pages.static_response(_request(css.url), css.name)
    assert "Content-Encoding" not in plain.headers and plain.get_data() == css.body
    # a file that gzip does not shrink goes as it is
    icon = pages.static_file("favicon.svg")
    if len(icon.gzipped) >= len(icon.body):
        asked = _request(icon.url, **{"Accept-Encoding": "gzip"})
        assert "Content-Encoding" not in pages.static_response(asked, icon.name).headers


def _tablet_scripts():
    """tablet.js and its screens' files, in the order the page loads them."""
    html = (pages.STATIC / "tablet.html").read_text(encoding="utf-8")
    names = re.findall(r'<script src="/static/([\w.-]+)" defer>', html)
    return names, "".join((pages.STATIC / n).read_text(encoding="utf-8") for n in names)


def test_every_string_the_tablet_asks_for_is_in_the_table():
    html = (pages.STATIC / "tablet.html").read_text(encoding="utf-8")
    html += _tablet_scripts()[1]
    asked = set(re.findall(r'data-t="(\w+)"', html)) | set(re.findall(r'\bt\("(\w+)"\)', html))
    assert len(asked) > 30
    assert sorted(k for k in asked if f"tablet.{k}" not in i18n.strings()) == []
    assert 'href="/static/gudang.css"' in html


def test_the_tablet_runs_under_the_same_policy_no_inline_script_or_style():
    html = (pages.STATIC / "tablet.html").read_text(encoding="utf-8")
    names, script = _tablet_scripts()
    assert "<style" not in html and "style=" not in html and "style=" not in script
    assert names[0] == "tablet.js" and all(n.startswith("tablet") for n in names)
    # every script is a file /static/ serves; none inline
    assert all(pages.static_file(n) for n in names)
    assert len(re.findall(r"<script[^>]*>", html)) == len(names)


def test_the_tracking_url_uses_the_public_address_when_set():
    from gateway.service import GatewayService

    class Configured:
        config = {"PUBLIC_BASE_URL": "https://lacak.example.id/"}

    class Unset:
        config = {"PUBLIC_BASE_URL": ""}

    request = Request(
        EnvironBuilder(path="/api/v1/orders/o", base_url="http://gw:8000/").get_environ()
    )
    url = GatewayService._tracking_url
    assert (
        url(Configured(), request, "JN583920174460")
        == "https://lacak.example.id/track/JN583920174460"
    )
    assert url(Unset(), request, "JN583920174460") == "http://gw:8000/track/JN583920174460"
    assert url(Configured(), request, None) is None
