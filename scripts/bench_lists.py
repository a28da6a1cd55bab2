"""Benchmark: does each list route answer in the same time for a merchant with a short or a
long history?

    make bench     (or: .venv/bin/python -m scripts.bench_lists --sizes 1000,10000 --requests 20)

For each size, one merchant is registered through the API, the services are stopped, and its
history is written straight into the services' own stores (bulk insert_many, not HTTP):
`size` orders in the gateway's read model, one webhook delivery per order, one stock movement
per order in inventory's ledger and one fee posting per order on the wallet in billing's
ledger. The services start again and each list route is asked `--requests` times for its
first page and for a page deep in the list (half way, by a cursor made from the seeded sort
key): p50/p99 in milliseconds. With MONGO_URI set the same runs against that MongoDB
(a database per run, dropped after); without it, on the embedded store in a temp directory.
"""

import eventlet  # noqa: E402

eventlet.monkey_patch()

import argparse  # noqa: E402
import contextlib  # noqa: E402
import os  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402

import requests  # noqa: E402

from gudang_common.clock import iso  # noqa: E402
from gudang_common.pagination import encode_cursor  # noqa: E402
from gudang_common.store import open_database  # noqa: E402
from scripts.bench import ADMIN_KEY, pct, platform_env  # noqa: E402
from scripts.rabbit import drop_vhost, make_vhost  # noqa: E402
from scripts.simulate import Api, register_world  # noqa: E402
from scripts.supervisor import SERVICES, Platform  # noqa: E402

BATCH = 1000
START = datetime(2025, 1, 1, tzinfo=UTC)
WEBHOOK_URL = "http://127.0.0.1:9/hooks"  # never called: every seeded delivery is delivered
NO_LIMITS = {
    name: "1000000/minute"
    for name in ("RATE_LIMIT_PER_KEY", "RATE_LIMIT_PER_IP", "RATE_LIMIT_BAD_AUTH_PER_IP")
}


def at(i):
    """The i-th seeded item's time: one a minute, oldest first."""
    return iso(START + timedelta(minutes=i))


def order_doc(merchant_id, i):
    return {
        "_id": f"ord_bench{i:08d}",
        "merchant_id": merchant_id,
        "external_id": f"SHP-{i:08d}",
        "external_key": f"{merchant_id}:SHP-{i:08d}",
        "status_key": f"{merchant_id}:" + ("delivered" if i % 10 else "returned"),
        "channel_key": f"{merchant_id}:" + ("shopee", "tokopedia", "api")[i % 3],
        "channel": ("shopee", "tokopedia", "api")[i % 3],
        "status": "delivered" if i % 10 else "returned",
        "courier": "jne",
        "awb": f"JN{i:012d}",
        "shipping_cost": 9000,
        "cod_amount": 0,
        "recipient": {
            "name": "Siti Aminah",
            "phone": "+6281234567890",
            "address": "Jl. Merdeka 10",
            "city": "Bandung",
            "postal_code": "40111",
        },
        "lines": [{"sku": "BTK-000", "qty": 1}],
        "received_at": at(i),
        "timeline": [
            {"event": "order_received", "event_id": f"evt-{i}", "at": at(i), "detail": {}}
        ],
        "seen": [f"evt-{i}"],
    }


def delivery_doc(merchant_id, webhook_id, i):
    return {
        "_id": f"{webhook_id}:evt-{i}",
        "webhook_id": webhook_id,
        "merchant_id": merchant_id,
        "status": "delivered",
        "attempts": 1,
        "next_attempt_at": at(i),
        "body": "{}",
        "event": "parcel_delivered",
        "created_at": at(i),
        "delivered_at": at(i),
        "last_status_code": 204,
    }


def movement_doc(merchant_id, sku, i):
    return {
        "_id": f"mov_bench{i:08d}",
        "movement_id": f"mov_bench{i:08d}",
        "stock_id": f"{merchant_id}:{sku}:A-01-01-1-01:",
        "merchant_id": merchant_id,
        "sku": sku,
        "merchant_sku": f"{merchant_id}:{sku}",
        "bin": "A-01-01-1-01",
        "lot": None,
        "type": "pick",
        "qty": -1,
        "reserved": -1,
        "ref": f"ord_bench{i:08d}",
        "reason": None,
        "by": None,
        "at": at(i),
    }


def posting_doc(merchant_id, i):
    wallet = f"merchant:{merchant_id}:wallet"
    return {
        "_id": f"pick_pack:ord_bench{i:08d}",
        "merchant_id": merchant_id,
        "kind": "pick_pack",
        "fee_type": "pick_pack",
        "lines": [
            {"account": wallet, "amount": -2500},
            {"account": "revenue:pick_pack", "amount": 2500},
        ],
        "ref": f"ord_bench{i:08d}",
        "occurred_at": at(i),
        "posted_at": at(i),
        "wib_day": (START + timedelta(minutes=i, hours=7)).date().isoformat(),
    }


def seed(config, world, webhook_id, size):
    """Write `size` of each into the stores directly; (seconds, docs written)."""
    merchant_id, sku = world.merchant["merchant_id"], world.skus[0]
    plan = [
        ("gateway", "orders", lambda i: order_doc(merchant_id, i)),
        ("gateway", "deliveries", lambda i: delivery_doc(merchant_id, webhook_id, i)),
        ("inventory", "movements", lambda i: movement_doc(merchant_id, sku, i)),
        ("billing", "postings", lambda i: posting_doc(merchant_id, i)),
    ]
    started, written = time.perf_counter(), 0
    for service, collection, make in plan:
        client, db = open_database(config, service)
        try:
            with unique_indexes_set_aside(db[collection]):
                for first in range(0, size, BATCH):
                    batch = [make(i) for i in range(first, min(size, first + BATCH))]
                    db[collection].insert_many(batch)
                    written += len(batch)
        finally:
            client.close()
    return time.perf_counter() - started, written


@contextlib.contextmanager
def unique_indexes_set_aside(collection):
    """Bulk loading without the unique indexes, built again after: the embedded store checks
    a unique key by reading every document that shares the index's first field (here: all of
    the merchant's orders), which makes a bulk load quadratic."""
    unique = {
        name: spec
        for name, spec in collection.index_information().items()
        if spec.get("unique") and name != "_id_"
    }
    for name in unique:
        collection.drop_index(name)
    yield
    for name, spec in unique.items():
        collection.create_index(
            spec["key"], name=name, unique=True, sparse=spec.get("sparse", False)
        )


def deep_cursors(webhook_id, size):
    """A cursor half way down each newest-first list, from the seeded sort keys."""
    i = size // 2
    order, posting = f"ord_bench{i:08d}", f"pick_pack:ord_bench{i:08d}"
    return {
        "orders": encode_cursor([at(i), order]),
        "orders_by_status": encode_cursor([at(i), order]),
        "movements": encode_cursor([at(i), f"mov_bench{i:08d}"]),
        "wallet": encode_cursor([at(i), at(i), posting]),
        "deliveries": encode_cursor([at(i), f"{webhook_id}:evt-{i}"]),
    }


def routes(webhook_id):
    return {
        "orders": "/orders?limit=50",
        "orders_by_status": "/orders?status=delivered&limit=50",
        "movements": "/movements?limit=50",
        "wallet": "/wallet?limit=50",
        "deliveries": f"/webhooks/{webhook_id}/deliveries?limit=50",
    }


def time_route(session, url, n, timeout):
    """p50 and p99 of n GETs in ms, and the item count of the last answer; None on an error."""
    took, status = [], None
    for _ in range(n):
        t0 = time.perf_counter()
        try:
            resp = session.get(url, timeout=timeout)
            status = resp.status_code
        except requests.RequestException as exc:
            status = type(exc).__name__
        took.append((time.perf_counter() - t0) * 1000)
        if status != 200:
            return {"error": status, "ms": took[-1]}
    return {"p50": pct(took, 50), "p99": pct(took, 99)}


def warm(session, url, most=900):
    """The first read of a collection loads the embedded store's in-memory hash index (a
    scan of the file: about a minute at 1,000,000 documents), during which the service
    answers nothing and the gateway says 504: ask until it answers."""
    deadline = time.monotonic() + most
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.RequestException):
            if session.get(url, timeout=most).status_code == 200:
                return
        time.sleep(1)


def measure(plat, world, webhook_id, size, n, timeout):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {world.merchant['api_key']}"
    base = plat.url("gateway") + "/api/v1"
    deep = deep_cursors(webhook_id, size)
    out = {}
    for name, path in routes(webhook_id).items():
        warm(session, base + path)
        out[(name, "first")] = time_route(session, base + path, n, timeout)
        out[(name, "deep")] = time_route(session, f"{base}{path}&cursor={deep[name]}", n, timeout)
    return out


def one_size(size, args):
    vhost = make_vhost("gudang-bench-lists")
    tmp = Path(tempfile.mkdtemp(prefix="gudang-bench-lists-"))
    mongo = os.environ.get("MONGO_URI", "")
    env = platform_env(vhost, WEBHOOK_ALLOWED_HOSTS="127.0.0.1", MONGO_URI=mongo, **NO_LIMITS)
    config = {"DATA_DIR": str(tmp / "data"), "MONGO_URI": mongo}
    ports = {name: spec.port + args.port_offset for name, spec in SERVICES.items()}
    try:
        with Platform(data_dir=tmp / "data", env=env, log_dir=tmp / "log", ports=ports) as plat:
            plat.start_all()
            api = Api(plat.url("gateway"))
            world = register_world(api, ADMIN_KEY, skus=1, units=10)
            key = world.merchant["api_key"]
            webhook_id = api.ok("POST", "/webhooks", key, {"url": WEBHOOK_URL})["webhook_id"]
            plat.stop_all()  # the embedded store serves one process per database
            seconds, written = seed(config, world, webhook_id, size)
            print(f"  seeded {written:,} documents in {seconds:.0f} s", flush=True)
            plat.start_all(timeout=90 + size / 4000)  # startup reads what was seeded
            timings = measure(plat, world, webhook_id, size, args.requests, args.timeout)
    finally:
        drop_vhost(vhost)
        if mongo:
            _drop_databases(mongo)
    return {"seed_seconds": seconds, "timings": timings}


def _drop_databases(uri):
    import pymongo

    client = pymongo.MongoClient(uri)
    for service in ("gateway", "inventory", "billing"):
        client.drop_database(f"gudang_{service}")


def main(argv=None):
    args = PARSER.parse_args(argv)
    results = {}
    for size in (int(v) for v in args.sizes.split(",")):
        print(f"one merchant with {size:,} orders ...", flush=True)
        results[size] = one_size(size, args)
    print(report(results, args))
    return results


PARSER = argparse.ArgumentParser(description=__doc__.split("\n")[0])
PARSER.add_argument("--sizes", default="1000,10000", help="orders of the merchant: 1000,10000")
PARSER.add_argument("--requests", type=int, default=20, help="GETs per route and page")
PARSER.add_argument("--timeout", type=float, default=60, help="seconds for one GET")
PARSER.add_argument("--port-offset", type=int, default=31000)


def report(results, args):
    sizes = list(results)
    lines = [
        f"| route, page | {' | '.join(f'{s:,} orders p50 / p99 ms' for s in sizes)} |",
        "|---|" + "---|" * len(sizes),
    ]
    for key in results[sizes[0]]["timings"]:
        cells = []
        for s in sizes:
            t = results[s]["timings"][key]
            cells.append(f"{t['p50']:.0f} / {t['p99']:.0f}" if "p50" in t else f"{t['error']}")
        lines.append(f"| {key[0]}, {key[1]} | {' | '.join(cells)} |")
    seeds = ", ".join(f"{s:,}: {results[s]['seed_seconds']:.0f} s" for s in sizes)
    lines.append(f"\nseeding (4 documents per order): {seeds}")
    lines.append(
        f"command: python -m scripts.bench_lists --sizes {','.join(map(str, sizes))} "
        f"--requests {args.requests}"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
