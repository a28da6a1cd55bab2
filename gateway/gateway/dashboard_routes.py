"""Gateway routes of the merchant dashboard: server-rendered pages over the same account,
order, import, inventory, wallet and webhook code the JSON API runs.

A page signs in with the session cookie of POST /api/v1/sessions; every form that changes
something carries the session's CSRF token. Bad input answers the page again with the
schema's errors next to their fields (4xx), never a 5xx; a change that worked answers a
redirect (303), so that reloading the page does not send it twice.
"""

import secrets
import tempfile
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from werkzeug.utils import redirect

from gudang_common.clock import iso, utcnow
from gudang_common.errors import (
    CsrfFailed,
    GudangError,
    NotFound,
    ValidationFailed,
    load,
)
from gudang_common.web import http

from . import accounts, dashboard, egress, i18n, notify, pages
from .account_routes import api_key_schema, merchant_schema, sign_in_schema
from .auth import Caller
from .order_routes import order_schema, order_view
from .store import api_key_view
from .upload import uploaded_file
from .webhook_routes import webhook_subscription_schema

FORM_CSRF_COOKIE = "gudang_form"  # sign-in and sign-up have no session yet: double submit
CHUNK_BYTES = 1024 * 1024  # an upload is kept in pieces of this size until it is confirmed
# the longest referral code sign-up takes: a share link's longer value is cut, not trusted
_REFERRAL_CODE_CHARS = merchant_schema.fields["referral_code"].validators[0].max


class SignedOut(Exception):
    """No live merchant session: the page sends the browser to sign in (or to /promoter)."""

    def __init__(self, target):
        super().__init__(target)
        self.target = target


@dataclass(frozen=True)
class Me:
    """The signed-in merchant as a page sees it."""

    caller: Caller
    csrf: str
    lang: str
    name: str


def _renumber(exc, rows):
    """Name the error's `lines.<n>` fields by the form's rows."""
    exc.args = (exc.message, dashboard.renumber(exc.fields, rows))


def _again(request, screen):
    """How a refused form is shown again: screen(request, me, errors, status)."""
    return lambda me, errors, status: screen(request, me, errors, status)


def _check_csrf(request, session):
    """A change carries the session's CSRF token in the form."""
    if accounts.needs_csrf(request.method) and not accounts.csrf_matches(
        session["csrf_token"], request.form.get(accounts.CSRF_FIELD)
    ):
        raise CsrfFailed("missing or wrong CSRF token", {"csrf_token": ["Reload the page."]})


def _see_other(url, cookies=()):
    response = redirect(url, code=303)
    for cookie in cookies:
        response.headers.add("Set-Cookie", cookie)
    return response


class DashboardRoutes:
    """Mixed into GatewayService (which provides the account, order and RPC helpers)."""

    # --- the frame every page shares ----------------------------------------------

    def _page(self, request, template, status=200, lang=None, **context):
        """A page in the language asked (`?lang=`, kept in a cookie) or remembered."""
        asked, remember = dashboard.page_lang(request.args, request.cookies)
        lang = lang or asked
        path = context.pop("path", request.path)  # where the language switch points
        response = pages.render(template, lang, status, path, **context)
        response.headers["Cache-Control"] = "no-store"  # pages show orders, money and keys
        if remember:
            response.headers.add("Set-Cookie", dashboard.lang_cookie(lang, self._https(request)))
        return response

    def _me(self, request):
        """The merchant behind the session cookie; CSRF checked for a change."""
        lang, _ = dashboard.page_lang(request.args, request.cookies)
        session = self.store.live_session(request.cookies.get(accounts.SESSION_COOKIE, ""))
        if session is None:
            raise SignedOut(f"/signin?next={quote(request.path)}")
        if session["role"] != "merchant":
            raise SignedOut("/promoter")
        _check_csrf(request, session)
        merchant = self.store.get_account("merchants", session["principal_id"]) or {}
        caller = Caller("merchant", session["principal_id"], session["_id"])
        return Me(caller, session["csrf_token"], lang, merchant.get("name", ""))

    def _dash(self, request, build):
        """Run `build(me)` for the signed-in merchant; what goes wrong becomes a page."""
        try:
            return build(self._me(request))
        except SignedOut as out:
            return _see_other(out.target)
        except GudangError as exc:
            return self._problem(request, exc)

    def _problem(self, request, exc):
        """A page for an error no form field explains: a stale form, a missing order, a
        service that did not answer."""
        lang, _ = dashboard.page_lang(request.args, request.cookies)
        return self._page(
            request,
            "dashboard/problem.html",
            exc.status,
            path="/dashboard",
            code=exc.code,
            message=" ".join(dashboard.field_errors(exc.fields, lang).values())
            or i18n.message(exc.message, lang),
        )

    def _screen(self, request, template, me, **context):
        context.setdefault("values", request.form if request.method == "POST" else {})
        context.setdefault("errors", {})
        context.setdefault("channel_name", dashboard.channel_name)
        return self._page(request, template, me=me, **context)

    def _submit(self, request, action, again):
        """A form: `action(me)` answers the URL to go to (or a page, when it shows a secret
        this once); a refusal shows the form `again` (again(me, errors, status)) with the
        errors next to their fields."""

        def build(me):
            try:
                dashboard.check_text(request.form)  # no NUL reaches the store
                answer = action(me)
                return _see_other(answer) if isinstance(answer, str) else answer
            except GudangError as exc:
                if exc.status >= 500:
                    raise
                return again(me, dashboard.field_errors(exc.fields, me.lang), exc.status)

        return self._dash(request, build)

    # --- landing, sign-up, sign-in, sign-out ------------------------------------------

    @http("GET", "/")
    def landing(self, request):
        """The front page; a seller still signed in goes straight to the dashboard."""
        session = self.store.live_session(request.cookies.get(accounts.SESSION_COOKIE, ""))
        if session is not None:
            return _see_other("/dashboard" if session["role"] == "merchant" else "/promoter")
        return self._page(request, "dashboard/landing.html")

    def _public_form(self, request, template, status=200, **context):
        """Sign-in and sign-up: a form token in a cookie and in the form (double submit)."""
        token = request.cookies.get(FORM_CSRF_COOKIE) or accounts.new_token()
        response = self._page(request, template, status, form_token=token, **context)
        cookie = f"{FORM_CSRF_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
        response.headers.add("Set-Cookie", cookie + ("; Secure" if self._https(request) else ""))
        return response

    def _check_form_token(self, request):
        if not accounts.csrf_matches(
            request.cookies.get(FORM_CSRF_COOKIE), request.form.get(accounts.CSRF_FIELD)
        ):
            raise CsrfFailed("missing or wrong form token", {"csrf_token": ["Reload the page."]})

    @http("GET", "/signup")
    def signup_page(self, request):
        """The promoter's share link fills in its code: `/signup?referral_code=CODE`."""
        code = (request.args.get("referral_code") or "").strip()[:_REFERRAL_CODE_CHARS]
        values = {"referral_code": code} if code else {}
        return self._public_form(request, "dashboard/signup.html", values=values, errors={})

    @http("POST", "/signup")
    def signup(self, request):
        form = request.form
        try:
            self._check_form_token(request)
            dashboard.check_text(form)
            if not form.get("password"):
                raise ValidationFailed("password needed", {"password": ["Choose a password."]})
            body = {k: form.get(k, "").strip() for k in ("name", "email", "referral_code")}
            body = dict(body, phone=dashboard.normalise_phone(form.get("phone", "")))
            body.update(password=form.get("password"), referral_code=body["referral_code"] or None)
            self._new_merchant(load(merchant_schema, body), with_key=False)
        except GudangError as exc:
            lang, _ = dashboard.page_lang(request.args, request.cookies)
            errors = dashboard.field_errors(exc.fields, lang)
            values = {k: v for k, v in form.items() if k != "password"}
            return self._public_form(
                request, "dashboard/signup.html", exc.status, values=values, errors=errors
            )
        return _see_other("/signin?done=signed_up")

    @http("GET", "/signin")
    def signin_page(self, request):
        done = request.args.get("done") == "signed_up"
        return self._public_form(
            request,
            "dashboard/signin.html",
            values={},
            errors={},
            signed_up=done,
            next_path=dashboard.safe_next(request.args.get("next")),
        )

    @http("POST", "/signin")
    def signin(self, request):
        """The JSON route's own checks (one error for an unknown email and a wrong
        password; the sign-in limit), then the same session cookie."""
        form = request.form
        body = {k: form.get(k, "") for k in ("email", "password")}
        body["role"] = "promoter" if form.get("role") == "promoter" else "merchant"
        try:
            self._check_form_token(request)
            dashboard.check_text(request.form)
            account = self._check_password(request, load(sign_in_schema, body))
        except GudangError as exc:
            lang, _ = dashboard.page_lang(request.args, request.cookies)
            return self._public_form(
                request,
                "dashboard/signin.html",
                exc.status,
                values={"email": body["email"], "role": body["role"]},
                errors=dashboard.field_errors(exc.fields, lang),
                signed_up=False,
                next_path=dashboard.safe_next(request.args.get("next")),
            )
        _, cookie = self._open_session(request, body["role"], account["_id"])
        home = "/promoter" if body["role"] == "promoter" else "/dashboard"
        target = dashboard.safe_next(request.args.get("next")) if home == "/dashboard" else home
        return _see_other(target, [cookie])

    @http("POST", "/signout")
    def signout(self, request):
        """A merchant's or a promoter's session, with its CSRF token; signed out already:
        the front page."""
        session = self.store.live_session(request.cookies.get(accounts.SESSION_COOKIE, ""))
        if session is None:
            return _see_other("/")
        try:
            _check_csrf(request, session)
        except GudangError as exc:
            return self._problem(request, exc)
        return _see_other("/", [self._close_session(request, session["_id"])])

    # --- home -----------------------------------------------------------------------

    @http("GET", "/dashboard")
    def dashboard_home(self, request):
        def build(me):
            held = self.store.count_orders(me.caller.id, "on_hold")
            alerts = self.store.stock_alerts(me.caller.id)[:3]
            return self._screen(
                request, "dashboard/home.html", me, held=held, alerts=alerts, nav="home"
            )

        return self._dash(request, build)

    # --- orders ---------------------------------------------------------------------

    @http("GET", "/dashboard/orders")
    def dashboard_orders(self, request):
        return self._dash(request, lambda me: self._orders_screen(request, me))

    def _orders_screen(self, request, me):
        dashboard.check_text(request.args)
        filters, shown, errors = dashboard.order_filters(request.args)
        after = request.args.get("after") or None
        docs, more = self.store.orders_of(me.caller.id, filters, dashboard.PAGE_SIZE, after)
        next_url = None
        if more:
            query = {k: v for k, v in shown.items() if v}
            query["after"] = more
            next_url = f"{request.path}?{urlencode(query)}"
        return self._screen(
            request,
            "dashboard/orders.html",
            me,
            nav="orders",
            orders=docs,
            shown=shown,
            errors=dashboard.field_errors({k: [v] for k, v in errors.items()}, me.lang),
            values=shown,
            next_url=next_url,
            first_page=after is None,
            status_options=[(s, dashboard.status_label(s, me.lang)) for s in dashboard.STATUSES],
            channel_options=dashboard.channel_options(),
            status_label=dashboard.status_label,
            status=400 if errors else 200,
        )

    def _my_order(self, me, order_id):
        doc = self.store.get_order(order_id)
        if doc is None or doc["merchant_id"] != me.caller.id:
            raise NotFound(f"order {order_id} not found", {"order_id": ["Unknown order."]})
        return doc

    @http("GET", "/dashboard/orders/<order_id>")
    def dashboard_order(self, request, order_id):
        return self._dash(request, lambda me: self._order_screen(request, me, order_id))

    def _order_screen(self, request, me, order_id, errors=None, status=200):
        doc = self._my_order(me, order_id)
        return self._screen(
            request,
            "dashboard/order.html",
            me,
            status=status,
            nav="orders",
            path=f"/dashboard/orders/{order_id}",
            order=order_view(doc, me.lang),
            couriers=dashboard.COURIERS,
            tracking_url=self._tracking_url(request, doc.get("awb")),
            can_cancel=doc["status"] in dashboard.CANCELLABLE,
            status_label=dashboard.status_label,
            errors=errors or {},
            done=request.args.get("done"),
        )

    @http("POST", "/dashboard/orders/<order_id>/cancel")
    def dashboard_cancel(self, request, order_id):
        def cancel(me):
            self._my_order(me, order_id)
            reason = (request.form.get("reason") or "").strip()[:200]
            payload = {"reason": reason} if reason else {}
            self._rpc(self.packing, "cancel_order", me.caller.id, order_id, payload)
            return f"/dashboard/orders/{order_id}?done=cancelled"

        def again(me, errors, status):
            return self._order_screen(request, me, order_id, errors, status)

        return self._submit(request, cancel, again)

    @http("GET", "/dashboard/orders/new")
    def dashboard_new_order(self, request):
        return self._dash(request, lambda me: self._new_order_screen(request, me))

    def _new_order_screen(self, request, me, errors=None, status=200):
        return self._screen(
            request,
            "dashboard/order_new.html",
            me,
            status=status,
            nav="orders",
            errors=errors or {},
            path="/dashboard/orders/new",
            rows=range(dashboard.ORDER_LINES),
            field_names=dashboard.ORDER_FIELDS,
            channel_options=dashboard.channel_options(),
            courier_options=list(dashboard.COURIERS.items()),
        )

    @http("POST", "/dashboard/orders")
    def dashboard_create_order(self, request):
        def create(me):
            body, rows = dashboard.order_input(request.form)
            try:
                data = load(order_schema, body)
                self._check_order(me.caller.id, data)
            except ValidationFailed as exc:
                # the unknown SKUs too, so that one round of corrections is enough
                exc.args = (exc.message, self._unknown_skus(me, body["lines"]) | exc.fields)
                _renumber(exc, rows)
                raise
            except GudangError as exc:
                _renumber(exc, rows)
                raise
            order, created = self._receive_order(me.caller.id, data)
            return f"/dashboard/orders/{order['_id']}?done={'created' if created else 'known'}"

        return self._submit(request, create, _again(request, self._new_order_screen))

    def _unknown_skus(self, me, lines):
        """{lines.<n>.sku: [...]} for the typed SKUs the merchant has not registered."""
        typed = [line for line in lines if isinstance(line.get("sku"), str) and line["sku"]]
        try:
            self._check_skus(lines, self._known_skus(me.caller.id, typed) if typed else set())
        except GudangError as exc:
            return {k: v for k, v in exc.fields.items() if lines[int(k.split(".")[1])]["sku"]}
        return {}

    # --- importing a file -----------------------------------------------------------

    @http("GET", "/dashboard/imports")
    def dashboard_imports(self, request):
        return self._dash(request, lambda me: self._imports_screen(request, me))

    def _imports_screen(self, request, me, status=200, **context):
        context.setdefault("errors", {})
        return self._screen(
            request,
            "dashboard/imports.html",
            me,
            status=status,
            nav="imports",
            path="/dashboard/imports",
            values={},
            format_options=dashboard.format_options(me.lang),
            **context,
        )

    @http("POST", "/dashboard/imports")
    def dashboard_preview_import(self, request):
        """Keep the file, show what it would create; the merchant confirms it next."""

        try:  # bounded before anything reads the form (the CSRF check does)
            upload, refused = uploaded_file(request), None
        except GudangError as exc:
            upload, refused = None, exc

        def preview(me):
            if refused is not None:
                raise refused
            fmt = request.form.get("format") or "auto"
            report = self._import_file(me.caller.id, upload.stream, fmt, dry_run=True)
            upload_id = None  # nothing to confirm: nothing kept
            if report["summary"]["to_create"]:
                upload_id = self._keep_upload(me, upload, fmt)
            return self._imports_screen(
                request, me, report=report, upload_id=upload_id, filename=upload.filename
            )

        def again(me, errors, status):
            return self._imports_screen(request, me, status, errors=errors)

        return self._submit(request, preview, again)

    def _keep_upload(self, me, upload, fmt):
        upload.stream.seek(0)
        upload_id = f"upl_{secrets.token_hex(12)}"
        doc = {
            "_id": upload_id,
            "merchant_id": me.caller.id,
            "format": fmt,
            "filename": (upload.filename or "")[:200],
            "created_at": iso(utcnow()),
        }
        chunks = iter(lambda: upload.stream.read(CHUNK_BYTES), b"")
        self.store.keep_upload(doc, chunks)
        return upload_id

    @http("POST", "/dashboard/imports/<upload_id>")
    def dashboard_apply_import(self, request, upload_id):
        """Create the orders of a previewed file: once (the upload is taken), and a file
        sent again creates nothing new (external id per channel)."""

        def build(me):
            kept = self.store.take_upload(me.caller.id, upload_id)
            if kept is None:
                raise NotFound("this preview is gone", {"upload_id": ["Upload the file again."]})
            with tempfile.SpooledTemporaryFile(max_size=CHUNK_BYTES) as spool:
                for chunk in self.store.upload_chunks(kept):
                    spool.write(chunk)
                self.store.drop_upload(kept)
                spool.seek(0)
                report = self._import_file(me.caller.id, spool, kept["format"], dry_run=False)
            return self._imports_screen(request, me, report=report, filename=kept["filename"])

        return self._dash(request, build)

    # --- SKUs, stock and inbounds ---------------------------------------------------

    @http("GET", "/dashboard/skus")
    def dashboard_skus(self, request):
        return self._dash(request, lambda me: self._skus_screen(request, me))

    def _skus_screen(self, request, me, errors=None, status=200):
        skus = self._rpc(self.inventory, "list_skus", me.caller.id)["skus"]
        levels = {s["sku"]: s for s in self._rpc(self.inventory, "stock_levels", me.caller.id)}
        return self._screen(
            request,
            "dashboard/skus.html",
            me,
            status=status,
            nav="skus",
            path="/dashboard/skus",
            skus=[dict(s, level=levels.get(s["sku"], {})) for s in skus],
            errors=errors or {},
            done=request.args.get("done"),
        )

    @http("POST", "/dashboard/skus")
    def dashboard_register_sku(self, request):
        def register(me):
            body = dashboard.sku_input(request.form)
            self._rpc(self.inventory, "register_sku", me.caller.id, body)
            return "/dashboard/skus?done=sku"

        return self._submit(request, register, _again(request, self._skus_screen))

    @http("GET", "/dashboard/inbounds")
    def dashboard_inbounds(self, request):
        return self._dash(request, lambda me: self._inbounds_screen(request, me))

    def _inbounds_screen(self, request, me, errors=None, status=200):
        inbounds = self._rpc(self.inventory, "list_inbounds", me.caller.id)["inbounds"]
        return self._screen(
            request,
            "dashboard/inbounds.html",
            me,
            status=status,
            nav="inbounds",
            path="/dashboard/inbounds",
            field_names=dashboard.INBOUND_FIELDS,
            inbounds=sorted(inbounds, key=lambda i: i["created_at"], reverse=True),
            errors=errors or {},
            rows=range(dashboard.INBOUND_LINES),
            done=request.args.get("done"),
        )

    @http("POST", "/dashboard/inbounds")
    def dashboard_create_inbound(self, request):
        def create(me):
            body, rows = dashboard.inbound_input(request.form)
            try:
                self._rpc(self.inventory, "create_inbound", me.caller.id, body)
            except GudangError as exc:
                _renumber(exc, rows)
                raise
            return "/dashboard/inbounds?done=inbound"

        return self._submit(request, create, _again(request, self._inbounds_screen))

    # --- money ----------------------------------------------------------------------

    @http("GET", "/dashboard/wallet")
    def dashboard_wallet(self, request):
        def build(me):
            wallet = self._rpc(self.billing, "wallet", me.caller.id, 50)
            held = self.store.count_orders(me.caller.id, "on_hold")
            return self._screen(
                request, "dashboard/wallet.html", me, nav="wallet", wallet=wallet, held=held
            )

        return self._dash(request, build)

    # --- webhooks -------------------------------------------------------------------

    @http("GET", "/dashboard/webhooks")
    def dashboard_webhooks(self, request):
        return self._dash(request, lambda me: self._webhooks_screen(request, me))

    def _webhooks_screen(self, request, me, errors=None, status=200, created=None):
        hooks = [h for h in notify.webhooks_of(self.store.db, me.caller.id)[0] if h["active"]]
        for hook in hooks:
            hook["deliveries"] = notify.deliveries_of(self.store.db, hook["_id"], 10)[0]
        return self._screen(
            request,
            "dashboard/webhooks.html",
            me,
            status=status,
            nav="webhooks",
            path="/dashboard/webhooks",
            hooks=hooks,
            created=created,
            events=notify.DELIVERABLE,
            errors=errors or {},
        )

    @http("POST", "/dashboard/webhooks/<webhook_id>/remove")
    def dashboard_remove_webhook(self, request, webhook_id):
        def remove(me):
            self._own_webhook(me.caller, webhook_id)
            notify.deactivate(self.store.db, webhook_id)
            return "/dashboard/webhooks"

        return self._submit(request, remove, _again(request, self._webhooks_screen))

    @http("POST", "/dashboard/webhooks")
    def dashboard_add_webhook(self, request):
        """Shows the new subscription's signing secret, this once (no redirect)."""

        def add(me):
            body = {"url": (request.form.get("url") or "").strip()}
            body["events"] = request.form.getlist("events")
            data = load(webhook_subscription_schema, body)
            allowed = egress.AllowList(self.config.get("WEBHOOK_ALLOWED_HOSTS"))
            hook = notify.add_webhook(
                self.store.db, me.caller.id, data["url"], data["events"], allowed
            )
            return self._webhooks_screen(request, me, created=hook)

        return self._submit(request, add, _again(request, self._webhooks_screen))

    # --- API keys -------------------------------------------------------------------

    @http("GET", "/dashboard/keys")
    def dashboard_keys(self, request):
        return self._dash(request, lambda me: self._keys_screen(request, me))

    def _keys_screen(self, request, me, errors=None, status=200, created=None):
        keys, _ = self.store.api_keys_of(me.caller.id)
        return self._screen(
            request,
            "dashboard/keys.html",
            me,
            status=status,
            nav="keys",
            path="/dashboard/keys",
            keys=[api_key_view(k) for k in reversed(keys)],
            created=created,
            errors=errors or {},
            done=request.args.get("done"),
        )

    @http("POST", "/dashboard/keys")
    def dashboard_create_key(self, request):
        """Shows the new key, this once (no redirect)."""

        def create(me):
            name = load(api_key_schema, {"name": (request.form.get("name") or "").strip()})
            created = self._new_api_key(me.caller, name["name"])
            return self._keys_screen(request, me, created=created)

        return self._submit(request, create, _again(request, self._keys_screen))

    @http("POST", "/dashboard/keys/<key_id>/revoke")
    def dashboard_revoke_key(self, request, key_id):
        def revoke(me):
            return self._revoke_api_key(me.caller, key_id) and "/dashboard/keys?done=revoked"

        return self._submit(request, revoke, _again(request, self._keys_screen))
