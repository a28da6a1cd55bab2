"""Booking and tracking against an in-memory store: once per order, idempotent webhooks, outbox."""

import re

import mongomock
import pytest

from gudang_common.couriers import origin_postal_code
from gudang_common.errors import FloorRefusal, NotFound, Unprocessable, ValidationFailed, load
from gudang_common.events import new_event, validate_event
from gudang_common.store import OUTBOX
from shipping import operations, store
from shipping.schemas import TrackingSchema
from shipping.store import AwbTaken, ShippingRepository

ORIGIN = "13930"


@pytest.fixture
def repo():
    db = mongomock.MongoClient()["t"]
    ShippingRepository.ensure_indexes(db)
    return ShippingRepository(db, lambda: None)


def packed(repo, order_id="ord_1", courier="jne", postal_code="40115", cod_amount=0, weight_g=2301):
    """order_packed for an order shipping saw received (with its courier, buyer and COD)."""
    operations.accept_order(
        repo,
        new_event(
            "order_received",
            merchant_id="mer_1",
            order_id=order_id,
            external_id=f"X-{order_id}",
            channel="api",
            courier=courier,
            recipient={
                "name": "Siti",
                "phone": "+6281234567890",
                "address": "Jl. Braga No. 1",
                "city": "Bandung",
                "postal_code": postal_code,
            },
            lines=[{"sku": "KAOS-M", "qty": 2}],
            cod_amount=cod_amount,
        ),
    )
    return new_event(
        "order_packed",
        merchant_id="mer_1",
        order_id=order_id,
        packer_id="stf_1",
        package={"weight_g": weight_g, "length_cm": 20, "width_cm": 15, "height_cm": 10},
        lines=[{"sku": "KAOS-M", "qty": 2, "bin": "A-01-01-1-01", "pick_sequence": 1}],
    )


def outbox(repo, order_id):
    return repo.db.parcels.find_one({"_id": order_id}).get(OUTBOX, [])


def track(repo, awb, status, occurred_at, courier="jne", **extra):
    data = load(TrackingSchema(), dict(awb=awb, status=status, occurred_at=occurred_at, **extra))
    return operations.record_tracking(repo, courier, data)


def booked(repo, **kwargs):
    event = packed(repo, **kwargs)
    assert operations.book_parcel(repo, event, ORIGIN) == "booked"
    return repo.get_parcel(event["order_id"])


def test_booking_stores_the_parcel_with_its_event_in_the_outbox(repo):
    parcel = booked(repo, cod_amount=125000)
    assert re.fullmatch(r"JN\d{12}", parcel["awb"])
    assert parcel["status"] == "booked"
    assert parcel["chargeable_weight_g"] == 3000
    assert parcel["shipping_cost"] == 3 * 11000
    [staged] = outbox(repo, "ord_1")
    assert staged["type"] == "parcel_booked"
    body = validate_event("parcel_booked", staged["body"])
    assert body["awb"] == parcel["awb"]
    assert body["order_id"] == "ord_1"
    assert body["merchant_id"] == "mer_1"
    assert body["shipping_cost"] == 33000
    assert body["cod_amount"] == 125000
    assert repo.db.parcels.find_one({"_id": "ord_1"})["_outbox_pending"] is True


def test_a_redelivered_order_packed_books_once(repo):
    event = packed(repo)
    assert operations.book_parcel(repo, event, ORIGIN) == "booked"
    assert operations.book_parcel(repo, event, ORIGIN) == "duplicate"
    assert repo.db.parcels.count_documents({}) == 1
    assert len(outbox(repo, "ord_1")) == 1


def test_a_concurrent_duplicate_insert_is_absorbed(repo):
    event = packed(repo)
    operations.book_parcel(repo, event, ORIGIN)
    first = repo.get_parcel("ord_1")["awb"]
    doc = dict(repo.get_parcel("ord_1"), awb="JN999999999999")
    assert repo.add_parcel(doc, event) is False
    assert repo.get_parcel("ord_1")["awb"] == first


def test_awbs_are_random_digits_after_the_courier_prefix(repo):
    awbs = [booked(repo, order_id=f"ord_{i}")["awb"] for i in range(20)]
    sicepat = booked(repo, order_id="ord_s", courier="sicepat")["awb"]
    assert all(re.fullmatch(r"JN\d{12}", awb) for awb in awbs)
    assert re.fullmatch(r"SC\d{12}", sicepat)
    assert len(set(awbs)) == 20
    # neighbours are not parcels: 20 random draws in 10^12 are not consecutive
    serials = sorted(int(awb[2:]) for awb in awbs)
    assert all(b - a > 1 for a, b in zip(serials, serials[1:]))


def test_walking_awbs_from_the_first_serial_finds_no_parcel(repo):
    for i in range(30):
        booked(repo, order_id=f"ord_{i}")
    walked = [f"JN{n:012d}" for n in range(1, 1001)]
    assert [awb for awb in walked if repo.find_by_awb(awb)] == []


def test_a_clashing_awb_is_drawn_again(repo, monkeypatch):
    draws = iter([42, 42, 42, 7])
    monkeypatch.setattr(store.secrets, "randbelow", lambda n: next(draws))
    assert booked(repo, order_id="ord_a")["awb"] == "JN000000000042"
    parcel = booked(repo, order_id="ord_b")  # 42 twice more, then 7
    assert parcel["awb"] == "JN000000000007"
    assert len(outbox(repo, "ord_b")) == 1


def test_an_awb_clash_that_never_ends_fails_loudly(repo, monkeypatch):
    monkeypatch.setattr(store.secrets, "randbelow", lambda n: 42)
    booked(repo, order_id="ord_a")
    with pytest.raises(RuntimeError):
        operations.book_parcel(repo, packed(repo, order_id="ord_b"), ORIGIN)
    assert repo.get_parcel("ord_b") is None


def test_same_day_courier_outside_its_area_is_not_booked(repo):
    with pytest.raises(Unprocessable) as refused:
        operations.book_parcel(repo, packed(repo, courier="gosend", postal_code="40115"), ORIGIN)
    assert "courier" in refused.value.fields
    assert repo.db.parcels.count_documents({}) == 0
    assert booked(repo, order_id="ord_2", courier="gosend", postal_code="13220")["zone"] == "local"


def test_tracking_moves_the_parcel_and_stages_the_event(repo):
    parcel = booked(repo)
    view = track(repo, parcel["awb"], "picked_up", "2025-01-01T15:00:00+07:00")
    assert view["status"] == "dispatched"
    assert view["tracking"] == [
        {
            "status": "picked_up",
            "occurred_at": "2025-01-01T08:00:00.000Z",
            "recorded_at": view["tracking"][0]["recorded_at"],
            "announced": True,
        }
    ]
    staged = outbox(repo, "ord_1")[-1]
    assert staged["type"] == "parcel_dispatched"
    body = validate_event("parcel_dispatched", staged["body"])
    assert body["courier_status"] == "picked_up"
    assert body["occurred_at"] == "2025-01-01T08:00:00.000Z"


def test_each_tracking_answer_is_the_parcel_as_stored(repo):
    """The answer is not read back after the write: it must equal a fresh read, late and
    contradicting reports included."""
    parcel = booked(repo, cod_amount=50_000)
    for status, at in (
        ("picked_up", "2025-01-01T08:00:00Z"),
        ("in_transit", "2025-01-01T12:00:00Z"),
        ("delivered", "2025-01-02T09:00:00Z"),
        ("in_transit", "2025-01-01T10:00:00Z"),  # late: kept, announces nothing
        ("returned", "2025-01-03T09:00:00Z"),  # contradicts the final state
    ):
        view = track(repo, parcel["awb"], status, at)
        assert view == operations.parcel_view(repo.get_parcel("ord_1"))
    assert [e["type"] for e in outbox(repo, "ord_1")].count("parcel_delivered") == 1


def test_a_repeated_webhook_changes_nothing(repo):
    parcel = booked(repo)
    first = track(repo, parcel["awb"], "picked_up", "2025-01-01T08:00:00Z")
    # the same report, its time written another way
    again = track(repo, parcel["awb"], "picked_up", "2025-01-01T15:00:00+07:00")
    assert again == first
    doc = repo.get_parcel("ord_1")
    assert len(doc["tracking"]) == 1
    assert doc["version"] == 1
    assert [e["type"] for e in outbox(repo, "ord_1")] == ["parcel_booked", "parcel_dispatched"]


def test_out_of_order_reports_keep_the_furthest_status(repo):
    parcel = booked(repo, cod_amount=99000)
    track(repo, parcel["awb"], "delivered", "2025-01-02T10:00:00Z")
    view = track(repo, parcel["awb"], "in_transit", "2025-01-01T20:00:00Z")
    assert view["status"] == "delivered"
    assert [(t["status"], t["announced"]) for t in view["tracking"]] == [
        ("in_transit", False),
        ("delivered", True),
    ]
    events = outbox(repo, "ord_1")
    assert [e["type"] for e in events] == ["parcel_booked", "parcel_delivered"]
    assert events[1]["body"]["cod_amount"] == 99000


def test_a_second_delivered_report_is_recorded_but_not_announced(repo):
    parcel = booked(repo, cod_amount=99000)
    track(repo, parcel["awb"], "delivered", "2025-01-02T10:00:00Z")
    view = track(repo, parcel["awb"], "delivered", "2025-01-02T10:05:00Z")
    assert len(view["tracking"]) == 2
    types = [e["type"] for e in outbox(repo, "ord_1")]
    assert types.count("parcel_delivered") == 1


def test_failed_needs_a_reason_and_carries_it(repo):
    parcel = booked(repo)
    with pytest.raises(ValidationFailed) as failed:
        track(repo, parcel["awb"], "failed", "2025-01-02T10:00:00Z")
    assert set(failed.value.fields) == {"reason"}
    view = track(repo, parcel["awb"], "failed", "2025-01-02T10:00:00Z", reason="Penerima tidak ada")
    assert view["status"] == "delivery_failed"
    staged = outbox(repo, "ord_1")[-1]
    assert staged["type"] == "parcel_delivery_failed"
    assert staged["body"]["reason"] == "Penerima tidak ada"


def test_returned_after_a_failed_attempt(repo):
    parcel = booked(repo)
    track(repo, parcel["awb"], "failed", "2025-01-02T10:00:00Z", reason="Alamat tidak ditemukan")
    view = track(repo, parcel["awb"], "returned", "2025-01-04T10:00:00Z")
    assert view["status"] == "returned"
    assert outbox(repo, "ord_1")[-1]["type"] == "parcel_returned"


def test_tracking_input_errors_name_the_field(repo):
    parcel = booked(repo)
    with pytest.raises(ValidationFailed) as failed:
        track(repo, parcel["awb"], "lost", "2025-01-02T10:00:00Z")
    assert set(failed.value.fields) == {"status"}
    with pytest.raises(ValidationFailed) as failed:
        track(repo, parcel["awb"], "in_transit", "2025-01-02T10:00:00")  # no timezone
    assert set(failed.value.fields) == {"occurred_at"}


def test_unknown_awb_or_another_couriers_awb_is_not_found(repo):
    parcel = booked(repo)
    with pytest.raises(NotFound) as missing:
        track(repo, "JN424242424242", "in_transit", "2025-01-02T10:00:00Z")
    assert set(missing.value.fields) == {"awb"}
    with pytest.raises(NotFound) as missing:
        track(repo, parcel["awb"], "in_transit", "2025-01-02T10:00:00Z", courier="jnt")
    assert set(missing.value.fields) == {"awb"}
    assert repo.get_parcel("ord_1")["tracking"] == []


def test_a_tracking_answer_carries_no_buyer_details(repo):
    parcel = booked(repo)
    view = track(repo, parcel["awb"], "picked_up", "2025-01-01T15:00:00+07:00")
    assert view["order_id"] == "ord_1" and view["merchant_id"] == "mer_1"
    assert "recipient" not in view


def test_origin_postal_code_keeps_its_leading_zero():
    assert origin_postal_code({"ORIGIN_POSTAL_CODE": 1234}) == "01234"
    assert origin_postal_code({}) == "13930"
    with pytest.raises(ValueError):
        origin_postal_code({"ORIGIN_POSTAL_CODE": "JKT"})


def test_a_null_reason_is_accepted_when_none_is_needed(repo):
    parcel = booked(repo)
    view = track(repo, parcel["awb"], "in_transit", "2025-01-02T10:00:00Z", reason=None)
    assert view["status"] == "in_transit"
    assert "reason" not in view["tracking"][0]


def test_a_manifest_hands_over_every_booked_parcel_of_a_courier_once(repo):
    first = booked(repo, order_id="ord_1", cod_amount=50000)
    second = booked(repo, order_id="ord_2")
    booked(repo, order_id="ord_3", courier="sicepat")
    picked_up = booked(repo, order_id="ord_4")
    track(repo, picked_up["awb"], "picked_up", "2026-11-23T03:00:00Z")

    manifest = operations.create_manifest(repo, "jne", "stf_1")
    assert [p["awb"] for p in manifest["parcels"]] == sorted([first["awb"], second["awb"]])
    assert manifest["parcel_count"] == 2 and manifest["cod_total"] == 50000
    assert operations.get_manifest(repo, manifest["manifest_id"])["parcel_count"] == 2
    # while the pickup is open, asking again answers it, with parcels booked since
    third = booked(repo, order_id="ord_5")
    again = operations.create_manifest(repo, "jne", "stf_1")
    assert again["manifest_id"] == manifest["manifest_id"] and again["parcel_count"] == 3
    assert again["not_scanned"] == sorted([first["awb"], second["awb"], third["awb"]])
    operations.scan_parcel(repo, manifest["manifest_id"], first["awb"])
    operations.close_manifest(repo, manifest["manifest_id"], "stf_1")
    with pytest.raises(NotFound):
        operations.create_manifest(repo, "dhl", "stf_1")


def test_nothing_to_hand_over_is_refused(repo):
    booked(repo, order_id="ord_3", courier="sicepat")
    with pytest.raises(Unprocessable):
        operations.create_manifest(repo, "jne", "stf_1")


def refusal(action, *args):
    with pytest.raises(FloorRefusal) as caught:
        action(*args)
    return caught.value.code


def test_hand_over_by_scanning_each_awb_then_closing(repo):
    first = booked(repo, order_id="ord_1", cod_amount=50000)
    second = booked(repo, order_id="ord_2", cod_amount=20000)
    left = booked(repo, order_id="ord_3")
    other = booked(repo, order_id="ord_4", courier="sicepat")
    mid = operations.create_manifest(repo, "jne", "stf_1")["manifest_id"]
    with pytest.raises(FloorRefusal):
        operations.close_manifest(repo, mid, "stf_1")  # nothing scanned yet
    view = operations.scan_parcel(repo, mid, first["awb"].lower() + " ")
    assert view["scanned"] == first["awb"] and view["scanned_count"] == 1
    operations.scan_parcel(repo, mid, first["awb"])  # the same label twice: no change
    view = operations.scan_parcel(repo, mid, second["awb"])
    assert view["scanned_count"] == 2 and view["not_scanned"] == [left["awb"]]
    assert refusal(operations.scan_parcel, repo, mid, other["awb"]) == "WRONG_COURIER"
    assert refusal(operations.scan_parcel, repo, mid, "JN000000000000") == "UNKNOWN_AWB"

    closed = operations.close_manifest(repo, mid, "stf_1")
    assert closed["status"] == "closed" and closed["closed_at"]
    assert sorted(p["awb"] for p in closed["parcels"]) == sorted([first["awb"], second["awb"]])
    assert closed["parcel_count"] == 2 and closed["cod_total"] == 70000
    assert closed["not_scanned"] == []
    for parcel in (first, second):
        assert repo.get_parcel(parcel["_id"])["status"] == "dispatched"
        assert [e["type"] for e in outbox(repo, parcel["_id"])][-1] == "parcel_dispatched"
    assert operations.close_manifest(repo, mid, "stf_1") == closed  # closing again
    assert refusal(operations.scan_parcel, repo, mid, left["awb"]) == "MANIFEST_CLOSED"
    # the parcel the courier did not take waits for the next pickup
    following = operations.create_manifest(repo, "jne", "stf_1")
    assert [p["awb"] for p in following["parcels"]] == [left["awb"]]
    assert refusal(operations.scan_parcel, repo, following["manifest_id"], first["awb"]) == (
        "HANDED_OVER"
    )


def test_an_awb_already_on_another_parcel_is_retried_not_absorbed(repo):
    first = booked(repo)
    event = packed(repo, order_id="ord_2")
    doc = dict(repo.get_parcel("ord_1"), _id="ord_2", order_id="ord_2", awb=first["awb"])
    with pytest.raises(AwbTaken):
        repo.add_parcel(doc, event)
    assert repo.get_parcel("ord_2") is None


# --- issue 7: courier reports at the edges -------------------------------------------


def types(repo, order_id="ord_1"):
    return [e["type"] for e in outbox(repo, order_id)]


def test_a_late_delivery_stamped_before_the_return_is_announced_as_a_correction(repo):
    # picked up, failed, returned; then a delivered stamped before the return arrives
    parcel = booked(repo, cod_amount=123000)
    awb = parcel["awb"]
    track(repo, awb, "picked_up", "2025-01-01T08:00:00Z")
    track(repo, awb, "failed", "2025-01-02T08:00:00Z", reason="Penerima tidak ada")
    track(repo, awb, "returned", "2025-01-05T08:00:00Z")
    view = track(repo, awb, "delivered", "2025-01-03T08:00:00Z")
    # never a plain parcel_delivered (which billing would credit silently after the return)
    assert types(repo) == [
        "parcel_booked",
        "parcel_dispatched",
        "parcel_delivery_failed",
        "parcel_returned",
        "parcel_outcome_corrected",
    ]
    correction = validate_event("parcel_outcome_corrected", outbox(repo, "ord_1")[-1]["body"])
    assert correction["correction"] == 1
    assert (correction["previous_outcome"], correction["outcome"]) == ("returned", "delivered")
    assert correction["decided_at"] == "2025-01-03T08:00:00.000Z"
    assert correction["cod_amount"] == 123000
    # shipping and the event agree: the earliest final report decides
    assert view["status"] == "delivered" and view["outcome"] == "delivered"
    assert view["corrections"] == 1


def test_a_return_after_the_delivery_is_kept_but_opens_no_return(repo):
    parcel = booked(repo, cod_amount=123000)
    track(repo, parcel["awb"], "delivered", "2025-01-03T08:00:00Z")
    view = track(repo, parcel["awb"], "returned", "2025-01-05T08:00:00Z")
    assert types(repo) == ["parcel_booked", "parcel_delivered"]
    assert view["status"] == "delivered" and view["corrections"] == 0
    assert [(t["status"], t["announced"]) for t in view["tracking"]] == [
        ("delivered", True),
        ("returned", False),
    ]


def test_a_return_stamped_before_an_announced_delivery_corrects_it(repo):
    parcel = booked(repo, cod_amount=123000)
    track(repo, parcel["awb"], "delivered", "2025-01-05T08:00:00Z")
    view = track(repo, parcel["awb"], "returned", "2025-01-03T08:00:00Z")
    assert types(repo) == [
        "parcel_booked",
        "parcel_delivered",
        "parcel_outcome_corrected",
        "parcel_returned",
    ]
    correction = outbox(repo, "ord_1")[2]["body"]
    assert (correction["previous_outcome"], correction["outcome"]) == ("delivered", "returned")
    assert view["status"] == "returned" and view["corrections"] == 1


def test_a_stale_in_transit_after_delivery_is_not_a_new_step(repo):
    parcel = booked(repo)
    track(repo, parcel["awb"], "in_transit", "2025-01-02T08:00:00Z")
    track(repo, parcel["awb"], "delivered", "2025-01-03T08:00:00Z")
    view = track(repo, parcel["awb"], "in_transit", "2025-01-04T08:00:00Z")
    assert types(repo) == ["parcel_booked", "parcel_in_transit", "parcel_delivered"]
    assert view["status"] == "delivered"
    assert view["tracking"][-1] | {"recorded_at": None} == {
        "status": "in_transit",
        "occurred_at": "2025-01-04T08:00:00.000Z",
        "recorded_at": None,
        "announced": False,
    }


def test_a_buyers_return_after_delivery_has_its_own_event(repo):
    parcel = booked(repo, cod_amount=50000)
    track(repo, parcel["awb"], "delivered", "2025-01-03T08:00:00Z")
    view = track(repo, parcel["awb"], "returned_by_buyer", "2025-01-06T08:00:00Z")
    assert types(repo) == ["parcel_booked", "parcel_delivered", "parcel_returned_by_buyer"]
    body = validate_event("parcel_returned_by_buyer", outbox(repo, "ord_1")[-1]["body"])
    assert body["courier_status"] == "returned_by_buyer"
    assert view["status"] == "returned_by_buyer" and view["outcome"] == "delivered"


def test_the_corrected_parcels_gauge_counts_exceptions(repo):
    parcel = booked(repo)
    track(repo, parcel["awb"], "delivered", "2025-01-05T08:00:00Z")
    [corrected] = [g for g in ShippingRepository.gauges(repo.db, {}) if "corrected" in g[0]]
    assert corrected[3]() == [(("shipping",), 0)]
    track(repo, parcel["awb"], "returned", "2025-01-03T08:00:00Z")
    assert corrected[3]() == [(("shipping",), 1)]
