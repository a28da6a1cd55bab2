"""COD money out: what a merchant may withdraw, its bank account, and withdrawals step by step.

A withdrawal reserves its money at once (wallet -> withdrawal:pending), is approved by
finance (a decision, no money moves), then paid (withdrawal:pending -> bank:clearing)
or rejected (withdrawal:pending -> wallet). Each posting is keyed by the withdrawal and
its step, so a repeated step posts nothing twice.
"""

import uuid
from datetime import timedelta

from gudang_common.clock import iso, utcnow
from gudang_common.errors import Conflict, NotFound, Unprocessable, ValidationFailed
from gudang_common.pagination import check_limit

from . import domain

MAX_LIMIT = 1000
POSTING_KINDS = {"request": "withdrawal", "pay": "withdrawal_paid", "reject": "withdrawal_returned"}


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


# --- the bank account on file ------------------------------------------------------


def bank_account_view(doc):
    if doc is None:
        return None
    return {
        "bank": doc["bank"],
        "account_number": domain.mask_account_number(doc["account_number"]),
        "account_name": doc["account_name"],
        "updated_at": doc["updated_at"],
    }


def set_bank_account(repo, merchant_id, data, now=None):
    fields = dict(data, updated_at=iso(now or utcnow()))
    return {"bank_account": bank_account_view(repo.put_bank_account(merchant_id, fields))}


def get_bank_account(repo, merchant_id):
    return {"bank_account": bank_account_view(repo.bank_account(merchant_id))}


# --- asking for a withdrawal ---------------------------------------------------------


def request_withdrawal(repo, merchant_id, amount, minimum, settlement_days, now=None):
    """Reserve `amount` for a withdrawal, exactly once however many requests race.

    Every request claims the merchant's guard document by ONE conditional write on its
    version, holding what it will reserve. Two requests that computed `available` from
    the same ledger cannot both claim: the loser reads again, first posts the winner's
    reservation (so a crash between claim and posting is healed by whoever comes next),
    and counts what is left."""
    bank = repo.bank_account(merchant_id)
    if bank is None:
        raise Conflict(
            "no bank account on file",
            {"bank_account": ["Set one first: PUT /api/v1/merchants/me/bank-account."]},
        )
    for _ in range(20):
        guard = repo.withdrawal_guard(merchant_id)
        _reserve(repo, guard["holder"])
        available = availability(repo, merchant_id, settlement_days, now)["available"]
        _refuse(amount, available, minimum)
        holder = _holder(merchant_id, amount, bank, now)
        if repo.claim_withdrawal_guard(merchant_id, guard["version"], holder):
            _reserve(repo, holder)
            return withdrawal_view(repo.get_withdrawal(holder["_id"]))
    raise Conflict("withdrawals are being requested concurrently; try again", {})


def _refuse(amount, available, minimum):
    refusal = domain.withdrawal_refusal(amount, available, minimum)
    if refusal is None:
        return
    rule, why = refusal
    if rule == "minimum":
        raise Unprocessable(f"below the minimum withdrawal of {minimum}", {"amount": [why]})
    raise Conflict(f"only {available} is available to withdraw", {"amount": [why]})


def _holder(merchant_id, amount, bank, now):
    return {
        "_id": "wdr_" + uuid.uuid4().hex[:20],
        "merchant_id": merchant_id,
        "amount": amount,
        "status": "requested",
        "bank": {k: bank[k] for k in ("bank", "account_number", "account_name")},
        "requested_at": iso(now or utcnow()),
    }


def _reserve(repo, holder):
    """The withdrawal and its reserving posting, each once (a repeat changes nothing)."""
    if holder is None:
        return
    repo.add_withdrawal(dict(holder))
    lines = domain.withdrawal_reserve_lines(holder["merchant_id"], holder["amount"])
    _post(repo, holder, "request", lines, holder["requested_at"])


def _post(repo, withdrawal, step, lines, when):
    repo.add_posting(
        {
            "_id": f"withdrawal:{withdrawal['_id']}:{step}",
            "kind": POSTING_KINDS[step],
            "fee_type": None,
            "merchant_id": withdrawal["merchant_id"],
            "promoter_id": None,
            "lines": lines,
            "occurred_at": when,
            "posted_at": iso(utcnow()),
            "cause_event_id": None,
            "ref": withdrawal["_id"],
        }
    )


# --- finance's steps -----------------------------------------------------------------

STEP_FIELDS = {"approve": (), "pay": ("transfer_reference",), "reject": ("reason",)}


def take_step(repo, withdrawal_id, step, data, by, now=None):
    """approve | pay | reject: one conditional write moves the status (so of two steps
    racing, one wins and the other is refused), then the step's posting. A repeat of the
    step already taken changes nothing and answers as the first did; a crash between
    the write and the posting is healed by that repeat."""
    withdrawal = _withdrawal(repo, withdrawal_id)
    to = domain.WITHDRAWAL_STEPS[step][1]
    if withdrawal["status"] != to:
        fields = {k: data[k] for k in STEP_FIELDS[step]}
        stamp = {"status": to, f"{to}_at": iso(now or utcnow()), f"{to}_by": by, **fields}
        starts = domain.WITHDRAWAL_STEPS[step][0]
        moved = repo.move_withdrawal(withdrawal_id, starts, stamp)
        withdrawal = moved or _withdrawal(repo, withdrawal_id)
        if moved is None and withdrawal["status"] != to:
            raise Conflict(
                f"a {withdrawal['status']} withdrawal cannot be {step}d",
                {"status": [f"Is {withdrawal['status']}; {_allowed(step)}."]},
            )
    _same_step(withdrawal, step, data)
    _post_step(repo, withdrawal, step)
    return withdrawal_view(withdrawal)


def _allowed(step):
    return "only " + " or ".join(domain.WITHDRAWAL_STEPS[step][0]) + " can be"


def _same_step(withdrawal, step, data):
    """A repeat must be the same step: paying again under another reference is refused."""
    for field in STEP_FIELDS[step]:
        if withdrawal.get(field) != data[field]:
            raise Conflict(
                f"the withdrawal is {withdrawal['status']} already",
                {field: [f"Already {withdrawal['status']} with another {field}."]},
            )


def _post_step(repo, withdrawal, step):
    amount, merchant_id = withdrawal["amount"], withdrawal["merchant_id"]
    if step == "pay":
        lines = domain.withdrawal_paid_lines(amount)
    elif step == "reject":
        lines = domain.withdrawal_returned_lines(merchant_id, amount)
    else:
        return  # approving is a decision: the money was reserved when it was requested
    _post(repo, withdrawal, step, lines, withdrawal[f"{withdrawal['status']}_at"])


def _withdrawal(repo, withdrawal_id):
    found = repo.get_withdrawal(withdrawal_id) if isinstance(withdrawal_id, str) else None
    if found is None:
        raise NotFound(f"withdrawal {withdrawal_id} not found", {"id": ["Unknown withdrawal."]})
    return found


# --- reads ---------------------------------------------------------------------------

# what a withdrawal and a promoter's payout show, besides who asked (they share their steps)
REQUEST_FIELDS = (
    "amount",
    "status",
    "requested_at",
    "approved_at",
    "approved_by",
    "paid_at",
    "paid_by",
    "transfer_reference",
    "rejected_at",
    "rejected_by",
    "reason",
)


def request_view(doc, owner_field):
    """A withdrawal or payout as its owner and finance see it: the bank account masked."""
    view = {"id": doc["_id"], "currency": domain.CURRENCY, owner_field: doc.get(owner_field)}
    view |= {k: doc.get(k) for k in REQUEST_FIELDS}
    view["bank_account"] = {
        "bank": doc["bank"]["bank"],
        "account_number": domain.mask_account_number(doc["bank"]["account_number"]),
        "account_name": doc["bank"]["account_name"],
    }
    return view


def withdrawal_view(doc):
    return request_view(doc, "merchant_id")


def list_match(owner_field, owner_id, status, limit):
    """The filter of a list of withdrawals or payouts, its arguments checked (400 naming them)."""
    check_limit(limit, MAX_LIMIT)
    if status is not None and status not in domain.WITHDRAWAL_STATUSES:
        choices = ", ".join(domain.WITHDRAWAL_STATUSES)
        raise ValidationFailed("unknown status", {"status": [f"One of: {choices}."]})
    return {k: v for k, v in ((owner_field, owner_id), ("status", status)) if v}


def list_withdrawals(repo, merchant_id=None, status=None, limit=100, cursor=None):
    """A page of a merchant's withdrawals, or (merchant_id None, for finance) everyone's,
    newest first, and the next page's cursor."""
    match = list_match("merchant_id", merchant_id, status, limit)
    docs, after = repo.withdrawals(match, limit, cursor)
    return {"withdrawals": [withdrawal_view(d) for d in docs], "next_cursor": after}
