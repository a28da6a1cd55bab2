"""The promoter's page: the code and link to share, what the promoter earned (per month, per
merchant, each commission linked to the fee that earned it), its payouts, and a form to ask
for one.

Signed in with the session cookie of `POST /api/v1/sessions` (or the sign-in page); the
payout form carries the session's CSRF token as a field. A promoter sees its referred
merchants by name and its own commission, nothing else of theirs; a merchant's session
is sent to sign in as a promoter.
"""

from urllib.parse import quote, urlencode

from werkzeug.utils import redirect

from gudang_common.errors import Forbidden, GudangError, Unauthorized, ValidationFailed
from gudang_common.web import http

from . import accounts, dashboard, i18n

ENTRIES = 50  # the newest commissions the page lists (all, or a merchant's, or a month's)
PAYOUT_MINIMUM = 50_000  # billing's default; both read the one PAYOUT_MINIMUM setting


def rupiah(amount, lang):
    """`Rp 1.250.000` (Indonesian thousands dots), `Rp 1,250,000` in English."""
    text = f"{abs(amount):,}"
    return ("-" if amount < 0 else "") + "Rp " + (text.replace(",", ".") if lang == "id" else text)


def month_name(month, lang):
    year, number = month.split("-")
    return f"{i18n.text('months', lang).split()[int(number) - 1]} {year}"


def payout_amount(text):
    """Whole rupiah as typed on a phone: `50000`, `50.000` or `Rp 50.000`; else 400."""
    digits = (text or "").replace("Rp", "").replace(".", "").replace(" ", "").strip()
    if not digits.isdigit() or len(digits) > 12:
        raise ValidationFailed("amount must be whole rupiah", {"amount": ["Whole rupiah."]})
    return int(digits)


def payout_minimum(config):
    """The smallest payout billing takes (PAYOUT_MINIMUM), for the form to say so."""
    raw = str(config.get("PAYOUT_MINIMUM") or "")
    return int(raw) if raw.isdigit() else PAYOUT_MINIMUM


def share_link(base, code):
    """The sign-up page with the promoter's code filled in."""
    return f"{base}/signup?{urlencode({'referral_code': code})}"


def sum_rows(earnings, lang):
    """(name, amount, link to the commissions behind it) per WIB month and per merchant."""
    page = "/promoter?"
    months = [
        (
            month_name(r["month"], lang),
            r["amount"],
            page + urlencode({"lang": lang, "month": r["month"]}),
        )
        for r in earnings["per_month"]
    ]
    merchants = [
        (
            r["merchant_name"] or "-",
            r["amount"],
            page + urlencode({"lang": lang, "merchant": r["merchant_id"]}),
        )
        for r in earnings["per_merchant"]
    ]
    return {"months": months, "merchants": merchants}


class PromoterPageRoutes:
    """Mixed into GatewayService (which provides _auth, _rpc, store, billing and the
    dashboard's _page: the language asked or remembered, no-store)."""

    def _page_lang(self, request):
        return dashboard.page_lang(request.args, request.cookies)[0]

    def _promoter_or_signin(self, request):
        try:
            return self._auth(request, "promoter"), None
        except (Unauthorized, Forbidden):
            lang = self._page_lang(request)
            return None, redirect(f"/signin?lang={lang}&next={quote(request.path)}", code=303)

    @http("GET", "/promoter")
    def promoter_page(self, request):
        caller, signin = self._promoter_or_signin(request)
        if signin:
            return signin
        notice = (
            {"kind": "ok", "text": "promoter.payout.done"} if request.args.get("done") else None
        )
        return self._promoter_view(request, caller, notice)

    def _promoter_view(self, request, caller, notice, status=200):
        lang, args = self._page_lang(request), request.args
        merchant, month = args.get("merchant") or None, args.get("month") or None
        earnings = self._rpc(self.billing, "promoter_earnings", caller.id, ENTRIES, merchant, month)
        names = {m["merchant_id"]: m["merchant_name"] for m in earnings["per_merchant"]}
        session = self.store.live_session(request.cookies.get(accounts.SESSION_COOKIE, ""))
        return self._page(
            request,
            "promoter.html",
            status,
            lang,
            view=earnings,
            names=names,
            payouts=self._rpc(self.billing, "list_payouts", caller.id, None, 20)["payouts"],
            bank=self._rpc(self.billing, "promoter_bank_account", caller.id)["bank_account"],
            link=share_link(request.host_url.rstrip("/"), earnings["referral_code"]),
            rows=sum_rows(earnings, lang),
            filtered={"merchant": names.get(merchant, merchant), "month": month},
            csrf=session["csrf_token"] if session else "",
            notice=notice,
            minimum=payout_minimum(self.config),
            money=lambda amount: rupiah(amount, lang),
            month_name=lambda m: month_name(m, lang),
        )

    @http("POST", "/promoter/payouts")
    def promoter_payout(self, request):
        """The form's payout request (CSRF checked by the session): back to the page."""
        caller, lang = self._auth(request, "promoter"), self._page_lang(request)
        try:
            amount = payout_amount(request.form.get("amount"))
            self._rpc(self.billing, "request_payout", caller.id, {"amount": amount})
        except GudangError as exc:
            problem = i18n.message(next(iter(exc.fields.values()), [exc.message])[0], lang)
            notice = {"kind": "error", "text": "promoter.payout.refused", "detail": problem}
            return self._promoter_view(request, caller, notice, exc.status)
        return redirect(f"/promoter?lang={lang}&done=payout", code=303)

    @http("GET", "/promoter/fees/<path:fee_posting_id>")
    def promoter_fee_page(self, request, fee_posting_id):
        """One commission and the fee that earned it; another promoter's is not found."""
        caller, signin = self._promoter_or_signin(request)
        if signin:
            return signin
        lang, status = self._page_lang(request), 200
        try:
            seen = self._rpc(self.billing, "promoter_commission", caller.id, fee_posting_id)
        except GudangError as exc:
            if exc.status != 404:
                raise
            seen, status = None, 404
        return self._page(
            request,
            "promoter_fee.html",
            status,
            lang,
            fee=seen,
            money=lambda amount: rupiah(amount, lang),
        )
