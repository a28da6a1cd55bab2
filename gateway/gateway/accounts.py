"""Rules of signing in: password policy and hashing, session tokens and lifetimes, CSRF, proxies.

Pure functions (no store, no request object beyond reading headers), so that the
rules are tested without a broker or a database.
"""

import functools
import hashlib
import hmac
import ipaddress
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from gudang_common.clock import iso, parse_iso

PASSWORD_MIN = 10
# argon2 hashes whatever it is given: a bound keeps one request from costing more than another
PASSWORD_MAX = 128

# OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane) rather than argon2-cffi's default
# (64 MiB, 3, 4): a gateway on a small machine answers several sign-ins at once, and the
# per-email and per-address limits bound the guessing. Named here, not taken from the
# library's default, so that a new release cannot change them unseen; a stored hash with
# other parameters is rehashed at the next successful sign-in.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

SESSION_COOKIE = "gudang_session"
SESSION_IDLE = timedelta(hours=12)
SESSION_ABSOLUTE = timedelta(days=7)
# a session's idle clock and a key's last-used time are written at most this often
TOUCH_EVERY = timedelta(minutes=1)

CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# --- passwords ----------------------------------------------------------------


def _squash(text):
    return "".join(c for c in (text or "").casefold() if c.isalnum())


def password_problem(password, email="", name=""):
    """Why `password` is refused for this account, or None.

    At least 10 characters (a passphrase of three short words passes), at most 128; not one
    character repeated; not containing the email's local part or the account's name (case,
    spaces and punctuation ignored), the first guesses of anyone who knows the shop."""
    if not isinstance(password, str):
        return "Not a string."
    if len(password) < PASSWORD_MIN:
        return f"At least {PASSWORD_MIN} characters."
    if len(password) > PASSWORD_MAX:
        return f"At most {PASSWORD_MAX} characters."
    if len(set(password)) == 1:
        return "Not one character repeated."
    squashed = _squash(password)
    local = _squash((email or "").partition("@")[0])
    if len(local) >= 3 and local in squashed:
        return "Must not contain your email address."
    whole_name = _squash(name)
    if len(whole_name) >= 3 and whole_name in squashed:
        return "Must not contain your name."
    return None


def hash_password(password):
    return HASHER.hash(password)


@functools.cache
def dummy_hash():
    """A hash to verify against when the email is unknown: the answer takes as long."""
    return HASHER.hash(secrets.token_urlsafe(16))


def verify_password(stored_hash, password):
    """(matches, new_hash): new_hash is set when the stored hash's parameters are outdated."""
    try:
        HASHER.verify(stored_hash or dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False, None
    if stored_hash is None:
        return False, None
    return True, (hash_password(password) if HASHER.check_needs_rehash(stored_hash) else None)


# --- sessions ------------------------------------------------------------------


def new_token():
    return secrets.token_urlsafe(32)


def token_hash(token):
    """How a session id (or an API key) is stored: a leaked table opens nothing."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_session(role, principal_id, now):
    """(token for the cookie, document to store)."""
    token = new_token()
    doc = {
        "_id": token_hash(token),
        "role": role,
        "principal_id": principal_id,
        # a synchronizer token: only the session's holder is told it, a form or script sends it
        "csrf_token": new_token(),
        "created_at": iso(now),
        "last_seen_at": iso(now),
    }
    return token, doc


def session_expires_at(doc):
    """The earlier of 12 h after it was last used and 7 days after sign-in."""
    idle = parse_iso(doc["last_seen_at"]) + SESSION_IDLE
    absolute = parse_iso(doc["created_at"]) + SESSION_ABSOLUTE
    return min(idle, absolute)


def session_live(doc, now):
    return doc is not None and now < session_expires_at(doc)


def due_for_touch(last, now):
    """Whether a last-used time (ISO, or None) is old enough to be written again."""
    return last is None or now - parse_iso(last) >= TOUCH_EVERY


def session_view(doc):
    return {
        "role": doc["role"],
        "id": doc["principal_id"],
        "expires_at": iso(session_expires_at(doc)),
        "csrf_token": doc["csrf_token"],
    }


def session_cookie(token, secure, max_age):
    """The Set-Cookie value: not readable by script, not sent on cross-site POSTs."""
    parts = [f"{SESSION_COOKIE}={token}", "Path=/", f"Max-Age={int(max_age)}", "HttpOnly"]
    parts.append("SameSite=Lax")
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


# --- CSRF ------------------------------------------------------------------------


def needs_csrf(method):
    return method.upper() not in SAFE_METHODS


def csrf_matches(expected, sent):
    return bool(expected) and isinstance(sent, str) and hmac.compare_digest(expected, sent)


# --- who is on the other end of the connection --------------------------------


def trusted_networks(text):
    """Parse `GUDANG_TRUSTED_PROXIES` (comma-separated addresses or networks)."""
    networks = []
    for item in (text or "").split(","):
        item = item.strip()
        if item:
            networks.append(ipaddress.ip_network(item, strict=False))
    return tuple(networks)


def _trusted(address, networks):
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(remote_addr, forwarded_for, networks):
    """The caller's address: the connection's peer, or, when the peer is a trusted proxy,
    the nearest address in X-Forwarded-For that is not one (a client can write anything at
    the left of that header; only what trusted proxies appended counts)."""
    address = remote_addr or "unknown"
    if not _trusted(address, networks):
        return address
    for hop in reversed([h.strip() for h in (forwarded_for or "").split(",") if h.strip()]):
        address = hop
        if not _trusted(hop, networks):
            break
    return address


def came_over_https(scheme, remote_addr, forwarded_proto, networks):
    """Whether the browser spoke https: the scheme, or a trusted proxy's X-Forwarded-Proto."""
    if forwarded_proto and _trusted(remote_addr, networks):
        return forwarded_proto.split(",")[0].strip().lower() == "https"
    return scheme == "https"


# --- referrals ---------------------------------------------------------------


def _phone_key(phone):
    """+62 81..., 62 81... and 081... are one Indonesian mobile number."""
    digits = "".join(ch for ch in str(phone or "") if ch.isdigit())
    return "0" + digits[2:] if digits.startswith("62") else digits


def is_self_referral(promoter, merchant):
    """A merchant signing up with its own promoter's email or phone: a promoter may not
    earn commission on its own fees."""
    same_email = str(promoter.get("email", "")).casefold() == str(merchant["email"]).casefold()
    return same_email or _phone_key(promoter.get("phone")) == _phone_key(merchant["phone"])
