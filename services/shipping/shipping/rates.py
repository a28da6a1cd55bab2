"""Courier tariffs: rupiah per chargeable kilo, per courier and delivery zone.

A courier missing a zone does not deliver there (the same-day couriers serve only
the warehouse's own area). Indicative published rates from a Jakarta Timur
warehouse; the contract prices replace them here.
"""

RATES = {
    "jne": {"local": 9000, "java": 11000, "outer": 24000},
    "jnt": {"local": 9000, "java": 11500, "outer": 25000},
    "sicepat": {"local": 8000, "java": 10000, "outer": 22000},
    "anteraja": {"local": 8000, "java": 10500, "outer": 23000},
    "ninja": {"local": 8500, "java": 10500, "outer": 23500},
    "pos": {"local": 7500, "java": 10000, "outer": 21000},
    "idexpress": {"local": 7000, "java": 9500, "outer": 21500},
    "gosend": {"local": 20000},
    "grabexpress": {"local": 19000},
}


def per_kg(courier, zone):
    """Rupiah per kilo for `courier` into `zone`, or None when it does not deliver there."""
    return RATES.get(courier, {}).get(zone)
