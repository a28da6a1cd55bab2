"""Billing rules, pure: the rate card, fees, commission, accounts, and balanced postings.

Amounts are integer rupiah. A posting's lines sum to zero; a negative amount debits
its account, a positive one credits it: a fee takes money out of the merchant's
wallet (negative) and credits revenue (positive). Posting kinds: the fee types
(inbound, storage, pick_pack, packaging, label, cod_fee, rts), shipping,
cod_collected, commission, topup, ppn (an invoice's VAT), and reversal (the
mirror of an earlier posting that proved wrong, never an edit).
"""

import calendar
import re
from dataclasses import dataclass, field

from gudang_common.clock import iso, parse_iso

CURRENCY = "IDR"
FEE_TYPES = ("inbound", "storage", "pick_pack", "packaging", "label", "cod_fee", "rts")
BPS = 10000  # basis points in a whole

COURIER_PAYABLE = "courier:payable"
COD_CLEARING = "cod:clearing"
COMMISSION_EXPENSE = "expense:commission"
BANK_CLEARING = "bank:clearing"
PPN_PAYABLE = "tax:ppn_payable"


EPOCH = "1970-01-01T00:00:00.000Z"  # version 1 (the config's defaults) is in force from the start
BOX_CODE = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$"


@dataclass(frozen=True)
class RateCard:
    """One version of the rate card: what each fee costs from `effective_from` (UTC) on."""

    inbound_per_unit: int = 500
    pick_pack_per_order: int = 3000
    pick_pack_per_extra_item: int = 500
    cod_fee_bps: int = 300
    cod_fee_min: int = 0
    commission_bps: int = 1000
    storage_per_unit_day: int = 15
    label_per_parcel: int = 1000
    rts_per_parcel: int = 5000
    packaging_by_box: dict = field(default_factory=dict)  # box code -> rupiah per box
    version: int = 1
    effective_from: str = EPOCH

    CONFIG_KEYS = {
        "inbound_per_unit": "RATE_INBOUND_PER_UNIT",
        "pick_pack_per_order": "RATE_PICK_PACK_PER_ORDER",
        "pick_pack_per_extra_item": "RATE_PICK_PACK_PER_EXTRA_ITEM",
        "cod_fee_bps": "RATE_COD_FEE_BPS",
        "cod_fee_min": "RATE_COD_FEE_MIN",
        "commission_bps": "RATE_COMMISSION_BPS",
        "storage_per_unit_day": "RATE_STORAGE_PER_UNIT_DAY",
        "label_per_parcel": "RATE_LABEL_PER_PARCEL",
        "rts_per_parcel": "RATE_RTS_PER_PARCEL",
    }
    RATES = tuple(CONFIG_KEYS) + ("packaging_by_box",)

    @classmethod
    def from_config(cls, config):
        """Version 1: the defaults, overridden by whatever the config sets (whole
        non-negative numbers; `RATE_PACKAGING_BY_BOX` as `BOX-S:1500,BOX-M:2500`)."""
        values = {}
        for name, key in cls.CONFIG_KEYS.items():
            raw = config.get(key)
            if raw is None or raw == "":
                continue
            values[name] = _whole(raw, key)
        boxes = config.get("RATE_PACKAGING_BY_BOX")
        if boxes:
            values["packaging_by_box"] = _box_fees(str(boxes))
        return cls(**values)

    def at(self, when):
        """A card on its own is in force at any time (tests and tools pass one card)."""
        return self

    def rates(self):
        """The rates alone, as stored and shown."""
        return {name: getattr(self, name) for name in self.RATES}

    def to_doc(self):
        return {"_id": self.version, "effective_from": self.effective_from, **self.rates()}

    @classmethod
    def from_doc(cls, doc):
        known = {name: doc[name] for name in cls.RATES if name in doc}
        return cls(**known, version=doc["_id"], effective_from=doc["effective_from"])


def _whole(raw, key):
    if isinstance(raw, bool) or isinstance(raw, float) or not str(raw).isdigit():
        raise ValueError(f"{key} must be a whole number, not {raw!r}")
    return int(raw)


def _box_fees(text):
    fees = {}
    for pair in text.split(","):
        code, sep, fee = pair.strip().partition(":")
        if not sep or not re.match(BOX_CODE, code):
            raise ValueError(f"RATE_PACKAGING_BY_BOX: {pair!r} is not BOX-CODE:rupiah")
        fees[code] = _whole(fee.strip(), f"RATE_PACKAGING_BY_BOX {code}")
    return fees


def inbound_fee(card, units_good):
    return card.inbound_per_unit * max(units_good, 0)


def pick_pack_fee(card, lines):
    """Per order, plus per item beyond the first (lines split over bins still count per unit)."""
    items = sum(line["qty"] for line in lines)
    return card.pick_pack_per_order + card.pick_pack_per_extra_item * max(items - 1, 0)


def storage_fee(card, units):
    """A day's storage: per unit on hand when the day is billed."""
    return card.storage_per_unit_day * max(units, 0)


def cod_fee(card, cod_amount):
    """The COD fee: its percentage rounded half up to the rupiah, at least the card's
    minimum, and never more than the cash collected."""
    if cod_amount <= 0:
        return 0
    share = (cod_amount * card.cod_fee_bps + BPS // 2) // BPS
    return min(max(share, card.cod_fee_min), cod_amount)


def label_fee(card):
    """The courier label (AWB) printed for a booked parcel."""
    return card.label_per_parcel


def packaging_fee(card, package):
    """The box an order was packed in, at the fee packing's box catalog gave it when packed
    (it travels in order_packed: the catalog is where ops price a carton, so a fee is set
    in one place and a later change does not reprice what was packed before).

    An order_packed from before the box catalog carries no fee: its box is priced from the
    card's `packaging_by_box`, and no box named costs nothing."""
    package = package or {}
    if "packaging_fee" in package:
        return package["packaging_fee"]
    box = package.get("box")
    return card.packaging_by_box.get(box, 0) if box else 0


def rts_fee(card):
    """Handling a parcel that came back to the warehouse undelivered (return to sender)."""
    return card.rts_per_parcel


def commission(card, fee):
    """The promoter's share of a platform fee, rounded down to the rupiah."""
    return fee * card.commission_bps // BPS


COMMISSION_POSTING_KINDS = ("commission", "reversal")
COMMISSION_MONTHS = 12  # a referral earns on a merchant's fees this long after its sign-up


def add_months(when, months):
    """`when` (UTC, ISO 8601) moved `months` calendar months on; a day the target month
    lacks becomes its last (31 January + 1 month is 28 or 29 February)."""
    moment = parse_iso(when)
    year, month = divmod(moment.month - 1 + months, 12)
    year, month = moment.year + year, month + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return iso(moment.replace(year=year, month=month, day=day))


def commission_until(registered_at, months):
    """The first moment a merchant's fees no longer earn its promoter a commission."""
    return add_months(registered_at, months)


def earns_commission(merchant, occurred_at):
    """A fee earns commission when the merchant was referred at sign-up and the fee's
    cause happened before the merchant's commission period ended."""
    if not merchant.get("promoter_id"):
        return False
    until = merchant.get("commission_until")
    if until is None:  # registered before the period was recorded: the default one
        until = commission_until(merchant["registered_at"], COMMISSION_MONTHS)
    return occurred_at < until


def paid_charges(wallet_entries):
    """The ids of the wallet debits that are paid. Money in (top-ups, COD credited,
    reversals) pays the oldest charges first: a debit is paid once everything ever
    credited to the wallet covers it and every debit before it. `wallet_entries` are
    (posting_id, amount on the wallet) oldest first."""
    credited = sum(amount for _, amount in wallet_entries if amount > 0)
    paid, owed = set(), 0
    for posting_id, amount in wallet_entries:
        if amount >= 0:
            continue
        owed -= amount
        if owed > credited:
            break
        paid.add(posting_id)
    return paid


def commission_fee_id(posting):
    """The fee posting a commission (or the reversal of one) was earned on."""
    original = posting.get("reverses") or posting["_id"]
    return original.removesuffix(":commission")


# --- accounts ------------------------------------------------------------------


def wallet_account(merchant_id):
    return f"merchant:{merchant_id}:wallet"


def revenue_account(fee_type):
    return f"revenue:{fee_type}"


def promoter_account(promoter_id):
    return f"promoter:{promoter_id}:payable"


# --- postings ------------------------------------------------------------------


class Unbalanced(ValueError):
    """A posting whose lines do not sum to zero (or are not whole rupiah)."""


def check_balanced(lines):
    if len(lines) < 2:
        raise Unbalanced("a posting needs at least two lines")
    for line in lines:
        amount = line["amount"]
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise Unbalanced(f"{line['account']}: amount {amount!r} is not whole rupiah")
    total = sum(line["amount"] for line in lines)
    if total != 0:
        raise Unbalanced(f"posting lines sum to {total}, not 0: {lines}")
    return lines


def _lines(debit_account, credit_account, amount):
    return [
        {"account": debit_account, "amount": -amount},
        {"account": credit_account, "amount": amount},
    ]


def fee_lines(merchant_id, fee_type, amount):
    return _lines(wallet_account(merchant_id), revenue_account(fee_type), amount)


def shipping_lines(merchant_id, cost):
    # passed through at cost: what the merchant pays is owed to the courier
    return _lines(wallet_account(merchant_id), COURIER_PAYABLE, cost)


def cod_collected_lines(merchant_id, cod_amount):
    # the courier holds the buyer's cash until it settles with us; the merchant is owed it now
    return _lines(COD_CLEARING, wallet_account(merchant_id), cod_amount)


def commission_lines(promoter_id, amount):
    return _lines(COMMISSION_EXPENSE, promoter_account(promoter_id), amount)


def topup_lines(merchant_id, amount):
    return _lines(BANK_CLEARING, wallet_account(merchant_id), amount)


def ppn_lines(merchant_id, amount):
    # invoiced PPN: the merchant pays it, we owe it to the tax office
    return _lines(wallet_account(merchant_id), PPN_PAYABLE, amount)


def ledger_owner(posting):
    """Whose running balances a posting moves: the promoter's for commission and payouts
    (a commission posting names the merchant it was earned on too), else the merchant's."""
    if posting.get("promoter_id"):
        return f"promoter:{posting['promoter_id']}"
    return f"merchant:{posting['merchant_id']}"


def owner_accounts(owner):
    """The accounts whose running balance an owner's postings carry: the merchant's wallet
    and its withdrawals not paid yet, the promoter's commission and its payouts not paid."""
    party, party_id = owner.split(":", 1)
    if party == "promoter":
        return (promoter_account(party_id), PAYOUT_PENDING)
    return (wallet_account(party_id), WITHDRAWAL_PENDING)


def running_after(previous, owner, lines):
    """The owner's running balances after a posting: `previous` (the running balances its
    last posting carried, or None) plus the posting's lines on the owner's accounts, one
    sequence number on."""
    balances = {b["account"]: b["balance"] for b in previous["balances"]} if previous else {}
    for line in lines:
        if line["account"] in owner_accounts(owner):
            balances[line["account"]] = balances.get(line["account"], 0) + line["amount"]
    seq = (previous["seq"] if previous else 0) + 1
    return {
        "owner": owner,
        "seq": seq,
        "key": running_key(owner, seq),
        "balances": [{"account": a, "balance": b} for a, b in sorted(balances.items())],
    }


def running_key(owner, seq):
    """One key for the owner's n-th posting: found by one equality lookup on either store."""
    return f"{owner}#{seq}"


def running_balance(running, account):
    """`account`'s balance in a posting's running balances (0 before its first posting)."""
    found = (b["balance"] for b in (running or {}).get("balances", ()) if b["account"] == account)
    return next(found, 0)


def reversal_lines(lines):
    """The lines that undo a posting: every amount negated (a correction, never an edit)."""
    return [{"account": line["account"], "amount": -line["amount"]} for line in lines]


def amount_on(lines, account):
    return sum(line["amount"] for line in lines if line["account"] == account)


# --- COD settlement and withdrawals ------------------------------------------------

WITHDRAWAL_PENDING = "withdrawal:pending"
COD_SETTLEMENT_DAYS = 3  # the courier pays COD out a few days after delivery
WITHDRAWAL_MINIMUM = 50_000  # below this a bank transfer costs more than it is worth

# Bank codes a withdrawal can be sent to: the large Indonesian banks by their common names
# (the code the finance team types into the bank's transfer screen).
BANKS = (
    "BCA",
    "BNI",
    "BRI",
    "MANDIRI",
    "CIMB",
    "PERMATA",
    "BSI",
    "DANAMON",
    "BTN",
    "JAGO",
    "SEABANK",
    "OCBC",
    "MAYBANK",
    "PANIN",
    "MEGA",
    "BJB",
)

# step -> (statuses it may start from, status it leads to)
WITHDRAWAL_STEPS = {
    "approve": (("requested",), "approved"),
    "pay": (("approved",), "paid"),
    "reject": (("requested", "approved"), "rejected"),
}
WITHDRAWAL_STATUSES = ("requested", "approved", "paid", "rejected")


def available_to_withdraw(balance, cod_pending):
    """The wallet less COD the courier has not settled yet, never below zero: money still
    owed to us by a courier is not ours to pay out, and a debt is not a negative payout."""
    return max(balance - max(cod_pending, 0), 0)


def withdrawal_refusal(amount, available, minimum):
    """Why `amount` cannot be withdrawn now: ("minimum" | "available", a field message),
    or None."""
    if amount < minimum:
        return "minimum", f"At least {minimum} rupiah."
    if amount > available:
        return "available", f"At most the {available} rupiah available now."
    return None


def money_out_lines(step, owner_account, pending_account, amount):
    """The posting of a withdrawal's or payout's step, None for approving (a decision)."""
    if step == "request":
        # set aside at once, so a second request cannot count the same rupiah as available
        return _lines(owner_account, pending_account, amount)
    if step == "pay":
        # the money leaves our bank account for the owner's
        return _lines(pending_account, BANK_CLEARING, amount)
    if step == "reject":
        return _lines(pending_account, owner_account, amount)
    return None


def mask_account_number(number):
    """Only the last four digits, as banks print them."""
    return "*" * (len(number) - 4) + number[-4:]


# --- the credit limit ------------------------------------------------------------


def hold_change(on_hold, balance, credit_limit):
    """The crossing a balance makes, if any. The credit limit is how far below zero the
    wallet may go (whole rupiah, 0 by default): "hold" when the balance is below
    -credit_limit and the merchant is not held yet, "release" when it is back at that
    floor or above and the merchant is held; None when nothing crosses."""
    below = balance < -credit_limit
    if below and not on_hold:
        return "hold"
    if on_hold and not below:
        return "release"
    return None


# --- promoters' payouts ------------------------------------------------------------

PAYOUT_PENDING = "payout:pending"
PAYOUT_MINIMUM = 50_000  # as for withdrawals: below this a transfer costs more than it is worth


def available_to_pay_out(payable, pending):
    """The promoter's account (commission earned less payouts reserved) less commission
    whose fees are not paid yet, never below zero."""
    return max(payable - pending, 0)
