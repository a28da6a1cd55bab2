"""The couriers Gudang hands parcels to, and the one rule of who may carry what where.

Shared because the gateway refuses an impossible courier at intake and shipping
books with it: both call `courier_problem`. Prices live in shipping
(services/shipping/shipping/rates.py).
"""

COURIERS = {
    "jne": {"name": "JNE", "cod": True, "awb_prefix": "JN", "same_day": False},
    "jnt": {"name": "J&T Express", "cod": True, "awb_prefix": "JT", "same_day": False},
    "sicepat": {"name": "SiCepat", "cod": True, "awb_prefix": "SC", "same_day": False},
    "anteraja": {"name": "AnterAja", "cod": True, "awb_prefix": "AA", "same_day": False},
    "ninja": {"name": "Ninja Xpress", "cod": True, "awb_prefix": "NX", "same_day": False},
    "pos": {"name": "Pos Indonesia", "cod": False, "awb_prefix": "PO", "same_day": False},
    "idexpress": {"name": "ID Express", "cod": True, "awb_prefix": "ID", "same_day": False},
    "gosend": {"name": "GoSend Same Day", "cod": False, "awb_prefix": "GS", "same_day": True},
    "grabexpress": {
        "name": "GrabExpress Same Day",
        "cod": False,
        "awb_prefix": "GE",
        "same_day": True,
    },
}

DEFAULT_COURIER = "jne"
DEFAULT_ORIGIN_POSTAL_CODE = "13930"  # Jakarta Timur


def origin_postal_code(config):
    """The warehouse's postal code from nameko config (ORIGIN_POSTAL_CODE), five digits."""
    # YAML may have read the code as a number; a leading zero is part of it
    code = str(config.get("ORIGIN_POSTAL_CODE") or DEFAULT_ORIGIN_POSTAL_CODE).zfill(5)
    if len(code) != 5 or not code.isdigit():
        raise ValueError(f"ORIGIN_POSTAL_CODE must be five digits, not {code!r}")
    return code


def same_area(origin_postal_code, postal_code):
    """Same-day couriers serve only the warehouse's own area: postal codes that share
    its first two digits (shipping prices this as the `local` zone)."""
    return str(postal_code)[:2] == str(origin_postal_code)[:2]


def courier_problem(courier, postal_code, cod_amount, origin):
    """(field, message) naming why `courier` cannot carry this parcel, or None if it can."""
    info = COURIERS.get(courier)
    if info is None:
        return "courier", "Unknown courier."
    if info["same_day"] and not same_area(origin, postal_code):
        return "courier", (
            f"{info['name']} delivers only within the warehouse's area "
            f"(postal codes {origin[:2]}xxx); choose another courier."
        )
    if cod_amount and not info["cod"]:
        return "cod_amount", f"{info['name']} does not collect cash on delivery."
    return None
