"""Commission money out: a promoter's bank account and payouts step by step.

The same shape as withdrawals: a payout reserves its money at once
(promoter:<id>:payable -> payout:pending), is approved by finance (a decision, no money
moves), then paid (payout:pending -> bank:clearing, with the bank's transfer reference)
or rejected with a reason (payout:pending -> promoter:<id>:payable). Each posting is keyed
by the payout and its step, so a repeated step posts nothing twice.
"""

import uuid

from gudang_common.clock import iso, utcnow
from gudang_common.errors import Conflict, NotFound, Unprocessable

from . import domain, operations
from .withdrawals import STEP_FIELDS, bank_account_view, list_match, request_view

POSTING_KINDS = {"request": "payout", "pay": "payout_paid", "reject": "payout_returned"}


def availability(repo, promoter_id):
    """What the promoter may be paid now: commission on paid fees, less payouts reserved."""
    account = domain.promoter_account(promoter_id)
    _, pending = operations.commission_pending(repo, promoter_id)
    payable = repo.account_balance(account, {"promoter_id": promoter_id})
    return {"pending": pending, "available": domain.available_to_pay_out(payable, pending)}


def set_bank_account(repo, promoter_id, data, now=None):
    fields = dict(data, updated_at=iso(now or utcnow()))
    return {"bank_account": bank_account_view(repo.put_promoter_bank_account(promoter_id, fields))}


def get_bank_account(repo, promoter_id):
    return {"bank_account": bank_account_view(repo.promoter_bank_account(promoter_id))}


def request_payout(repo, promoter_id, amount, minimum, now=None):
    """Reserve `amount` for a payout, exactly once however many requests race: the
    promoter's guard document is claimed by one conditional write on its version, as a
    withdrawal claims the merchant's (see withdrawals.request_withdrawal)."""
    bank = repo.promoter_bank_account(promoter_id)
    if bank is None:
        raise Conflict(
            "no bank account on file",
            {"bank_account": ["Set one first: PUT /api/v1/promoters/me/bank-account."]},
        )
    for _ in range(20):
        guard = repo.payout_guard(promoter_id)
        _reserve(repo, guard["holder"])
        available = availability(repo, promoter_id)["available"]
        _refuse(amount, available, minimum)
        holder = _holder(promoter_id, amount, bank, now)
        if repo.claim_payout_guard(promoter_id, guard["version"], holder):
            _reserve(repo, holder)
            return payout_view(repo.get_payout(holder["_id"]))
    raise Conflict("payouts are being requested concurrently; try again", {})


def _refuse(amount, available, minimum):
    refusal = domain.withdrawal_refusal(amount, available, minimum)
    if refusal is None:
        return
    rule, why = refusal
    if rule == "minimum":
        raise Unprocessable(f"below the minimum payout of {minimum}", {"amount": [why]})
    raise Conflict(f"only {available} is available to pay out", {"amount": [why]})


def _holder(promoter_id, amount, bank, now):
    return {
        "_id": "pay_" + uuid.uuid4().hex[:20],
        "promoter_id": promoter_id,
        "amount": amount,
        "status": "requested",
        "bank": {k: bank[k] for k in ("bank", "account_number", "account_name")},
        "requested_at": iso(now or utcnow()),
    }


def _reserve(repo, holder):
    """The payout and its reserving posting, each once (a repeat changes nothing)."""
    if holder is None:
        return
    repo.add_payout(dict(holder))
    lines = domain.payout_reserve_lines(holder["promoter_id"], holder["amount"])
    _post(repo, holder, "request", lines, holder["requested_at"])


def _post(repo, payout, step, lines, when):
    repo.add_posting(
        {
            "_id": f"payout:{payout['_id']}:{step}",
            "kind": POSTING_KINDS[step],
            "fee_type": None,
            "merchant_id": None,
            "promoter_id": payout["promoter_id"],
            "lines": lines,
            "occurred_at": when,
            "posted_at": iso(utcnow()),
            "cause_event_id": None,
            "ref": payout["_id"],
        }
    )


# --- finance's steps -----------------------------------------------------------------


def take_step(repo, payout_id, step, data, by, now=None):
    """approve | pay | reject, as for withdrawals: one conditional write moves the status
    (of two steps racing, one wins), then the step's posting; a repeat of the step taken
    changes nothing, and heals a crash between the write and the posting."""
    payout = _payout(repo, payout_id)
    to = domain.WITHDRAWAL_STEPS[step][1]
    if payout["status"] != to:
        fields = {k: data[k] for k in STEP_FIELDS[step]}
        stamp = {"status": to, f"{to}_at": iso(now or utcnow()), f"{to}_by": by, **fields}
        moved = repo.move_payout(payout_id, domain.WITHDRAWAL_STEPS[step][0], stamp)
        payout = moved or _payout(repo, payout_id)
        if moved is None and payout["status"] != to:
            allowed = " or ".join(domain.WITHDRAWAL_STEPS[step][0])
            raise Conflict(
                f"a {payout['status']} payout cannot be {step}d",
                {"status": [f"Is {payout['status']}; only {allowed} can be."]},
            )
    for field in STEP_FIELDS[step]:
        if payout.get(field) != data[field]:
            raise Conflict(
                f"the payout is {payout['status']} already",
                {field: [f"Already {payout['status']} with another {field}."]},
            )
    _post_step(repo, payout, step)
    return payout_view(payout)


def _post_step(repo, payout, step):
    amount, promoter_id = payout["amount"], payout["promoter_id"]
    if step == "pay":
        lines = domain.payout_paid_lines(amount)
    elif step == "reject":
        lines = domain.payout_returned_lines(promoter_id, amount)
    else:
        return  # approving is a decision: the money was reserved when it was requested
    _post(repo, payout, step, lines, payout[f"{payout['status']}_at"])


def _payout(repo, payout_id):
    found = repo.get_payout(payout_id) if isinstance(payout_id, str) else None
    if found is None:
        raise NotFound(f"payout {payout_id} not found", {"id": ["Unknown payout."]})
    return found


# --- reads ---------------------------------------------------------------------------


def payout_view(doc):
    return request_view(doc, "promoter_id")


def list_payouts(repo, promoter_id=None, status=None, limit=100, cursor=None):
    """A page of a promoter's payouts, or (promoter_id None, for finance) everyone's,
    newest first, and the next page's cursor."""
    match = list_match("promoter_id", promoter_id, status, limit)
    docs, after = repo.payouts(match, limit, cursor)
    return {"payouts": [payout_view(d) for d in docs], "next_cursor": after}
