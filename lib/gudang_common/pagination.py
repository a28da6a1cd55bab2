"""Cursor pagination, one rule for every list (the gateway's and the services' behind RPC).

A list is read newest first (or in another fixed order) by a sort key that an index serves
together with the list's filter, with `_id` as the last key so that no two items tie. A page
is `limit` items; its cursor is the sort key of its last item, opaque to the client
(base64url of JSON). The next page is keyset pagination: the items that sort after that key,
so an item inserted meanwhile never shifts an item from one page into the next (no skip, no
count), and each page costs one index range read however long the list is: on MongoDB by
its index, on the embedded store by the ordered copy of that index (`embedded`).

    docs, next_cursor = page(db.orders, {"merchant_id": m}, ORDER, limit, cursor)

`next_cursor` is None on the last page. A cursor that is not one of ours is a 400 naming
`cursor`.
"""

import base64
import binascii
import json

from pymongo import ASCENDING, DESCENDING

from .clock import iso
from .embedded import find_ordered
from .errors import ValidationFailed

MAX_CURSOR_LENGTH = 512


def newest_first(*fields):
    """The sort of a newest-first list by `fields`, `_id` breaking ties."""
    return [(f, DESCENDING) for f in fields] + [("_id", DESCENDING)]


def ascending(*fields):
    """The sort of a list in ascending `fields` (oldest first, or by code), `_id` last."""
    return [(f, ASCENDING) for f in fields] + [("_id", ASCENDING)]


def index_keys(equal, order):
    """The keys of the index a list filtered by equality on `equal` and sorted by `order` needs
    (after the owner's key): the filter first, then the sort, in the sort's directions."""
    return [(f, ASCENDING) for f in equal] + list(order)


def time_range(since=None, until=None):
    """A `$gte`/`$lt` condition on an ISO UTC time field from aware datetimes (either None)."""
    condition = {}
    if since:
        condition["$gte"] = iso(since)
    if until:
        condition["$lt"] = iso(until)
    return condition


def encode_cursor(values):
    raw = json.dumps(list(values), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _bad_cursor():
    return ValidationFailed(
        "invalid cursor", {"cursor": ["Not a cursor of this list: pass next_cursor as given."]}
    )


def decode_cursor(cursor, order):
    """The sort key a cursor holds, checked against the list's `order`; None for no cursor."""
    if cursor is None or cursor == "":
        return None
    if not isinstance(cursor, str) or len(cursor) > MAX_CURSOR_LENGTH:
        raise _bad_cursor()
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise _bad_cursor() from None
    if not isinstance(values, list) or len(values) != len(order):
        raise _bad_cursor()
    if any(v is not None and not isinstance(v, (str, int)) for v in values):
        raise _bad_cursor()
    if isinstance(values[-1], bool) or values[-1] is None:
        raise _bad_cursor()
    return values


def after(order, values):
    """The filter of the items that sort after `values` in `order` (keyset)."""
    branches = []
    for i, (field, direction) in enumerate(order):
        branch = {f: values[j] for j, (f, _) in enumerate(order[:i])}
        branch[field] = {"$lt" if direction == DESCENDING else "$gt": values[i]}
        branches.append(branch)
    return {"$or": branches}


def sort_key(doc, order):
    return [_get(doc, field) for field, _ in order]


def _get(doc, path):
    for part in path.split("."):
        doc = doc.get(part) if isinstance(doc, dict) else None
    return doc


def page(collection, query, order, limit, cursor=None, projection=None):
    """(up to `limit` documents matching `query` in `order` after `cursor`, next cursor)."""
    values = decode_cursor(cursor, order)
    docs = find_ordered(collection, query, order, values, limit + 1, projection)
    if docs is None:  # MongoDB (whose index serves this query), or no ordered index
        if values is not None:
            query = {"$and": [query, after(order, values)]}
        docs = list(collection.find(query, projection).sort(order).limit(limit + 1))
    more = len(docs) > limit
    docs = docs[:limit]
    return docs, (encode_cursor(sort_key(docs[-1], order)) if more and docs else None)


def each(collection, query, order, batch=500):
    """Every document matching `query` in `order`, read a page at a time: a sum over a
    range (a period's postings) that an index serves, on either store."""
    cursor = None
    while True:
        docs, cursor = page(collection, query, order, batch, cursor)
        yield from docs
        if cursor is None:
            return


def check_limit(limit, most, field="limit"):
    """A page size from a caller: a whole number 1 to `most` (400 naming `field`)."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= most:
        raise ValidationFailed(f"invalid {field}", {field: [f"A whole number 1 to {most}."]})
    return limit


def serving_index(index_information, equal, order):
    """The name of the index that serves a list filtered by equality on `equal` (in any
    order) and sorted by `order`: its keys are those fields, then the sort; else None."""
    for name, spec in index_information.items():
        keys = [tuple(k) for k in spec["key"]]
        head, tail = keys[: len(equal)], keys[len(equal) :]
        if {f for f, _ in head} == set(equal) and tail == [tuple(k) for k in order]:
            return name
    return None
