"""Benchmark: the embedded document stores, per operation, against SQLite alone as the floor.

    make bench     (or: .venv/bin/python -m scripts.bench_store --sizes 1000,100000)

For each store and size, a collection of stock-like documents is built with insert_many (not
timed) and given an index on `merchant_sku`; then three operations are timed one call at a
time, as the services make them: an indexed find_one, a reservation (find_one_and_update with
a condition, `on_hand >= 1`, decrementing it, as inventory reserves) and an insert_one. Each
operation runs `--ops` times or for `--budget` seconds, whichever ends first, on random keys,
after the store has been closed and opened again (a service restarting on its data) and one
first find, timed apart: a store may rebuild in-memory state then.

The floor is the sqlite3 module doing the same work by hand: JSON documents in a table with an
expression index, an UPDATE ... RETURNING for the reservation, the same WAL journal and
synchronous=NORMAL as litemongo, JSON encoding and decoding included.
"""

import argparse
import json
import random
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

from pymongo import ReturnDocument

INSERT_CHUNK = 1000


def stock_doc(i):
    return {
        "_id": f"stk_{i:08d}",
        "merchant_id": f"mrc_{i % 100:04d}",
        "sku": f"SKU-{i:08d}",
        "merchant_sku": f"mrc_{i % 100:04d}:SKU-{i:08d}",
        "bin": f"A-{i % 50:02d}-01-1-01",
        "name": f"Batik tulis motif {i}",
        "on_hand": 1_000_000,
        "reserved": 0,
        "weight_g": 300,
        "updated_at": "2026-11-24T05:00:00.000Z",
    }


# --- the stores -------------------------------------------------------------------------------


class PymongoLike:
    """A store with pymongo's API; `reserve_with` names the call used for the reservation."""

    reserve_with = "find_one_and_update"

    def __init__(self, client, close=None):
        self.client = client
        self.coll = client["bench"]["stock"]
        self._close = close

    def build(self, docs):
        self.coll.insert_many(docs)

    def index(self):
        self.coll.create_index("merchant_sku")

    def find(self, key):
        return self.coll.find_one({"merchant_sku": key})

    def reserve(self, key):
        return self.coll.find_one_and_update(
            {"merchant_sku": key, "on_hand": {"$gte": 1}},
            {"$inc": {"on_hand": -1, "reserved": 1}},
            return_document=ReturnDocument.AFTER,
        )

    def insert(self, doc):
        self.coll.insert_one(doc)

    def close(self):
        (self._close or self.client.close)()


class UpdateOneOnly(PymongoLike):
    """mongita has no find_one_and_update: the conditional update_one is the nearest."""

    reserve_with = "update_one"

    def reserve(self, key):
        return self.coll.update_one(
            {"merchant_sku": key, "on_hand": {"$gte": 1}}, {"$inc": {"on_hand": -1, "reserved": 1}}
        )


class SqliteFloor:
    """What any store over SQLite has to do at least."""

    reserve_with = "UPDATE ... RETURNING"

    def __init__(self, path):
        self.db = sqlite3.connect(path / "floor.sqlite", isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS stock (id TEXT PRIMARY KEY, doc TEXT NOT NULL)")

    def build(self, docs):
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany(
                "INSERT INTO stock VALUES (?, ?)", [(d["_id"], json.dumps(d)) for d in docs]
            )

    def index(self):
        self.db.execute(
            "CREATE INDEX IF NOT EXISTS stock_merchant_sku ON stock (json_extract(doc, '$.merchant_sku'))"
        )

    def find(self, key):
        row = self.db.execute(
            "SELECT doc FROM stock WHERE json_extract(doc, '$.merchant_sku') = ? LIMIT 1", (key,)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def reserve(self, key):
        row = self.db.execute(
            "UPDATE stock SET doc = json_set(doc,"
            " '$.on_hand', json_extract(doc, '$.on_hand') - 1,"
            " '$.reserved', json_extract(doc, '$.reserved') + 1)"
            " WHERE json_extract(doc, '$.merchant_sku') = ? AND json_extract(doc, '$.on_hand') >= 1"
            " RETURNING doc",
            (key,),
        ).fetchone()
        return json.loads(row[0]) if row else None

    def insert(self, doc):
        self.db.execute("INSERT INTO stock VALUES (?, ?)", (doc["_id"], json.dumps(doc)))

    def close(self):
        self.db.close()


def open_litemongo(path):
    import litemongo

    return PymongoLike(litemongo.MongoClient(store=str(path)))


def open_mongomock(path):
    import mongomock

    return PymongoLike(mongomock.MongoClient())


def montydb_opener(storage, **config):
    def open_montydb(path):
        from montydb import MontyClient, set_storage

        if not (path / "monty.storage.cfg").exists():
            set_storage(str(path), storage=storage, **config)
        return PymongoLike(MontyClient(str(path)))

    return open_montydb


def open_tinymongo(path):
    from tinymongo import TinyMongoClient

    client = TinyMongoClient(str(path))
    return PymongoLike(client, close=lambda: None)


def open_mongita(path):
    from mongita import MongitaClientDisk

    return UpdateOneOnly(MongitaClientDisk(str(path)))


# stores that keep nothing on disk cannot be reopened to time the first query after a restart
IN_MEMORY = {"mongomock (memory)"}

STORES = {
    "sqlite3 (floor)": lambda path: SqliteFloor(path),
    "litemongo 0.2.0 (sqlite)": open_litemongo,
    "mongomock (memory)": open_mongomock,
    "montydb (sqlite)": montydb_opener("sqlite"),
    "montydb (flatfile)": montydb_opener("flatfile"),
    # LMDB's default map (10 MiB) cannot hold 100,000 documents
    "montydb (lightning, LMDB)": montydb_opener("lightning", map_size=str(2**31)),
    "tinymongo (TinyDB JSON file)": open_tinymongo,
    "mongita (disk)": open_mongita,
}


# --- measuring --------------------------------------------------------------------------------


def timed(fn, args_list, budget):
    """Mean seconds per call over `args_list`, stopping early once `budget` seconds are spent."""
    spent, calls = 0.0, 0
    for arg in args_list:
        started = time.perf_counter()
        fn(arg)
        spent += time.perf_counter() - started
        calls += 1
        if spent >= budget:
            break
    return spent / calls, calls


def measure(name, opener, size, ops, budget, build_budget, seed=7):
    """{op: (microseconds, calls)} for one store at one size, or {"error": text}."""
    path = Path(tempfile.mkdtemp(prefix="gudang-bench-store-"))
    rng = random.Random(seed)
    store = None
    try:
        store = opener(path)
        store.index()  # before the data, as the services create theirs at start
        started = time.perf_counter()
        for first in range(0, size, INSERT_CHUNK):
            store.build([stock_doc(i) for i in range(first, min(size, first + INSERT_CHUNK))])
            if time.perf_counter() - started > build_budget:
                return {"error": f"building {size:,} documents took over {build_budget:g} s"}
        result = {"build_s": time.perf_counter() - started}
        keys = [stock_doc(rng.randrange(size))["merchant_sku"] for _ in range(ops)]
        if name not in IN_MEMORY:
            # as a service restarting on its data: a store may rebuild in-memory state first
            store.close()
            store = opener(path)
            result["first_find"] = timed(store.find, keys[-1:], budget)
        else:
            store.find(keys[-1])
        result["find"] = timed(store.find, keys, budget)
        result["reserve"] = timed(store.reserve, keys, budget)
        new_docs = [stock_doc(size + i) for i in range(ops)]
        result["insert"] = timed(store.insert, new_docs, budget)
        found = store.find(keys[0])
        if found is None or found["on_hand"] >= 1_000_000:
            return {"error": "the reservation did not change the document"}
        result["reserve_with"] = store.reserve_with
        return result
    except Exception as exc:  # a store that does not run here is reported, not fatal
        return {"error": f"{type(exc).__name__}: {exc}"[:200]}
    finally:
        if store is not None:
            try:
                store.close()
            except Exception:
                pass
        shutil.rmtree(path, ignore_errors=True)


def report(results, sizes, names):
    out = [
        "| store | documents | find_one (indexed) | reservation (conditional update) | insert_one "
        "| x floor (find / reserve / insert) | first find after reopening | build (insert_many) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for size in sizes:
        floor = results[("sqlite3 (floor)", size)]
        for name in names:
            res = results[(name, size)]
            if "error" in res:
                out.append(f"| {name} | {size:,} | {res['error']} | | | | | |")
                continue
            cells = []
            ratios = []
            for op in ("find", "reserve", "insert"):
                seconds, calls = res[op]
                cells.append(
                    f"{seconds * 1e6:,.0f} µs" + (f" ({calls} calls)" if calls < 50 else "")
                )
                if "error" not in floor:
                    ratios.append(f"{seconds / floor[op][0]:,.1f}")
            first = f"{res['first_find'][0] * 1e3:,.1f} ms" if "first_find" in res else "-"
            if res["reserve_with"] != "find_one_and_update":
                cells[1] += f" [{res['reserve_with']}]"
            out.append(
                f"| {name} | {size:,} | {' | '.join(cells)} | {' / '.join(ratios) or '-'} "
                f"| {first} | {res['build_s']:.1f} s |"
            )
    return "\n".join(out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes", type=lambda s: [int(v) for v in s.split(",")], default=[1000, 100_000]
    )
    parser.add_argument("--ops", type=int, default=300, help="calls per operation at most")
    parser.add_argument("--budget", type=float, default=3.0, help="seconds per operation at most")
    parser.add_argument(
        "--build-budget", type=float, default=120.0, help="seconds to build a collection at most"
    )
    parser.add_argument(
        "--stores", default=None, help="comma-separated names (prefixes) of the stores to run"
    )
    args = parser.parse_args(argv)
    chosen = STORES
    if args.stores:
        wanted = [w.strip() for w in args.stores.split(",")]
        chosen = {
            n: o
            for n, o in STORES.items()
            if n == "sqlite3 (floor)" or any(n.startswith(w) for w in wanted)
        }
    results = {}
    for size in args.sizes:
        for name, opener in chosen.items():
            print(f"{name}: {size:,} documents ...", flush=True)
            results[(name, size)] = measure(
                name, opener, size, args.ops, args.budget, args.build_budget
            )
    text = report(results, args.sizes, list(chosen))
    print()
    print(text)
    print(
        f"\ncommand: python -m scripts.bench_store --sizes {','.join(map(str, args.sizes))} "
        f"--ops {args.ops} --budget {args.budget:g}"
    )
    return results


if __name__ == "__main__":
    main()
