"""The promoter page rendered from billing's answers: both languages, rupiah as Indonesians
write it, each commission linked to its fee, the payout form with the session's CSRF token."""

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gateway import promoter_pages
from gateway.auth import Caller
from gateway.dashboard_routes import DashboardRoutes
from gudang_common.errors import Conflict, Unauthorized, ValidationFailed

EARNINGS = {
    "promoter_id": "prm_1",
    "name": "Rina",
    "referral_code": "RINA-ABC123",
    "currency": "IDR",
    "total": 1_250_000,
    "pending": 50_000,
    "available": 1_200_000,
    "per_merchant": [{"merchant_id": "mer_1", "merchant_name": "Batik Sari", "amount": 1_250_000}],
    "per_fee": [],
    "per_month": [{"month": "2026-11", "amount": 1_250_000}],
    "entries": [
        {
            "posting_id": "pick_pack:ord_1:commission",
            "fee_posting_id": "pick_pack:ord_1",
            "merchant_id": "mer_1",
            "fee_type": "pick_pack",
            "amount": 300,
            "status": "available",
            "ref": "ord_1",
            "occurred_at": "2026-11-20T03:00:00.000Z",
        }
    ],
}


class Store:
    def live_session(self, token):
        return {"csrf_token": "csrf-123"} if token == "tok" else None


class Routes(promoter_pages.PromoterPageRoutes, DashboardRoutes):
    billing, store = "billing", Store()

    def __init__(self, caller=Caller("promoter", "prm_1", "ses_1"), refuse=None, earnings=None):
        self.caller, self.refuse, self.calls = caller, refuse, []
        self.earnings, self.config = earnings or EARNINGS, {}

    def _auth(self, request, *roles):
        if self.caller is None:
            raise Unauthorized("signed out")
        return self.caller

    def _https(self, request):
        return False

    def _rpc(self, proxy, method, *args, timeout=None):
        self.calls.append((method, args))
        if method == "request_payout" and self.refuse:
            raise self.refuse
        return {
            "promoter_earnings": self.earnings,
            "list_payouts": {"payouts": []},
            "promoter_bank_account": {"bank_account": None},
        }.get(method, {})


def request(path, method="GET", data=None):
    environ = EnvironBuilder(
        path=path, method=method, data=data, headers={"Cookie": "gudang_session=tok"}
    ).get_environ()
    return Request(environ)


@pytest.mark.parametrize(
    "lang, words",
    [
        (
            "id",
            ("Halo, Rina", "Rp 1.200.000", "Nov 2026", "Ambil dan kemas", "Minta pencairan"),
        ),
        (
            "en",
            ("Hello, Rina", "Rp 1,200,000", "Nov 2026", "Pick and pack", "Request a payout"),
        ),
    ],
)
def test_the_page_in_both_languages(lang, words):
    html = Routes().promoter_page(request(f"/promoter?lang={lang}")).get_data(as_text=True)
    for word in words + ("RINA-ABC123", "Batik Sari", "csrf-123"):
        assert word in html, word
    assert 'href="/promoter/fees/pick_pack%3Aord_1?lang=' in html
    assert "referral_code=RINA-ABC123" in html and "wa.me" in html


def test_a_requested_payout_is_confirmed():
    html = Routes().promoter_page(request("/promoter?done=payout")).get_data(as_text=True)
    assert "Permintaan pencairan terkirim." in html


def test_signed_out_goes_to_sign_in():
    answer = Routes(caller=None).promoter_page(request("/promoter?lang=en"))
    assert answer.status_code == 303 and answer.location.startswith("/signin?lang=en")


def test_a_refused_payout_shows_why():
    refused = Conflict("only 10 is available", {"amount": ["At most the 10 rupiah available now."]})
    routes = Routes(refuse=refused)
    answer = routes.promoter_payout(request("/promoter/payouts", "POST", {"amount": "60.000"}))
    assert answer.status_code == 409
    assert "Maksimal 10 rupiah yang tersedia sekarang." in answer.get_data(as_text=True)
    answer = routes.promoter_payout(
        request("/promoter/payouts?lang=en", "POST", {"amount": "60.000"})
    )
    assert "At most the 10 rupiah available now." in answer.get_data(as_text=True)
    assert ("request_payout", ("prm_1", {"amount": 60_000})) in routes.calls


def test_amounts_as_typed_on_a_phone():
    assert promoter_pages.payout_amount("Rp 50.000") == 50_000
    for bad in ("", "50,5", "-1", "1" * 13, None):
        with pytest.raises(ValidationFailed):
            promoter_pages.payout_amount(bad)
    assert promoter_pages.rupiah(-1500, "id") == "-Rp 1.500"


def test_the_page_has_a_sign_out_form_with_the_csrf_token():
    html = Routes().promoter_page(request("/promoter?lang=en")).get_data(as_text=True)
    form = html[html.index('action="/signout"') :]
    assert 'name="csrf_token" value="csrf-123"' in form[:200] and "Sign out" in form


@pytest.mark.parametrize(
    "lang, says",
    [("id", "belum mencapai minimal Rp 50.000"), ("en", "still below the Rp 50,000 minimum")],
)
def test_below_the_payout_minimum_the_form_says_so_and_cannot_be_sent(lang, says):
    earnings = dict(EARNINGS, available=49_999)
    page = Routes(earnings=earnings).promoter_page(request(f"/promoter?lang={lang}"))
    html = page.get_data(as_text=True)
    assert says in html and 'value="49999"' not in html
    form = html[html.index('class="payout-form"') : html.index("</form>")]
    assert 'value=""' in form and '<button type="submit" disabled>' in form


def test_a_balance_over_the_minimum_is_offered_and_the_setting_is_read():
    html = Routes().promoter_page(request("/promoter?lang=en")).get_data(as_text=True)
    assert 'value="1200000"' in html and "At least Rp 50,000 a payout." in html
    assert '<button type="submit">Request a payout' in html
    assert promoter_pages.payout_minimum({"PAYOUT_MINIMUM": "75000"}) == 75_000
    assert promoter_pages.payout_minimum({}) == promoter_pages.PAYOUT_MINIMUM
