"""The couriers Gudang hands parcels to: codes, names, COD support, AWB prefixes.

Shared because the gateway validates an order's courier at intake and shipping
books with it. Prices live in shipping (services/shipping/shipping/rates.py).
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


def same_area(origin_postal_code, postal_code):
    """Same-day couriers serve only the warehouse's own area: postal codes that share
    its first two digits (shipping prices this as the `local` zone)."""
    return str(postal_code)[:2] == str(origin_postal_code)[:2]
