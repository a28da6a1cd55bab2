"""Benchmark: the server's answer time per pick scan while orders flow.

    make bench            (or: .venv/bin/python -m scripts.bench_scan --seconds 60)

Merchants push orders at a steady rate; packers take pick lists, scan a tote per order,
then each stop's bin and its units (one scanned, the count confirmed), confirm and pack,
as the tablet does. Every scan's round trip through the gateway to packing and back is
timed at the client. A packer must never wait on a scan: the goal is p99 under 100 ms.
"""

import eventlet  # noqa: E402

eventlet.monkey_patch()

import argparse  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

import requests  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from scripts.bench import pct, platform_env  # noqa: E402
from scripts.rabbit import drop_vhost, make_vhost  # noqa: E402
from scripts.simulate import (  # noqa: E402
    PACKAGE,
    Api,
    check_units,
    order_body,
    pick_by_scan,
    register_world,
    scan_on,
)
from scripts.supervisor import SERVICES, Platform  # noqa: E402

ADMIN_KEY = "bench-admin-key"


def timed(samples):
    """scan_on, with each answer's time (ms) and status kept in `samples`."""

    def scan(api, staff_key, list_id, code, qty=1):
        started = time.perf_counter()
        status, answer = scan_on(api, staff_key, list_id, code, qty)
        samples.append(((time.perf_counter() - started) * 1000, status))
        return status, answer

    return scan


def feed(api, world, rate, seconds, sent):
    """Orders at `rate` per second for `seconds`, one line of 1 to 3 units each."""
    key, started, n = world.merchant["api_key"], time.monotonic(), 0
    while time.monotonic() - started < seconds:
        body = order_body(world, n, qty=1 + n % 3)
        sent.append(api.ok("POST", "/orders", key, body)["order_id"])
        n += 1
        time.sleep(max(0.0, started + n / rate - time.monotonic()))


def packer(url, staff_key, samples, packed, done):
    """Work pick lists by scanning until the feed is over and nothing is left."""
    api, scan = Api(url), timed(samples)
    while True:
        pick_list = api.ok("GET", "/warehouse/pick-lists/next", staff_key)["pick_list"]
        if not pick_list:
            if done.is_set():
                return
            time.sleep(0.2)
            continue
        if not pick_by_scan(api, staff_key, pick_list, scan=scan):
            continue
        api.ok("POST", f"/warehouse/pick-lists/{pick_list['pick_list_id']}/picked", staff_key)
        for order in pick_list["orders"]:
            if order["status"] == "picking":
                check_units(api, staff_key, order["order_id"])  # scan-to-verify at the station
                api.ok("POST", f"/warehouse/orders/{order['order_id']}/pack", staff_key, PACKAGE)
                packed.append(order["order_id"])


def packing_time(url):
    """Packing's own time per scan (its entrypoint histogram): mean, and the bucket bound
    under which 99% of scans finished; the rest of a scan's time is the gateway and RPC."""
    text = requests.get(url + "/metrics", timeout=10).text
    buckets, total, count = [], 0.0, 0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if "scan_pick" not in sample.labels.values():
                continue
            if sample.name.endswith("_bucket"):
                buckets.append((float(sample.labels["le"]), sample.value))
            elif sample.name.endswith("_sum"):
                total = sample.value
            elif sample.name.endswith("_count"):
                count = sample.value
    p99 = next((le for le, n in sorted(buckets) if count and n >= 0.99 * count), None)
    return {
        "packing_mean_ms": 1000 * total / count if count else None,
        "packing_p99_under_ms": 1000 * p99 if p99 is not None else None,
    }


def run(rate, seconds, packers, offset):
    vhost = make_vhost("gudang-bench")
    tmp = Path(tempfile.mkdtemp(prefix="gudang-bench-scan-"))
    samples, sent, packed, done = [], [], [], threading.Event()
    try:
        ports = {name: spec.port + offset for name, spec in SERVICES.items()}
        # every client of the run is on this machine's one address: lift the per-IP limit
        # (and the per-key one, as the packers here scan faster than hands do)
        limits = {"RATE_LIMIT_PER_IP": "100000/minute", "RATE_LIMIT_PER_KEY": "100000/minute"}
        env = platform_env(vhost, **limits)
        with Platform(data_dir=tmp / "data", env=env, log_dir=tmp / "log", ports=ports) as plat:
            plat.start_all()
            url = plat.url("gateway")
            api = Api(url)
            world = register_world(api, ADMIN_KEY, skus=8, units=int(rate * seconds) + 50)
            keys = [
                api.ok("POST", "/staff", ADMIN_KEY, {"name": f"Packer {i}"})["api_key"]
                for i in range(packers)
            ]
            with ThreadPoolExecutor(packers + 1) as pool:
                feeding = pool.submit(feed, Api(url), world, rate, seconds, sent)
                working = [pool.submit(packer, url, k, samples, packed, done) for k in keys]
                feeding.result(timeout=seconds + 120)
                time.sleep(2)  # the last orders are allocated before the packers stop
                done.set()
                for fut in working:
                    fut.result(timeout=600)
            inside = packing_time(plat.url("packing"))
    finally:
        drop_vhost(vhost)
    times = [ms for ms, _ in samples]
    return inside | {
        "orders": len(sent),
        "packed": len(packed),
        "scans": len(samples),
        "refused": sum(1 for _, status in samples if status != 200),
        "p50_ms": pct(times, 50) if times else None,
        "p90_ms": pct(times, 90) if times else None,
        "p99_ms": pct(times, 99) if times else None,
        "max_ms": max(times) if times else None,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description="Answer time per pick scan")
    parser.add_argument("--rate", type=float, default=4.0, help="orders per second")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long orders arrive")
    parser.add_argument("--packers", type=int, default=3)
    parser.add_argument("--port-offset", type=int, default=31000)
    args = parser.parse_args(argv)
    print(
        f"scans: {args.rate:g} orders/s for {args.seconds:g} s, {args.packers} packers ...",
        flush=True,
    )
    res = run(args.rate, args.seconds, args.packers, args.port_offset)
    print()
    print("| figure | value |")
    print("|---|---|")
    print(f"| orders sent / packed | {res['orders']} / {res['packed']} |")
    print(f"| scans answered (refused) | {res['scans']} ({res['refused']}) |")
    for name in ("p50", "p90", "p99", "max"):
        print(f"| answer time per scan, {name} | {res[name + '_ms']:.1f} ms |")
    print(f"| of which in packing, mean | {res['packing_mean_ms']:.1f} ms |")
    print(
        f"| of which in packing, p99 under (histogram bucket) | {res['packing_p99_under_ms']:g} ms |"
    )
    return res


if __name__ == "__main__":
    main()
