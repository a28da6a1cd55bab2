"""The embedded store's ordered indexes: a page is read as one index range, gives exactly what
the ordinary query gives, and the index rows never part from their documents."""

import random
import sqlite3
from datetime import datetime

import litemongo
import mongomock
import pytest
from pymongo import ASCENDING

from gudang_common import embedded
from gudang_common.embedded import open_client
from gudang_common.pagination import ascending, newest_first, page, time_range
from tests.pages import walk

NEWEST = newest_first("at")
OLDEST = ascending("at")
OWNERS = ["mer_1", "mer_2", "mer_3"]
ACCOUNTS = ["wallet", "revenue", "cod"]


def declare(db):
    db.postings.create_index([("merchant_id", ASCENDING), *NEWEST])
    db.postings.create_index([("merchant_id", ASCENDING), ("lines.account", ASCENDING), *NEWEST])
    db.postings.create_index(OLDEST)


def posting(rng, n):
    return {
        "_id": f"pst_{n:05d}",
        "merchant_id": rng.choice(OWNERS),
        "at": f"2026-11-{rng.randint(1, 3):02d}T0{rng.randint(0, 2)}:00:00.000Z",
        "lines": [{"account": a, "amount": 1} for a in rng.sample(ACCOUNTS, rng.randint(1, 2))],
    }


QUERIES = [
    ({"merchant_id": "mer_1"}, NEWEST),
    ({"merchant_id": "mer_2", "lines.account": "cod"}, NEWEST),
    ({"merchant_id": "mer_3", "at": time_range(datetime(2026, 11, 2), None)}, NEWEST),
    ({"merchant_id": "mer_1", "lines.amount": 1, "at": {"$lt": "2026-11-03"}}, NEWEST),
    ({}, OLDEST),
]


@pytest.mark.parametrize("seed", range(4))
def test_pages_match_the_ordinary_query_through_inserts_updates_deletes_and_reopens(tmp_path, seed):
    rng = random.Random(seed)
    client = open_client(tmp_path)
    ours, reference = client["t"], mongomock.MongoClient()["t"]
    declare(ours)
    declare(reference)
    for n in range(300):
        op = rng.random()
        if op < 0.6 or n < 20:
            doc = posting(rng, n)
            for db in (ours, reference):
                db.postings.insert_one(dict(doc))
        elif op < 0.85:
            target = f"pst_{rng.randrange(n):05d}"
            change = {"$set": {"at": posting(rng, 0)["at"], "merchant_id": rng.choice(OWNERS)}}
            for db in (ours, reference):
                db.postings.update_one({"_id": target}, change)
        elif op < 0.95:
            target = f"pst_{rng.randrange(n):05d}"
            for db in (ours, reference):
                db.postings.delete_one({"_id": target})
        else:  # a restart on the same files
            client.close()
            client = open_client(tmp_path)
            ours = client["t"]
    for query, order in QUERIES:
        for limit in (1, 7, 50):
            expected = walk(reference.postings, query, order, limit)
            assert walk(ours.postings, query, order, limit) == expected, (query, limit)
            assert expected


def test_a_page_reads_a_page_of_documents_however_long_the_list(tmp_path, monkeypatch):
    db = open_client(tmp_path)["t"]
    declare(db)
    db.postings.insert_many(
        {"_id": f"pst_{n:05d}", "merchant_id": "mer_1", "at": f"2026-{n:08d}"} for n in range(5000)
    )
    read = []
    by_key = embedded.CollectionStore.documents_by_key
    monkeypatch.setattr(
        embedded.CollectionStore,
        "documents_by_key",
        lambda self, keys: read.extend(keys) or by_key(self, keys),
    )
    docs, cursor = page(db.postings, {"merchant_id": "mer_1"}, NEWEST, 20)
    assert [d["_id"] for d in docs] == [f"pst_{n:05d}" for n in range(4999, 4979, -1)]
    deeper, _ = page(db.postings, {"merchant_id": "mer_1"}, NEWEST, 20, cursor)
    assert deeper[0]["_id"] == "pst_04979"
    assert len(read) == 2 * 21  # a page and the one item that says there is more


def test_index_rows_written_without_them_are_rebuilt_when_the_file_is_opened(tmp_path):
    db = open_client(tmp_path)["t"]
    declare(db)
    db.postings.insert_one({"_id": "pst_1", "merchant_id": "mer_1", "at": "2026-11-01"})
    # a writer that does not keep the ordered rows (litemongo alone)
    plain = litemongo.MongoClient(store=str(tmp_path))["t"]
    plain.postings.insert_one({"_id": "pst_2", "merchant_id": "mer_1", "at": "2026-11-02"})
    reopened = open_client(tmp_path)["t"]
    docs, _ = page(reopened.postings, {"merchant_id": "mer_1"}, NEWEST, 10)
    assert [d["_id"] for d in docs] == ["pst_2", "pst_1"]


def test_a_value_the_index_cannot_hold_hands_the_list_to_the_ordinary_query(tmp_path):
    db = open_client(tmp_path)["t"]
    declare(db)
    db.postings.insert_one({"_id": "pst_1", "merchant_id": "mer_1", "at": "2026-11-01"})
    db.postings.insert_one({"_id": "pst_2", "merchant_id": "mer_1", "at": datetime(2026, 11, 2)})
    docs, _ = page(db.postings, {"merchant_id": "mer_1"}, NEWEST, 10)
    assert [d["_id"] for d in docs] == ["pst_2", "pst_1"]  # MongoDB's order: dates after strings
    store = db.postings._store
    assert store.serving({"merchant_id": "mer_1"}, NEWEST) is None
    reopened = open_client(tmp_path)["t"]
    assert reopened.postings._store.serving({"merchant_id": "mer_1"}, NEWEST) is None
    docs, _ = page(reopened.postings, {"merchant_id": "mer_1"}, NEWEST, 10)
    assert [d["_id"] for d in docs] == ["pst_2", "pst_1"]


def test_a_document_and_its_index_rows_are_written_together_or_not_at_all(tmp_path, monkeypatch):
    db = open_client(tmp_path)["t"]
    declare(db)
    db.postings.insert_one({"_id": "pst_1", "merchant_id": "mer_1", "at": "2026-11-01"})

    def disk_full(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(embedded.OrderedIndex, "put", disk_full)
    with pytest.raises(sqlite3.OperationalError):
        db.postings.insert_one({"_id": "pst_2", "merchant_id": "mer_1", "at": "2026-11-02"})
    with pytest.raises(sqlite3.OperationalError):
        db.postings.update_one({"_id": "pst_1"}, {"$set": {"at": "2026-12-01"}})
    monkeypatch.undo()
    reopened = open_client(tmp_path)["t"]
    assert [d["_id"] for d in reopened.postings.find()] == ["pst_1"]
    assert reopened.postings.find_one({"_id": "pst_1"})["at"] == "2026-11-01"
    docs, _ = page(reopened.postings, {"merchant_id": "mer_1"}, NEWEST, 10)
    assert [(d["_id"], d["at"]) for d in docs] == [("pst_1", "2026-11-01")]
