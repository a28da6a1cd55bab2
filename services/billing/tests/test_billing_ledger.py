"""The ledger against an in-memory store: once per cause, always balanced, derivable balances."""

from datetime import UTC, date, datetime

import pytest
from billing_samples import memory_repository, register_merchant, register_promoter

from billing import domain, operations
from billing.schemas import TopupSchema
from gudang_common.clock import yesterday_wib
from gudang_common.errors import Conflict, NotFound, ValidationFailed, load
from gudang_common.events import new_event
from tests.sample_events import (
    order_packed,
    outcome_corrected,
    parcel_booked,
    parcel_delivered,
    stock_received,
)

CARD = domain.RateCard()


@pytest.fixture
def repo():
    return memory_repository()


@pytest.fixture
def world(repo):
    """A promoter, a merchant it referred, and one that came on its own (both long ago)."""
    register_promoter(repo)
    # a period that outlasts any date these tests run on
    register_merchant(repo, "mer_1", "pro_1", months=1200)
    register_merchant(repo, "mer_2", None, name="Toko Agus", months=1200)
    return repo


def postings(repo):
    return {p["_id"]: p for p in repo.db.postings.find()}


def balance(repo, merchant_id):
    return operations.wallet(repo, merchant_id)["balance"]


def test_inbound_fee_and_commission(world):
    operations.charge_inbound(world, CARD, stock_received(units=10))
    posted = postings(world)
    assert set(posted) == {"inbound:rcp_1", "inbound:rcp_1:commission"}
    fee = posted["inbound:rcp_1"]
    assert fee["kind"] == "inbound"
    assert fee["lines"] == [
        {"account": "merchant:mer_1:wallet", "amount": -5000},
        {"account": "revenue:inbound", "amount": 5000},
    ]
    assert fee["ref"] == "rcp_1"
    commission = posted["inbound:rcp_1:commission"]
    assert commission["promoter_id"] == "pro_1"
    assert commission["lines"] == [
        {"account": "expense:commission", "amount": -500},
        {"account": "promoter:pro_1:payable", "amount": 500},
    ]
    assert balance(world, "mer_1") == -5000


def test_the_same_event_twice_posts_once(world):
    event = order_packed(qty=3)
    operations.charge_pick_pack(world, CARD, event)
    operations.charge_pick_pack(world, CARD, event)
    assert len(postings(world)) == 2
    assert balance(world, "mer_1") == -4000
    assert operations.promoter_earnings(world, "pro_1")["total"] == 400


def test_a_commission_lost_in_a_crash_is_posted_on_redelivery(world):
    event = order_packed(qty=1)
    fee = domain.fee_lines("mer_1", "pick_pack", 3000)
    world.add_posting(
        {
            "_id": "pick_pack:ord_1",
            "kind": "pick_pack",
            "fee_type": "pick_pack",
            "merchant_id": "mer_1",
            "promoter_id": None,
            "lines": fee,
            "occurred_at": event["occurred_at"],
            "posted_at": event["occurred_at"],
            "cause_event_id": event["event_id"],
            "ref": "ord_1",
        }
    )
    operations.charge_pick_pack(world, CARD, event)
    assert set(postings(world)) == {"pick_pack:ord_1", "pick_pack:ord_1:commission"}
    assert balance(world, "mer_1") == -3000


def test_a_healed_commission_follows_the_fee_as_posted(world):
    """The commission lost in a crash is earned on the fee that was posted, even when the
    redelivered event says otherwise; another merchant's fee under the same key earns
    nothing (cause ids are unique across merchants: only a broken event collides)."""
    operations.charge_pick_pack(world, CARD, order_packed(qty=1))  # fee 3,000
    world.db.postings.delete_one({"_id": "pick_pack:ord_1:commission"})
    operations.charge_pick_pack(world, CARD, order_packed(qty=5))  # says 5,000
    commission = postings(world)["pick_pack:ord_1:commission"]
    assert domain.amount_on(commission["lines"], "promoter:pro_1:payable") == 300
    world.db.postings.delete_one({"_id": "pick_pack:ord_1:commission"})
    world.db.merchants.update_one({"_id": "mer_2"}, {"$set": {"promoter_id": "pro_1"}})
    operations.charge_pick_pack(world, CARD, order_packed(merchant_id="mer_2", qty=1))
    assert "pick_pack:ord_1:commission" not in postings(world)


def test_no_promoter_no_commission(world):
    operations.charge_pick_pack(world, CARD, order_packed(merchant_id="mer_2"))
    assert set(postings(world)) == {"pick_pack:ord_1"}


def test_zero_units_received_posts_nothing(world):
    operations.charge_inbound(world, CARD, stock_received(units=0))
    assert postings(world) == {}


def test_a_fee_for_an_unregistered_merchant_is_retried(world):
    with pytest.raises(operations.MerchantNotRegistered):
        operations.charge_pick_pack(world, CARD, order_packed(merchant_id="mer_9"))
    with pytest.raises(LookupError):
        operations.pass_through_shipping(world, parcel_booked(merchant_id="mer_9"))
    assert postings(world) == {}
    operations.register_merchant(
        world,
        new_event("merchant_registered", merchant_id="mer_9", name="Toko Baru", promoter_id=None),
    )
    operations.charge_pick_pack(world, CARD, order_packed(merchant_id="mer_9"))
    assert balance(world, "mer_9") == -4000


def test_shipping_is_passed_through_without_commission(world):
    operations.pass_through_shipping(world, parcel_booked(cost=33000))
    posted = postings(world)
    assert list(posted) == ["shipping:ord_1"]
    assert posted["shipping:ord_1"]["lines"] == [
        {"account": "merchant:mer_1:wallet", "amount": -33000},
        {"account": "courier:payable", "amount": 33000},
    ]


def test_cod_collected_less_its_fee(world):
    operations.settle_cod(world, CARD, parcel_delivered(cod=123450))
    posted = postings(world)
    assert set(posted) == {"cod_collected:ord_1", "cod_fee:ord_1", "cod_fee:ord_1:commission"}
    assert domain.amount_on(posted["cod_fee:ord_1"]["lines"], "revenue:cod_fee") == 3704
    assert (
        domain.amount_on(posted["cod_fee:ord_1:commission"]["lines"], "promoter:pro_1:payable")
        == 370
    )
    assert domain.amount_on(posted["cod_collected:ord_1"]["lines"], "cod:clearing") == -123450
    assert balance(world, "mer_1") == 123450 - 3704


def test_cod_is_settled_once_per_order_even_from_two_delivered_events(world):
    operations.settle_cod(world, CARD, parcel_delivered(cod=100000))
    operations.settle_cod(world, CARD, parcel_delivered(cod=100000))
    assert len(postings(world)) == 3
    assert balance(world, "mer_1") == 97000


def test_delivery_without_cod_posts_nothing(world):
    operations.settle_cod(world, CARD, parcel_delivered(cod=0))
    assert postings(world) == {}


def cod_accounts(repo):
    accounts = operations.trial_balance(repo)["accounts"]
    keys = (
        "merchant:mer_1:wallet",
        "cod:clearing",
        "revenue:cod_fee",
        "promoter:pro_1:payable",
        "expense:commission",
    )
    return {k: accounts.get(k, 0) for k in keys}


NO_COD = dict.fromkeys(
    (
        "merchant:mer_1:wallet",
        "cod:clearing",
        "revenue:cod_fee",
        "promoter:pro_1:payable",
        "expense:commission",
    ),
    0,
)


def test_a_correction_to_returned_reverses_cod_its_fee_and_commission(world):
    operations.settle_cod(world, CARD, parcel_delivered(cod=123000))
    correction = outcome_corrected(1, "returned")
    operations.correct_cod(world, CARD, correction)
    operations.correct_cod(world, CARD, correction)  # redelivered: nothing more
    posted = postings(world)
    reversals = {k: p for k, p in posted.items() if p["kind"] == "reversal"}
    assert set(reversals) == {
        "cod_collected:ord_1:reversed",
        "cod_fee:ord_1:reversed",
        "cod_fee:ord_1:commission:reversed",
    }
    for key, reversal in reversals.items():
        original = posted[reversal["reverses"]]
        assert key == f"{original['_id']}:reversed"
        assert reversal["lines"] == [
            {"account": line["account"], "amount": -line["amount"]} for line in original["lines"]
        ]
        assert reversal["cause_event_id"] == correction["event_id"]
    # the originals are untouched: a correction is a new posting, never an edit
    assert domain.amount_on(posted["cod_collected:ord_1"]["lines"], "cod:clearing") == -123000
    assert cod_accounts(world) == NO_COD
    assert operations.trial_balance(world)["total"] == 0
    wallet = operations.wallet(world, "mer_1")
    assert wallet["balance"] == 0
    assert {e["reverses"] for e in wallet["entries"] if e["kind"] == "reversal"} == {
        "cod_collected:ord_1",
        "cod_fee:ord_1",
    }
    earnings = operations.promoter_earnings(world, "pro_1")
    assert earnings["total"] == 0


def test_a_correction_that_overtakes_its_credit_waits_for_it(world):
    with pytest.raises(operations.CreditNotPostedYet):
        operations.correct_cod(world, CARD, outcome_corrected(1, "returned"))
    assert postings(world) == {}
    operations.settle_cod(world, CARD, parcel_delivered(cod=123000))
    operations.correct_cod(world, CARD, outcome_corrected(1, "returned"))
    assert cod_accounts(world) == NO_COD


def test_a_correction_to_delivered_credits_cod_once_with_its_own_keys(world):
    # told returned first (no money), then corrected to delivered
    operations.correct_cod(world, CARD, outcome_corrected(1, "delivered"))
    operations.correct_cod(world, CARD, outcome_corrected(1, "delivered"))
    assert set(postings(world)) == {
        "cod_collected:ord_1:1",
        "cod_fee:ord_1:1",
        "cod_fee:ord_1:1:commission",
    }
    assert balance(world, "mer_1") == 123000 - 3690


def test_delivered_returned_delivered_nets_one_credit(world):
    operations.settle_cod(world, CARD, parcel_delivered(cod=123000))
    operations.correct_cod(world, CARD, outcome_corrected(1, "returned"))
    operations.correct_cod(world, CARD, outcome_corrected(2, "delivered"))
    assert balance(world, "mer_1") == 123000 - 3690
    assert cod_accounts(world)["revenue:cod_fee"] == 3690
    assert cod_accounts(world)["promoter:pro_1:payable"] == 369
    operations.correct_cod(world, CARD, outcome_corrected(3, "returned"))
    assert cod_accounts(world) == NO_COD


def test_a_correction_without_cod_posts_nothing(world):
    operations.correct_cod(world, CARD, outcome_corrected(1, "returned", cod=0))
    operations.correct_cod(world, CARD, outcome_corrected(2, "delivered", cod=0))
    assert postings(world) == {}


def test_a_broken_posting_never_reaches_the_ledger(repo):
    with pytest.raises(domain.Unbalanced):
        repo.add_posting(
            {"_id": "x", "lines": [{"account": "a", "amount": -1}, {"account": "b", "amount": 2}]}
        )
    assert repo.db.postings.count_documents({}) == 0


def run_a_month(repo):
    operations.charge_inbound(repo, CARD, stock_received(units=120, receipt_id="rcp_1"))
    operations.charge_inbound(
        repo, CARD, stock_received(merchant_id="mer_2", units=7, receipt_id="rcp_2")
    )
    for i, (merchant_id, qty, cost, cod) in enumerate(
        [("mer_1", 1, 9000, 0), ("mer_1", 4, 33000, 149999), ("mer_2", 2, 24000, 55555)]
    ):
        order_id = f"ord_{i}"
        for _ in range(2):  # every event delivered twice
            operations.charge_pick_pack(repo, CARD, order_packed(merchant_id, order_id, qty))
            operations.pass_through_shipping(repo, parcel_booked(merchant_id, order_id, cost, cod))
            operations.settle_cod(repo, CARD, parcel_delivered(merchant_id, order_id, cod))
    operations.record_topup(repo, "mer_1", {"amount": 500000, "reference": "BCA-0001"})


def test_every_posting_balances_and_the_trial_balance_is_zero(world):
    run_a_month(world)
    for posting in postings(world).values():
        assert sum(line["amount"] for line in posting["lines"]) == 0
    trial = operations.trial_balance(world)
    assert trial["total"] == 0
    accounts = trial["accounts"]
    assert accounts["courier:payable"] == 9000 + 33000 + 24000
    assert accounts["cod:clearing"] == -(149999 + 55555)
    assert accounts["revenue:pick_pack"] == 3000 + 4500 + 3500
    assert accounts["revenue:cod_fee"] == 4500 + 1667  # 4499.97 -> 4500, 1666.65 -> 1667
    assert accounts["promoter:pro_1:payable"] == -accounts["expense:commission"]


def test_wallet_balance_is_the_sum_of_its_entries(world):
    run_a_month(world)
    wallet = operations.wallet(world, "mer_1", limit=500)
    assert wallet["currency"] == "IDR"
    assert wallet["balance"] == sum(e["amount"] for e in wallet["entries"])
    expected = -60000 - 3000 - 4500 - 9000 - 33000 + 149999 - 4500 + 500000
    assert wallet["balance"] == expected
    assert wallet["entries"][0]["kind"] == "topup"  # newest first
    assert all(e["kind"] != "commission" for e in wallet["entries"])
    assert len(operations.wallet(world, "mer_1", limit=2)["entries"]) == 2
    assert operations.wallet(world, "mer_2")["balance"] == -3500 - 3500 - 24000 + 55555 - 1667


def test_wallet_limit_is_checked(world):
    for bad in (0, 1001, "10", True):
        with pytest.raises(ValidationFailed) as failed:
            operations.wallet(world, "mer_1", limit=bad)
        assert set(failed.value.fields) == {"limit"}


def test_promoter_earnings(world):
    run_a_month(world)
    operations.register_merchant(
        world,
        new_event(
            "merchant_registered", merchant_id="mer_3", name="Toko Sepi", promoter_id="pro_1"
        ),
    )
    earnings = operations.promoter_earnings(world, "pro_1")
    # mer_1 fees: inbound 60000, pick_pack 3000 + 4500, cod_fee 4500 -> 10% each
    assert earnings["total"] == 6000 + 300 + 450 + 450
    assert earnings["name"] == "Budi"
    assert earnings["per_merchant"] == [
        {"merchant_id": "mer_1", "merchant_name": "Toko Siti", "amount": 7200},
        {"merchant_id": "mer_3", "merchant_name": "Toko Sepi", "amount": 0},
    ]
    assert earnings["per_fee"] == [
        {"fee_type": "inbound", "amount": 6000},
        {"fee_type": "storage", "amount": 0},
        {"fee_type": "pick_pack", "amount": 750},
        {"fee_type": "packaging", "amount": 0},
        {"fee_type": "label", "amount": 0},
        {"fee_type": "cod_fee", "amount": 450},
        {"fee_type": "rts", "amount": 0},
    ]
    assert sum(e["amount"] for e in earnings["entries"]) == 7200
    assert {e["merchant_id"] for e in earnings["entries"]} == {"mer_1"}
    assert operations.promoter_earnings(world, "pro_9")["total"] == 0


def test_topup_is_idempotent_by_reference(world):
    data = load(TopupSchema(), {"amount": 250000, "reference": "BCA-7781"})
    first = operations.record_topup(world, "mer_1", data)
    again = operations.record_topup(world, "mer_1", data)
    assert first == again
    assert first["balance"] == 250000
    assert balance(world, "mer_1") == 250000
    with pytest.raises(Conflict) as conflict:
        operations.record_topup(world, "mer_1", {"amount": 1, "reference": "BCA-7781"})
    assert set(conflict.value.fields) == {"reference"}
    # another merchant's reference space is its own
    assert operations.record_topup(world, "mer_2", data)["balance"] == 250000


def test_topup_input_and_unknown_merchant(world):
    for payload, field in (
        ({"amount": 0, "reference": "X1"}, "amount"),
        ({"amount": 1000.0, "reference": "X1"}, "amount"),
        ({"amount": 1000}, "reference"),
    ):
        with pytest.raises(ValidationFailed) as failed:
            load(TopupSchema(), payload)
        assert field in failed.value.fields
    with pytest.raises(NotFound) as missing:
        operations.record_topup(world, "mer_9", {"amount": 1000, "reference": "X1"})
    assert set(missing.value.fields) == {"merchant_id"}


def test_registration_events_are_idempotent(world):
    operations.register_merchant(
        world,
        new_event("merchant_registered", merchant_id="mer_1", name="Renamed", promoter_id=None),
    )
    merchant = world.get_merchant("mer_1")
    assert merchant["name"] == "Toko Siti"
    assert merchant["promoter_id"] == "pro_1"
    assert world.db.merchants.count_documents({}) == 2


def test_daily_storage_is_charged_once_per_merchant_and_day_with_commission(world):
    units = {"mer_1": 120, "mer_2": 10, "mer_unknown": 5}
    day = date(2026, 11, 22)
    charged = operations.charge_storage(world, CARD, day, units)
    assert charged == {"mer_1": 120 * 15, "mer_2": 10 * 15}  # unknown merchants wait
    again = operations.charge_storage(world, CARD, day, units)
    assert again == charged
    assert operations.wallet(world, "mer_1")["balance"] == -1800
    assert [p["_id"] for p in world.db.postings.find({"kind": "storage"})] == [
        "storage:mer_1:2026-11-22",
        "storage:mer_2:2026-11-22",
    ]
    # the fee belongs to the day it is for (its WIB start), not to the run
    fee = world.get_posting("storage:mer_1:2026-11-22")
    assert fee["occurred_at"] == "2026-11-21T17:00:00.000Z"
    earnings = operations.promoter_earnings(world, "pro_1")
    assert {f["fee_type"]: f["amount"] for f in earnings["per_fee"]}["storage"] == 180
    operations.charge_storage(world, CARD, date(2026, 11, 23), units)  # the next day is its own
    assert operations.wallet(world, "mer_1")["balance"] == -3600
    assert operations.trial_balance(world)["total"] == 0


def test_a_merchant_registered_after_the_day_pays_nothing_for_it(world):
    yesterday = yesterday_wib()
    operations.register_merchant(
        world,
        new_event("merchant_registered", merchant_id="mer_new", name="Toko Baru", promoter_id=None),
    )
    charged = operations.charge_storage(world, CARD, yesterday, {"mer_new": 40, "mer_1": 2})
    assert charged == {"mer_1": 30}
    assert operations.wallet(world, "mer_new")["balance"] == 0


NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # 10:00 WIB on 24 November


@pytest.mark.parametrize("day", ["2026-11-24", "2026-11-25", "2099-01-01"])
def test_today_and_future_days_cannot_be_billed(day):
    with pytest.raises(ValidationFailed) as failed:
        operations.storage_day(day, now=NOW)
    assert set(failed.value.fields) == {"day"}


def test_the_day_to_bill():
    assert operations.storage_day(None, now=NOW) == date(2026, 11, 23)
    assert operations.storage_day("2026-11-23", now=NOW) == date(2026, 11, 23)
    assert operations.storage_day("2020-01-01", now=NOW) == date(2020, 1, 1)
    # 23:30 WIB on 23 November is still the 23rd
    late = datetime(2026, 11, 23, 16, 30, tzinfo=UTC)
    with pytest.raises(ValidationFailed):
        operations.storage_day("2026-11-23", now=late)
    for bad in ("kemarin", "2026-13-01", 20261122):
        with pytest.raises(ValidationFailed):
            operations.storage_day(bad, now=NOW)


def test_missed_days_are_caught_up_oldest_first_and_bounded(repo):
    assert operations.storage_days_due(repo, 31, now=NOW) == [date(2026, 11, 23)]
    repo.record_storage_run("2026-11-19", {})
    assert operations.storage_days_due(repo, 31, now=NOW) == [
        date(2026, 11, 20),
        date(2026, 11, 21),
        date(2026, 11, 22),
        date(2026, 11, 23),
    ]
    assert operations.storage_days_due(repo, 2, now=NOW) == [
        date(2026, 11, 22),
        date(2026, 11, 23),
    ]
    repo.record_storage_run("2026-11-23", {})
    assert operations.storage_days_due(repo, 31, now=NOW) == []
