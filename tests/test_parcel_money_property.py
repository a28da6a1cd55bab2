"""Property: the same courier reports for a parcel, in any order and with duplicates, end in
the same state everywhere and the same money.

Shipping's pure state machine decides each arrival; the events it would publish reach
billing's operations and the gateway's read model (over in-memory stores) in yet another
order, each possibly twice, and a handler that raises is retried later, as the broker
does. Whatever the orders, the parcel's status is that of its reports sorted by time,
the order shows it, and COD, its fee and the commission on the fee are on the ledger
(net) once exactly when the outcome is delivered.
"""

from datetime import UTC, datetime, timedelta

import mongomock
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from billing import domain as billing_domain
from billing import operations as billing
from billing.store import BillingRepository
from gateway.store import GatewayRepository
from gudang_common.events import iso, new_event
from shipping import domain
from shipping.operations import announcement_event

CARD = billing_domain.RateCard()
START = datetime(2025, 1, 1, 8, tzinfo=UTC)
# final reports drawn more often than the others: contradictions are what is being tested
STATUSES = sorted(domain.COURIER_STATUSES) + ["delivered", "returned"] * 3
MONEY_EVENTS = {
    "parcel_delivered": billing.settle_cod,
    "parcel_outcome_corrected": billing.correct_cod,
}


def courier_report(status, hour):
    at = iso(START + timedelta(hours=hour))
    entry = {
        "key": f"{status}|{at}",
        "status": status,
        "parcel_status": domain.COURIER_STATUSES[status],
        "occurred_at": at,
    }
    if status == "failed":
        entry["reason"] = "Penerima tidak ada"
    return entry


def ship(arrivals, cod):
    """Shipping: record each arrival as record_tracking does; returns the parcel and events."""
    parcel = {
        "order_id": "ord_1",
        "merchant_id": "mer_1",
        "awb": "JN000000000001",
        "courier": "jne",
        "cod_amount": cod,
        "status": "booked",
        "booked_at": iso(START),
        "tracking": [],
        "outcome": None,
        "corrections": 0,
        "told": [],
    }
    published = []
    for entry in arrivals:
        if any(e["key"] == entry["key"] for e in parcel["tracking"]):
            continue  # a repeated webhook
        decision = domain.decide(parcel, entry)
        published += [(a.event_type, announcement_event(parcel, a)) for a in decision.announcements]
        parcel = dict(
            parcel,
            tracking=parcel["tracking"] + [entry],
            status=decision.status,
            outcome=decision.outcome,
            corrections=decision.corrections,
            told=list(decision.told),
        )
    return parcel, published


def deliver(deliveries, handle):
    """At-least-once delivery: a handler that raises is tried again after the others."""
    queue = list(deliveries)
    attempts = 0
    while queue:
        attempts += 1
        assert attempts < 50 * (len(deliveries) + 1), f"stuck: {queue}"
        event_type, event = queue.pop(0)
        try:
            handle(event_type, event)
        except LookupError:
            queue.append((event_type, event))


def billing_world():
    db = mongomock.MongoClient()["billing"]
    BillingRepository.ensure_indexes(db)
    repo = BillingRepository(db, lambda: None)
    billing.register_promoter(
        repo,
        new_event("promoter_registered", promoter_id="pro_1", name="Budi", referral_code="BUDI"),
    )
    billing.register_merchant(
        repo,
        new_event("merchant_registered", merchant_id="mer_1", name="Toko", promoter_id="pro_1"),
    )
    return repo


def gateway_world():
    db = mongomock.MongoClient()["gateway"]
    GatewayRepository.ensure_indexes(db)
    db.orders.insert_one(
        {"_id": "ord_1", "merchant_id": "mer_1", "status": "booked", "timeline": [], "seen": []}
    )
    return GatewayRepository(db, lambda: None)


def money(repo):
    accounts = billing.trial_balance(repo)["accounts"]
    assert sum(accounts.values()) == 0
    return {
        name: accounts.get(account, 0)
        for name, account in (
            ("wallet", "merchant:mer_1:wallet"),
            ("cod_clearing", "cod:clearing"),
            ("cod_fee", "revenue:cod_fee"),
            ("commission", "promoter:pro_1:payable"),
            ("commission_expense", "expense:commission"),
        )
    }


def expected_money(outcome, cod):
    if outcome != "delivered" or cod == 0:
        return dict.fromkeys(
            ("wallet", "cod_clearing", "cod_fee", "commission", "commission_expense"), 0
        )
    fee = billing_domain.cod_fee(CARD, cod)
    commission = billing_domain.commission(CARD, fee)
    return {
        "wallet": cod - fee,
        "cod_clearing": -cod,
        "cod_fee": fee,
        "commission": commission,
        "commission_expense": -commission,
    }


@st.composite
def courier_reports(draw):
    """A parcel's distinct reports, then their arrival: shuffled, some sent twice."""
    reports = draw(
        st.lists(
            st.tuples(st.sampled_from(STATUSES), st.integers(0, 8)),
            min_size=1,
            max_size=7,
            unique=True,
        )
    )
    reports = [courier_report(status, hour) for status, hour in reports]
    repeats = draw(st.lists(st.sampled_from(reports), max_size=3))
    return reports, draw(st.permutations(reports + repeats))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    reported=courier_reports(),
    cod=st.sampled_from([0, 123000, 55555, 999]),
    data=st.data(),
)
def test_any_arrival_order_gives_the_same_state_and_the_same_money(reported, cod, data):
    reports, arrivals = reported
    parcel, published = ship(arrivals, cod)

    # the state is that of the reports in time order, however they arrived
    in_order, _ = ship(sorted(reports, key=domain.in_time), cod)
    status, _ = domain.walk(reports)
    assert parcel["status"] == in_order["status"] == status
    assert parcel["outcome"] == domain.OUTCOME_OF.get(status)
    told = [t for t, _ in published]
    event(f"corrections={parcel['corrections']} cod={bool(cod)}")  # --hypothesis-show-statistics
    assert told.count("parcel_delivered") <= 1 and told.count("parcel_returned") <= 1
    assert told.count("parcel_outcome_corrected") == parcel["corrections"]

    # billing and the gateway get every event at least once, in an order of their own
    deliveries = data.draw(
        st.permutations(published + data.draw(st.lists(st.sampled_from(published or [None]))))
    )
    deliveries = [d for d in deliveries if d is not None]

    ledger = billing_world()

    def settle(event_type, event):
        if event_type in MONEY_EVENTS:
            MONEY_EVENTS[event_type](ledger, CARD, event)

    deliver(deliveries, settle)
    assert money(ledger) == expected_money(parcel["outcome"], cod)
    # every posting is a credit or the reversal of one, never an edit
    for posting in ledger.db.postings.find({"kind": "reversal"}):
        original = ledger.get_posting(posting["reverses"])
        assert posting["lines"] == billing_domain.reversal_lines(original["lines"])

    read_model = gateway_world()
    deliver(deliveries, read_model.apply_event)
    if status in domain.FINAL:
        assert read_model.get_order("ord_1")["status"] == status
