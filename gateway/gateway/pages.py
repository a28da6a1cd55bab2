"""Server-rendered pages of the gateway: Jinja2 templates, the shared static files, security headers.

Pages are plain HTML and one stylesheet, no script: a buyer's cheap phone on a
slow connection gets a few kilobytes and nothing from another host. The merchant
dashboard and the promoter page build on the same base layout (templates/base.html).

A new page: a template that extends base.html (blocks `title`, `home`, `nav`, `main`),
its strings in static/strings.json under its own prefix, and a route that returns
`render("page.html", lang, path=request.path, ...)`; styles go in static/gudang.css.
"""

import functools
import gzip
import hashlib
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from werkzeug.wrappers import Response

from . import i18n

HERE = Path(__file__).parent
STATIC = HERE / "static"

# the files /static/ serves, by name: nothing else in the directory is reachable
STATIC_TYPES = {
    "gudang.css": "text/css",
    "favicon.svg": "image/svg+xml",
    "strings.json": "application/json",
    "tablet.js": "text/javascript",
    "promoter.js": "text/javascript",  # the promoter page's copy buttons
    # the tablet's screens, one file each, loaded after tablet.js
    "tablet-receive.js": "text/javascript",
    "tablet-pick.js": "text/javascript",
    "tablet-pack.js": "text/javascript",
    "tablet-handover.js": "text/javascript",
    # the API docs page (/api/docs): Swagger UI 5 (swagger-ui-dist as drf-spectacular-sidecar
    # 2026.10.1 ships it), vendored with its license (Apache-2.0); 4.x cannot show OpenAPI 3.1
    "api-docs.js": "text/javascript",
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "swagger-ui.LICENSE": "text/plain",
}

# no inline script or style anywhere; nothing from another origin; no framing
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # a tracking URL names a parcel: do not hand it to whatever site is opened next
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
# Swagger UI's stylesheet draws its icons as data: SVGs; still no inline script or style
DOCS_HEADERS = dict(
    SECURITY_HEADERS,
    **{
        "Content-Security-Policy": CONTENT_SECURITY_POLICY.replace(
            "img-src 'self'", "img-src 'self' data:"
        )
    },
)


class StaticFile:
    def __init__(self, name):
        self.name = name
        self.body = (STATIC / name).read_bytes()
        self.mimetype = STATIC_TYPES[name]
        self.version = hashlib.sha256(self.body).hexdigest()[:12]
        # compressed once at start: a phone on a slow mobile network fetches a quarter of it
        self.gzipped = gzip.compress(self.body, 9, mtime=0)

    def accepts_gzip(self, request):
        """Whether to send the compressed copy: the client takes gzip and it is smaller."""
        wanted = "gzip" in request.headers.get("Accept-Encoding", "")
        return wanted and len(self.gzipped) < len(self.body)

    @property
    def url(self):
        """The URL pages link: it changes with the content, so it can be cached for good."""
        return f"/static/{self.name}?v={self.version}"


@functools.cache
def static_file(name):
    return StaticFile(name) if name in STATIC_TYPES else None


def static_response(request, name):
    """A static file with caching: versioned URLs for a year, others revalidated by ETag."""
    found = static_file(name)
    if found is None:
        return None
    if request.args.get("v") == found.version:
        cache = "public, max-age=31536000, immutable"
    else:
        cache = "public, no-cache"  # the tablet links the bare name: revalidate, a 304 is cheap
    headers = {
        "Cache-Control": cache,
        "ETag": f'"{found.version}"',
        "X-Content-Type-Options": "nosniff",
        "Vary": "Accept-Encoding",
    }
    if f'"{found.version}"' in request.headers.get("If-None-Match", ""):
        return Response(status=304, headers=headers)
    charset = "; charset=utf-8" if found.mimetype != "image/svg+xml" else ""
    body = found.body
    if found.accepts_gzip(request):
        body, headers["Content-Encoding"] = found.gzipped, "gzip"
    return Response(body, content_type=found.mimetype + charset, headers=headers)


def rupiah(amount):
    """Rp 1.250.000, as Indonesians write money (in both languages)."""
    if amount is None:
        return "-"
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp {abs(int(amount)):,}".replace(",", ".")


@functools.cache
def environment():
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["static"] = lambda name: static_file(name).url
    env.filters["when"] = i18n.when
    env.filters["rupiah"] = rupiah
    env.filters["msg"] = i18n.message
    return env


def render(template, lang, status=200, path="", **context):
    """A page in `lang` with the security headers; `path` is where the language switch points."""
    other = "en" if lang == "id" else "id"
    html = (
        environment()
        .get_template(template)
        .render(
            lang=lang,
            t=i18n.table(lang),
            other_lang=other,
            other_lang_name=i18n.text("lang.name", other),
            switch_url=f"{path}?lang={other}",
            **context,
        )
    )
    headers = dict(SECURITY_HEADERS, **{"Cache-Control": "no-cache", "Content-Language": lang})
    return Response(html, status=status, content_type="text/html; charset=utf-8", headers=headers)
