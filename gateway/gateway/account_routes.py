"""Gateway routes of signing in: sessions, passwords and a merchant's or promoter's API keys."""

import uuid

from eventlet import tpool

from gudang_common.clock import iso, utcnow
from gudang_common.errors import Conflict, NotFound, Unauthorized, ValidationFailed, load
from gudang_common.events import new_event
from gudang_common.ids import new_id
from gudang_common.web import http, json_body, json_response

from . import accounts
from .schemas import (
    ApiKeySchema,
    MerchantSchema,
    PasswordChangeSchema,
    PromoterSchema,
    SignInSchema,
    StaffSchema,
)
from .store import MAX_LIVE_KEYS, api_key_view

API = "/api/v1"
SIGNED_IN = ("merchant", "promoter")  # staff sign in with keys the admin hands out

sign_in_schema, password_change_schema = SignInSchema(), PasswordChangeSchema()
api_key_schema = ApiKeySchema()
promoter_schema, merchant_schema, staff_schema = PromoterSchema(), MerchantSchema(), StaffSchema()


def _off_the_hub(fn, *args):
    # argon2 holds the CPU for tens of milliseconds: in a real thread, the other requests go on
    return tpool.execute(fn, *args)


def _refused_password(problem):
    return ValidationFailed(f"password refused: {problem}", {"password": [problem]})


def _referral_code(name):
    letters = "".join(c for c in name.upper() if c.isalpha())[:4] or "GDG"
    return f"{letters}-{uuid.uuid4().hex[:6].upper()}"


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


class AccountRoutes:
    """Mixed into GatewayService (which provides _auth, store, limits and config)."""

    def _password_hashed(self, data):
        """Sign-up input with its optional `password` checked and replaced by its hash."""
        password = data.pop("password", None)
        if password is None:
            return data
        problem = accounts.password_problem(password, data.get("email"), data.get("name"))
        if problem:
            raise _refused_password(problem)
        return dict(data, password_hash=_off_the_hub(accounts.hash_password, password))

    def _https(self, request):
        return accounts.came_over_https(
            request.scheme,
            request.remote_addr,
            request.headers.get("X-Forwarded-Proto"),
            self.limits.trusted,
        )

    # --- sessions -----------------------------------------------------------

    @http("POST", f"{API}/sessions")
    def sign_in(self, request):
        """One answer for an unknown email, a wrong password and an account with no password,
        each after one argon2 verification."""
        data = load(sign_in_schema, json_body(request))
        account = self._check_password(request, data)
        session, cookie = self._open_session(request, data["role"], account["_id"])
        response = json_response(201, accounts.session_view(session))
        response.headers.add("Set-Cookie", cookie)
        return _no_store(response)

    def _check_password(self, request, data):
        """The account `data` (SignInSchema-loaded) signs in to, else 401 (429 when the
        sign-in limit is spent); the JSON route and the sign-in page both come here."""
        self.limits.sign_in(request, data["email"])
        collection = f"{data['role']}s"
        found = [
            a
            for a in self.store.accounts_by_email(collection, data["email"].strip())
            if a.get("password_hash")
        ]
        account, new_hash = None, None
        for candidate in found or [None]:
            stored = candidate["password_hash"] if candidate else None
            ok, new_hash = _off_the_hub(accounts.verify_password, stored, data["password"])
            if ok:
                account = candidate
                break
        if account is None:
            raise Unauthorized(
                "wrong email or password", {"_request": ["Wrong email or password."]}
            )
        if new_hash:
            self.store.set_password_hash(
                collection, account["_id"], new_hash, expected=account["password_hash"]
            )
        return account

    def _open_session(self, request, role, account_id):
        """(the stored session, the Set-Cookie value that hands its token to the browser)."""
        token, session = accounts.new_session(role, account_id, utcnow())
        self.store.add_session(session)
        max_age = accounts.SESSION_ABSOLUTE.total_seconds()
        return session, accounts.session_cookie(token, self._https(request), max_age)

    def _session(self, request):
        caller = self._auth(request, *SIGNED_IN)
        if caller.session_id is None:
            raise NotFound(
                "no session: this request was made with an API key",
                {"Cookie": ["No session cookie."]},
            )
        return caller

    @http("GET", f"{API}/sessions/current")
    def current_session(self, request):
        caller = self._session(request)
        doc = self.store.live_session(request.cookies.get(accounts.SESSION_COOKIE))
        if doc is None or doc["_id"] != caller.session_id:
            raise Unauthorized("signed out", {"Cookie": ["Sign in again."]})
        return _no_store(json_response(200, accounts.session_view(doc)))

    @http("DELETE", f"{API}/sessions/current")
    def sign_out(self, request):
        caller = self._session(request)
        response = json_response(200, {"signed_out": True})
        response.headers.add("Set-Cookie", self._close_session(request, caller.session_id))
        return _no_store(response)

    def _close_session(self, request, session_id):
        """End a session; the Set-Cookie value that clears its cookie."""
        self.store.end_session(session_id)
        return accounts.session_cookie("", self._https(request), 0)

    # --- passwords ------------------------------------------------------------

    def _change_password(self, request, role):
        """Set or change the caller's password. Once it has one, the current one is asked
        too: a leaked key or an open browser alone cannot take the account over."""
        caller = self._auth(request, role)
        data = load(password_change_schema, json_body(request))
        collection = f"{role}s"
        account = self.store.get_account(collection, caller.id)
        current = account.get("password_hash")
        if current is not None:
            self.limits.sign_in(request, account.get("email"))
            ok, _ = _off_the_hub(accounts.verify_password, current, data["current_password"] or "")
            if not ok:
                raise Unauthorized(
                    "the current password is wrong",
                    {"current_password": ["Wrong or missing current password."]},
                )
        problem = accounts.password_problem(data["password"], account.get("email"), account["name"])
        if problem:
            raise _refused_password(problem)
        new_hash = _off_the_hub(accounts.hash_password, data["password"])
        if not self.store.set_password_hash(collection, caller.id, new_hash, expected=current):
            raise Conflict(
                "the password was changed meanwhile", {"password": ["Changed meanwhile; retry."]}
            )
        # every other browser signed in as this account has to sign in again
        self.store.end_sessions_of(caller.id, keep=caller.session_id)
        return {"password_set": True}

    @http("POST", f"{API}/merchants/me/password")
    def merchant_password(self, request):
        return self._change_password(request, "merchant")

    @http("POST", f"{API}/promoters/me/password")
    def promoter_password(self, request):
        return self._change_password(request, "promoter")

    # --- API keys -------------------------------------------------------------

    @http("GET", f"{API}/api-keys")
    def list_api_keys(self, request):
        caller = self._auth(request, *SIGNED_IN)
        limit = self._limit(request, default=100, most=500)
        docs, after = self.store.api_keys_of(caller.id, limit, self._cursor(request))
        return {"api_keys": [api_key_view(d) for d in docs], "next_cursor": after}

    @http("POST", f"{API}/api-keys")
    def create_api_key(self, request):
        caller = self._auth(request, *SIGNED_IN)
        data = load(api_key_schema, json_body(request))
        return 201, self._new_api_key(caller, data["name"])

    def _new_api_key(self, caller, name):
        """A new named key for the caller: its view and the key itself, shown this once."""
        if self.store.live_key_count(caller.id) >= MAX_LIVE_KEYS:
            raise Conflict(
                f"at most {MAX_LIVE_KEYS} live keys", {"name": ["Revoke a key you no longer use."]}
            )
        api_key, doc = self.store.create_api_key(caller.role, caller.id, name.strip())
        return api_key_view(doc) | {"api_key": api_key}

    @http("DELETE", f"{API}/api-keys/<key_id>")
    def revoke_api_key(self, request, key_id):
        """Revoked at once. The last live key of an account with no password stays: without
        it the account could never be reached again (409)."""
        return self._revoke_api_key(self._auth(request, *SIGNED_IN), key_id)

    def _revoke_api_key(self, caller, key_id):
        doc = self.store.api_key_of(caller.id, key_id)
        if doc is None or doc["role"] != caller.role:
            raise NotFound("unknown API key", {"key_id": ["Unknown API key."]})
        if doc.get("revoked_at"):
            return api_key_view(doc)
        now = iso(utcnow())
        self.store.set_key_revoked(doc["_id"], now)
        account = self.store.get_account(f"{caller.role}s", caller.id)
        # checked after the write: two revocations at once cannot both leave it keyless
        if not account.get("password_hash") and self.store.live_key_count(caller.id) == 0:
            self.store.set_key_revoked(doc["_id"], None)
            raise Conflict(
                "this is your last API key and you have no password",
                {"key_id": ["Set a password or create another key first."]},
            )
        return api_key_view(dict(doc, revoked_at=now))

    # Sign-up answers the same (201, a new account and its key) whether or not the email
    # is known: a 409 would tell anyone who is a customer. The new key opens only the new
    # account; an existing one is neither changed nor reachable through sign-up.

    def _register(self, role, doc, **facts):
        """Store a new promoter or merchant (in `<role>s`) with its `<role>_registered` event,
        in the same write; False when its id or a unique field is taken."""
        event_type = f"{role}_registered"
        event = new_event(event_type, name=doc["name"], **facts)
        doc = dict(doc, created_at=iso(utcnow()))
        return self.store.add_account(f"{role}s", doc, event_type, event)

    @http("POST", f"{API}/promoters")
    def register_promoter(self, request):
        data = self._password_hashed(load(promoter_schema, json_body(request)))
        promoter_id = new_id("prm")
        for _ in range(5):
            # the code's unique index decides: another promoter may have drawn the same one
            code = _referral_code(data["name"])
            doc = dict(data, _id=promoter_id, referral_code=code)
            if self._register("promoter", doc, promoter_id=promoter_id, referral_code=code):
                break
        else:
            raise Conflict("no free referral code; try again")
        api_key = self.store.add_api_key("promoter", promoter_id)
        return 201, {"promoter_id": promoter_id, "referral_code": code, "api_key": api_key}

    @http("POST", f"{API}/merchants")
    def register_merchant(self, request):
        return 201, self._new_merchant(load(merchant_schema, json_body(request)))

    def _new_merchant(self, data, with_key=True):
        """Sign a merchant up from MerchantSchema-loaded `data`: the route, and the sign-up
        page (with_key=False: a seller on the web makes a key when a tool needs one)."""
        data = self._password_hashed(data)
        promoter_id, refused = self._referrer(data)
        merchant_id = new_id("mer")
        doc = dict(data, _id=merchant_id, promoter_id=promoter_id)
        self._register("merchant", doc, merchant_id=merchant_id, promoter_id=promoter_id)
        api_key = self.store.add_api_key("merchant", merchant_id) if with_key else None
        answer = {"merchant_id": merchant_id, "api_key": api_key, "promoter_id": promoter_id}
        return answer | {"referral_refused": refused}

    def _referrer(self, data):
        """(promoter_id, None), or (None, "self_referral") for a merchant signing up with its
        own promoter's email or phone. The gateway decides: it holds both accounts' contact
        details, which billing never needs to see; the merchant still signs up, unreferred.
        A referral is made at sign-up only: no route links a code later."""
        if not data.get("referral_code"):
            return None, None
        promoter = self.store.promoter_by_code(data["referral_code"].strip().upper())
        if promoter is None:
            raise ValidationFailed(
                "unknown referral code", {"referral_code": ["No promoter has this code."]}
            )
        if accounts.is_self_referral(promoter, data):
            return None, "self_referral"
        return promoter["_id"], None

    @http("GET", f"{API}/merchants/me")
    def merchant_me(self, request):
        caller = self._auth(request, "merchant")
        doc = self.store.get_account("merchants", caller.id)
        return {k: doc.get(k) for k in ("name", "email", "phone", "promoter_id", "created_at")} | {
            "merchant_id": caller.id
        }

    @http("POST", f"{API}/staff")
    def register_staff(self, request):
        self._auth(request, "admin")
        data = load(staff_schema, json_body(request))
        staff_id = new_id("stf")
        self.store.add_account("staff", dict(data, _id=staff_id, created_at=iso(utcnow())))
        return 201, {
            "staff_id": staff_id,
            "api_key": self.store.add_api_key("staff", staff_id, data["role"]),
            "role": data["role"],
        }

    @http("GET", f"{API}/promoters/me/earnings")
    def promoter_earnings(self, request):
        caller = self._auth(request, "promoter")
        return self._rpc(self.billing, "promoter_earnings", caller.id)
