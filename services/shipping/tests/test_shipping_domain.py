"""Shipping rules: chargeable weight and its 0.3 kg tolerance, zones, rates, tracking progress."""

import pytest

from shipping import domain, rates

ORIGIN = "13930"


def box(weight_g, length_cm=10, width_cm=10, height_cm=10):
    return {
        "weight_g": weight_g,
        "length_cm": length_cm,
        "width_cm": width_cm,
        "height_cm": height_cm,
    }


@pytest.mark.parametrize(
    ("weight_g", "expected_g"),
    [
        (1, 1000),  # minimum 1 kg
        (200, 1000),
        (1000, 1000),
        (1300, 1000),  # 0.3 kg past the kilo is forgiven
        (1301, 2000),  # one gram more is not
        (1310, 2000),
        (1999, 2000),
        (2000, 2000),
        (2300, 2000),
        (2301, 3000),
        (50000, 50000),
    ],
)
def test_chargeable_weight_of_actual_weight(weight_g, expected_g):
    # a 10 cm cube weighs 167 g volumetric, so the actual weight decides
    assert domain.chargeable_weight_g(weight_g, 10, 10, 10) == expected_g


@pytest.mark.parametrize(
    ("weight_g", "dims", "expected_g"),
    [
        (500, (30, 20, 10), 1000),  # 6000 cm³ = exactly 1 kg volumetric
        (500, (30, 26, 10), 1000),  # 7800 cm³ = 1.3 kg: forgiven
        (500, (1, 1, 7801), 2000),  # 7801 cm³ = 1.30017 kg: just past the tolerance
        (500, (30, 26, 11), 2000),  # 8580 cm³ = 1.43 kg
        (2000, (60, 40, 30), 12000),  # 72000 cm³ = 12 kg, heavier than the 2 kg actual
    ],
)
def test_chargeable_weight_of_bulky_parcels(weight_g, dims, expected_g):
    assert domain.chargeable_weight_g(weight_g, *dims) == expected_g


def test_actual_weight_wins_when_heavier_than_volume():
    assert domain.chargeable_weight_g(5300, 30, 20, 10) == 5000
    assert domain.chargeable_weight_g(5400, 30, 20, 10) == 6000
    assert domain.chargeable_weight_g(5400, 60, 40, 30) == 12000


def test_volumetric_weight_in_grams():
    assert domain.volumetric_weight_g(30, 20, 10) == 1000
    assert domain.volumetric_weight_g(60, 40, 30) == 12000


@pytest.mark.parametrize(
    ("postal_code", "expected"),
    [
        ("13930", "local"),
        ("13220", "local"),  # same Jakarta Timur prefix
        ("12950", "java"),  # Jakarta Selatan: Java, not the warehouse's own area
        ("40115", "java"),  # Bandung
        ("50241", "java"),  # Semarang
        ("55281", "java"),  # Yogyakarta
        ("60271", "java"),  # Surabaya
        ("80361", "java"),  # Badung, Bali
        ("20112", "outer"),  # Medan, Sumatra
        ("30128", "outer"),  # Palembang, Sumatra
        ("70111", "outer"),  # Banjarmasin, Kalimantan
        ("83125", "outer"),  # Mataram, Lombok
        ("90111", "outer"),  # Makassar
        ("99111", "outer"),  # Jayapura
    ],
)
def test_zone(postal_code, expected):
    assert domain.zone(ORIGIN, postal_code) == expected


def test_zone_is_relative_to_the_warehouse():
    assert domain.zone("60111", "60271") == "local"
    assert domain.zone("60111", "13930") == "java"


def test_quote_multiplies_rate_by_chargeable_kilos():
    priced = domain.quote("jne", box(2301), "60271", ORIGIN)
    assert priced == {
        "courier": "jne",
        "zone": "java",
        "chargeable_weight_g": 3000,
        "per_kg": rates.RATES["jne"]["java"],
        "shipping_cost": 3 * rates.RATES["jne"]["java"],
    }
    assert isinstance(priced["shipping_cost"], int)


def test_every_courier_has_an_integer_local_rate_and_same_day_only_local():
    from gudang_common.couriers import COURIERS

    assert set(rates.RATES) == set(COURIERS)
    for code, info in COURIERS.items():
        assert isinstance(rates.RATES[code]["local"], int)
        if info["same_day"]:
            assert set(rates.RATES[code]) == {"local"}
        else:
            assert set(rates.RATES[code]) == {"local", "java", "outer"}
            assert (
                rates.RATES[code]["local"]
                <= rates.RATES[code]["java"]
                <= rates.RATES[code]["outer"]
            )


def test_same_day_courier_refuses_outside_the_local_area():
    assert domain.quote("gosend", box(800), "13220", ORIGIN)["zone"] == "local"
    with pytest.raises(domain.BookingRefused) as refused:
        domain.quote("gosend", box(800), "40115", ORIGIN)
    assert refused.value.field == "courier"
    assert "GoSend" in refused.value.message


def test_cod_needs_a_courier_that_collects_it():
    assert domain.quote("jne", box(800), "40115", ORIGIN, cod_amount=150000)["shipping_cost"] > 0
    with pytest.raises(domain.BookingRefused) as refused:
        domain.quote("pos", box(800), "40115", ORIGIN, cod_amount=150000)
    assert refused.value.field == "cod_amount"


def test_unknown_courier_is_refused():
    with pytest.raises(domain.BookingRefused) as refused:
        domain.quote("dhl", box(800), "40115", ORIGIN)
    assert refused.value.field == "courier"


T1, T2, T3 = "2025-01-01T08:00:00.000Z", "2025-01-01T12:00:00.000Z", "2025-01-02T09:00:00.000Z"
T4, T5 = "2025-01-02T12:00:00.000Z", "2025-01-03T09:00:00.000Z"


def report(status, at, reason=None):
    entry = {
        "key": f"{status}|{at}",
        "status": status,
        "parcel_status": domain.COURIER_STATUSES[status],
        "occurred_at": at,
    }
    if reason:
        entry["reason"] = reason
    return entry


def feed(*reports):
    """Record reports one by one as shipping does; returns the parcel and every decision."""
    parcel = {"tracking": [], "status": "booked", "booked_at": T1}
    decisions = []
    for entry in reports:
        decision = domain.decide(parcel, entry)
        decisions.append(decision)
        parcel = {
            "tracking": parcel["tracking"] + [entry],
            "status": decision.status,
            "outcome": decision.outcome,
            "corrections": decision.corrections,
            "told": decision.told,
            "booked_at": T1,
        }
    return parcel, decisions


def told(decision):
    return [a.event_type for a in decision.announcements]


def test_each_newer_report_is_a_step():
    _, decisions = feed(report("picked_up", T1), report("in_transit", T2), report("delivered", T3))
    assert [told(d) for d in decisions] == [
        ["parcel_dispatched"],
        ["parcel_in_transit"],
        ["parcel_delivered"],
    ]
    assert decisions[-1].status == "delivered" and decisions[-1].status_at == T3


def test_a_failed_attempt_and_the_next_leg_alternate():
    parcel, decisions = feed(
        report("in_transit", T1), report("failed", T2, "Rumah kosong"), report("in_transit", T3)
    )
    assert [told(d) for d in decisions][1:] == [["parcel_delivery_failed"], ["parcel_in_transit"]]
    assert parcel["status"] == "in_transit"


def test_a_report_older_than_the_last_step_is_kept_but_announces_nothing():
    parcel, decisions = feed(report("in_transit", T2), report("picked_up", T1))
    assert decisions[1].late and parcel["status"] == "in_transit"
    assert len(parcel["tracking"]) == 2


def test_a_non_final_report_after_a_final_one_is_stale():
    # stamped after the delivery, or before it: either way not a new step
    parcel, decisions = feed(
        report("delivered", T3), report("in_transit", T4), report("failed", T2, "x")
    )
    assert told(decisions[0]) == ["parcel_delivered"]
    assert decisions[1].late and decisions[2].late
    assert parcel["status"] == "delivered"


def test_final_states_are_final_a_later_return_is_only_history():
    parcel, decisions = feed(report("delivered", T3), report("returned", T4))
    assert decisions[1].late
    assert parcel["status"] == "delivered" and parcel["outcome"] == "delivered"


def test_a_repeated_final_report_at_another_time_is_not_announced_again():
    parcel, decisions = feed(report("delivered", T3), report("delivered", T4))
    assert decisions[1].late and decisions[1].status_at == T3
    assert parcel["status"] == "delivered"


def test_an_earlier_return_arriving_after_the_delivery_corrects_the_outcome():
    parcel, decisions = feed(
        report("picked_up", T1), report("delivered", T4), report("returned", T3)
    )
    [correction, returned] = decisions[2].announcements
    assert correction.event_type == "parcel_outcome_corrected"
    assert correction.detail == {
        "correction": 1,
        "previous_outcome": "delivered",
        "outcome": "returned",
    }
    assert correction.report["occurred_at"] == T3
    # the parcel is expected back: inventory opens a return on parcel_returned
    assert returned.event_type == "parcel_returned"
    assert parcel["status"] == "returned" and parcel["corrections"] == 1


def test_an_earlier_delivery_arriving_after_the_return_corrects_it_back():
    parcel, decisions = feed(
        report("picked_up", T1),
        report("failed", T2, "Alamat salah"),
        report("returned", T5),
        report("delivered", T4),
    )
    assert told(decisions[2]) == ["parcel_returned"]
    [correction] = decisions[3].announcements
    assert correction.detail["outcome"] == "delivered"
    assert parcel["status"] == "delivered"


def test_the_same_reports_in_any_order_end_in_the_same_state():
    reports = [
        report("picked_up", T1),
        report("failed", T2, "x"),
        report("returned", T4),
        report("delivered", T3),
        report("in_transit", T5),
    ]
    import itertools

    ends = {
        (p["status"], p["outcome"])
        for order in itertools.permutations(reports)
        for p in [feed(*order)[0]]
    }
    assert ends == {("delivered", "delivered")}


def test_at_the_same_instant_the_return_decides():
    parcel, _ = feed(report("delivered", T3), report("returned", T3))
    assert parcel["status"] == "returned"
    parcel, _ = feed(report("returned", T3), report("delivered", T3))
    assert parcel["status"] == "returned"


def test_a_buyers_return_after_delivery_is_its_own_step():
    parcel, decisions = feed(report("delivered", T3), report("returned_by_buyer", T5))
    assert told(decisions[1]) == ["parcel_returned_by_buyer"]
    assert parcel["status"] == "returned_by_buyer" and parcel["outcome"] == "delivered"


def test_a_buyers_return_needs_a_delivery_before_it():
    parcel, decisions = feed(report("returned_by_buyer", T3))
    assert decisions[0].late and parcel["status"] == "booked"
    # the delivery it follows arrives late: both are told, in their order
    parcel, decisions = feed(report("returned_by_buyer", T5), report("delivered", T3))
    assert told(decisions[1]) == ["parcel_delivered", "parcel_returned_by_buyer"]
    # a buyer's return stamped before the delivery, or after a return to sender, is history
    parcel, decisions = feed(report("delivered", T4), report("returned_by_buyer", T3))
    assert decisions[1].late
    parcel, decisions = feed(report("returned", T3), report("returned_by_buyer", T5))
    assert decisions[1].late and parcel["status"] == "returned"


def test_parcels_tracked_before_outcomes_were_kept_count_as_told():
    legacy = {"tracking": [report("delivered", T3)], "status": "delivered", "booked_at": T1}
    decision = domain.decide(legacy, report("delivered", T4))
    assert decision.late and decision.outcome == "delivered"
    decision = domain.decide(legacy, report("returned", T2))
    assert told(decision) == ["parcel_outcome_corrected", "parcel_returned"]
