"""Benchmark: order intake with many merchants' shop tools sending at once.

    make bench     (or: .venv/bin/python -m scripts.bench_intake --clients 50 --orders 2000)

`--clients` concurrent clients (each its own connection, each a merchant's own system) POST
orders as fast as the gateway answers, closed loop, `--orders` in all, spread over
`--merchants` merchants. Reports orders/s accepted (202) over the whole run and the p50/p99
of one POST /orders as a client sees it. The rest of the platform runs as usual (inventory
allocates what arrives), so the figure is intake on a working platform, not the gateway alone.
"""

import eventlet  # noqa: E402

eventlet.monkey_patch()

import argparse  # noqa: E402
import itertools  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import requests  # noqa: E402

from scripts.bench import ADMIN_KEY, pct, platform_env  # noqa: E402
from scripts.bench_lists import NO_LIMITS  # noqa: E402
from scripts.rabbit import drop_vhost, make_vhost  # noqa: E402
from scripts.simulate import Api, order_body, register_world  # noqa: E402
from scripts.supervisor import SERVICES, Platform  # noqa: E402


def client(url, worlds, numbers, latencies, failures):
    """One shop tool: its own connection, sending the next order as soon as one is answered."""
    session = requests.Session()
    for n in numbers:
        world = worlds[n % len(worlds)]
        headers = {"Authorization": f"Bearer {world.merchant['api_key']}"}
        t0 = time.perf_counter()
        try:
            resp = session.post(url, json=order_body(world, n), headers=headers, timeout=30)
            status = resp.status_code
        except requests.RequestException as exc:
            status = type(exc).__name__
        latencies.append((time.perf_counter() - t0) * 1000)
        if status != 202:
            failures.append(status)


def run(plat, worlds, args):
    url = plat.url("gateway") + "/api/v1/orders"
    numbers = iter(range(args.orders))  # shared: each client takes the next order number
    latencies, failures = [], []
    pool = eventlet.GreenPool(args.clients)
    started = time.perf_counter()
    for _ in range(args.clients):
        pool.spawn_n(client, url, worlds, numbers, latencies, failures)
    pool.waitall()
    elapsed = time.perf_counter() - started
    return {
        "orders_per_s": (len(latencies) - len(failures)) / elapsed,
        "p50": pct(latencies, 50),
        "p99": pct(latencies, 99),
        "seconds": elapsed,
        "failures": failures,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--merchants", type=int, default=10)
    parser.add_argument("--port-offset", type=int, default=31000)
    args = parser.parse_args(argv)

    vhost = make_vhost("gudang-bench-intake")
    tmp = Path(tempfile.mkdtemp(prefix="gudang-bench-intake-"))
    env = platform_env(vhost, MONGO_URI="", **NO_LIMITS)
    ports = {name: spec.port + args.port_offset for name, spec in SERVICES.items()}
    units = args.orders // args.merchants + 10
    try:
        with Platform(data_dir=tmp / "data", env=env, log_dir=tmp / "log", ports=ports) as plat:
            plat.start_all()
            api = Api(plat.url("gateway"))
            worlds = [
                register_world(api, ADMIN_KEY, skus=1, units=units)
                for _ in itertools.repeat(None, args.merchants)
            ]
            result = run(plat, worlds, args)
    finally:
        drop_vhost(vhost)
    print("| figure | value |")
    print("|---|---|")
    print(f"| intake, {args.clients} concurrent clients | {result['orders_per_s']:,.0f} orders/s |")
    print(f"| POST /orders p50 | {result['p50']:.0f} ms |")
    print(f"| POST /orders p99 | {result['p99']:.0f} ms |")
    print(f"| not 202 | {len(result['failures'])} of {args.orders} |")
    print(
        f"\ncommand: python -m scripts.bench_intake --clients {args.clients} "
        f"--orders {args.orders} --merchants {args.merchants}"
    )
    return result


if __name__ == "__main__":
    main()
