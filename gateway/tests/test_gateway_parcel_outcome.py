"""The order's read model and parcel outcomes: corrections shown, late outcome events ignored."""

import pytest

from gateway.notify import DELIVERABLE
from gateway.order_routes import order_view
from gateway.tracking import order_move
from gudang_common.events import new_event
from tests.sample_events import outcome_corrected

PARCEL = {"order_id": "ord_1", "awb": "JN000000000001", "courier": "jne"}


@pytest.fixture
def repo(repo):
    repo.db.orders.insert_one(
        {
            "_id": "ord_1",
            "merchant_id": "mer_1",
            "external_id": "SHP-1",
            "channel": "shopee",
            "courier": "jne",
            "cod_amount": 123000,
            "recipient": {},
            "lines": [],
            "received_at": "2025-01-01T01:00:00.000Z",
            "status": "in_transit",
            "timeline": [],
            "seen": [],
        }
    )
    return repo


def parcel_event(event_type, at, status, **extra):
    return new_event(
        event_type, merchant_id="mer_1", occurred_at=at, courier_status=status, **PARCEL, **extra
    )


def corrected(correction, outcome, decided_at="2025-01-03T08:00:00.000Z"):
    return outcome_corrected(correction, outcome, decided_at=decided_at)


def order(repo):
    return order_view(repo.get_order("ord_1"), lang="en")


def test_a_correction_sets_the_outcome_and_shows_the_exception(repo):
    delivered = parcel_event(
        "parcel_delivered", "2025-01-05T08:00:00.000Z", "delivered", cod_amount=123000
    )
    repo.apply_event("parcel_delivered", delivered)
    assert order(repo)["status"] == "delivered" and order(repo)["exception"] is None

    correction = corrected(1, "returned")
    assert repo.apply_event("parcel_outcome_corrected", correction)
    repo.apply_event(
        "parcel_returned", parcel_event("parcel_returned", "2025-01-03T08:00:00.000Z", "returned")
    )
    view = order(repo)
    assert view["status"] == "returned"
    assert view["exception"] == {
        "kind": "parcel_outcome_corrected",
        "at": correction["occurred_at"],
        "awb": "JN000000000001",
        "previous_outcome": "delivered",
        "outcome": "returned",
        "courier_status": "returned",
        "decided_at": "2025-01-03T08:00:00.000Z",
        "correction": 1,
    }
    assert view["timeline"][-1]["event"] == "parcel_outcome_corrected"
    assert view["timeline"][-1]["label"] == "Delivery outcome corrected"
    assert not repo.apply_event("parcel_outcome_corrected", correction)  # a redelivery

    # corrected back: the status follows the newest correction, whatever its rank
    repo.apply_event("parcel_outcome_corrected", corrected(2, "delivered"))
    assert order(repo)["status"] == "delivered"
    assert order(repo)["exception"]["correction"] == 2


def test_outcome_events_reaching_the_gateway_after_a_correction_move_nothing(repo):
    # each event has its own queue: the correction may overtake what it corrects
    repo.apply_event("parcel_outcome_corrected", corrected(1, "delivered"))
    repo.apply_event(
        "parcel_returned", parcel_event("parcel_returned", "2025-01-05T08:00:00.000Z", "returned")
    )
    view = order(repo)
    assert view["status"] == "delivered"
    assert [e["event"] for e in view["timeline"]] == ["parcel_returned", "parcel_outcome_corrected"]
    # an older correction arriving after a newer one changes nothing either
    repo.apply_event("parcel_outcome_corrected", corrected(2, "returned"))
    repo.apply_event("parcel_outcome_corrected", corrected(1, "delivered"))
    assert order(repo)["status"] == "returned"


def test_a_buyers_return_follows_a_delivery_but_never_a_return_to_sender():
    moved = {"status": "returned_by_buyer", "buyer_returned": True}
    assert order_move({"status": "delivered"}, "parcel_returned_by_buyer", {}) == moved
    assert order_move({"status": "in_transit"}, "parcel_returned_by_buyer", {}) == moved
    assert order_move({"status": "returned"}, "parcel_returned_by_buyer", {}) == {
        "buyer_returned": True
    }
    assert order_move({"status": "returned_by_buyer"}, "parcel_delivered", {}) == {}


def test_a_correction_back_to_delivered_keeps_a_buyers_return_that_came_first(repo):
    # shipping: returned told, buyer's return and an earlier delivery arrive; the gateway
    # happens to see the buyer's return before the correction that makes it count
    repo.apply_event(
        "parcel_returned", parcel_event("parcel_returned", "2025-01-05T08:00:00.000Z", "returned")
    )
    repo.apply_event(
        "parcel_returned_by_buyer",
        parcel_event("parcel_returned_by_buyer", "2025-01-09T08:00:00.000Z", "returned_by_buyer"),
    )
    assert order(repo)["status"] == "returned"
    repo.apply_event("parcel_outcome_corrected", corrected(1, "delivered"))
    assert order(repo)["status"] == "returned_by_buyer"


def test_merchants_can_subscribe_to_the_new_parcel_events():
    assert {"parcel_returned_by_buyer", "parcel_outcome_corrected"} <= set(DELIVERABLE)
