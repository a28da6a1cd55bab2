"""The merchant dashboard's pages, driven through their handlers with an in-memory store and
the other services stubbed: sign-in, CSRF, forms with their errors next to the fields, the
order list's filters and cursor, the import's preview and confirmation, keys, both languages."""

import re
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import mongomock
import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gateway import accounts, dashboard
from gateway.service import GatewayService
from gateway.store import GatewayRepository, order_keys
from gudang_common.clock import iso, utcnow
from gudang_common.errors import ValidationFailed

FIXTURES = Path(__file__).parent / "fixtures" / "imports"
PASSWORD = "kopi susu gula aren"


class Limits:
    trusted = ()

    def __init__(self):
        self.sign_ins = 0

    def sign_in(self, request, email):
        self.sign_ins += 1

    def bad_credential(self, request):
        pass


class Inventory:
    """What the dashboard asks inventory, answered from a dict."""

    def __init__(self):
        self.skus = {}

    def __call__(self, method, merchant_id, *args):
        if method == "register_sku":
            body = args[0]
            if not body.get("name"):
                raise ValidationFailed("bad sku", {"name": ["Missing data for required field."]})
            self.skus[body["sku"]] = body
            return body
        if method == "list_skus":
            return list(self.skus.values())
        if method == "stock_levels":
            return [
                {"sku": s, "available": 2, "on_hand": 3, "reserved": 1, "low_stock": True}
                for s in self.skus
            ]
        if method == "known_skus":
            return sorted(set(args[0]) & set(self.skus))
        if method == "list_inbounds":
            return []
        raise AssertionError(method)


@pytest.fixture
def svc():
    db = mongomock.MongoClient()["t"]
    GatewayRepository.ensure_indexes(db)
    service = GatewayService.__new__(GatewayService)
    service.store = GatewayRepository(db, lambda: None)
    service.config = {"WEBHOOK_ALLOWED_HOSTS": ""}
    service.limits = Limits()
    service.inventory_calls = Inventory()
    service.metrics = SimpleNamespace(order_events=_Counter())

    def rpc(proxy, method, *args, timeout=None):
        if method == "wallet":
            return {"balance": -150_000, "credit_limit": 100_000, "on_hold": True, "entries": []}
        return service.inventory_calls(method, *args)

    service._rpc = rpc
    service.inventory = service.billing = service.packing = None
    return service


class _Counter:
    def labels(self, *_):
        return self

    def inc(self):
        pass


def call(svc, handler, method="GET", path="/", cookies=None, data=None, query=None, **kw):
    builder = EnvironBuilder(method=method, path=path, data=data, query_string=query)
    if cookies:
        builder.headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    request = Request(builder.get_environ())
    response = getattr(svc, handler)(request, **kw)
    return response, response.get_data(as_text=True)


def cookies_of(response):
    jar = {}
    for header in response.headers.getlist("Set-Cookie"):
        name, _, rest = header.partition("=")
        jar[name] = rest.split(";")[0]
    return jar


def signed_in(svc, email="siti@example.id"):
    svc._new_merchant(
        {"name": "Toko Siti", "email": email, "phone": "081234567890", "password": PASSWORD},
        with_key=False,
    )
    form, _ = call(svc, "signin_page")
    jar = cookies_of(form)
    data = {"email": email, "password": PASSWORD, "csrf_token": jar["gudang_form"]}
    response, _ = call(svc, "signin", "POST", "/signin", jar, data)
    assert response.status_code == 303 and response.location.endswith("/dashboard")
    jar.update(cookies_of(response))
    session = svc.store.live_session(jar[accounts.SESSION_COOKIE])
    return jar, session["csrf_token"], session["principal_id"]


def test_signing_in_gives_the_session_cookie_and_one_error_for_any_wrong_guess(svc):
    jar, csrf, merchant_id = signed_in(svc)
    assert merchant_id.startswith("mer_")
    form, _ = call(svc, "signin_page")
    token = cookies_of(form)["gudang_form"]
    for email, password in (("siti@example.id", "wrong password!"), ("nobody@x.id", PASSWORD)):
        data = {"email": email, "password": password, "csrf_token": token}
        response, html = call(svc, "signin", "POST", "/signin", {"gudang_form": token}, data)
        assert response.status_code == 401 and "Email atau kata sandi salah." in html
        assert accounts.SESSION_COOKIE not in cookies_of(response)
    assert svc.limits.sign_ins == 3  # the same limit as POST /api/v1/sessions
    # without the form token (another site's form): refused, no guess counted
    data = {"email": "siti@example.id", "password": PASSWORD}
    response, _ = call(svc, "signin", "POST", "/signin", {}, data)
    assert response.status_code == 403 and svc.limits.sign_ins == 3


def test_a_page_without_a_session_sends_the_browser_to_sign_in(svc):
    response, _ = call(svc, "dashboard_orders", path="/dashboard/orders")
    assert response.status_code == 303
    assert response.location.endswith("/signin?next=/dashboard/orders")
    assert dashboard.safe_next("https://evil.example/") == "/dashboard"
    assert dashboard.safe_next("//evil.example") == "/dashboard"


def test_a_promoter_is_sent_to_its_own_page(svc):
    token, session = accounts.new_session("promoter", "prm_1", utcnow())
    svc.store.add_session(session)
    response, _ = call(svc, "dashboard_home", cookies={accounts.SESSION_COOKIE: token})
    assert response.status_code == 303 and response.location.endswith("/promoter")
    response, _ = call(svc, "landing", cookies={accounts.SESSION_COOKIE: token})
    assert response.status_code == 303 and response.location.endswith("/promoter")


def test_sign_up_shows_the_schemas_errors_next_to_their_fields(svc):
    form, _ = call(svc, "signup_page")
    token = cookies_of(form)["gudang_form"]
    data = {
        "name": "",
        "email": "not-an-email",
        "phone": "12",
        "password": "short",
        "csrf_token": token,
    }
    response, html = call(svc, "signup", "POST", "/signup", {"gudang_form": token}, data)
    assert response.status_code == 400
    for field in ("name", "email", "phone"):
        assert f'id="e-{field}"' in html, field
    assert "not-an-email" in html and "short" not in html  # the password is not echoed
    data = dict(data, name="Toko Budi", email="budi@example.id", phone="0813-1111-2222")
    response, html = call(svc, "signup", "POST", "/signup", {"gudang_form": token}, data)
    assert response.status_code == 400 and 'id="e-password"' in html  # policy: 10 characters
    data["password"] = PASSWORD
    response, _ = call(svc, "signup", "POST", "/signup", {"gudang_form": token}, data)
    assert response.status_code == 303 and response.location.endswith("/signin?done=signed_up")
    merchant = svc.store.accounts_by_email("merchants", "budi@example.id")[0]
    assert svc.store.live_key_count(merchant["_id"]) == 0  # a key is made when a tool needs one


def test_every_form_needs_the_sessions_csrf_token(svc):
    jar, csrf, merchant_id = signed_in(svc)
    response, html = call(
        svc, "dashboard_create_key", "POST", "/dashboard/keys", jar, {"name": "x"}
    )
    assert response.status_code == 403 and "Muat ulang" in html
    assert svc.store.live_key_count(merchant_id) == 0
    response, html = call(
        svc,
        "dashboard_create_key",
        "POST",
        "/dashboard/keys",
        jar,
        {"name": "Toko online", "csrf_token": csrf},
    )
    assert response.status_code == 200
    key = re.search(r'id="new-key">([^<]+)<', html).group(1)
    assert key.startswith("mk_") and svc.store.principal(key) is not None
    key_id = re.findall(r"/dashboard/keys/(key_[0-9a-f]+)/revoke", html)[0]
    response, _ = call(
        svc,
        "dashboard_revoke_key",
        "POST",
        f"/dashboard/keys/{key_id}/revoke",
        jar,
        {"csrf_token": csrf},
        key_id=key_id,
    )
    assert response.status_code == 303 and response.location.endswith("?done=revoked")
    assert svc.store.principal(key) is None
    _, html = call(svc, "dashboard_keys", path="/dashboard/keys", cookies=jar)
    assert "Toko online" in html and "dicabut" in html and key not in html


def test_a_new_order_by_form_lands_on_its_page_and_bad_fields_are_named(svc):
    jar, csrf, merchant_id = signed_in(svc)
    svc.inventory_calls.skus["KAOS-M"] = {"sku": "KAOS-M", "name": "Kaos"}
    bad = {
        "csrf_token": csrf,
        "external_id": "WA-0001",
        "channel": "whatsapp",
        "recipient.name": "Ani",
        "recipient.phone": "0812",
        "recipient.address": "Jl. Merdeka No. 1",
        "recipient.city": "Bandung",
        "recipient.postal_code": "401",
        "lines.1.sku": "NOPE",
        "lines.1.qty": "dua",
    }
    response, html = call(svc, "dashboard_create_order", "POST", "/dashboard/orders", jar, bad)
    assert response.status_code == 400
    for field in ("recipient.phone", "recipient.postal_code", "lines.1.qty"):
        assert f'id="e-{field}"' in html, field
    assert 'value="Jl. Merdeka No. 1"' in html  # what was typed stays
    nul = dict(bad, external_id="WA\x000001")
    response, html = call(svc, "dashboard_create_order", "POST", "/dashboard/orders", jar, nul)
    assert response.status_code == 400 and 'id="e-external_id"' in html
    good = dict(bad, **{"recipient.phone": "0812-9999-8888", "recipient.postal_code": "40162"})
    good.update({"lines.1.qty": "2", "lines.1.sku": "NOPE"})
    response, html = call(svc, "dashboard_create_order", "POST", "/dashboard/orders", jar, good)
    assert response.status_code == 422 and 'id="e-lines.1.sku"' in html
    good["lines.1.sku"] = "KAOS-M"
    response, _ = call(svc, "dashboard_create_order", "POST", "/dashboard/orders", jar, good)
    assert response.status_code == 303 and "?done=created" in response.location
    order_id = response.location.split("/")[-1].split("?")[0]
    response, html = call(
        svc, "dashboard_order", path=f"/dashboard/orders/{order_id}", cookies=jar, order_id=order_id
    )
    assert response.status_code == 200 and "WA-0001" in html and "WIB" in html
    assert "Pesanan diterima" in html and "Batalkan pesanan" in html
    assert svc.store.get_order(order_id)["recipient"]["phone"] == "081299998888"


def _order(svc, merchant_id, n, at, status="received", channel="shopee"):
    doc = {
        "_id": f"ord_{n:04d}",
        "merchant_id": merchant_id,
        "external_id": f"SHP-{n:04d}",
        "channel": channel,
        "status": status,
        "received_at": iso(at),
        "recipient": {"name": "Ani", "city": "Bandung"},
        "awb": None,
    }
    svc.store.db.orders.insert_one(doc | order_keys(doc))


def test_the_order_list_filters_in_wib_and_pages_by_cursor(svc):
    jar, csrf, merchant_id = signed_in(svc)
    start = utcnow().replace(hour=1, minute=0, second=0, microsecond=0) - timedelta(days=3)
    for n in range(45):
        _order(
            svc, merchant_id, n, start + timedelta(minutes=n), "delivered" if n % 3 else "received"
        )
    _order(svc, "mer_other", 99, start, "received")
    seen, url = [], "/dashboard/orders"
    while url:
        path, _, query = url.partition("?")
        response, html = call(svc, "dashboard_orders", path=path, cookies=jar, query=query)
        assert response.status_code == 200
        seen += re.findall(r'href="/dashboard/orders/(ord_\d+)"', html)
        found = re.search(r'href="([^"]+)" rel="next"', html)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert seen == [f"ord_{n:04d}" for n in reversed(range(45))]  # newest first, each once
    _, html = call(
        svc, "dashboard_orders", path="/dashboard/orders", cookies=jar, query="status=received"
    )
    assert len(re.findall(r'href="/dashboard/orders/ord_', html)) == 15
    _, html = call(
        svc, "dashboard_orders", path="/dashboard/orders", cookies=jar, query="external_id=SHP-0042"
    )
    assert re.findall(r'href="/dashboard/orders/(ord_\d+)"', html) == ["ord_0042"]
    response, html = call(
        svc,
        "dashboard_orders",
        path="/dashboard/orders",
        cookies=jar,
        query="from=24-11-2026&status=x",
    )
    assert response.status_code == 400 and 'id="e-from"' in html and 'id="e-status"' in html


def test_wib_days_bound_the_list_in_utc():
    filters, _, errors = dashboard.order_filters({"from": "2026-11-24", "to": "2026-11-24"})
    assert errors == {}
    assert {k: iso(v) for k, v in filters.items()} == {
        "since": "2026-11-23T17:00:00.000Z",
        "until": "2026-11-24T17:00:00.000Z",
    }


def test_an_import_is_previewed_with_line_numbers_then_applied_once(svc):
    jar, csrf, _ = signed_in(svc)
    for sku in ("BTK-000", "BTK-001"):
        svc.inventory_calls.skus[sku] = {"sku": sku, "name": sku}
    data = {
        "csrf_token": csrf,
        "format": "auto",
        "file": (open(FIXTURES / "shopee_orders.xlsx", "rb"), "shopee_orders.xlsx"),
    }
    response, html = call(svc, "dashboard_preview_import", "POST", "/dashboard/imports", jar, data)
    assert response.status_code == 200, html
    assert "Baris 6" in html and "Baris 7" in html and "Buat 3 pesanan" in html
    assert svc.store.db.orders.count_documents({}) == 0
    upload_id = re.search(r'action="/dashboard/imports/(upl_[0-9a-f]+)"', html).group(1)
    path = f"/dashboard/imports/{upload_id}"
    apply = {"csrf_token": csrf}
    response, html = call(
        svc, "dashboard_apply_import", "POST", path, jar, apply, upload_id=upload_id
    )
    assert response.status_code == 200 and svc.store.db.orders.count_documents({}) == 3
    # a second confirmation of the same preview finds it gone; nothing doubles
    response, html = call(
        svc, "dashboard_apply_import", "POST", path, jar, apply, upload_id=upload_id
    )
    assert response.status_code == 404 and svc.store.db.orders.count_documents({}) == 3
    assert svc.store.db.import_chunks.count_documents({}) == 0
    # the same file again: three already there, nothing to confirm and nothing kept
    data["file"] = (open(FIXTURES / "shopee_orders.xlsx", "rb"), "shopee_orders.xlsx")
    response, html = call(svc, "dashboard_preview_import", "POST", "/dashboard/imports", jar, data)
    assert response.status_code == 200 and "Tidak ada pesanan baru" in html
    assert "/dashboard/imports/upl_" not in html
    assert svc.store.db.import_uploads.count_documents({}) == 0


def test_pages_speak_english_when_asked_and_remember_it(svc):
    jar, csrf, _ = signed_in(svc)
    response, html = call(
        svc, "dashboard_wallet", path="/dashboard/wallet", cookies=jar, query="lang=en"
    )
    assert 'lang="en"' in html and "Account on hold" in html and "-Rp 150.000" in html
    assert cookies_of(response)[dashboard.LANG_COOKIE] == "en"
    jar[dashboard.LANG_COOKIE] = "en"
    _, html = call(svc, "dashboard_wallet", path="/dashboard/wallet", cookies=jar)
    assert 'lang="en"' in html
    jar.pop(dashboard.LANG_COOKIE)
    _, html = call(svc, "dashboard_wallet", path="/dashboard/wallet", cookies=jar)
    assert 'lang="id"' in html and "Akun ditahan" in html


def test_every_dashboard_string_is_in_both_languages():
    from gateway import i18n

    table = i18n.strings()
    templates = Path(__file__).parent.parent / "gateway" / "templates" / "dashboard"
    used = set()
    for page in templates.glob("*.html"):
        used |= set(re.findall(r"""t\[["']([a-z_.]+)["']\]""", page.read_text()))
    assert used - set(table) == set()


def test_a_webhook_to_a_private_address_is_refused_beside_its_field(svc):
    jar, csrf, merchant_id = signed_in(svc)
    path = "/dashboard/webhooks"
    data = {"csrf_token": csrf, "url": "http://169.254.169.254/latest/meta-data"}
    response, html = call(svc, "dashboard_add_webhook", "POST", path, jar, data)
    assert response.status_code == 400 and 'id="e-url"' in html
    data = {"csrf_token": csrf, "url": "https://93.184.216.34/hook", "events": "parcel_delivered"}
    response, html = call(svc, "dashboard_add_webhook", "POST", path, jar, data)
    assert response.status_code == 200 and "whsec_" in html  # the secret, shown this once
    hook_id = re.search(r"/dashboard/webhooks/(wh_[0-9a-f]+)/remove", html).group(1)
    response, html = call(svc, "dashboard_webhooks", path=path, cookies=jar)
    assert "whsec_" not in html and "93.184.216.34" in html
    response, _ = call(
        svc,
        "dashboard_remove_webhook",
        "POST",
        f"{path}/{hook_id}/remove",
        jar,
        {"csrf_token": csrf},
        webhook_id=hook_id,
    )
    assert response.status_code == 303 and not svc.store.db.webhooks.find_one()["active"]


def test_sign_in_over_the_limit_is_a_page_with_a_429_and_a_promoter_goes_to_its_page(svc):
    from gateway import ratelimit

    def refuse(request, email):
        verdict = SimpleNamespace(limit=10, headers=lambda now: {"Retry-After": "60"})
        raise ratelimit.refusal(verdict)

    form, _ = call(svc, "signin_page")
    token = cookies_of(form)["gudang_form"]
    data = {"email": "a@b.id", "password": "whatever at all", "csrf_token": token}
    svc.limits.sign_in = refuse
    response, html = call(svc, "signin", "POST", "/signin", {"gudang_form": token}, data)
    assert response.status_code == 429 and "Coba lagi dalam 60 detik." in html
    response, html = call(
        svc, "signin", "POST", "/signin", {"gudang_form": token}, data, query={"lang": "en"}
    )
    assert response.status_code == 429 and "Try again in 60 seconds." in html

    svc.limits = Limits()
    svc._register(
        "promoter",
        {"_id": "prm_1", "name": "Rina", "email": "rina@example.id", "referral_code": "RINA-1"},
        promoter_id="prm_1",
        referral_code="RINA-1",
    )
    svc.store.set_password_hash("promoters", "prm_1", accounts.hash_password(PASSWORD))
    data = {
        "email": "rina@example.id",
        "password": PASSWORD,
        "role": "promoter",
        "csrf_token": token,
    }
    response, _ = call(svc, "signin", "POST", "/signin", {"gudang_form": token}, data)
    assert response.status_code == 303 and response.location.endswith("/promoter")


def test_an_inbound_by_form_and_signing_out(svc):
    jar, csrf, _ = signed_in(svc)
    created = []
    svc.inventory_calls = lambda method, merchant_id, *args: created.append(args) or {}
    data = {"csrf_token": csrf, "lines.0.sku": "KAOS-M", "lines.0.qty": "1.200", "note": "Truk"}
    response, _ = call(svc, "dashboard_create_inbound", "POST", "/dashboard/inbounds", jar, data)
    assert response.status_code == 303 and response.location.endswith("?done=inbound")
    assert created == [({"lines": [{"sku": "KAOS-M", "qty": 1200}], "note": "Truk"},)]
    response, _ = call(svc, "signout", "POST", "/signout", jar, {"csrf_token": csrf})
    assert response.status_code == 303 and response.location.endswith("/")
    assert svc.store.live_session(jar[accounts.SESSION_COOKIE]) is None


def test_messages_with_values_are_translated_with_their_values():
    from gateway import i18n

    assert i18n.message("Not a whole number: '1,5'.", "id") == "Bukan bilangan bulat: '1,5'."
    assert i18n.message("Missing Kode Pos.", "id") == "Kode Pos kosong."
    assert i18n.message("Missing Kode Pos.", "en") == "Missing Kode Pos."
    assert i18n.message("A message nobody translated.", "id") == "A message nobody translated."


def test_a_service_that_does_not_answer_is_a_page_saying_so_not_a_crash(svc):
    from gudang_common.errors import ServiceUnavailable

    jar, csrf, _ = signed_in(svc)

    def down(method, merchant_id, *args):
        raise ServiceUnavailable("inventory is not running")

    svc.inventory_calls = down
    response, html = call(svc, "dashboard_skus", path="/dashboard/skus", cookies=jar)
    assert response.status_code == 503 and "Layanan inventory sedang tidak berjalan" in html
    assert 'href="/dashboard"' in html


def test_a_promoter_signs_out_from_its_page_with_the_csrf_token(svc):
    token, session = accounts.new_session("promoter", "prm_1", utcnow())
    svc.store.add_session(session)
    jar = {accounts.SESSION_COOKIE: token}
    response, html = call(svc, "signout", "POST", "/signout", jar, {"csrf_token": "wrong"})
    assert response.status_code == 403 and "Muat ulang" in html
    assert svc.store.live_session(token) is not None  # another site's form ends nothing
    data = {"csrf_token": session["csrf_token"]}
    response, _ = call(svc, "signout", "POST", "/signout", jar, data)
    assert response.status_code == 303 and response.location.endswith("/")
    assert svc.store.live_session(token) is None
    assert accounts.SESSION_COOKIE in cookies_of(response)  # the cookie is cleared
    response, _ = call(svc, "signout", "POST", "/signout", jar, data)  # already out
    assert response.status_code == 303 and response.location.endswith("/")


def test_the_share_link_fills_in_the_referral_code_escaped_and_cut_to_the_schema(svc):
    _, html = call(svc, "signup_page", path="/signup", query={"referral_code": " RINA-ABC123 "})
    assert 'name="referral_code" type="text" value="RINA-ABC123"' in html
    _, html = call(svc, "signup_page", path="/signup", query={"referral_code": '"><script>x'})
    assert "<script>x" not in html and "&#34;&gt;&lt;script&gt;x" in html
    _, html = call(svc, "signup_page", path="/signup", query={"referral_code": "A" * 50})
    assert 'value="' + "A" * 20 + '"' in html and "A" * 21 not in html
    _, html = call(svc, "signup_page", path="/signup")
    assert 'name="referral_code" type="text" value=""' in html


def test_the_rate_limit_payout_upload_and_webhook_refusals_read_in_both_languages():
    from gateway import i18n

    limit = "Over 10 in the window; retry in 60 s."
    assert i18n.message(limit, "id") == "Terlalu banyak percobaan (10). Coba lagi dalam 60 detik."
    assert i18n.message(limit, "en") == "Too many tries (10). Try again in 60 seconds."
    assert i18n.message("At least 50000 rupiah.", "id") == "Minimal 50000 rupiah."
    assert i18n.message("At most the 10 rupiah available now.", "id").startswith("Maksimal 10")
    assert i18n.message("Whole rupiah.", "en") == "Whole rupiah, e.g. 50,000."
    assert i18n.message("At most 5000 rows per file; split it.", "id").startswith("Maksimal 5000")
    assert i18n.message("At most 20 MiB; split the export.", "id") == (
        "Maksimal 20 MiB; bagi file ekspornya."
    )
    reason = "10.0.0.1 is private"
    assert (
        i18n.message(f"Not a public address: {reason}.", "id") == f"Bukan alamat publik: {reason}."
    )
