"""Rate card versions: each fee priced by the version in force when its cause happened,
named on its postings; new fee types (label, packaging, return to sender) once per cause."""

from datetime import UTC, datetime, timedelta

import pytest
from test_billing_ledger import postings, repo, world  # noqa: F401

from billing import domain, operations
from billing.schemas import RateCardSchema
from gudang_common.clock import iso, utcnow
from gudang_common.errors import ValidationFailed, load
from gudang_common.events import new_event
from tests.sample_events import order_packed, outcome_corrected, parcel_booked

DEFAULTS = domain.RateCard.from_config({"RATE_PACKAGING_BY_BOX": "BOX-S:1500, BOX-M:2500"})


@pytest.fixture
def book(world):  # noqa: F811
    return operations.RateBook(world, DEFAULTS)


def at(event, when):
    return dict(event, occurred_at=iso(when))


def new_version(ledger, book, created_by="admin", **payload):
    return operations.add_rate_card(ledger, book, load(RateCardSchema(), payload), created_by)


def test_version_one_is_the_config_in_force_from_the_start(world, book):  # noqa: F811
    listed = operations.rate_cards(world, book)
    assert listed["in_force"] == 1
    [v1] = listed["versions"]
    assert v1["version"] == 1 and v1["effective_from"] == domain.EPOCH
    assert v1["rates"]["pick_pack_per_order"] == 3000
    assert v1["rates"]["packaging_by_box"] == {"BOX-S": 1500, "BOX-M": 2500}
    assert book.at("2001-01-01T00:00:00.000Z") == DEFAULTS  # stored once, read back the same


def test_a_fee_is_priced_by_the_version_in_force_when_its_cause_happened(world, book):  # noqa: F811
    starts = utcnow() + timedelta(hours=1)
    made = new_version(
        world, book, effective_from=starts.isoformat(), pick_pack_per_order=4000, label_per_parcel=0
    )
    assert made["version"] == 2
    assert made["rates"]["pick_pack_per_extra_item"] == 500  # not given: as before
    before, after = starts - timedelta(seconds=1), starts + timedelta(days=1)
    operations.charge_pick_pack(world, book, at(order_packed(order_id="o_before", qty=1), before))
    operations.charge_pick_pack(world, book, at(order_packed(order_id="o_after", qty=1), after))
    posted = postings(world)
    assert domain.amount_on(posted["pick_pack:o_before"]["lines"], "revenue:pick_pack") == 3000
    assert domain.amount_on(posted["pick_pack:o_after"]["lines"], "revenue:pick_pack") == 4000
    assert posted["pick_pack:o_before"]["rate_card_version"] == 1
    assert posted["pick_pack:o_after"]["rate_card_version"] == 2
    assert posted["pick_pack:o_after:commission"]["rate_card_version"] == 2
    operations.charge_label(world, book, at(parcel_booked(order_id="o_after"), after))
    assert "label:o_after" not in postings(world)  # version 2 prints labels for free
    assert [v["version"] for v in operations.rate_cards(world, book)["versions"]] == [1, 2]


def test_a_version_takes_effect_only_in_the_future(world, book):  # noqa: F811
    for when in (utcnow() - timedelta(minutes=1), datetime(2020, 1, 1, tzinfo=UTC)):
        with pytest.raises(ValidationFailed) as failed:
            new_version(world, book, effective_from=when.isoformat(), inbound_per_unit=1)
        assert set(failed.value.fields) == {"effective_from"}
    assert [v["version"] for v in operations.rate_cards(world, book)["versions"]] == [1]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"inbound_per_unit": 1}, "effective_from"),
        ({"effective_from": "2099-01-01T00:00:00", "inbound_per_unit": 1}, "effective_from"),
        ({"effective_from": "2099-01-01T00:00:00Z", "inbound_per_unit": -1}, "inbound_per_unit"),
        ({"effective_from": "2099-01-01T00:00:00Z", "cod_fee_bps": 10001}, "cod_fee_bps"),
        ({"effective_from": "2099-01-01T00:00:00Z", "label_per_parcel": 1.5}, "label_per_parcel"),
        (
            {"effective_from": "2099-01-01T00:00:00Z", "packaging_by_box": {"A": -1}},
            "packaging_by_box",
        ),
        ({"effective_from": "2099-01-01T00:00:00Z", "per_kg": 9}, "per_kg"),
    ],
)
def test_rate_card_input(payload, field):
    with pytest.raises(ValidationFailed) as failed:
        load(RateCardSchema(), payload)
    assert any(name.startswith(field) for name in failed.value.fields)


def test_two_versions_cannot_start_at_the_same_instant(world, book):  # noqa: F811
    starts = (utcnow() + timedelta(days=1)).isoformat()
    new_version(world, book, effective_from=starts, inbound_per_unit=600)
    with pytest.raises(Exception) as clash:
        new_version(world, book, effective_from=starts, inbound_per_unit=700)
    assert "effective_from" in clash.value.fields


def test_label_fee_once_per_parcel_with_commission(world, book):  # noqa: F811
    event = parcel_booked(order_id="ord_7")
    operations.charge_label(world, book, event)
    operations.charge_label(world, book, event)
    posted = postings(world)
    assert {k for k in posted if k.startswith("label")} == {"label:ord_7", "label:ord_7:commission"}
    assert domain.amount_on(posted["label:ord_7"]["lines"], "revenue:label") == 1000
    assert (
        domain.amount_on(posted["label:ord_7:commission"]["lines"], "promoter:pro_1:payable") == 100
    )


def test_packaging_fee_by_the_box_packed_in(world, book):  # noqa: F811
    boxed = order_packed(order_id="ord_box", qty=1)
    boxed = dict(boxed, package=dict(boxed["package"], box="BOX-M"))
    operations.charge_pick_pack(world, book, boxed)
    operations.charge_pick_pack(world, book, boxed)
    operations.charge_pick_pack(world, book, order_packed(order_id="ord_nobox", qty=1))
    odd = order_packed(order_id="ord_odd", qty=1)
    operations.charge_pick_pack(world, book, dict(odd, package=dict(odd["package"], box="BOX-XL")))
    catalog = order_packed(order_id="ord_cat", qty=1)
    catalog["package"] = dict(catalog["package"], box="BOX-M", packaging_fee=3100)
    operations.charge_pick_pack(world, book, catalog)
    posted = postings(world)
    packaging = {k for k in posted if k.startswith("packaging")}
    assert packaging == {
        "packaging:ord_box",
        "packaging:ord_box:commission",
        "packaging:ord_cat",
        "packaging:ord_cat:commission",
    }
    assert domain.amount_on(posted["packaging:ord_box"]["lines"], "revenue:packaging") == 2500
    # the fee the box catalog gave the box when packed, not the card's
    assert domain.amount_on(posted["packaging:ord_cat"]["lines"], "revenue:packaging") == 3100


def parcel_returned():
    return new_event(
        "parcel_returned",
        merchant_id="mer_1",
        order_id="ord_rts",
        awb="JN000000000009",
        courier="jne",
        courier_status="returned",
    )


def test_return_to_sender_handling_once_and_no_cod(world, book):  # noqa: F811
    returned = parcel_returned()
    operations.charge_return_to_sender(world, book, returned)
    operations.charge_return_to_sender(world, book, returned)
    posted = postings(world)
    assert set(posted) == {"rts:ord_rts", "rts:ord_rts:commission"}
    assert operations.wallet(world, "mer_1")["balance"] == -5000
    assert operations.trial_balance(world)["total"] == 0


def corrected(n, outcome):
    """The RTS parcel's outcome corrected: no COD, decided in November."""
    when = "2026-11-03T08:00:00.000Z"
    return outcome_corrected(
        n, outcome, cod=0, order_id="ord_rts", awb="JN000000000009", decided_at=when
    )


def test_the_return_fee_follows_a_corrected_outcome(world, book):  # noqa: F811
    with pytest.raises(operations.ReturnNotChargedYet):  # overtook parcel_returned: retried
        operations.correct_return_to_sender(world, book, corrected(1, "delivered"))
    returned = parcel_returned()
    operations.charge_return_to_sender(world, book, returned)
    for _ in range(2):  # redelivered: nothing more
        operations.correct_return_to_sender(world, book, corrected(1, "delivered"))
    assert operations.wallet(world, "mer_1")["balance"] == 0
    assert operations.promoter_earnings(world, "pro_1")["total"] == 0
    operations.correct_return_to_sender(world, book, corrected(2, "returned"))
    assert operations.wallet(world, "mer_1")["balance"] == -5000
    operations.correct_return_to_sender(world, book, corrected(3, "delivered"))
    assert operations.wallet(world, "mer_1")["balance"] == 0
    assert set(postings(world)) >= {"rts:ord_rts:reversed", "rts:ord_rts:2:reversed"}
    assert operations.trial_balance(world)["total"] == 0
