"""Inventory allocation benchmark: cost per allocation must not grow with the stored data.

In-process, at the use-case/repository level (no broker, no HTTP), on the embedded
store (litemongo: SQLite files in a temporary directory), the store one inventory
process runs on without MONGO_URI. For each size it bulk-loads SKUs with stock and
stored orders (insert_many), then times `allocation.allocate_order` for new orders on
random SKUs, each a full allocation: SKU check, backorder-queue check, reservation,
movement ledger copy, low-stock check and the allocation with its outbox event.

    .venv/bin/python -m scripts.bench_inventory              # 10k SKUs/100k orders, then 10x
    .venv/bin/python -m scripts.bench_inventory --scales 1   # the base size only
"""

import argparse
import gc
import random
import shutil
import tempfile
import time
import uuid
import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

from gudang_common.events import iso, new_event, utcnow  # noqa: E402
from gudang_common.store import open_database  # noqa: E402
from inventory import allocation  # noqa: E402
from inventory.store import MOVEMENTS, MOVEMENTS_PENDING, InventoryRepository  # noqa: E402
from scripts.simulate import RECIPIENT  # noqa: E402

MERCHANTS = 100
BIN = "A-01-01-1-01"
BATCH = 20_000


def merchant_of(i):
    return f"mer_{i % MERCHANTS:04d}"


def sku_of(i):
    return f"SKU-{i:07d}"


def insert_batches(coll, make, count):
    for start in range(0, count, BATCH):
        coll.insert_many([make(i) for i in range(start, min(start + BATCH, count))])


def build(db, skus, orders):
    now = iso(utcnow())
    db.bins.insert_one({"_id": BIN, "code": BIN, "pick_sequence": 1})
    insert_batches(
        db.skus,
        lambda i: {
            "_id": f"{merchant_of(i)}:{sku_of(i)}",
            "merchant_id": merchant_of(i),
            "sku": sku_of(i),
            "name": sku_of(i),
            "barcode": sku_of(i),
            "weight_g": 300,
            "length_cm": 30,
            "width_cm": 20,
            "height_cm": 3,
            "tracks_lots": False,
            "low_stock_threshold": 5,
        },
        skus,
    )
    insert_batches(
        db.stock,
        lambda i: {
            "_id": f"{merchant_of(i)}:{sku_of(i)}:{BIN}",
            "merchant_id": merchant_of(i),
            "sku": sku_of(i),
            "merchant_sku": f"{merchant_of(i)}:{sku_of(i)}",
            "bin": BIN,
            "lot": None,
            "expiry": None,
            "pick_sequence": 1,
            "on_hand": 1_000_000,
            "reserved": 0,
            "available": 1_000_000,
            "reservations": [],
            "applied": [],
            "first_in_at": now,
            MOVEMENTS: [],
            MOVEMENTS_PENDING: False,
        },
        skus,
    )

    def stored_order(n):
        i = n % skus
        line = {"sku": sku_of(i), "qty": 1, "bin": BIN, "pick_sequence": 1}
        return {
            "_id": f"ord_old_{n:08d}",
            "merchant_id": merchant_of(i),
            "status": "packed",
            "order": {"order_id": f"ord_old_{n:08d}", "lines": [{"sku": sku_of(i), "qty": 1}]},
            "lines": [line],
            "skus": [sku_of(i)],
            "received_at": now,
            "updated_at": now,
        }

    insert_batches(db.allocations, stored_order, orders)
    insert_batches(
        db.movements,
        lambda n: {
            "_id": f"mv_old_{n:08d}",
            "stock_id": f"{merchant_of(n % skus)}:{sku_of(n % skus)}:{BIN}",
            "merchant_id": merchant_of(n % skus),
            "sku": sku_of(n % skus),
            "merchant_sku": f"{merchant_of(n % skus)}:{sku_of(n % skus)}",
            "bin": BIN,
            "lot": None,
            "type": "pick",
            "qty": -1,
            "reserved": -1,
            "ref": f"ord_old_{n:08d}",
            "at": now,
        },
        orders,
    )


def order_event(i, n):
    return new_event(
        "order_received",
        merchant_id=merchant_of(i),
        order_id=f"ord_new_{n:08d}_{uuid.uuid4().hex[:6]}",
        external_id=f"X-{n}",
        channel="api",
        courier="jne",
        recipient=RECIPIENT,
        lines=[{"sku": sku_of(i), "qty": 1}],
        cod_amount=0,
    )


def run(skus, orders, allocations, seed=7):
    tmp = tempfile.mkdtemp(prefix="gudang-bench-inventory-")
    client, db = open_database({"DATA_DIR": tmp}, "inventory")
    try:
        InventoryRepository.ensure_indexes(db)
        started = time.perf_counter()
        build(db, skus, orders)
        built = time.perf_counter() - started
        repo = InventoryRepository(db, lambda: None)
        rng = random.Random(seed)
        for n in range(50):  # warm up caches and code paths
            allocation.allocate_order(repo, order_event(rng.randrange(skus), n))
        started = time.perf_counter()
        for n in range(allocations):
            result = allocation.allocate_order(repo, order_event(rng.randrange(skus), 1000 + n))
            assert result == "allocated", result
        elapsed = time.perf_counter() - started
        return {
            "skus": skus,
            "orders": orders,
            "allocations": allocations,
            "build_s": built,
            "per_allocation_ms": elapsed / allocations * 1000,
            "per_second": allocations / elapsed,
        }
    finally:
        client.close()
        shutil.rmtree(tmp, ignore_errors=True)
        gc.collect()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=10_000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--allocations", type=int, default=1_000)
    parser.add_argument(
        "--scales", type=int, nargs="+", default=[1, 10], help="multiples of the base data size"
    )
    args = parser.parse_args(argv)
    print("inventory allocation benchmark: in-process, use-case/repository level,")
    print("embedded store (litemongo, SQLite files in a temp dir), one process, no broker")
    results = []
    for scale in args.scales:
        skus, orders = args.skus * scale, args.orders * scale
        print(f"- building {skus:,} SKUs with stock and {orders:,} stored orders ...", flush=True)
        r = run(skus, orders, args.allocations)
        results.append(r)
        print(
            f"  built in {r['build_s']:.0f}s; {r['allocations']:,} allocations: "
            f"{r['per_second']:.0f}/s, {r['per_allocation_ms']:.2f} ms per allocation",
            flush=True,
        )
    if len(results) > 1:
        base, big = results[0], results[-1]
        ratio = big["per_allocation_ms"] / base["per_allocation_ms"]
        print(
            f"cost per allocation at {big['orders'] // base['orders']}x the data: "
            f"{ratio:.2f}x ({base['per_allocation_ms']:.2f} -> {big['per_allocation_ms']:.2f} ms)"
            f"{'  (flat)' if ratio < 1.5 else '  (GROWS: look for a scan)'}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
