"""Benchmark: what the embedded store's ordered list indexes cost on writes and save on pages.

    make bench     (or: .venv/bin/python -m scripts.bench_ordered --sizes 1000,100000)

One process, no broker, SQLite files in a temporary directory. A collection of order-like
documents of one merchant with the gateway's three list indexes (merchant, status, channel;
each then `received_at`, `_id`), built with insert_many (not timed). Timed one call at a time,
on litemongo alone (the baseline) and on the store the services open
(`gudang_common.embedded`, litemongo plus the ordered indexes), in the same run:

- a list's first page and a page half way down (50 orders, newest first, by
  `gudang_common.pagination.page`), for the merchant and for one status;
- an insert_one, an update that leaves the indexed keys alone (a timeline entry) and an
  update that moves the order to another status: the upkeep of the index rows.

Each figure is the median of `--ops` calls (at most `--budget` seconds; fewer calls are shown).
"""

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import litemongo
from pymongo import ASCENDING

from gudang_common.embedded import open_client
from gudang_common.pagination import encode_cursor, newest_first, page

ORDER = newest_first("received_at")
MERCHANT = "mrc_bench"
STATUSES = ("received", "allocated", "packed", "delivered")
STORES = {
    "litemongo alone": lambda path: litemongo.MongoClient(store=str(path)),
    "embedded (ordered indexes)": open_client,
}


def order_doc(i):
    status = STATUSES[i % len(STATUSES)]
    return {
        "_id": f"ord_{i:08d}",
        "merchant_id": MERCHANT,
        "status": status,
        "status_key": f"{MERCHANT}:{status}",
        "channel_key": f"{MERCHANT}:shopee",
        "received_at": f"2026-01-01T00:00:00.000Z#{i:08d}",
        "timeline": [{"status": "received", "at": "2026-01-01T00:00:00.000Z"}],
    }


def build(opener, path, size):
    client = opener(path)
    coll = client["bench"]["orders"]
    for field in ("merchant_id", "status_key", "channel_key"):
        coll.create_index([(field, ASCENDING), *ORDER])
    for first in range(0, size, 1000):
        coll.insert_many([order_doc(i) for i in range(first, min(size, first + 1000))])
    return client, coll


def timed(fn, ops, budget):
    took, deadline = [], time.perf_counter() + budget
    for i in range(ops):
        started = time.perf_counter()
        fn(i)
        took.append((time.perf_counter() - started) * 1e6)
        if time.perf_counter() > deadline:
            break
    return statistics.median(took), len(took)


def operations(coll, size):
    middle = size // 2
    deep = encode_cursor([order_doc(middle)["received_at"], order_doc(middle)["_id"]])
    status = {"status_key": f"{MERCHANT}:packed"}
    return {
        "first page": lambda i: page(coll, {"merchant_id": MERCHANT}, ORDER, 50),
        "page half way": lambda i: page(coll, {"merchant_id": MERCHANT}, ORDER, 50, deep),
        "first page of a status": lambda i: page(coll, status, ORDER, 50),
        "insert_one": lambda i: coll.insert_one(order_doc(size + i)),
        "update, keys alone": lambda i: coll.update_one(
            {"_id": f"ord_{i:08d}"}, {"$push": {"timeline": {"status": "seen", "at": "x"}}}
        ),
        "update, new status": lambda i: coll.update_one(
            {"_id": f"ord_{(7 * i + 1) % size:08d}"},
            {"$set": {"status": "returned", "status_key": f"{MERCHANT}:returned"}},
        ),
    }


def measure(sizes, ops, budget):
    results = {}
    for size in sizes:
        for name, opener in STORES.items():
            tmp = Path(tempfile.mkdtemp(prefix="gudang-bench-ordered-"))
            try:
                started = time.perf_counter()
                client, coll = build(opener, tmp, size)
                built = time.perf_counter() - started
                for op, fn in operations(coll, size).items():
                    fn(ops + 1)  # the first read of a store loads its in-memory index
                    results[(size, name, op)] = timed(fn, ops, budget)
                results[(size, name, "build")] = built
                client.close()
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
            print(f"  {name}, {size:,} orders: built in {built:.1f} s", flush=True)
    return results


def report(results, sizes, ops):
    names = list(STORES)
    lines = [
        "| operation | orders | " + " | ".join(names) + " | ratio |",
        "|---|---|" + "---|" * len(names) + "---|",
    ]
    ops_names = [op for op in operations(None, 0)]
    for op in ops_names:
        for size in sizes:
            cells, values = [], []
            for name in names:
                median, calls = results[(size, name, op)]
                values.append(median)
                cells.append(f"{median:,.0f} µs" + (f" ({calls} calls)" if calls < ops else ""))
            ratio = values[1] / values[0]
            lines.append(f"| {op} | {size:,} | " + " | ".join(cells) + f" | {ratio:.3g} x |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000", help="orders of the merchant")
    parser.add_argument("--ops", type=int, default=200, help="calls per operation at most")
    parser.add_argument("--budget", type=float, default=5.0, help="seconds per operation")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    print("ordered list indexes on the embedded store: one process, temp directory", flush=True)
    results = measure(sizes, args.ops, args.budget)
    print()
    print(report(results, sizes, args.ops))
    print(f"\ncommand: python -m scripts.bench_ordered --sizes {args.sizes} --ops {args.ops}")
    return results


if __name__ == "__main__":
    main()
