"""The box catalog's rules, pure: which cartons the station offers and the smallest that fits.

The fit rule (the suggestion; the packer may always take a bigger box):
1. every unit fits the box on its own, turned any way: its sides sorted from longest to
   shortest are each at most the box's inner sides sorted the same way;
2. the units together take no more room than the box holds: the sum of the units' volumes
   is at most the box's inner volume.
Of the boxes that fit, the smallest inner volume wins (then the lighter, then the code).
A unit whose SKU has no recorded size counts as fitting anywhere and taking no room.
The volume rule is optimistic for awkward mixes (long thin items with bulky ones); it never
suggests a box too small for any single unit.
"""

BOX_CODE = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$"
SIDES = ("length_cm", "width_cm", "height_cm")

# The cartons a new warehouse starts with: the usual Indonesian e-commerce sizes. Ops
# change, add or retire them through the box routes; the fee is in rupiah per box.
DEFAULT_BOXES = (
    {"code": "BOX-S", "length_cm": 20, "width_cm": 15, "height_cm": 10, "weight_g": 80},
    {"code": "BOX-M", "length_cm": 30, "width_cm": 25, "height_cm": 15, "weight_g": 150},
    {"code": "BOX-L", "length_cm": 40, "width_cm": 30, "height_cm": 25, "weight_g": 250},
    {"code": "BOX-XL", "length_cm": 60, "width_cm": 40, "height_cm": 40, "weight_g": 450},
)
DEFAULT_FEES = {"BOX-S": 1500, "BOX-M": 2500, "BOX-L": 3500, "BOX-XL": 5000}


def default_boxes():
    return [
        dict(box, packaging_fee=DEFAULT_FEES[box["code"]], active=True) for box in DEFAULT_BOXES
    ]


def sides(thing):
    """The three sides, longest first, or None when a size is missing."""
    values = [thing.get(side) for side in SIDES]
    if any(not isinstance(v, int) or v <= 0 for v in values):
        return None
    return sorted(values, reverse=True)


def volume(thing):
    s = sides(thing)
    return s[0] * s[1] * s[2] if s else 0


def fits(box, units):
    """Rule 1 and 2 above: `units` is one size per unit (a SKU of qty 3 appears 3 times)."""
    inner = sides(box)
    for unit in units:
        own = sides(unit)
        if own and any(u > b for u, b in zip(own, inner)):
            return False
    return sum(volume(unit) for unit in units) <= volume(box)


def smallest_fitting(boxes, units):
    """The code of the smallest active box the units fit in, or None when none does."""
    fitting = [b for b in boxes if b.get("active", True) and fits(b, units)]
    if not fitting:
        return None
    return min(fitting, key=lambda b: (volume(b), b["weight_g"], b["code"]))["code"]


def box_view(doc):
    return {
        "code": doc["code"],
        "length_cm": doc["length_cm"],
        "width_cm": doc["width_cm"],
        "height_cm": doc["height_cm"],
        "weight_g": doc["weight_g"],
        "packaging_fee": doc["packaging_fee"],
        "active": doc.get("active", True),
    }
