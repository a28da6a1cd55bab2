"""COD money out: what a merchant may withdraw, its bank account, and its withdrawals.

A withdrawal moves money from the merchant's wallet through withdrawal:pending to
bank:clearing, step by step as money_out describes; what is particular to it is what
is available: the wallet less the COD the courier has not settled yet.
"""

from datetime import timedelta

from gudang_common.clock import iso, utcnow

from . import domain, money_out

WITHDRAWALS = money_out.Flow(
    noun="withdrawal",
    verb="withdraw",
    owner_field="merchant_id",
    owner_account=domain.wallet_account,
    pending_account=domain.WITHDRAWAL_PENDING,
    id_prefix="wdr_",
    requests="withdrawals",
    guards="withdrawal_guards",
    bank_accounts="bank_accounts",
    bank_account_route="/api/v1/merchants/me/bank-account",
)


def availability(repo, merchant_id, settlement_days, now=None, balance=None):
    """balance, cod_pending (COD credited within the settlement period, which the courier
    has not paid us yet), withdrawals_pending (reserved, not paid) and available.
    `balance`, when the caller has just summed it, is not summed again."""
    now = now or utcnow()
    wallet = domain.wallet_account(merchant_id)
    match = {"merchant_id": merchant_id}
    if balance is None:
        balance = repo.account_balance(wallet, match)
    since = iso(now - timedelta(days=settlement_days))
    cod_pending = max(repo.cod_credited_since(merchant_id, wallet, since), 0)
    return {
        "balance": balance,
        "cod_pending": cod_pending,
        "withdrawals_pending": repo.account_balance(domain.WITHDRAWAL_PENDING, match),
        "available": domain.available_to_withdraw(balance, cod_pending),
        "cod_settlement_days": settlement_days,
    }


def set_bank_account(repo, merchant_id, data, now=None):
    return money_out.set_bank_account(repo, WITHDRAWALS, merchant_id, data, now)


def get_bank_account(repo, merchant_id):
    return money_out.get_bank_account(repo, WITHDRAWALS, merchant_id)


def request_withdrawal(repo, merchant_id, amount, minimum, settlement_days, now=None):
    def available():
        return availability(repo, merchant_id, settlement_days, now)["available"]

    return money_out.request(repo, WITHDRAWALS, merchant_id, amount, minimum, available, now)


def take_step(repo, withdrawal_id, step, data, by, now=None):
    return money_out.take_step(repo, WITHDRAWALS, withdrawal_id, step, data, by, now)


def list_withdrawals(repo, merchant_id=None, status=None, limit=100, cursor=None):
    return money_out.list_requests(repo, WITHDRAWALS, merchant_id, status, limit, cursor)
