"""Billing rules: rate card, COD fee rounding, commission, balanced postings."""

import pytest

from billing import domain

CARD = domain.RateCard()


def lines_of(*qtys):
    return [
        {"sku": f"S{i}", "qty": q, "bin": "A-01-01-1-01", "pick_sequence": i}
        for i, q in enumerate(qtys)
    ]


def test_inbound_fee_per_good_unit():
    assert domain.inbound_fee(CARD, 0) == 0
    assert domain.inbound_fee(CARD, 1) == 500
    assert domain.inbound_fee(CARD, 37) == 18500


@pytest.mark.parametrize(
    ("qtys", "fee"),
    [
        ((1,), 3000),
        ((2,), 3500),
        ((1, 1), 3500),
        ((3, 2), 5000),  # 5 items: 3000 + 4 x 500
        ((2, 2, 1), 5000),  # one SKU split over two bins still counts its units
    ],
)
def test_pick_pack_fee(qtys, fee):
    assert domain.pick_pack_fee(CARD, lines_of(*qtys)) == fee


@pytest.mark.parametrize(
    ("cod", "fee"),
    [
        (0, 0),
        (16, 0),  # 0.48 rounds down
        (17, 1),  # 0.51 rounds up
        (50, 2),  # 1.5: exactly half rounds up
        (150, 5),  # 4.5 -> 5
        (149, 4),  # 4.47 -> 4
        (100000, 3000),
        (123450, 3704),  # 3703.5 -> 3704
        (10**12 + 50, 3 * 10**10 + 2),  # 30000000001.5 -> ...02, exact beyond float precision
    ],
)
def test_cod_fee_is_three_percent_rounded_half_up(cod, fee):
    assert domain.cod_fee(CARD, cod) == fee


@pytest.mark.parametrize(
    ("fee", "earned"), [(0, 0), (9, 0), (10, 1), (19, 1), (3000, 300), (3704, 370), (18500, 1850)]
)
def test_commission_is_ten_percent_rounded_down(fee, earned):
    assert domain.commission(CARD, fee) == earned


def test_rate_card_from_config():
    card = domain.RateCard.from_config({"RATE_INBOUND_PER_UNIT": 750, "RATE_COD_FEE_BPS": "250"})
    assert card.inbound_per_unit == 750
    assert card.cod_fee_bps == 250
    assert card.pick_pack_per_order == 3000
    assert domain.RateCard.from_config({"RATE_COMMISSION_BPS": None}) == CARD
    for bad in (12.5, "-1", "abc", True):
        with pytest.raises(ValueError):
            domain.RateCard.from_config({"RATE_INBOUND_PER_UNIT": bad})


def test_posting_lines_balance():
    for lines in (
        domain.fee_lines("m1", "pick_pack", 3500),
        domain.shipping_lines("m1", 33000),
        domain.cod_collected_lines("m1", 125000),
        domain.commission_lines("p1", 350),
        domain.topup_lines("m1", 1_000_000),
    ):
        assert domain.check_balanced(lines) is lines
        assert sum(line["amount"] for line in lines) == 0


def test_a_fee_debits_the_wallet_and_credits_revenue():
    lines = domain.fee_lines("m1", "pick_pack", 3500)
    assert domain.amount_on(lines, "merchant:m1:wallet") == -3500
    assert domain.amount_on(lines, "revenue:pick_pack") == 3500
    assert domain.amount_on(domain.cod_collected_lines("m1", 99000), "merchant:m1:wallet") == 99000
    assert domain.amount_on(domain.commission_lines("p1", 350), "promoter:p1:payable") == 350


@pytest.mark.parametrize(
    "lines",
    [
        [{"account": "a", "amount": -5}, {"account": "b", "amount": 4}],
        [{"account": "a", "amount": 0}],
        [{"account": "a", "amount": -1.5}, {"account": "b", "amount": 1.5}],
        [{"account": "a", "amount": True}, {"account": "b", "amount": -1}],
    ],
)
def test_unbalanced_or_inexact_postings_are_refused(lines):
    with pytest.raises(domain.Unbalanced):
        domain.check_balanced(lines)


@pytest.mark.parametrize(
    ("cod", "fee"),
    [(0, 0), (1, 1), (999, 999), (1000, 1000), (33333, 1000), (33334, 1000), (50000, 1500)],
)
def test_cod_fee_has_a_minimum_but_never_exceeds_the_cash(cod, fee):
    card = domain.RateCard(cod_fee_min=1000)
    assert domain.cod_fee(card, cod) == fee


def test_new_fees_and_their_config():
    card = domain.RateCard.from_config(
        {
            "RATE_LABEL_PER_PARCEL": "1200",
            "RATE_RTS_PER_PARCEL": 7000,
            "RATE_COD_FEE_MIN": "2500",
            "RATE_PACKAGING_BY_BOX": "BOX-S:1500,BOX-M:2500",
        }
    )
    assert domain.label_fee(card) == 1200
    assert domain.rts_fee(card) == 7000
    assert card.cod_fee_min == 2500
    # an order_packed from before the box catalog: the card prices its box
    assert domain.packaging_fee(card, {"box": "BOX-M"}) == 2500
    assert domain.packaging_fee(card, {"box": None}) == 0
    assert domain.packaging_fee(card, None) == 0
    assert domain.packaging_fee(card, {"box": "BOX-XL"}) == 0  # not on the card: no charge
    # the box catalog's fee travels with the event and is the one charged
    assert domain.packaging_fee(card, {"box": "BOX-M", "packaging_fee": 2700}) == 2700
    assert domain.packaging_fee(card, {"box": None, "packaging_fee": 0}) == 0
    for bad in ("BOX-S", "BOX-S:-1", "BOX S:10"):
        with pytest.raises(ValueError):
            domain.RateCard.from_config({"RATE_PACKAGING_BY_BOX": bad})


def test_a_rate_card_version_round_trips_through_its_document():
    card = domain.RateCard(
        pick_pack_per_order=4000,
        packaging_by_box={"B": 1},
        version=3,
        effective_from="2026-12-01T00:00:00.000Z",
    )
    assert domain.RateCard.from_doc(card.to_doc()) == card
    assert card.at("1999-01-01T00:00:00.000Z") is card


def test_money_out_steps_post_balanced_lines_and_approving_posts_none():
    owner, pending = domain.wallet_account("m1"), domain.WITHDRAWAL_PENDING
    reserve = domain.money_out_lines("request", owner, pending, 75_000)
    assert domain.amount_on(reserve, owner) == -75_000
    assert domain.amount_on(reserve, pending) == 75_000
    paid = domain.money_out_lines("pay", owner, pending, 75_000)
    assert domain.amount_on(paid, pending) == -75_000
    assert domain.amount_on(paid, domain.BANK_CLEARING) == 75_000
    returned = domain.money_out_lines("reject", owner, pending, 75_000)
    assert domain.amount_on(returned, owner) == 75_000
    assert domain.money_out_lines("approve", owner, pending, 75_000) is None
    for lines in (reserve, paid, returned):
        domain.check_balanced(lines)
