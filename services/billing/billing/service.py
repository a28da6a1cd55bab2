"""Billing service entrypoints: RPC for the gateway, handlers that post fees from events."""

from datetime import date

from nameko.timer import timer

from gudang_common import service as base
from gudang_common.clock import today_wib
from gudang_common.consumer import domain_event_handler
from gudang_common.errors import EXPECTED, load
from gudang_common.rpc import BoundedRpcProxy, call
from gudang_common.service import rpc

from . import operations, payouts, withdrawals
from .domain import (
    COD_SETTLEMENT_DAYS,
    COMMISSION_MONTHS,
    PAYOUT_MINIMUM,
    WITHDRAWAL_MINIMUM,
    RateCard,
)
from .invoices import month_due
from .money_out import STEP_SCHEMAS
from .schemas import (
    BankAccountSchema,
    CreditLimitSchema,
    RateCardSchema,
    TopupSchema,
    WithdrawalSchema,
)
from .store import BillingRepository, BillingStore

topup_schema, rate_card_schema = TopupSchema(), RateCardSchema()
credit_limit_schema = CreditLimitSchema()
bank_account_schema, withdrawal_schema = BankAccountSchema(), WithdrawalSchema()


class BillingService(base.BaseService):
    name = "billing"
    store = BillingStore(BillingRepository)
    inventory = BoundedRpcProxy("inventory")

    @property
    def rate_card(self):
        """The rate card's versions: each fee is priced by the one in force at its cause."""
        return operations.RateBook(self.store, RateCard.from_config(self.config))

    # --- RPC (through the gateway) ----------------------------------------

    @rpc(expected_exceptions=EXPECTED)
    def wallet(self, merchant_id, limit=50, cursor=None):
        view = operations.wallet(self.store, merchant_id, limit, cursor)
        days, balance = self.settlement_days, view["balance"]
        return view | withdrawals.availability(self.store, merchant_id, days, balance=balance)

    # --- COD money out ------------------------------------------------------

    @property
    def settlement_days(self):
        return _whole_config(self.config, "COD_SETTLEMENT_DAYS", COD_SETTLEMENT_DAYS)

    @property
    def commission_months(self):
        return _whole_config(self.config, "COMMISSION_MONTHS", COMMISSION_MONTHS)

    @property
    def withdrawal_minimum(self):
        return _whole_config(self.config, "WITHDRAWAL_MINIMUM", WITHDRAWAL_MINIMUM)

    @rpc(expected_exceptions=EXPECTED)
    def set_bank_account(self, merchant_id, payload):
        data = load(bank_account_schema, payload)
        return withdrawals.set_bank_account(self.store, merchant_id, data)

    @rpc(expected_exceptions=EXPECTED)
    def bank_account(self, merchant_id):
        return withdrawals.get_bank_account(self.store, merchant_id)

    @rpc(expected_exceptions=EXPECTED)
    def request_withdrawal(self, merchant_id, payload):
        amount = load(withdrawal_schema, payload)["amount"]
        return withdrawals.request_withdrawal(
            self.store, merchant_id, amount, self.withdrawal_minimum, self.settlement_days
        )

    @rpc(expected_exceptions=EXPECTED)
    def list_withdrawals(self, merchant_id=None, status=None, limit=100, cursor=None):
        return withdrawals.list_withdrawals(self.store, merchant_id, status, limit, cursor)

    @rpc(expected_exceptions=EXPECTED)
    def withdrawal_step(self, withdrawal_id, step, payload, by):
        schema = STEP_SCHEMAS.get(step)
        data = load(schema, payload) if schema else {}
        return withdrawals.take_step(self.store, withdrawal_id, step, data, by)

    @rpc(expected_exceptions=EXPECTED)
    def promoter_earnings(self, promoter_id, limit=50, merchant_id=None, month=None):
        return operations.promoter_earnings(self.store, promoter_id, limit, merchant_id, month)

    @rpc(expected_exceptions=EXPECTED)
    def promoter_commission(self, promoter_id, fee_posting_id):
        return operations.promoter_commission(self.store, promoter_id, fee_posting_id)

    # --- commission money out -------------------------------------------------

    @property
    def payout_minimum(self):
        return _whole_config(self.config, "PAYOUT_MINIMUM", PAYOUT_MINIMUM)

    @rpc(expected_exceptions=EXPECTED)
    def set_promoter_bank_account(self, promoter_id, payload):
        data = load(bank_account_schema, payload)
        return payouts.set_bank_account(self.store, promoter_id, data)

    @rpc(expected_exceptions=EXPECTED)
    def promoter_bank_account(self, promoter_id):
        return payouts.get_bank_account(self.store, promoter_id)

    @rpc(expected_exceptions=EXPECTED)
    def request_payout(self, promoter_id, payload):
        amount = load(withdrawal_schema, payload)["amount"]
        return payouts.request_payout(self.store, promoter_id, amount, self.payout_minimum)

    @rpc(expected_exceptions=EXPECTED)
    def list_payouts(self, promoter_id=None, status=None, limit=100, cursor=None):
        return payouts.list_payouts(self.store, promoter_id, status, limit, cursor)

    @rpc(expected_exceptions=EXPECTED)
    def payout_step(self, payout_id, step, payload, by):
        schema = STEP_SCHEMAS.get(step)
        data = load(schema, payload) if schema else {}
        return payouts.take_step(self.store, payout_id, step, data, by)

    @rpc(expected_exceptions=EXPECTED)
    def record_topup(self, merchant_id, payload):
        topup = operations.record_topup(self.store, merchant_id, load(topup_schema, payload))
        return topup | {"on_hold": operations.review_hold(self.store, merchant_id)["on_hold"]}

    @rpc(expected_exceptions=EXPECTED)
    def set_credit_limit(self, merchant_id, payload, set_by):
        data = load(credit_limit_schema, payload)
        return operations.set_credit_limit(self.store, merchant_id, data, set_by)

    @rpc(expected_exceptions=EXPECTED)
    def rate_cards(self):
        return operations.rate_cards(self.store, self.rate_card)

    @rpc(expected_exceptions=EXPECTED)
    def add_rate_card(self, payload, created_by):
        data = load(rate_card_schema, payload)
        return operations.add_rate_card(self.store, self.rate_card, data, created_by)

    @property
    def invoice_issuer(self):
        return self.config.get("INVOICE_ISSUER") or "Gudang"

    @rpc(expected_exceptions=EXPECTED)
    def issue_invoices(self, month, merchant_id=None):
        return operations.issue_invoices(self.store, month, self.invoice_issuer, merchant_id)

    @rpc(expected_exceptions=EXPECTED)
    def list_invoices(self, merchant_id, limit=100, cursor=None):
        return operations.list_invoices(self.store, merchant_id, limit, cursor)

    @rpc(expected_exceptions=EXPECTED)
    def invoice_file(self, merchant_id, number, fmt):
        return operations.invoice_file(self.store, merchant_id, number, fmt)

    @timer(interval=300)
    def monthly_invoices(self):
        """Invoice the last ended WIB month, after its grace days (idempotent per merchant
        and month)."""
        grace = int(self.config.get("INVOICE_GRACE_DAYS") or 2)
        month = month_due(date.fromisoformat(today_wib()), grace)
        if month is not None and self.store.invoice_run(month) is None:
            issued = operations.issue_invoices(self.store, month, self.invoice_issuer)["issued"]
            self.store.record_invoice_run(month, issued)

    @rpc(expected_exceptions=EXPECTED)
    def run_storage_billing(self, day=None):
        """Charge the storage fee of an ended WIB `day` (YYYY-MM-DD; default yesterday) now."""
        day = operations.storage_day(day)
        units = call(self.inventory, "storage_units_on", day.isoformat(), timeout=30)["merchants"]
        charged = operations.charge_storage(self.store, self.rate_card, day, units)
        for merchant_id in charged:
            operations.review_hold(self.store, merchant_id)
        self.store.record_storage_run(day.isoformat(), charged)
        return {"day": day.isoformat(), "charged": charged}

    @timer(interval=300)
    def daily_storage(self):
        """Bill every ended WIB day not billed yet, oldest first: after each midnight, and
        the days missed while billing was down (idempotent per merchant and day)."""
        for day in operations.storage_days_due(self.store, self.storage_catch_up_days):
            self.run_storage_billing(day.isoformat())

    @property
    def storage_catch_up_days(self):
        return int(self.config.get("STORAGE_CATCH_UP_DAYS") or 31)

    # --- events -----------------------------------------------------------

    @domain_event_handler("gateway", "promoter_registered")
    def on_promoter_registered(self, event):
        operations.register_promoter(self.store, event)

    @domain_event_handler("gateway", "merchant_registered")
    def on_merchant_registered(self, event):
        operations.register_merchant(self.store, event, self.commission_months)

    @domain_event_handler("inventory", "stock_received")
    def on_stock_received(self, event):
        operations.charge_inbound(self.store, self.rate_card, event)
        operations.review_hold(self.store, event["merchant_id"])

    @domain_event_handler("packing", "order_packed")
    def on_order_packed(self, event):
        operations.charge_pick_pack(self.store, self.rate_card, event)
        operations.review_hold(self.store, event["merchant_id"])

    @domain_event_handler("shipping", "parcel_booked")
    def on_parcel_booked(self, event):
        operations.pass_through_shipping(self.store, event)
        operations.charge_label(self.store, self.rate_card, event)
        operations.review_hold(self.store, event["merchant_id"])

    @domain_event_handler("shipping", "parcel_delivered")
    def on_parcel_delivered(self, event):
        operations.settle_cod(self.store, self.rate_card, event)
        operations.review_hold(self.store, event["merchant_id"])

    @domain_event_handler("shipping", "parcel_returned")
    def on_parcel_returned(self, event):
        operations.charge_return_to_sender(self.store, self.rate_card, event)
        operations.review_hold(self.store, event["merchant_id"])

    @domain_event_handler("shipping", "parcel_outcome_corrected")
    def on_parcel_outcome_corrected(self, event):
        operations.correct_cod(self.store, self.rate_card, event)
        operations.correct_return_to_sender(self.store, self.rate_card, event)
        operations.review_hold(self.store, event["merchant_id"])


def _whole_config(config, key, default):
    raw = config.get(key)
    if raw is None or raw == "":
        return default
    if not str(raw).isdigit():
        raise ValueError(f"{key} must be a whole number, not {raw!r}")
    return int(raw)
