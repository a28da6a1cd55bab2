"""The gateway's rate limits: per API key or session, per client address, bad credentials, sign-ins.

Counted with the `limits` library, fixed windows: a window opens at a caller's first request
and the count starts again when it closes, so `Retry-After` is exact; a caller may fit up to
twice a limit across the edge of two windows, which these limits tolerate. Counters live in
this process (one gateway process per embedded store) or, with MONGO_URI, in MongoDB so that
every gateway replica counts together.
"""

import logging
import math
import time
from dataclasses import dataclass

from limits import parse_many
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from nameko.extensions import DependencyProvider

from gudang_common.errors import RateLimited
from gudang_common.metrics import for_container
from gudang_common.web import json_response

from . import accounts

log = logging.getLogger(__name__)

DEFAULTS = {
    "RATE_LIMIT_PER_KEY": "600/minute",
    "RATE_LIMIT_PER_IP": "1200/minute",
    "RATE_LIMIT_BAD_AUTH_PER_IP": "30/minute",
    "RATE_LIMIT_LOGIN": "10/minute",
    "RATE_LIMIT_LOGIN_PER_IP": "30/minute",
}
# paths no one is refused: the static files pages link, and what ops and Prometheus poll
UNLIMITED_PREFIXES = ("/static/", "/health", "/metrics")


@dataclass(frozen=True)
class Verdict:
    """A request's standing against the limits that apply to it."""

    allowed: bool
    limit: int
    remaining: int
    reset_at: float  # epoch seconds when the tightest window closes
    what: str = ""

    def headers(self, now):
        reset_in = max(0, math.ceil(self.reset_at - now))
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(reset_in),
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(math.ceil(self.reset_at)),
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(1, reset_in))
        return headers


def parse_limits(text):
    """`600/minute` or several, `20/second;600/minute`; empty or `off` is no limit."""
    text = (text or "").strip()
    if text.lower() in {"", "off", "none"}:
        return []
    return parse_many(text)


class SweptMemoryStorage(MemoryStorage):
    """limits' in-process counters, their expired windows swept inline at most once a
    second. The stock storage starts a timer thread (alive 10 ms) on every count, so under
    steady traffic each request paid for a new thread; a counter past its window is dropped
    when it is read all the same (MemoryStorage.get), the sweep only frees memory."""

    SWEEP_SECONDS = 1.0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.next_sweep = 0.0

    def _MemoryStorage__schedule_expiry(self):  # what incr/decr call on every count
        now = time.monotonic()
        if now >= self.next_sweep:
            self.next_sweep = now + self.SWEEP_SECONDS
            self._MemoryStorage__expire_events()


def storage_for(mongo_uri):
    if mongo_uri:
        return storage_from_string(
            mongo_uri, database_name="gudang_gateway_ratelimits", serverSelectionTimeoutMS=2000
        )
    return SweptMemoryStorage()


class Limiter:
    """The limits of one gateway process, read from its config."""

    def __init__(self, config, storage=None, on_refused=None):
        self.on_refused = on_refused or (lambda limit: None)
        self.limits = {
            name: parse_limits(config.get(name, default)) for name, default in DEFAULTS.items()
        }
        self.trusted = accounts.trusted_networks(config.get("TRUSTED_PROXIES"))
        self.strategy = FixedWindowRateLimiter(storage or storage_for(config.get("MONGO_URI")))

    def client(self, request):
        return accounts.client_address(
            request.remote_addr, request.headers.get("X-Forwarded-For"), self.trusted
        )

    def _verdict(self, name, ident, spend=True):
        """Count a request against every limit of `name` for `ident` (or only look, with
        spend=False): the first one it is over, else the one with the fewest left."""
        tightest = None
        for item in self.limits[name]:
            if spend:
                allowed = self.strategy.hit(item, name, ident)
            else:
                allowed = self.strategy.test(item, name, ident)
            stats = self.strategy.get_window_stats(item, name, ident)
            verdict = Verdict(allowed, item.amount, stats.remaining, stats.reset_time, name)
            if not allowed:
                return verdict
            if tightest is None or verdict.remaining < tightest.remaining:
                tightest = verdict
        return tightest

    def _count(self, checks):
        """Each (limit name, identity) in turn: every request counts against its address,
        a refused one too; the answer describes the tightest limit."""
        tightest = None
        for name, ident in checks:
            verdict = self._verdict(name, ident)
            if verdict is not None and not verdict.allowed:
                return verdict
            if verdict is not None and (tightest is None or verdict.remaining < tightest.remaining):
                tightest = verdict
        return tightest

    def screen(self, request):
        """The verdict on an incoming request: per address, per credential presented, and
        refused outright from an address that has sent too many bad credentials."""
        if request.path.startswith(UNLIMITED_PREFIXES):
            return None
        address = self.client(request)
        presented = credential(request)
        if presented:
            # an address that guessed too often is not heard for the rest of the window
            barred = self._verdict("RATE_LIMIT_BAD_AUTH_PER_IP", address, spend=False)
            if barred is not None and not barred.allowed:
                self.on_refused(barred.what)
                return barred
        checks = [("RATE_LIMIT_PER_IP", address)]
        if presented:
            checks.append(("RATE_LIMIT_PER_KEY", accounts.token_hash(presented)))
        verdict = self._count(checks)
        if verdict is not None and not verdict.allowed:
            self.on_refused(verdict.what)
        return verdict

    def bad_credential(self, request):
        """Count an unknown, revoked or expired key or session against the caller's address."""
        self._verdict("RATE_LIMIT_BAD_AUTH_PER_IP", self.client(request))

    def sign_in(self, request, email):
        """Count a sign-in attempt per email and per address; RateLimited when over."""
        verdict = self._count(
            [
                ("RATE_LIMIT_LOGIN", (email or "").strip().casefold()),
                ("RATE_LIMIT_LOGIN_PER_IP", self.client(request)),
            ]
        )
        if verdict is not None and not verdict.allowed:
            self.on_refused(verdict.what)
            raise refusal(verdict)


def credential(request):
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.cookies.get(accounts.SESSION_COOKIE)


def refusal(verdict, now=None):
    """The 429 for a verdict that did not allow the request."""
    headers = verdict.headers(time.time() if now is None else now)
    return RateLimited(
        "too many requests; try again later",
        {"_request": [f"Over {verdict.limit} in the window; retry in {headers['Retry-After']} s."]},
        headers=headers,
    )


def refused_response(verdict, now=None):
    exc = refusal(verdict, now)
    return json_response(exc.status, exc.to_json(), headers=exc.headers)


class RateLimits(DependencyProvider):
    """One limiter per gateway container; the HTTP entrypoints ask it before a worker runs
    (`screen_request`), routes use it for sign-ins and bad credentials."""

    def setup(self):
        # a request refused here never reaches a worker, so the entrypoint metrics miss it
        refused = for_container(self.container).counter(
            "gudang_rate_limited", "Requests refused with 429, per limit", ("limit",)
        )
        self.limiter = Limiter(
            self.container.config, on_refused=lambda limit: refused.labels(limit).inc()
        )

    def get_dependency(self, worker_ctx):
        return self.limiter

    def screen_request(self, request):
        """(a 429 response or None, headers for the answer)."""
        try:
            verdict = self.limiter.screen(request)
        except Exception:
            # the counters' store is down: serve unlimited rather than not at all
            log.exception("rate limits unavailable")
            return None, {}
        if verdict is None:
            return None, {}
        now = time.time()
        if not verdict.allowed:
            return refused_response(verdict, now), {}
        return None, verdict.headers(now)
