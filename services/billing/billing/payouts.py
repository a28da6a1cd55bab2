"""Commission money out: a promoter's bank account and payouts.

A payout moves money from promoter:<id>:payable through payout:pending to
bank:clearing, step by step as money_out describes (the flow of a merchant's
withdrawal); what is particular to it is what is available: commission on fees the
merchant has paid, less payouts reserved.
"""

from . import domain, money_out, operations

PAYOUTS = money_out.Flow(
    noun="payout",
    verb="pay out",
    owner_field="promoter_id",
    owner_account=domain.promoter_account,
    pending_account=domain.PAYOUT_PENDING,
    id_prefix="pay_",
    requests="payouts",
    guards="payout_guards",
    bank_accounts="promoter_bank_accounts",
    bank_account_route="/api/v1/promoters/me/bank-account",
)


def availability(repo, promoter_id):
    """What the promoter may be paid now: commission on paid fees, less payouts reserved."""
    account = domain.promoter_account(promoter_id)
    _, pending = operations.commission_pending(repo, promoter_id)
    payable = repo.account_balance(account, {"promoter_id": promoter_id})
    return {"pending": pending, "available": domain.available_to_pay_out(payable, pending)}


def set_bank_account(repo, promoter_id, data, now=None):
    return money_out.set_bank_account(repo, PAYOUTS, promoter_id, data, now)


def get_bank_account(repo, promoter_id):
    return money_out.get_bank_account(repo, PAYOUTS, promoter_id)


def request_payout(repo, promoter_id, amount, minimum, now=None):
    def available():
        return availability(repo, promoter_id)["available"]

    return money_out.request(repo, PAYOUTS, promoter_id, amount, minimum, available, now)


def take_step(repo, payout_id, step, data, by, now=None):
    return money_out.take_step(repo, PAYOUTS, payout_id, step, data, by, now)


def list_payouts(repo, promoter_id=None, status=None, limit=100, cursor=None):
    return money_out.list_requests(repo, PAYOUTS, promoter_id, status, limit, cursor)
