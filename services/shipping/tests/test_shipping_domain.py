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


def test_advance_moves_forward():
    assert domain.advance("booked", T1, "dispatched", T2) == ("dispatched", T2)
    assert domain.advance("dispatched", T1, "delivered", T2) == ("delivered", T2)


def test_advance_never_goes_back_from_a_later_stage():
    assert domain.advance("delivered", T3, "in_transit", T2) == ("delivered", T3)
    # even when the stale report claims a later time
    assert domain.advance("delivered", T2, "in_transit", T3) == ("delivered", T2)
    assert domain.advance("in_transit", T2, "dispatched", T3) == ("in_transit", T2)


def test_advance_within_a_stage_follows_the_later_report():
    assert domain.advance("delivery_failed", T2, "in_transit", T3) == ("in_transit", T3)
    assert domain.advance("in_transit", T3, "delivery_failed", T2) == ("in_transit", T3)


def test_first_final_status_stays():
    assert domain.advance("delivered", T2, "returned", T3) == ("delivered", T2)
    assert domain.advance("delivery_failed", T2, "returned", T3) == ("returned", T3)


def test_a_repeated_final_report_is_not_announced_again():
    delivered = [{"parcel_status": "delivered"}]
    assert domain.announces([], "delivered")
    assert not domain.announces(delivered, "delivered")
    assert domain.announces(delivered, "in_transit")
    assert domain.announces([{"parcel_status": "in_transit"}], "in_transit")
