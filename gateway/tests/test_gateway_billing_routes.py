"""The billing routes' downloads: the invoice's bytes with the right content type."""

import base64

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from gateway.auth import Caller
from gateway.billing_routes import BillingRoutes


class Routes(BillingRoutes):
    billing = "billing"

    def __init__(self):
        self.calls = []

    def _auth(self, request, *roles):
        assert roles == ("merchant",)
        return Caller("merchant", "mer_1")

    def _rpc(self, proxy, method, *args, timeout=None):
        self.calls.append((method, args))
        if args[-1] == "pdf":
            return {
                "filename": "INV-2026-10-000001.pdf",
                "content_base64": base64.b64encode(b"%PDF-1.4").decode(),
            }
        return {"filename": "INV-2026-10-000001.csv", "content": "invoice,INV/2026/10/000001\n"}


def request(path):
    return Request(EnvironBuilder(path=path).get_environ())


def test_pdf_and_csv_downloads():
    routes = Routes()
    pdf = routes.invoice_pdf(
        request("/api/v1/invoices/INV/2026/10/000001.pdf"), "INV/2026/10/000001"
    )
    assert pdf.mimetype == "application/pdf"
    assert pdf.get_data() == b"%PDF-1.4"
    assert 'filename="INV-2026-10-000001.pdf"' in pdf.headers["Content-Disposition"]
    got = routes.invoice_csv(request("/x"), "INV/2026/10/000001")
    assert got.mimetype == "text/csv"
    assert got.get_data(as_text=True).startswith("invoice,INV/2026/10/000001")
    assert routes.calls == [
        ("invoice_file", ("mer_1", "INV/2026/10/000001", "pdf")),
        ("invoice_file", ("mer_1", "INV/2026/10/000001", "csv")),
    ]
