"""Shipping rules, pure: chargeable weight, delivery zones, cost, and how tracking advances."""

from gudang_common.couriers import courier_problem, same_area
from gudang_common.events import parse_iso

from . import rates

# Weights are counted in sixths of a gram: volumetric grams are cm³ × 1000 / 6000 = cm³ / 6,
# so in this unit both weights are exact integers and no float touches the rounding.
UNITS_PER_GRAM = 6
UNITS_PER_KG = 1000 * UNITS_PER_GRAM
TOLERANCE_UNITS = 300 * UNITS_PER_GRAM  # couriers forgive up to 0.3 kg past a whole kilo

JAVA_BALI_FIRST_DIGITS = "1456"  # Jakarta/Banten/West Java, West Java, Central Java/DIY, East Java
BALI_PREFIXES = ("80", "81", "82")

# courier webhook status -> (parcel status, event it announces)
COURIER_STATUSES = {
    "picked_up": ("dispatched", "parcel_dispatched"),
    "in_transit": ("in_transit", "parcel_in_transit"),
    "delivered": ("delivered", "parcel_delivered"),
    "failed": ("delivery_failed", "parcel_delivery_failed"),
    "returned": ("returned", "parcel_returned"),
}

# How far along a parcel is. A failed attempt and the next leg alternate (same stage);
# delivered and returned are final.
STAGE = {
    "booked": 0,
    "dispatched": 1,
    "in_transit": 2,
    "delivery_failed": 2,
    "delivered": 3,
    "returned": 3,
}
FINAL_STAGE = 3


class BookingRefused(Exception):
    """The parcel cannot be booked as asked; `field` names the input to change."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field = field
        self.message = message


def volumetric_weight_g(length_cm, width_cm, height_cm):
    """Volumetric weight in grams (L×W×H / 6000 kg), rounded down to the gram."""
    return length_cm * width_cm * height_cm // UNITS_PER_GRAM


def chargeable_weight_g(weight_g, length_cm, width_cm, height_cm):
    """What the courier bills: the heavier of actual and volumetric weight, in whole kilos.

    A fraction of up to 0.3 kg past a kilo is dropped, more rounds up (1.3 kg -> 1,
    1.31 kg -> 2); never less than 1 kg. Returned in grams.
    """
    actual = weight_g * UNITS_PER_GRAM
    volumetric = length_cm * width_cm * height_cm
    kilos, rest = divmod(max(actual, volumetric), UNITS_PER_KG)
    if rest > TOLERANCE_UNITS:
        kilos += 1
    return max(kilos, 1) * 1000


def zone(origin_postal_code, postal_code):
    """`local` (same first two digits as the warehouse), `java` (Java and Bali), else `outer`.

    Indonesian postal codes start with 1 (Jakarta, Banten, Bogor, Bekasi), 4 (West Java,
    Banten), 5 (Central Java, Yogyakarta), 6 (East Java); Bali is 80-82. Sumatra (2, 3),
    Kalimantan (7), Nusa Tenggara (83-87), Sulawesi, Maluku and Papua (9) are `outer`.
    """
    if same_area(origin_postal_code, postal_code):
        return "local"
    if postal_code[0] in JAVA_BALI_FIRST_DIGITS or postal_code[:2] in BALI_PREFIXES:
        return "java"
    return "outer"


def shipping_cost(per_kg, chargeable_g):
    return per_kg * chargeable_g // 1000


def quote(courier, package, postal_code, origin_postal_code, cod_amount=0):
    """Price a parcel, or raise BookingRefused naming what makes it impossible."""
    problem = courier_problem(courier, postal_code, cod_amount, origin_postal_code)
    if problem:
        raise BookingRefused(*problem)
    where = zone(origin_postal_code, postal_code)
    per_kg = rates.per_kg(courier, where)
    weight = chargeable_weight_g(
        package["weight_g"], package["length_cm"], package["width_cm"], package["height_cm"]
    )
    return {
        "courier": courier,
        "zone": where,
        "chargeable_weight_g": weight,
        "per_kg": per_kg,
        "shipping_cost": shipping_cost(per_kg, weight),
    }


def advance(status, status_at, reported, reported_at):
    """The parcel's status after a courier reports `reported` (a parcel status) at `reported_at`.

    The furthest stage wins, so a late in_transit never undoes delivered; within one
    unfinished stage the later report wins. Returns (status, status_at).
    """
    ahead = STAGE[reported] - STAGE[status]
    if ahead > 0:
        return reported, reported_at
    if ahead == 0 and STAGE[status] < FINAL_STAGE and parse_iso(reported_at) > parse_iso(status_at):
        return reported, reported_at
    return status, status_at


def announces(tracking, parcel_status):
    """Whether a new report of `parcel_status` is published as an event.

    Every report is a fact worth a timeline entry, except a repeated final one: a
    second `delivered` (with another time) must not collect COD twice downstream.
    """
    if STAGE[parcel_status] < FINAL_STAGE:
        return True
    return all(entry["parcel_status"] != parcel_status for entry in tracking)
