"""Gateway routes of the public pages: the buyer's tracking (page and JSON), static files and
the API's own description."""

from pathlib import Path
from urllib.parse import quote

from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from gudang_common.errors import (
    NotFound,
)
from gudang_common.web import http

from . import openapi, pages
from .tracking import normalise_awb, public_view

API = "/api/v1"
API_DOCS_HTML = (Path(__file__).parent / "static" / "api-docs.html").read_bytes()
# built once at import (a few milliseconds): a declaration apispec cannot take stops the start
OPENAPI_SPEC = openapi.build_spec()


class PageRoutes:
    """Mixed into GatewayService (which provides store and _lang)."""

    def _tracked(self, awb):
        """The order behind a public AWB, or None (also for a malformed one)."""
        awb = normalise_awb(awb)
        return self.store.order_by_awb(awb) if awb else None

    @http("GET", f"{API}/track/<awb>")
    def track(self, request, awb):
        """Public tracking by AWB for buyers: the steps, the courier, the city; nothing else."""
        doc = self._tracked(awb)
        if doc is None:
            raise NotFound("unknown AWB", {"awb": ["Unknown AWB."]})
        return public_view(doc, self._lang(request))

    @http("GET", "/track/<awb>")
    def track_page(self, request, awb):
        """The page behind the link a seller sends a buyer: the same view as the JSON, in HTML."""
        lang = self._lang(request)
        doc = self._tracked(awb)
        if doc is None:
            return pages.render("not_found.html", lang, 404, request.path, asked=awb[:40])
        return pages.render("track.html", lang, path=request.path, view=public_view(doc, lang))

    @http("GET", "/track")
    def track_search(self, request):
        """The search box's target (`?awb=`): to the parcel's page, or the empty search."""
        lang = self._lang(request)
        asked = request.args.get("awb", "")
        if asked:
            awb = normalise_awb(asked) or asked.strip()[:40]
            return redirect(f"/track/{quote(awb, safe='')}?lang={lang}", code=303)
        return pages.render("search.html", lang, path=request.path)

    @http("GET", "/static/<name>")
    def static_file(self, request, name):
        found = pages.static_response(request, name)
        if found is None:
            raise NotFound("no such file", {"name": ["Unknown file."]})
        return found

    @http("GET", f"{API}/openapi.json")
    def openapi_spec(self, request):
        """OpenAPI 3.1, built from the routes' declarations and their marshmallow schemas."""
        return OPENAPI_SPEC

    @http("GET", "/api/docs")
    def api_docs(self, request):
        """Swagger UI on the spec above, every file served from here."""
        headers = dict(pages.DOCS_HEADERS, **{"Cache-Control": "no-cache"})
        return Response(API_DOCS_HTML, mimetype="text/html", headers=headers)
