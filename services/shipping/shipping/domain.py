"""Shipping rules, pure: chargeable weight, delivery zones, cost, and the parcel's state
machine over its courier reports."""

from dataclasses import dataclass, field

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

# courier webhook status -> the parcel status it reports
COURIER_STATUSES = {
    "picked_up": "dispatched",
    "in_transit": "in_transit",
    "failed": "delivery_failed",
    "delivered": "delivered",
    "returned": "returned",
    # the buyer sent a delivered parcel back: its own flow, never a silent flip of delivered
    "returned_by_buyer": "returned_by_buyer",
}

# the event that announces a step to each parcel status
EVENT_OF = {
    "dispatched": "parcel_dispatched",
    "in_transit": "parcel_in_transit",
    "delivery_failed": "parcel_delivery_failed",
    "delivered": "parcel_delivered",
    "returned": "parcel_returned",
    "returned_by_buyer": "parcel_returned_by_buyer",
}

# How far along a parcel is. A failed attempt and the next leg alternate (same stage);
# delivered and returned are final; only a delivered parcel can come back from the buyer.
STAGE = {
    "booked": 0,
    "dispatched": 1,
    "in_transit": 2,
    "delivery_failed": 2,
    "delivered": 3,
    "returned": 3,
    "returned_by_buyer": 4,
}
FINAL = ("delivered", "returned", "returned_by_buyer")

# What a final status means for money: COD is the merchant's only when the outcome is delivered
# (a buyer's return comes after a real delivery, whose cash was collected).
OUTCOME_OF = {"delivered": "delivered", "returned_by_buyer": "delivered", "returned": "returned"}

# events about a parcel's end that are published at most once, whatever reports follow
TOLD_ONCE = ("parcel_delivered", "parcel_returned", "parcel_returned_by_buyer")

# Two reports stamped at the same instant are taken in this order, so the outcome does not
# depend on which arrived first; of two final ones the return decides (it moves no money).
SAME_INSTANT_ORDER = (
    "dispatched",
    "in_transit",
    "delivery_failed",
    "returned",
    "delivered",
    "returned_by_buyer",
)
_SAME_INSTANT = {status: rank for rank, status in enumerate(SAME_INSTANT_ORDER)}


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


# --- the parcel's state machine -------------------------------------------------------


@dataclass(frozen=True)
class Announcement:
    """An event a courier report makes shipping publish, and the report it is about."""

    event_type: str
    report: dict
    detail: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    """A parcel after one more courier report: its status, its outcome as told, what to publish."""

    status: str
    status_at: str
    outcome: str | None  # the outcome the world was told: delivered, returned, or None yet
    corrections: int  # how often a told outcome was corrected
    told: tuple  # the outcome events published so far (never published twice)
    announcements: tuple

    @property
    def late(self):
        """True when the report is only kept in the history: nothing is published for it."""
        return not self.announcements


def in_time(report):
    return (parse_iso(report["occurred_at"]), _SAME_INSTANT[report["parcel_status"]])


def _moves(status, reported):
    """Whether a report of `reported`, next in time, takes a parcel on from `status`."""
    if status == "delivered":
        return reported == "returned_by_buyer"
    if status in FINAL or reported == "returned_by_buyer":
        return False
    # the same stage again is another scan or attempt; an earlier stage is stale
    return STAGE[reported] >= STAGE[status]


def walk(reports):
    """The steps a parcel took: its reports in time order, each kept if it moves the parcel on.

    A function of the set of reports, whatever order they arrived in: the earliest final
    report decides delivered or returned, and a report after a final one is not a step
    (except a buyer's return after delivery). Returns (status, steps).
    """
    status, steps = "booked", []
    for report in sorted(reports, key=in_time):
        if _moves(status, report["parcel_status"]):
            status = report["parcel_status"]
            steps.append(report)
    return status, steps


def decide(parcel, report):
    """What one new courier report does to a parcel (pure; `report` is not recorded yet).

    `parcel` holds `tracking` (the reports so far, each with `key`, `parcel_status`,
    `occurred_at`) and what was told: `outcome`, `corrections`, `told`. Rules:

    - the status is `walk` of every report, so arrival order does not matter;
    - a report is announced as a new step only when it is newer than every step so far
      and not final; a late or stale one is kept in the history and announces nothing;
    - the outcome (delivered or returned) is announced once, by its deciding report; when a
      later-arriving, earlier-stamped final report changes it, `parcel_outcome_corrected`
      says so (billing reverses or credits COD on it, never edits), and a correction to
      returned also announces `parcel_returned` if it never was (the parcel is expected back);
    - a buyer's return after delivery is announced once, as `parcel_returned_by_buyer`.
    """
    recorded = list(parcel["tracking"])
    _, before = walk(recorded)
    status, steps = walk(recorded + [report])
    told, outcome = _told(parcel)
    out = _step_announced(report, status, steps, before)
    outcome, corrections, ending = _end_announced(
        status, steps, outcome, parcel.get("corrections", 0), told
    )
    out += ending

    told += [a.event_type for a in out if a.event_type in TOLD_ONCE]
    return Decision(
        status=status,
        status_at=steps[-1]["occurred_at"] if steps else parcel.get("booked_at"),
        outcome=outcome,
        corrections=corrections,
        told=tuple(told),
        announcements=tuple(out),
    )


def _step_announced(report, status, steps, before):
    """The report's own step, when it is newer than every step so far and not final."""
    forward = bool(steps) and steps[-1]["key"] == report["key"] and steps[:-1] == before
    if forward and status not in FINAL:
        return [Announcement(EVENT_OF[status], report)]
    return []


def _end_announced(status, steps, outcome, corrections, told):
    """What the parcel's end announces: the outcome once, a correction when it changes the
    outcome told, a buyer's return once. Returns (outcome, corrections, announcements)."""
    out = []
    decided = OUTCOME_OF.get(status)
    if decided is not None and decided != outcome:
        decider = next(s for s in steps if s["parcel_status"] in ("delivered", "returned"))
        if outcome is None:
            out.append(Announcement(EVENT_OF[decider["parcel_status"]], decider))
        else:
            corrections += 1
            detail = {"correction": corrections, "previous_outcome": outcome, "outcome": decided}
            out.append(Announcement("parcel_outcome_corrected", decider, detail))
            if decided == "returned" and "parcel_returned" not in told:
                out.append(Announcement("parcel_returned", decider))
        outcome = decided
    if status == "returned_by_buyer" and "parcel_returned_by_buyer" not in told:
        out.append(Announcement("parcel_returned_by_buyer", steps[-1]))
    return outcome, corrections, out


def _told(parcel):
    """(outcome events told, outcome told); parcels tracked before outcomes were kept
    told the first report of each final status they saw."""
    if "outcome" in parcel:
        return list(parcel.get("told", ())), parcel["outcome"]
    told = []
    for entry in parcel["tracking"]:
        event_type = EVENT_OF[entry["parcel_status"]]
        if event_type in TOLD_ONCE and event_type not in told:
            told.append(event_type)
    return told, OUTCOME_OF.get(parcel.get("status"))
