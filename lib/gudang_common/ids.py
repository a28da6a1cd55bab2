"""Record ids: a short type prefix and 80 random bits, e.g. `ord_3f9c…`."""

import uuid


def new_id(prefix):
    return f"{prefix}_{uuid.uuid4().hex[:20]}"
