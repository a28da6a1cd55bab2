"""Gateway routes that front billing's money operations: the wallet, top-ups and credit limits,
rate card versions, storage billing, invoices, the bank accounts on file, merchants'
withdrawals and promoters' payouts, and the payment provider's virtual-account callback."""

import base64

from werkzeug.wrappers import Response

from gudang_common.clock import iso, utcnow
from gudang_common.errors import Conflict, NotFound, load
from gudang_common.web import http, json_body

from . import payments

va_paid_schema = payments.VaPaidSchema()

API = "/api/v1"


class BillingRoutes:
    """Mixed into GatewayService (which provides _auth, _rpc and the billing proxy)."""

    @http("GET", f"{API}/admin/rate-cards")
    def rate_cards(self, request):
        self._auth(request, "admin", "finance")
        return self._rpc(self.billing, "rate_cards")

    @http("POST", f"{API}/admin/rate-cards")
    def add_rate_card(self, request):
        caller = self._auth(request, "admin", "finance")
        return 201, self._rpc(self.billing, "add_rate_card", json_body(request), caller.id)

    @http("POST", f"{API}/admin/invoices")
    def issue_invoices(self, request):
        """Invoice an ended WIB month now (billing also does it after each month ends)."""
        self._auth(request, "admin", "finance")
        body = json_body(request)
        args = (body.get("month"), body.get("merchant_id"))
        return 201, self._rpc(self.billing, "issue_invoices", *args, timeout=120)

    @http("GET", f"{API}/invoices")
    def list_invoices(self, request):
        caller = self._auth(request, "merchant")
        page = self._list_page(request, default=100, most=1000)
        return self._rpc(self.billing, "list_invoices", caller.id, *page)

    @http("GET", f"{API}/invoices/<path:number>.csv")
    def invoice_csv(self, request, number):
        caller = self._auth(request, "merchant")
        found = self._rpc(self.billing, "invoice_file", caller.id, number, "csv")
        return _download(found["content"], "text/csv", found["filename"])

    @http("GET", f"{API}/invoices/<path:number>.pdf")
    def invoice_pdf(self, request, number):
        caller = self._auth(request, "merchant")
        found = self._rpc(self.billing, "invoice_file", caller.id, number, "pdf", timeout=30)
        return _download(
            base64.b64decode(found["content_base64"]), "application/pdf", found["filename"]
        )

    # --- money out: a merchant's COD withdrawals, a promoter's payouts -------------
    # Both take the same steps (billing's money_out): each route names its owner's role
    # and billing's RPC, the helpers after them do the rest.

    @http("GET", f"{API}/merchants/me/bank-account")
    def bank_account(self, request):
        return self._own_bank_account(request, "merchant", "bank_account")

    @http("PUT", f"{API}/merchants/me/bank-account")
    def set_bank_account(self, request):
        return self._own_bank_account(request, "merchant", "set_bank_account", put=True)

    @http("POST", f"{API}/withdrawals")
    def request_withdrawal(self, request):
        return self._ask_money_out(request, "merchant", "request_withdrawal")

    @http("GET", f"{API}/withdrawals")
    def list_withdrawals(self, request):
        return self._own_money_out(request, "merchant", "list_withdrawals")

    @http("GET", f"{API}/admin/withdrawals")
    def admin_withdrawals(self, request):
        return self._money_out_to_handle(request, "list_withdrawals")

    @http("POST", f"{API}/admin/withdrawals/<withdrawal_id>/approve")
    def approve_withdrawal(self, request, withdrawal_id):
        return self._money_out_step(request, "withdrawal_step", withdrawal_id, "approve")

    @http("POST", f"{API}/admin/withdrawals/<withdrawal_id>/paid")
    def withdrawal_paid(self, request, withdrawal_id):
        return self._money_out_step(request, "withdrawal_step", withdrawal_id, "pay")

    @http("POST", f"{API}/admin/withdrawals/<withdrawal_id>/reject")
    def reject_withdrawal(self, request, withdrawal_id):
        return self._money_out_step(request, "withdrawal_step", withdrawal_id, "reject")

    @http("GET", f"{API}/promoters/me/bank-account")
    def promoter_bank_account(self, request):
        return self._own_bank_account(request, "promoter", "promoter_bank_account")

    @http("PUT", f"{API}/promoters/me/bank-account")
    def set_promoter_bank_account(self, request):
        return self._own_bank_account(request, "promoter", "set_promoter_bank_account", put=True)

    @http("POST", f"{API}/payouts")
    def request_payout(self, request):
        return self._ask_money_out(request, "promoter", "request_payout")

    @http("GET", f"{API}/payouts")
    def list_payouts(self, request):
        return self._own_money_out(request, "promoter", "list_payouts")

    @http("GET", f"{API}/admin/payouts")
    def admin_payouts(self, request):
        return self._money_out_to_handle(request, "list_payouts")

    @http("POST", f"{API}/admin/payouts/<payout_id>/approve")
    def approve_payout(self, request, payout_id):
        return self._money_out_step(request, "payout_step", payout_id, "approve")

    @http("POST", f"{API}/admin/payouts/<payout_id>/paid")
    def payout_paid(self, request, payout_id):
        return self._money_out_step(request, "payout_step", payout_id, "pay")

    @http("POST", f"{API}/admin/payouts/<payout_id>/reject")
    def reject_payout(self, request, payout_id):
        return self._money_out_step(request, "payout_step", payout_id, "reject")

    def _own_bank_account(self, request, role, method, put=False):
        """The caller's bank account on file: read, or put (the body after the key is checked)."""
        caller = self._auth(request, role)
        body = (json_body(request),) if put else ()
        return self._rpc(self.billing, method, caller.id, *body)

    def _ask_money_out(self, request, role, method):
        caller = self._auth(request, role)
        payload = json_body(request)
        return self._created_once(request, caller, self.billing, method, caller.id, payload)

    def _own_money_out(self, request, role, method):
        caller = self._auth(request, role)
        page = self._list_page(request, default=100, most=1000)
        return self._rpc(self.billing, method, caller.id, None, *page)

    def _money_out_to_handle(self, request, method):
        self._auth(request, "admin", "finance")
        status = request.args.get("status") or None
        page = self._list_page(request, default=100, most=1000)
        return self._rpc(self.billing, method, None, status, *page)

    def _money_out_step(self, request, method, request_id, step):
        caller = self._auth(request, "admin", "finance")
        payload = json_body(request, required=step != "approve")
        return self._rpc(self.billing, method, request_id, step, payload, caller.id)

    @http("GET", f"{API}/wallet")
    def wallet(self, request):
        caller = self._auth(request, "merchant")
        page = self._list_page(request, default=50, most=1000)
        return self._rpc(self.billing, "wallet", caller.id, *page)

    @http("POST", f"{API}/admin/storage-billing")
    def run_storage_billing(self, request):
        """Bill a day's storage now (the billing service also does it after each WIB midnight)."""
        self._auth(request, "admin", "finance")
        day = json_body(request, required=False).get("day")
        return self._rpc(self.billing, "run_storage_billing", day, timeout=60)

    @http("PUT", f"{API}/admin/merchants/<merchant_id>/credit-limit")
    def set_credit_limit(self, request, merchant_id):
        """How far below zero the merchant's wallet may go before its new orders wait."""
        caller = self._auth(request, "admin", "finance")
        if self.store.get_account("merchants", merchant_id) is None:
            raise NotFound("unknown merchant", {"merchant_id": ["Unknown merchant."]})
        payload = json_body(request)
        return self._rpc(self.billing, "set_credit_limit", merchant_id, payload, caller.id)

    @http("POST", f"{API}/merchants/<merchant_id>/topups")
    def record_topup(self, request, merchant_id):
        caller = self._auth(request, "admin", "finance")
        if self.store.get_account("merchants", merchant_id) is None:
            raise NotFound("unknown merchant", {"merchant_id": ["Unknown merchant."]})
        payload = json_body(request)
        return self._created_once(
            request, caller, self.billing, "record_topup", merchant_id, payload
        )

    # --- top-ups paid into a virtual account -----------------------------------

    @http("POST", f"{API}/payments/webhook")
    def payment_webhook(self, request):
        """The provider's "virtual account paid" callback: a top-up, once per payment id."""
        payments.check_callback_token(
            self.config.get("PAYMENT_CALLBACK_TOKEN", ""), request.headers.get("x-callback-token")
        )
        paid = load(va_paid_schema, json_body(request))
        merchant_id = self.store.merchant_of_virtual_account(paid["account_number"])
        if merchant_id is None or paid["bank_code"] != self._va_bank:
            raise NotFound(
                "unknown virtual account",
                {"account_number": ["No merchant's virtual account at this bank."]},
            )
        _same_payment(self.store.record_provider_payment(_payment_doc(paid, merchant_id)), paid)
        topup = {
            "amount": paid["amount"],
            "reference": payments.topup_reference(paid["payment_id"]),
        }
        credited = self._rpc(self.billing, "record_topup", merchant_id, topup)
        return {
            "status": "credited",
            "payment_id": paid["payment_id"],
            "account_number": paid["account_number"],
            "amount": credited["amount"],
            "currency": credited["currency"],
        }

    @property
    def _va_bank(self):
        return self.config.get("PAYMENT_VA_BANK") or "BNI"

    def _virtual_account(self, merchant_id):
        """The bank and number the merchant tops its wallet up through."""
        prefix = str(self.config.get("PAYMENT_VA_PREFIX") or "8808")
        number = self.store.virtual_account_of(merchant_id, prefix)
        return {"bank_code": self._va_bank, "account_number": number}


def _payment_doc(paid, merchant_id):
    return {
        "_id": paid["payment_id"],
        "merchant_id": merchant_id,
        "account_number": paid["account_number"],
        "amount": paid["amount"],
        "paid_at": iso(paid["transaction_timestamp"]),
        "received_at": iso(utcnow()),
    }


def _same_payment(first, paid):
    """A repeat of a payment id must be the same payment: 409 naming what differs."""
    for field in ("account_number", "amount"):
        if first[field] != paid[field]:
            raise Conflict(
                f"payment {paid['payment_id']} was reported with another {field}",
                {field: [f"Payment {paid['payment_id']} was {first[field]}."]},
            )


def _download(content, mimetype, filename):
    return Response(
        content,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
