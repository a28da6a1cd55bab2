"""Cursor pagination: every item once, in order, while items keep arriving; bad cursors refused."""

import itertools

import litemongo
import mongomock
import pytest

from gudang_common.embedded import open_client
from gudang_common.errors import ValidationFailed
from gudang_common.pagination import (
    ascending,
    check_limit,
    decode_cursor,
    encode_cursor,
    newest_first,
    page,
)
from tests.pages import walk

ORDER = newest_first("received_at")


@pytest.fixture(params=["mongomock", "litemongo", "embedded"])
def orders(request, tmp_path):
    if request.param == "mongomock":
        db = mongomock.MongoClient()["t"]
    elif request.param == "litemongo":  # no ordered index: the ordinary query
        db = litemongo.MongoClient(store=str(tmp_path))["t"]
    else:
        db = open_client(tmp_path)["t"]
    db.orders.create_index([("merchant_id", 1), *ORDER])
    return db.orders


def add(collection, n, at, merchant="mer_1"):
    collection.insert_one({"_id": f"ord_{n:05d}", "merchant_id": merchant, "received_at": at})


def test_a_walk_sees_every_item_once_in_order_while_new_ones_arrive(orders):
    # ties on the sort key: _id decides among items received in the same millisecond
    for n in range(47):
        add(orders, n, f"2026-11-01T00:00:{n // 3:02d}.000Z")
    add(orders, 999, "2026-11-01T00:00:05.000Z", merchant="mer_2")
    before = [f"ord_{n:05d}" for n in range(47)]
    newer = itertools.count(100)

    def arrive():  # newer orders land while the merchant reads, on every page
        for _ in range(3):
            add(orders, next(newer), "2026-11-02T00:00:00.000Z")

    seen = walk(orders, {"merchant_id": "mer_1"}, ORDER, 5, arrive)
    assert seen == sorted(before, key=lambda i: (int(i[4:]) // 3, i), reverse=True)


def test_an_ascending_list_with_three_keys_walks_once(orders):
    order = ascending("merchant_id", "received_at")
    for n in range(20):
        add(orders, n, f"2026-11-01T00:00:0{n % 4}.000Z", merchant=f"mer_{n % 3}")
    seen = walk(orders, {}, order, 3)
    expected = sorted(orders.find({}), key=lambda d: (d["merchant_id"], d["received_at"], d["_id"]))
    assert seen == [d["_id"] for d in expected]


def test_the_last_page_has_no_cursor(orders):
    for n in range(4):
        add(orders, n, f"2026-11-01T00:00:0{n}.000Z")
    docs, cursor = page(orders, {"merchant_id": "mer_1"}, ORDER, 4)
    assert len(docs) == 4 and cursor is None
    assert page(orders, {"merchant_id": "nobody"}, ORDER, 4) == ([], None)


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64!",
        "e30",  # {}
        encode_cursor(["2026-11-01T00:00:00.000Z"]),  # one key short
        encode_cursor(["2026-11-01T00:00:00.000Z", {"$gt": ""}]),  # an operator smuggled in
        encode_cursor([1.5, "ord_1"]),
        encode_cursor(["2026", None]),
        "A" * 600,
    ],
)
def test_a_cursor_that_is_not_ours_is_a_400_naming_cursor(cursor):
    with pytest.raises(ValidationFailed) as refused:
        decode_cursor(cursor, ORDER)
    assert list(refused.value.fields) == ["cursor"]


def test_a_cursor_round_trips_and_is_url_safe():
    cursor = encode_cursor(["2026-11-01T00:00:00.000Z", "ord_1/+?"])
    assert cursor.replace("-", "").replace("_", "").isalnum()
    assert decode_cursor(cursor, ORDER) == ["2026-11-01T00:00:00.000Z", "ord_1/+?"]
    assert decode_cursor(None, ORDER) is None


@pytest.mark.parametrize("limit", [0, 1001, True, "5", None])
def test_a_page_size_is_a_whole_number_in_range(limit):
    with pytest.raises(ValidationFailed) as refused:
        check_limit(limit, 1000)
    assert list(refused.value.fields) == ["limit"]
