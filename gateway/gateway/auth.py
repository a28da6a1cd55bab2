"""Who is calling: `Authorization: Bearer <api_key>` (or a sign-in session's cookie) to a
merchant, promoter or staff member."""

import hmac
from dataclasses import dataclass

from gudang_common.errors import CsrfFailed, Forbidden, Unauthorized

from . import accounts


@dataclass(frozen=True)
class Caller:
    role: str  # merchant | promoter | staff (packer, supervisor) | finance | admin
    id: str
    session_id: str | None = None  # set when a session cookie, not a key, said who it is
    staff_role: str | None = None  # packer or supervisor, for a staff key


def role_of(key_doc):
    """A finance staff key is its own role: floor work and money never share a key."""
    if key_doc["role"] == "staff" and key_doc.get("staff_role") == "finance":
        return "finance"
    return key_doc["role"]


def bearer(request):
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            "missing API key", {"Authorization": ["Send 'Authorization: Bearer <api_key>'."]}
        )
    return token.strip()


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def uses_session(request):
    """A key in Authorization wins over a cookie: scripts send keys, browsers cookies."""
    return not request.headers.get("Authorization") and bool(
        request.cookies.get(accounts.SESSION_COOKIE)
    )


def session_caller(request, repo):
    """The caller behind the session cookie; a state-changing request must also carry the
    session's CSRF token (header, or a form's field), else 403 CSRF_FAILED."""
    found = repo.live_session(request.cookies.get(accounts.SESSION_COOKIE, ""))
    if found is None:
        raise Unauthorized(
            "signed out or session expired", {"Cookie": ["Sign in again (POST /sessions)."]}
        )
    if accounts.needs_csrf(request.method):
        sent = request.headers.get(accounts.CSRF_HEADER)
        if sent is None and request.mimetype in FORM_TYPES:
            sent = request.form.get(accounts.CSRF_FIELD)
        if not accounts.csrf_matches(found["csrf_token"], sent):
            raise CsrfFailed(
                "missing or wrong CSRF token",
                {accounts.CSRF_HEADER: ["Send the session's csrf_token with every change."]},
            )
    return Caller(found["role"], found["principal_id"], found["_id"])


def allowed(caller, roles):
    """`caller` if it holds one of `roles`, else 403."""
    if caller.role not in roles:
        raise Forbidden(
            f"this needs a {' or '.join(roles)} key",
            {"Authorization": [f"A {caller.role} key cannot do this."]},
        )
    return caller


def supervising(caller):
    """`caller` if it may run the floor (a supervisor's staff key, or the admin), else 403."""
    if caller.role == "admin" or caller.staff_role == "supervisor":
        return caller
    raise Forbidden(
        "this needs a supervisor key",
        {"Authorization": ["Only a supervisor (or the admin) can do this."]},
    )


def authenticate(request, repo, admin_key, *roles):
    """The caller, if it holds one of `roles`; 401 for no or unknown key, 403 for another role."""
    if uses_session(request):
        return allowed(session_caller(request, repo), roles)
    token = bearer(request)
    if admin_key and hmac.compare_digest(token, admin_key):
        caller = Caller("admin", "admin")
    else:
        found = repo.principal(token)
        if found is None:
            raise Unauthorized("unknown API key", {"Authorization": ["Unknown API key."]})
        caller = Caller(role_of(found), found["principal_id"], staff_role=found.get("staff_role"))
    return allowed(caller, roles)
