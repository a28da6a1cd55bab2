"""Billing use cases: register parties, charge fees and their commission, wallets, top-ups."""

import base64
import logging
from datetime import date, timedelta

from gudang_common.clock import WIB, iso, parse_iso, utcnow, wib_day_start_utc, yesterday_wib
from gudang_common.errors import Conflict, NotFound, ValidationFailed
from gudang_common.events import new_event
from gudang_common.pagination import check_limit

from . import domain, invoices

log = logging.getLogger(__name__)

MAX_LIMIT = 1000


class MerchantNotRegistered(LookupError):
    """A fee event arrived before merchant_registered; raising makes the broker retry it."""


class CreditNotPostedYet(LookupError):
    """A correction arrived before the COD credit it reverses; raising makes the broker retry it."""


# --- parties ---------------------------------------------------------------------


def register_merchant(repo, event, commission_months=domain.COMMISSION_MONTHS):
    """The merchant as billing knows it. Its commission period is fixed at sign-up: a later
    change of COMMISSION_MONTHS does not alter the deal a referral was made under."""
    registered_at = _when(event)
    return repo.add_merchant(
        {
            "_id": event["merchant_id"],
            "name": event["name"],
            "promoter_id": event.get("promoter_id"),
            "registered_at": registered_at,
            "commission_until": domain.commission_until(registered_at, commission_months),
        }
    )


def register_promoter(repo, event):
    return repo.add_promoter(
        {
            "_id": event["promoter_id"],
            "name": event["name"],
            "referral_code": event["referral_code"],
            "registered_at": _when(event),
        }
    )


def _merchant(repo, merchant_id):
    merchant = repo.get_merchant(merchant_id)
    if merchant is None:
        raise MerchantNotRegistered(f"merchant {merchant_id} is not registered in billing yet")
    return merchant


def _when(event):
    return iso(parse_iso(event["occurred_at"]))


# --- postings --------------------------------------------------------------------


def _post(
    repo,
    posting_id,
    kind,
    merchant,
    lines,
    event,
    ref,
    fee_type=None,
    promoter_id=None,
    rate_card_version=None,
):
    return repo.add_posting(
        {
            "_id": posting_id,
            "kind": kind,
            "fee_type": fee_type,
            "merchant_id": merchant["_id"],
            "promoter_id": promoter_id,
            "lines": lines,
            "occurred_at": _when(event),
            "posted_at": iso(utcnow()),
            "cause_event_id": event["event_id"],
            "ref": ref,
            "rate_card_version": rate_card_version,
        }
    )


def _charge_fee(repo, card, merchant, fee_type, amount, event, ref, key=None):
    """A platform fee and the referring promoter's commission on it, each once per cause
    (`key`, by default the reference).

    `card` is the version in force when the cause happened; both postings name it.
    The commission is tried even when the fee was posted before: a crash between
    the two inserts is healed by the redelivery.
    """
    if amount <= 0:
        return
    fee_id = f"{fee_type}:{key or ref}"
    lines = domain.fee_lines(merchant["_id"], fee_type, amount)
    version = card.version
    _post(repo, fee_id, fee_type, merchant, lines, event, ref, fee_type, None, version)
    promoter_id = merchant.get("promoter_id")
    earned = domain.commission(card, amount)
    if earned > 0 and domain.earns_commission(merchant, _when(event)):
        _post(
            repo,
            f"{fee_id}:commission",
            "commission",
            merchant,
            domain.commission_lines(promoter_id, earned),
            event,
            ref,
            fee_type=fee_type,
            promoter_id=promoter_id,
            rate_card_version=version,
        )


def _card_for(cards, event):
    """The rate card version in force when the event's cause happened."""
    return cards.at(_when(event))


def charge_inbound(repo, cards, event):
    """stock_received: per good unit received; keyed by the receipt (one inbound has several)."""
    merchant = _merchant(repo, event["merchant_id"])
    card = _card_for(cards, event)
    fee = domain.inbound_fee(card, event["units_good"])
    _charge_fee(repo, card, merchant, "inbound", fee, event, event["receipt_id"])


def charge_pick_pack(repo, cards, event):
    """order_packed: pick and pack per order and extra item, and the box it went in."""
    merchant = _merchant(repo, event["merchant_id"])
    card = _card_for(cards, event)
    fee = domain.pick_pack_fee(card, event["lines"])
    _charge_fee(repo, card, merchant, "pick_pack", fee, event, event["order_id"])
    box = domain.packaging_fee(card, event.get("package"))
    _charge_fee(repo, card, merchant, "packaging", box, event, event["order_id"])


def charge_label(repo, cards, event):
    """parcel_booked: the courier label (AWB) printed for the parcel, once per order."""
    merchant = _merchant(repo, event["merchant_id"])
    card = _card_for(cards, event)
    _charge_fee(repo, card, merchant, "label", domain.label_fee(card), event, event["order_id"])


def charge_return_to_sender(repo, cards, event, key=None):
    """parcel_returned: handling the parcel that came back undelivered, once per order
    (it earns no COD: nothing was credited for it)."""
    merchant = _merchant(repo, event["merchant_id"])
    card = _card_for(cards, event)
    fee = domain.rts_fee(card)
    _charge_fee(repo, card, merchant, "rts", fee, event, event["order_id"], key=key)


class ReturnNotChargedYet(LookupError):
    """A correction arrived before the return-to-sender fee it reverses; the broker retries."""


def correct_return_to_sender(repo, cards, event):
    """parcel_outcome_corrected: the handling fee follows the corrected outcome, like COD.

    Correction n to returned charges it under key `<order_id>:<n>`; correction n to
    delivered reverses the one of the outcome before (n-1; 0 is parcel_returned's)."""
    order_id, n = event["order_id"], event["correction"]
    if event["outcome"] == "returned":
        charge_return_to_sender(repo, cards, event, key=f"{order_id}:{n}")
        return
    fee_id = f"rts:{order_id}" if n == 1 else f"rts:{order_id}:{n - 1}"
    fee = repo.get_posting(fee_id)
    if fee is None:
        if domain.rts_fee(_card_for(cards, event)) <= 0:
            return  # a free return posted nothing to reverse
        raise ReturnNotChargedYet(f"{fee_id} is not posted yet; {event['event_id']} reverses it")
    for original in (fee, repo.get_posting(f"{fee_id}:commission")):
        if original is not None:
            _reverse(repo, original, event)


def pass_through_shipping(repo, event):
    """parcel_booked: the courier's price, charged at cost (no fee, so no commission)."""
    merchant = _merchant(repo, event["merchant_id"])
    cost = event["shipping_cost"]
    if cost <= 0:
        return
    lines = domain.shipping_lines(merchant["_id"], cost)
    _post(
        repo, f"shipping:{event['order_id']}", "shipping", merchant, lines, event, event["order_id"]
    )


def _cod_key(order_id, credit):
    """The cause key of a COD credit: the first (parcel_delivered) is 0, a correction's is its
    number. Its postings: cod_collected:<key>, cod_fee:<key> and cod_fee:<key>:commission."""
    return order_id if credit == 0 else f"{order_id}:{credit}"


def _credit_cod(repo, cards, event, credit):
    cod = event["cod_amount"]
    if cod <= 0:
        return
    merchant = _merchant(repo, event["merchant_id"])
    card = _card_for(cards, event)
    order_id = event["order_id"]
    key = _cod_key(order_id, credit)
    # the fee (and its commission) before the cash: once the cash is posted, everything a
    # reversal has to mirror is in the ledger
    fee = domain.cod_fee(card, cod)
    _charge_fee(repo, card, merchant, "cod_fee", fee, event, order_id, key=key)
    lines = domain.cod_collected_lines(merchant["_id"], cod)
    _post(repo, f"cod_collected:{key}", "cod_collected", merchant, lines, event, order_id)


def settle_cod(repo, card, event):
    """parcel_delivered with COD: the collected cash is the merchant's, less the COD fee.

    Keyed by order: shipping announces a parcel's delivered outcome once, and a repeated
    event posts nothing again. Later corrections credit or reverse with their own keys.
    """
    _credit_cod(repo, card, event, credit=0)


def correct_cod(repo, card, event):
    """parcel_outcome_corrected: COD follows the corrected outcome, by new postings only.

    Outcomes alternate, so correction n to returned reverses the credit before it (n-1;
    0 is parcel_delivered's) and correction n to delivered is credit n. Each posting is
    keyed by what it credits or reverses, so any number of redeliveries, in any order,
    nets the same: COD credited once exactly when the final outcome is delivered.
    """
    if event["cod_amount"] <= 0:
        return
    if event["outcome"] == "delivered":
        _credit_cod(repo, card, event, credit=event["correction"])
        return
    key = _cod_key(event["order_id"], event["correction"] - 1)
    cash_id = f"cod_collected:{key}"
    if repo.get_posting(cash_id) is None:
        raise CreditNotPostedYet(f"{cash_id} is not posted yet; {event['event_id']} reverses it")
    for original_id in (f"cod_fee:{key}", f"cod_fee:{key}:commission", cash_id):
        original = repo.get_posting(original_id)
        if original is not None:
            _reverse(repo, original, event)


def _reverse(repo, original, event):
    """A new posting mirroring `original`, keyed by it: a posting is reversed at most once."""
    return repo.add_posting(
        {
            "_id": f"{original['_id']}:reversed",
            "kind": "reversal",
            "fee_type": original["fee_type"],
            "merchant_id": original["merchant_id"],
            "promoter_id": original["promoter_id"],
            "lines": domain.reversal_lines(original["lines"]),
            "occurred_at": _when(event),
            "posted_at": iso(utcnow()),
            "cause_event_id": event["event_id"],
            "ref": original["ref"],
            "rate_card_version": original.get("rate_card_version"),
            "reverses": original["_id"],
        }
    )


# nothing was stored or charged before this (and the calendar arithmetic of a day or month
# near year 1 leaves what Python's dates can hold)
EARLIEST_BILLABLE = date(2000, 1, 1)


def storage_day(day=None, now=None):
    """The WIB day to bill: `day` (YYYY-MM-DD) if it has ended, by default yesterday."""
    yesterday = yesterday_wib(now)
    if day is None:
        return yesterday
    try:
        parsed = date.fromisoformat(day)
    except (TypeError, ValueError):
        raise ValidationFailed("day must be YYYY-MM-DD", {"day": ["Not a date."]}) from None
    if parsed < EARLIEST_BILLABLE:
        raise ValidationFailed(
            "no day before 2000 can be billed",
            {"day": [f"From {EARLIEST_BILLABLE.isoformat()} on."]},
        )
    if parsed > yesterday:
        raise ValidationFailed(
            "only an ended WIB day can be billed",
            {"day": [f"Not ended yet (WIB): the last ended day is {yesterday.isoformat()}."]},
        )
    return parsed


def storage_days_due(repo, catch_up_days, now=None):
    """Ended WIB days not billed yet, oldest first: those after the last billed day, at
    most `catch_up_days` back (older gaps are for ops to bill by hand); only yesterday
    when nothing was ever billed."""
    yesterday = yesterday_wib(now)
    last = repo.last_storage_run()
    first = yesterday - timedelta(days=max(catch_up_days, 1) - 1)
    if last is not None:
        first = max(first, date.fromisoformat(last) + timedelta(days=1))
    else:
        first = yesterday
    return [first + timedelta(days=n) for n in range((yesterday - first).days + 1)]


def charge_storage(repo, cards, day, units_by_merchant):
    """The daily storage fee of `day` (an ended WIB date) per unit each merchant held as it
    ended, once.

    Keyed by merchant and day, so running the day again (a timer tick after a crash,
    or staff asking for it) charges nothing twice. The fee happened on that day: it
    takes the day's start as its time (its month on the invoice, its rate card). A
    merchant registered after the day ended owes nothing for it; merchants billing
    does not know yet are left for the next run rather than failing the others."""
    charged = {}
    start = wib_day_start_utc(day)
    end = iso(wib_day_start_utc(day + timedelta(days=1)))
    event = {"event_id": f"storage-{day.isoformat()}", "occurred_at": iso(start)}
    card = _card_for(cards, event)
    merchants = repo.get_merchants(units_by_merchant)
    for merchant_id, units in sorted(units_by_merchant.items()):
        merchant = merchants.get(merchant_id)
        if merchant is None or merchant["registered_at"] >= end:
            continue
        fee = domain.storage_fee(card, units)
        if fee <= 0:
            continue
        ref = f"{merchant_id}:{day.isoformat()}"
        _charge_fee(repo, card, merchant, "storage", fee, event, ref)
        charged[merchant_id] = fee
    return charged


# --- the rate card's versions ----------------------------------------------------


class RateBook:
    """The rate card's versions in billing's store; `at(when)` is the one in force then.

    Version 1 is the config's rates, stored the first time a card is needed, in force
    from the start; later versions come from ops through the API."""

    def __init__(self, repo, defaults):
        self.repo, self.defaults = repo, defaults

    def at(self, when):
        doc = self.repo.rate_card_at(when)
        if doc is None:
            self.repo.add_rate_card(dict(self.defaults.to_doc(), created_at=iso(utcnow())))
            doc = self.repo.rate_card_at(when)
        return domain.RateCard.from_doc(doc)


def rate_card_view(card, created_at=None, created_by=None):
    return {
        "version": card.version,
        "effective_from": card.effective_from,
        "currency": domain.CURRENCY,
        "rates": card.rates(),
        "created_at": created_at,
        "created_by": created_by,
    }


def rate_cards(repo, book, now=None):
    """Every version, oldest first, and the one in force now."""
    current = book.at(iso(now or utcnow()))
    return {
        "in_force": current.version,
        "versions": [
            rate_card_view(domain.RateCard.from_doc(d), d.get("created_at"), d.get("created_by"))
            for d in repo.rate_cards()
        ],
    }


def add_rate_card(repo, book, data, created_by, now=None):
    """A new version from `effective_from` (strictly in the future, so nothing posted
    under an earlier version could ever have been priced otherwise: a version is
    immutable once in force). Rates not given are those of the version it follows."""
    now = now or utcnow()
    effective = data["effective_from"]
    if effective <= now:
        raise ValidationFailed(
            "a rate card takes effect in the future",
            {"effective_from": ["Must be later than now: versions in force never change."]},
        )
    effective = iso(effective)
    base = book.at(effective).rates()
    rates = {name: data.get(name, base[name]) for name in domain.RateCard.RATES}
    for _ in range(10):  # versions numbered 1, 2, 3...: a lost race takes the next number
        version = repo.last_rate_card_version() + 1
        card = domain.RateCard(**rates, version=version, effective_from=effective)
        doc = dict(card.to_doc(), created_at=iso(now), created_by=created_by)
        if repo.add_rate_card(doc):
            return rate_card_view(card, doc["created_at"], created_by)
        if repo.rate_card_from(effective) is not None:
            raise Conflict(
                "a rate card takes effect at that time already",
                {"effective_from": ["Another version starts at this instant."]},
            )
    raise Conflict("rate card versions are being added concurrently; try again", {})


# --- invoices ------------------------------------------------------------------


def invoice_month(month, now=None):
    """(year, month) of a WIB calendar month that has ended, or a 400 naming `month`."""
    try:
        year, month_no = invoices.parse_month(month)
    except ValueError:
        raise ValidationFailed("month must be YYYY-MM", {"month": ["Not YYYY-MM."]}) from None
    if (year, month_no) < (EARLIEST_BILLABLE.year, EARLIEST_BILLABLE.month):
        raise ValidationFailed(
            "no month before 2000 can be invoiced", {"month": ["From 2000-01 on."]}
        )
    this_month = (now or utcnow()).astimezone(WIB).date().replace(day=1)
    if invoices.month_start(year, month_no) >= this_month:
        raise ValidationFailed(
            "only an ended WIB month can be invoiced",
            {
                "month": [
                    f"Not ended yet (WIB): the last ended month is "
                    f"{invoices.previous_month(this_month)}."
                ]
            },
        )
    return year, month_no


def _month_bounds(year, month_no):
    start = wib_day_start_utc(invoices.month_start(year, month_no))
    end = wib_day_start_utc(invoices.month_start(*invoices.next_month(year, month_no)))
    return iso(start), iso(end)


def _month_sums(repo, merchant_id, year, month_no):
    """The month's wallet sums, a WIB day at a time (summarize adds the days up)."""
    account = domain.wallet_account(merchant_id)
    day = invoices.month_start(year, month_no)
    following = invoices.month_start(*invoices.next_month(year, month_no))
    while day < following:
        yield from repo.wallet_sums(merchant_id, account, day.isoformat())
        day += timedelta(days=1)


def _draft_invoice(repo, merchant, year, month_no, issuer, now):
    """The month's draft, its lines summed from the ledger, keyed by merchant and month
    (a repeat finds it); None when the month moved no money for the merchant."""
    month = f"{year:04d}-{month_no:02d}"
    invoice_id = f"{merchant['_id']}:{month}"
    draft = repo.get_invoice(invoice_id)
    if draft is not None:
        return draft
    start, end = _month_bounds(year, month_no)
    summary = invoices.summarize(_month_sums(repo, merchant["_id"], year, month_no))
    if invoices.is_empty(summary):
        return None
    repo.add_invoice(
        {
            "_id": invoice_id,
            "merchant_id": merchant["_id"],
            "merchant_name": merchant.get("name"),
            "month": month,
            "year": year,
            "month_no": month_no,
            "issuer": issuer,
            "period": {"from": start, "to": end},
            "drafted_at": iso(now),
            **summary,
        }
    )
    return repo.get_invoice(invoice_id)


def _post_ppn(repo, merchant, draft, now):
    """The PPN is owed by the merchant once the invoice exists: a posting of its own, keyed
    by the invoice (dated when drafted, so it never sums into a month's fees)."""
    repo.add_posting(
        {
            "_id": f"ppn:{draft['_id']}",
            "kind": "ppn",
            "fee_type": None,
            "merchant_id": merchant["_id"],
            "promoter_id": None,
            "lines": domain.ppn_lines(merchant["_id"], draft["ppn"]),
            "occurred_at": draft["drafted_at"],
            "posted_at": iso(now),
            "cause_event_id": None,
            "ref": draft["_id"],
        }
    )


def issue_invoice(repo, merchant, year, month_no, issuer, now=None):
    """The merchant's invoice for an ended month, once: None when the month moved no
    money for it. Steps, each safe to repeat after a crash: the draft; the PPN posting;
    then the number, claimed without gaps (BillingRepository.claim_invoice_number)."""
    now = now or utcnow()
    draft = _draft_invoice(repo, merchant, year, month_no, issuer, now)
    if draft is None:
        return None
    if draft["ppn"] > 0:
        _post_ppn(repo, merchant, draft, now)
        review_hold(repo, merchant["_id"])  # the PPN is owed from the wallet too
    repo.claim_invoice_number(issuer, draft["_id"], iso(now))
    return invoice_view(repo.get_invoice(draft["_id"]))


def issue_invoices(repo, month, issuer, merchant_id=None, now=None):
    """Invoices of an ended month: one merchant's, or every merchant's registered before
    the month ended (the timer after each month, or ops on demand); idempotent."""
    year, month_no = invoice_month(month, now)
    _, end = _month_bounds(year, month_no)
    if merchant_id is not None:
        merchant = repo.get_merchant(merchant_id)
        if merchant is None:
            raise NotFound(
                f"merchant {merchant_id} not found", {"merchant_id": ["Unknown merchant."]}
            )
        merchants = [merchant]
    else:
        merchants = repo.all_merchants()
    issued = []
    for merchant in merchants:
        if merchant.get("registered_at", "") >= end:
            continue
        invoice = issue_invoice(repo, merchant, year, month_no, issuer, now)
        if invoice is not None:
            issued.append(invoice["number"])
    return {"month": f"{year:04d}-{month_no:02d}", "issued": issued}


def invoice_view(doc):
    return {
        k: doc[k]
        for k in (
            "number",
            "issuer",
            "merchant_id",
            "merchant_name",
            "month",
            "period",
            "issued_at",
            "currency",
            "lines",
            "fee_subtotal",
            "ppn_percent",
            "ppn",
            "shipping",
            "total_due",
            "cod_collected",
        )
    }


def list_invoices(repo, merchant_id, limit=100, cursor=None):
    docs, after = repo.invoices_of(merchant_id, _limit(limit), cursor)
    return {"invoices": [invoice_view(d) for d in docs], "next_cursor": after}


def invoice_file(repo, merchant_id, number, fmt):
    """The merchant's invoice as `csv` (text) or `pdf` (base64, RPC carries JSON); another
    merchant's invoice is not found, like one that does not exist."""
    doc = repo.invoice_by_number(number)
    if doc is None or doc["merchant_id"] != merchant_id:
        raise NotFound(f"invoice {number} not found", {"number": ["Unknown invoice."]})
    invoice = invoice_view(doc)
    if fmt == "csv":
        return {"filename": _filename(number, "csv"), "content": invoices.to_csv(invoice)}
    content = base64.b64encode(invoices.to_pdf(invoice)).decode("ascii")
    return {"filename": _filename(number, "pdf"), "content_base64": content}


def _filename(number, ext):
    return number.replace("/", "-") + f".{ext}"


# --- reads -----------------------------------------------------------------------


def _limit(limit):
    return check_limit(limit, MAX_LIMIT)


def wallet_entries(repo, merchant_id, limit=50, cursor=None):
    """A page of the wallet's entries, newest first, and the next page's cursor."""
    account = domain.wallet_account(merchant_id)
    postings, after = repo.postings_on(account, {"merchant_id": merchant_id}, limit, cursor)
    entries = [
        {
            "posting_id": p["_id"],
            "kind": p["kind"],
            "amount": domain.amount_on(p["lines"], account),
            "ref": p["ref"],
            "occurred_at": p["occurred_at"],
        }
        | ({"reverses": p["reverses"]} if p.get("reverses") else {})
        for p in postings
    ]
    return entries, after


def wallet(repo, merchant_id, limit=50, cursor=None):
    """The merchant's deposit: balance and newest entries, both straight from the ledger."""
    account = domain.wallet_account(merchant_id)
    match = {"merchant_id": merchant_id}
    entries, after = wallet_entries(repo, merchant_id, _limit(limit), cursor)
    hold = repo.hold_of(merchant_id)
    return {
        "merchant_id": merchant_id,
        "balance": repo.account_balance(account, match),
        "currency": domain.CURRENCY,
        "credit_limit": hold["credit_limit"],
        "on_hold": hold["on_hold"],
        "entries": entries,
        "next_cursor": after,
    }


def promoter_earnings(repo, promoter_id, limit=50):
    """What a promoter earned: in total, per referred merchant, per fee type, and lately."""
    account = domain.promoter_account(promoter_id)
    limit = _limit(limit)
    totals = repo.commission_totals(promoter_id, account)
    per_merchant = {m["_id"]: 0 for m in repo.merchants_referred_by(promoter_id)}
    per_fee = dict.fromkeys(domain.FEE_TYPES, 0)
    for (merchant_id, fee_type), amount in totals.items():
        per_merchant[merchant_id] = per_merchant.get(merchant_id, 0) + amount
        per_fee[fee_type] = per_fee.get(fee_type, 0) + amount
    names = {mid: m.get("name") for mid, m in repo.get_merchants(per_merchant).items()}
    promoter = repo.get_promoter(promoter_id) or {}
    pending_ids, pending = commission_pending(repo, promoter_id)
    entries = _commission_entries(repo, promoter_id, account, limit, pending_ids)
    return {
        "promoter_id": promoter_id,
        "name": promoter.get("name"),
        "referral_code": promoter.get("referral_code"),
        "currency": domain.CURRENCY,
        "total": sum(totals.values()),
        "pending": pending,
        "available": domain.available_to_pay_out(
            repo.account_balance(account, {"promoter_id": promoter_id}), pending
        ),
        "per_merchant": sorted(
            (
                {"merchant_id": mid, "merchant_name": names.get(mid), "amount": amount}
                for mid, amount in per_merchant.items()
            ),
            key=lambda row: (-row["amount"], row["merchant_id"]),
        ),
        "per_fee": [
            {"fee_type": fee_type, "amount": amount} for fee_type, amount in per_fee.items()
        ],
        "entries": entries,
    }


def commission_pending(repo, promoter_id):
    """The promoter's commission postings whose fee is not paid yet, and their sum: a
    commission is pending until the merchant has paid the fee it was earned on
    (domain.paid_charges), available after."""
    account = domain.promoter_account(promoter_id)
    postings = repo.commission_postings(promoter_id, account)
    paid = {}
    for merchant_id in {p["merchant_id"] for p in postings}:
        wallet = domain.wallet_account(merchant_id)
        paid[merchant_id] = domain.paid_charges(repo.wallet_entries(merchant_id, wallet))
    pending = [p for p in postings if domain.commission_fee_id(p) not in paid[p["merchant_id"]]]
    total = sum(domain.amount_on(p["lines"], account) for p in pending)
    return {p["_id"] for p in pending}, total


def _commission_entries(repo, promoter_id, account, limit, pending_ids):
    """The promoter's newest commissions, each with the fee posting that earned it."""
    return [
        {
            "posting_id": p["_id"],
            "fee_posting_id": domain.commission_fee_id(p),
            "merchant_id": p["merchant_id"],
            "fee_type": p["fee_type"],
            "amount": domain.amount_on(p["lines"], account),
            "status": "pending" if p["_id"] in pending_ids else "available",
            "ref": p["ref"],
            "occurred_at": p["occurred_at"],
        }
        for p in repo.postings_on(account, _earning(promoter_id), limit)[0]
    ]


def _earning(promoter_id):
    return {"promoter_id": promoter_id, "kind": {"$in": list(domain.COMMISSION_POSTING_KINDS)}}


def record_topup(repo, merchant_id, data):
    """Money the merchant deposited; `reference` (the bank's) makes a resend harmless."""
    merchant = repo.get_merchant(merchant_id)
    if merchant is None:
        raise NotFound(f"merchant {merchant_id} not found", {"merchant_id": ["Unknown merchant."]})
    amount, reference = data["amount"], data["reference"]
    posting_id = f"topup:{merchant_id}:{reference}"
    now = iso(utcnow())
    posting = {
        "_id": posting_id,
        "kind": "topup",
        "fee_type": None,
        "merchant_id": merchant_id,
        "promoter_id": None,
        "lines": domain.topup_lines(merchant_id, amount),
        "occurred_at": now,
        "posted_at": now,
        "cause_event_id": None,
        "ref": reference,
    }
    if not repo.add_posting(posting):
        posting = repo.get_posting(posting_id)
        if domain.amount_on(posting["lines"], domain.wallet_account(merchant_id)) != amount:
            raise Conflict(
                f"reference {reference} was used for another amount",
                {"reference": ["Already used for a top-up of a different amount."]},
            )
    account = domain.wallet_account(merchant_id)
    return {
        "posting_id": posting["_id"],
        "kind": posting["kind"],
        "merchant_id": merchant_id,
        "amount": amount,
        "reference": reference,
        "occurred_at": posting["occurred_at"],
        "balance": repo.account_balance(account, {"merchant_id": merchant_id}),
        "currency": domain.CURRENCY,
    }


# --- the hold --------------------------------------------------------------------

HOLD_ROUNDS = 5  # re-read after losing a race, a bounded number of times


def review_hold(repo, merchant_id):
    """After money moved on the merchant's wallet: hold the merchant when the balance is
    below its credit limit's floor, release it when back at or above, once per crossing.

    Each crossing is one conditional write on the hold document carrying its event, so
    two reviewers never announce the same crossing. After a crossing the balance is read
    again: a posting that landed meanwhile (whose own review may have read the state
    before this crossing) still gets the last word. A repeat finds nothing to cross."""
    account = domain.wallet_account(merchant_id)
    hold = repo.hold_of(merchant_id)
    for _ in range(HOLD_ROUNDS):
        balance = repo.account_balance(account, {"merchant_id": merchant_id})
        change = domain.hold_change(hold["on_hold"], balance, hold["credit_limit"])
        if change is None:
            break
        event_type = "merchant_on_hold" if change == "hold" else "merchant_released"
        event = new_event(
            event_type,
            merchant_id=merchant_id,
            balance=balance,
            credit_limit=hold["credit_limit"],
            crossing=hold["crossing"] + 1,
        )
        repo.cross_hold(hold, change == "hold", balance, event_type, event)
        hold = repo.hold_of(merchant_id)
    return hold_view(hold)


def hold_view(hold):
    return {
        "merchant_id": hold["_id"],
        "credit_limit": hold["credit_limit"],
        "on_hold": hold["on_hold"],
        "currency": domain.CURRENCY,
    }


def set_credit_limit(repo, merchant_id, data, set_by):
    """Ops set how far below zero the merchant's wallet may go; the hold follows at once.
    The gateway, which owns accounts, checked the merchant exists: the limit may be set
    before merchant_registered reaches billing (the hold document needs no more)."""
    repo.set_credit_limit(merchant_id, data["credit_limit"], set_by, iso(utcnow()))
    return review_hold(repo, merchant_id)


def trial_balance(repo):
    """Every account's balance; the total is zero unless the ledger is broken."""
    accounts = dict(sorted(repo.account_totals().items()))
    return {"accounts": accounts, "total": sum(accounts.values()), "currency": domain.CURRENCY}
