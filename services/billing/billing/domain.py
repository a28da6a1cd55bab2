"""Billing rules, pure: the rate card, fees, commission, accounts, and balanced postings.

Amounts are integer rupiah. A posting's lines sum to zero; a negative amount debits
its account, a positive one credits it: a fee takes money out of the merchant's
wallet (negative) and credits revenue (positive). Posting kinds: the fee types
(inbound, pick_pack, cod_fee, storage), shipping, cod_collected, commission, topup,
and reversal (the mirror of an earlier posting that proved wrong, never an edit).
"""

from dataclasses import dataclass, fields

CURRENCY = "IDR"
FEE_TYPES = ("inbound", "pick_pack", "cod_fee", "storage")
BPS = 10000  # basis points in a whole

COURIER_PAYABLE = "courier:payable"
COD_CLEARING = "cod:clearing"
COMMISSION_EXPENSE = "expense:commission"
BANK_CLEARING = "bank:clearing"


@dataclass(frozen=True)
class RateCard:
    inbound_per_unit: int = 500
    pick_pack_per_order: int = 3000
    pick_pack_per_extra_item: int = 500
    cod_fee_bps: int = 300
    commission_bps: int = 1000
    storage_per_unit_day: int = 15

    CONFIG_KEYS = {
        "inbound_per_unit": "RATE_INBOUND_PER_UNIT",
        "pick_pack_per_order": "RATE_PICK_PACK_PER_ORDER",
        "pick_pack_per_extra_item": "RATE_PICK_PACK_PER_EXTRA_ITEM",
        "cod_fee_bps": "RATE_COD_FEE_BPS",
        "commission_bps": "RATE_COMMISSION_BPS",
        "storage_per_unit_day": "RATE_STORAGE_PER_UNIT_DAY",
    }

    @classmethod
    def from_config(cls, config):
        """The defaults, overridden by whatever the config sets (whole non-negative numbers)."""
        values = {}
        for field in fields(cls):
            raw = config.get(cls.CONFIG_KEYS[field.name])
            if raw is None or raw == "":
                continue
            if isinstance(raw, bool) or isinstance(raw, float) or not str(raw).isdigit():
                raise ValueError(
                    f"{cls.CONFIG_KEYS[field.name]} must be a whole number, not {raw!r}"
                )
            values[field.name] = int(raw)
        return cls(**values)


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
    """The COD fee, rounded half up to the rupiah."""
    return (cod_amount * card.cod_fee_bps + BPS // 2) // BPS


def commission(card, fee):
    """The promoter's share of a platform fee, rounded down to the rupiah."""
    return fee * card.commission_bps // BPS


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


def reversal_lines(lines):
    """The lines that undo a posting: every amount negated (a correction, never an edit)."""
    return [{"account": line["account"], "amount": -line["amount"]} for line in lines]


def amount_on(lines, account):
    return sum(line["amount"] for line in lines if line["account"] == account)
