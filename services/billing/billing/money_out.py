"""Money out, step by step: a merchant's COD withdrawals and a promoter's payouts.

Both follow one flow. A request reserves its money at once (the owner's account ->
the pending account), is approved by finance (a decision, no money moves), then paid
(pending -> bank:clearing, with the bank's transfer reference) or rejected with a reason
(pending -> the owner's account). Each posting is keyed by the request and its step, so
a repeated step posts nothing twice. A `Flow` names what differs between the two.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from gudang_common.clock import iso, utcnow
from gudang_common.errors import Conflict, NotFound, Unprocessable, ValidationFailed
from gudang_common.pagination import check_limit

from . import domain
from .schemas import WithdrawalPaidSchema, WithdrawalRejectSchema

MAX_LIMIT = 1000
# step -> the schema of its payload (approving takes none); a repeat must match its fields
STEP_SCHEMAS = {"approve": None, "pay": WithdrawalPaidSchema(), "reject": WithdrawalRejectSchema()}
STEP_FIELDS = {
    step: tuple(schema.fields) if schema else () for step, schema in STEP_SCHEMAS.items()
}
POSTING_SUFFIXES = {"request": "", "pay": "_paid", "reject": "_returned"}


@dataclass(frozen=True)
class Flow:
    """What tells one kind of money out from another; its steps are the same."""

    noun: str  # "withdrawal": the request's name, its postings' kind and key
    verb: str  # "withdraw": what the owner may do with what is available
    owner_field: str  # "merchant_id": who asks
    owner_account: Callable[[str], str]  # the owner's ledger account the money leaves
    pending_account: str  # where the money waits between request and payment
    id_prefix: str
    requests: str  # the collection of requests (and the key of a list of them)
    guards: str  # the collection of each owner's one guard document
    bank_accounts: str  # the collection of each owner's bank account on file
    bank_account_route: str  # where the owner sets one

    def posting_kind(self, step):
        return self.noun + POSTING_SUFFIXES[step]


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


def set_bank_account(repo, flow, owner_id, data, now=None):
    fields = dict(data, updated_at=iso(now or utcnow()))
    saved = repo.put_bank_account(flow.bank_accounts, owner_id, fields)
    return {"bank_account": bank_account_view(saved)}


def get_bank_account(repo, flow, owner_id):
    return {"bank_account": bank_account_view(repo.bank_account(flow.bank_accounts, owner_id))}


# --- asking for money out ------------------------------------------------------------


def request(repo, flow, owner_id, amount, minimum, available, now=None):
    """Reserve `amount`, exactly once however many requests race; `available()` counts
    what the owner may take now.

    Every request claims the owner's guard document by ONE conditional write on its
    version, holding what it will reserve. Two requests that computed `available` from
    the same ledger cannot both claim: the loser reads again, first posts the winner's
    reservation (so a crash between claim and posting is healed by whoever comes next),
    and counts what is left."""
    bank = repo.bank_account(flow.bank_accounts, owner_id)
    if bank is None:
        raise Conflict(
            "no bank account on file",
            {"bank_account": [f"Set one first: PUT {flow.bank_account_route}."]},
        )
    for _ in range(20):
        guard = repo.request_guard(flow.guards, owner_id)
        _reserve(repo, flow, guard["holder"])
        _refuse(flow, amount, available(), minimum)
        holder = _holder(flow, owner_id, amount, bank, now)
        if repo.claim_request_guard(flow.guards, owner_id, guard["version"], holder):
            _reserve(repo, flow, holder)
            return request_view(flow, repo.get_request(flow.requests, holder["_id"]))
    raise Conflict(f"{flow.requests} are being requested concurrently; try again", {})


def _refuse(flow, amount, available, minimum):
    refusal = domain.withdrawal_refusal(amount, available, minimum)
    if refusal is None:
        return
    rule, why = refusal
    if rule == "minimum":
        raise Unprocessable(f"below the minimum {flow.noun} of {minimum}", {"amount": [why]})
    raise Conflict(f"only {available} is available to {flow.verb}", {"amount": [why]})


def _holder(flow, owner_id, amount, bank, now):
    return {
        "_id": flow.id_prefix + uuid.uuid4().hex[:20],
        flow.owner_field: owner_id,
        "amount": amount,
        "status": "requested",
        "bank": {k: bank[k] for k in ("bank", "account_number", "account_name")},
        "requested_at": iso(now or utcnow()),
    }


def _reserve(repo, flow, holder):
    """The request and its reserving posting, each once (a repeat changes nothing)."""
    if holder is None:
        return
    repo.add_request(flow.requests, dict(holder))
    _post(repo, flow, holder, "request", holder["requested_at"])


def _post(repo, flow, request_doc, step, when):
    owner_id = request_doc[flow.owner_field]
    lines = domain.money_out_lines(
        step, flow.owner_account(owner_id), flow.pending_account, request_doc["amount"]
    )
    if lines is None:
        return  # approving is a decision: the money was reserved when it was requested
    owners = {"merchant_id": None, "promoter_id": None, flow.owner_field: owner_id}
    repo.add_posting(
        {
            "_id": f"{flow.noun}:{request_doc['_id']}:{step}",
            "kind": flow.posting_kind(step),
            "fee_type": None,
            **owners,
            "lines": lines,
            "occurred_at": when,
            "posted_at": iso(utcnow()),
            "cause_event_id": None,
            "ref": request_doc["_id"],
        }
    )


# --- finance's steps -----------------------------------------------------------------


def take_step(repo, flow, request_id, step, data, by, now=None):
    """approve | pay | reject: one conditional write moves the status (so of two steps
    racing, one wins and the other is refused), then the step's posting. A repeat of the
    step already taken changes nothing and answers as the first did; a crash between
    the write and the posting is healed by that repeat."""
    found = _request(repo, flow, request_id)
    starts, to = domain.WITHDRAWAL_STEPS[step]
    if found["status"] != to:
        fields = {k: data[k] for k in STEP_FIELDS[step]}
        stamp = {"status": to, f"{to}_at": iso(now or utcnow()), f"{to}_by": by, **fields}
        moved = repo.move_request(flow.requests, request_id, starts, stamp)
        found = moved or _request(repo, flow, request_id)
        if moved is None and found["status"] != to:
            allowed = " or ".join(starts)
            raise Conflict(
                f"a {found['status']} {flow.noun} cannot be {step}d",
                {"status": [f"Is {found['status']}; only {allowed} can be."]},
            )
    _same_step(flow, found, step, data)
    _post(repo, flow, found, step, found[f"{found['status']}_at"])
    return request_view(flow, found)


def _same_step(flow, found, step, data):
    """A repeat must be the same step: paying again under another reference is refused."""
    for field in STEP_FIELDS[step]:
        if found.get(field) != data[field]:
            raise Conflict(
                f"the {flow.noun} is {found['status']} already",
                {field: [f"Already {found['status']} with another {field}."]},
            )


def _request(repo, flow, request_id):
    found = repo.get_request(flow.requests, request_id) if isinstance(request_id, str) else None
    if found is None:
        raise NotFound(f"{flow.noun} {request_id} not found", {"id": [f"Unknown {flow.noun}."]})
    return found


# --- reads ---------------------------------------------------------------------------

# what a request shows besides who asked
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


def request_view(flow, doc):
    """A request as its owner and finance see it: the bank account masked."""
    owner = flow.owner_field
    view = {"id": doc["_id"], "currency": domain.CURRENCY, owner: doc.get(owner)}
    view |= {k: doc.get(k) for k in REQUEST_FIELDS}
    view["bank_account"] = {
        "bank": doc["bank"]["bank"],
        "account_number": domain.mask_account_number(doc["bank"]["account_number"]),
        "account_name": doc["bank"]["account_name"],
    }
    return view


def list_requests(repo, flow, owner_id=None, status=None, limit=100, cursor=None):
    """A page of an owner's requests, or (owner_id None, for finance) everyone's, newest
    first, and the next page's cursor; the arguments checked (400 naming them)."""
    check_limit(limit, MAX_LIMIT)
    if status is not None and status not in domain.WITHDRAWAL_STATUSES:
        choices = ", ".join(domain.WITHDRAWAL_STATUSES)
        raise ValidationFailed("unknown status", {"status": [f"One of: {choices}."]})
    match = {k: v for k, v in ((flow.owner_field, owner_id), ("status", status)) if v}
    found, after = repo.requests(flow.requests, match, limit, cursor)
    return {flow.requests: [request_view(flow, d) for d in found], "next_cursor": after}
