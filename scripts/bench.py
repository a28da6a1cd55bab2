"""Benchmarks: end-to-end orders/s, gateway intake latency, and the raw nameko event
rate measured in the same run as the baseline.

    make bench            (or: .venv/bin/python -m scripts.bench --orders 300)

Everything runs on this machine: RabbitMQ on localhost (a private vhost per run),
the five services as real processes with the embedded store in a temp directory.
"""

import eventlet  # noqa: E402

eventlet.monkey_patch()

import argparse  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402

from scripts.rabbit import amqp_uri_for, drop_vhost, make_vhost  # noqa: E402
from scripts.simulate import Api, deliver, eventually, order_body, register_world, work_pick_lists  # noqa: E402
from scripts.supervisor import private_platform  # noqa: E402

ADMIN_KEY = "bench-admin-key"
# per order: order_received x1, order_allocated x2, order_picked x1, order_packed x4,
# parcel_booked x2, parcel_dispatched x1, parcel_in_transit x1, parcel_delivered x2 consumers
DELIVERIES_PER_ORDER = 14
SECRET = "bench-courier-secret"


def pct(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def baseline_nameko_events(n):
    """Raw nameko: publish n events with confirms, one handler consumes them. events/s."""
    from nameko.containers import ServiceContainer
    from nameko.events import event_handler
    from nameko.standalone.events import event_dispatcher

    vhost = make_vhost("gudang-bench")
    uri = amqp_uri_for(vhost)
    seen = []
    done = eventlet.Event()

    class Sink:
        name = "bench_sink"

        @event_handler("bench_source", "ping")
        def ping(self, payload):
            seen.append(payload)
            if len(seen) == n:
                done.send(True)

    container = ServiceContainer(Sink, {"AMQP_URI": uri})
    container.start()
    try:
        dispatch = event_dispatcher({"AMQP_URI": uri})
        started = time.perf_counter()
        for i in range(n):
            dispatch("bench_source", "ping", {"i": i})
        with eventlet.Timeout(120):
            done.wait()
        elapsed = time.perf_counter() - started
    finally:
        container.stop()
        drop_vhost(vhost)
    return n / elapsed


def platform_env(vhost, **extra):
    """The environment of the services a benchmark starts: its own vhost and secrets."""
    env = {
        "AMQP_URI": amqp_uri_for(vhost),
        "GUDANG_ADMIN_KEY": ADMIN_KEY,
        "GUDANG_COURIER_SECRET": SECRET,
        "GUDANG_PAYMENT_CALLBACK_TOKEN": "bench-payment-callback-token",
        "LOG_LEVEL": "WARNING",
    }
    return env | extra


def gudang(n_orders, intake_samples, workers):
    results = {}
    # ports shifted so a bench can run beside `make run` or a test run
    with private_platform("gudang-bench", platform_env, 30000) as (plat, _):
        api = Api(plat.url("gateway"))
        world = register_world(api, ADMIN_KEY, skus=10, units=(n_orders + intake_samples) // 5 + 50)
        key = world.merchant["api_key"]

        # intake latency, one client, sequential
        latencies = []
        for i in range(intake_samples):
            body = order_body(world, 10_000 + i)
            t0 = time.perf_counter()
            api.ok("POST", "/orders", key, body)
            latencies.append((time.perf_counter() - t0) * 1000)
        results["intake_p50_ms"] = pct(latencies, 50)
        results["intake_p99_ms"] = pct(latencies, 99)
        # clear the intake orders out of the way
        eventually(
            lambda: len(work_pick_lists(api, world.staff["api_key"])) == 0 and True, timeout=120
        )

        # end to end: merchants push orders, a packer and a courier work them
        started = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            order_ids = list(
                pool.map(
                    lambda i: api.ok(
                        "POST",
                        "/orders",
                        key,
                        order_body(world, i, cod_amount=50_000 if i % 3 == 0 else 0),
                    )["order_id"],
                    range(n_orders),
                )
            )
        results["intake_rate"] = n_orders / (time.perf_counter() - started)
        wanted = set(order_ids)
        packed = set()

        # several packers at once, each with their own pick lists, as on a warehouse floor
        packers = [
            api.ok("POST", "/staff", ADMIN_KEY, {"name": f"Packer {i}"})["api_key"]
            for i in range(workers)
        ]

        def packer(staff_key):
            mine = Api(plat.url("gateway"))
            while not wanted <= packed:
                packed.update(work_pick_lists(mine, staff_key))
                time.sleep(0.05)

        with ThreadPoolExecutor(workers) as pool:
            for fut in [pool.submit(packer, k) for k in packers]:
                fut.result(timeout=900)

        def ship(order_id):
            mine = Api(plat.url("gateway"))
            awb = eventually(lambda: mine.ok("GET", f"/orders/{order_id}", key)["awb"], timeout=120)
            deliver(mine, SECRET, "jne", awb)

        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(ship, order_ids))
        for order_id in order_ids:
            eventually(
                lambda order_id=order_id: (
                    api.ok("GET", f"/orders/{order_id}", key)["status"] == "delivered"
                ),
                timeout=120,
            )
        elapsed = time.perf_counter() - started
        results["e2e_orders_per_s"] = n_orders / elapsed
        results["e2e_seconds"] = elapsed
    return results


def main():
    parser = argparse.ArgumentParser(description="Gudang benchmarks")
    parser.add_argument("--orders", type=int, default=300, help="orders for the end-to-end run")
    parser.add_argument("--intake-samples", type=int, default=200)
    parser.add_argument("--events", type=int, default=5000, help="events for the nameko baseline")
    parser.add_argument("--workers", type=int, default=8, help="concurrent HTTP clients")
    args = parser.parse_args()

    print(f"baseline: raw nameko events, {args.events} events ...", flush=True)
    base_rate = baseline_nameko_events(args.events)
    print(f"gudang: {args.orders} orders end to end ...", flush=True)
    res = gudang(args.orders, args.intake_samples, args.workers)
    print()
    print("| figure | value |")
    print("|---|---|")
    print(f"| raw nameko event rate (baseline, publish+consume) | {base_rate:,.0f} events/s |")
    print(
        f"| gateway intake latency p50 (sequential POST /orders) | {res['intake_p50_ms']:.1f} ms |"
    )
    print(f"| gateway intake latency p99 | {res['intake_p99_ms']:.1f} ms |")
    print(f"| gateway intake rate ({args.workers} clients) | {res['intake_rate']:,.0f} orders/s |")
    print(
        f"| end to end, intake to delivered ({args.orders} orders) | {res['e2e_orders_per_s']:,.1f} orders/s ({res['e2e_seconds']:.1f} s) |"
    )
    deliveries = res["e2e_orders_per_s"] * DELIVERIES_PER_ORDER
    print(
        f"| event deliveries/s inside the end-to-end run ({DELIVERIES_PER_ORDER} per order) "
        f"| {deliveries:,.0f}/s = {deliveries / base_rate:.2f} x the raw nameko rate |"
    )
    print(
        f"\ncommand: python scripts/bench.py --orders {args.orders} --intake-samples {args.intake_samples} --events {args.events} --workers {args.workers}"
    )


if __name__ == "__main__":
    main()
