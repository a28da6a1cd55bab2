"""Benchmark: how many orders per second this machine sustains, with packers and couriers at work.

    make bench     (or: .venv/bin/python -m scripts.bench_steady --rates 5,10,15,20 --step-seconds 40)

Orders arrive open loop: each send is scheduled by the clock at a fixed rate and does not wait
for the platform (a send that starts more than LATE_SECONDS after its slot is counted as late).
Meanwhile packers take pick lists, confirm and pack, and couriers post the signed
picked_up / in_transit / delivered webhooks, all concurrently. The rate steps up; a step is
bounded when the backlog (orders sent whose parcel_delivered webhook has not arrived) stops
growing over the judged last part of the step: its growth there (least-squares slope, sampled
every second, times the window's length) is at most BOUNDED_GROWTH of the orders that arrived in
the window (the platform finishes at least 95 % of what arrives), or at most NOISE_ORDERS, the
saw-tooth of one pick list. The first unbounded step ends the run.

The benchmark does not poll order status. The merchant registers a webhook on a local receiver
(the gateway delivers each order step, signed, with the event's `occurred_at`); stage times come
from those deliveries, from the packers' own pick-list answers and from billing's ledger, read
once at the end (`posted_at` of each COD fee). Billing's entrypoint counter, read from its
/metrics, tells when it has settled every delivered parcel.

CPU per order: utime + stime of each service process, RabbitMQ's beam.smp and this process (the
load generator: arrivals, packers, couriers, the webhook receiver) from /proc, over the judged
window, divided by the orders that arrived in it. The raw nameko event rate
(`scripts.bench.baseline_nameko_events`) is measured in the same run.
"""

import eventlet  # noqa: E402

eventlet.monkey_patch()

import argparse  # noqa: E402
import hashlib  # noqa: E402
import hmac  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import datetime  # noqa: E402

import eventlet.wsgi  # noqa: E402
import requests  # noqa: E402

from gudang_common.topology import SUBSCRIPTIONS  # noqa: E402
from scripts.bench import (  # noqa: E402
    ADMIN_KEY,
    SECRET,
    baseline_nameko_events,
    pct,
    platform_env,
)
from scripts.simulate import (  # noqa: E402
    DELIVERED_STEPS,
    PACKAGE,
    Api,
    check_units,
    deliver,
    order_body,
    pick_by_scan,
    register_world,
)
from scripts.supervisor import SERVICES, private_platform  # noqa: E402

LATE_SECONDS = 0.1
BOUNDED_GROWTH = 0.05
NOISE_ORDERS = 10
DELIVERIES_PER_ORDER = sum(1 for _, _, event in SUBSCRIPTIONS if event in DELIVERED_STEPS)
# what the merchant's webhook subscribes to: the steps the stage times need, nothing more
OBSERVED = ("order_allocated", "order_packed", "parcel_booked", "parcel_delivered")
CLK_TCK = os.sysconf("SC_CLK_TCK")


# every client of the benchmark (merchant, packers, couriers) calls from 127.0.0.1, most with
# one key: the gateway's per-address and per-key limits would refuse the load being measured
NO_RATE_LIMITS = {
    name: "1000000/minute"
    for name in ("RATE_LIMIT_PER_KEY", "RATE_LIMIT_PER_IP", "RATE_LIMIT_BAD_AUTH_PER_IP")
}


def epoch(iso_text):
    return datetime.fromisoformat(iso_text.replace("Z", "+00:00")).timestamp()


# --- CPU from /proc ---------------------------------------------------------------------------


def cpu_seconds(pid):
    """utime + stime of one process, in seconds (None once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            stat = fh.read()
    except OSError:
        return None
    # the command name may hold spaces; the fields after it are fixed
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def machine_busy_seconds():
    """CPU seconds spent on anything but idle and iowait, all cores together."""
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / CLK_TCK


def beam_pids():
    """RabbitMQ's Erlang VM (shared by everything on this machine that uses the broker)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as fh:
                    if fh.read().strip() == "beam.smp":
                        pids.append(int(entry))
            except OSError:
                pass
    return pids


def cpu_snapshot(processes):
    """{label: cpu seconds} for {label: [pids]}, plus the whole machine under '_machine'."""
    snap = {
        label: sum(cpu_seconds(pid) or 0.0 for pid in pids) for label, pids in processes.items()
    }
    snap["_machine"] = machine_busy_seconds()
    snap["_at"] = time.monotonic()
    return snap


# --- the load generator's view of each order --------------------------------------------------


@dataclass
class Order:
    n: int
    step: int
    scheduled: float  # wall clock, the arrival slot
    cod: bool
    sent: float = 0.0
    answered: float = 0.0
    order_id: str | None = None
    pick_list_at: float = 0.0
    awb: str | None = None


@dataclass
class Run:
    orders: dict = field(default_factory=dict)  # order_id -> Order
    events: dict = field(default_factory=dict)  # order_id -> {event: occurred_at epoch}
    delivered_seen: int = 0
    sent: int = 0
    late: int = 0
    worst_late: float = 0.0
    failed_sends: int = 0
    empty_polls: int = 0
    errors: list = field(default_factory=list)
    awb_waiting: set = field(default_factory=set)  # packed with a 202: AWB comes by webhook
    samples: list = field(default_factory=list)  # (monotonic, sent, delivered_seen)


def start_receiver(run, secret_box, couriers):
    """The merchant's webhook endpoint on loopback; returns its URL."""

    def app(environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        expected = "sha256=" + hmac.new(secret_box["secret"], body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(environ.get("HTTP_X_GUDANG_SIGNATURE", ""), expected):
            run.errors.append("webhook with a bad signature")
            start_response("401 Unauthorized", [("Content-Length", "0")])
            return [b""]
        payload = json.loads(body)
        order_id = payload["order_id"]
        event = payload["event"]
        steps = run.events.setdefault(order_id, {})
        if event not in steps:
            steps[event] = epoch(payload["occurred_at"])
            if event == "parcel_delivered":
                run.delivered_seen += 1
            elif event == "parcel_booked":
                awb = payload["data"].get("awb")
                steps["_awb"] = awb
                if order_id in run.awb_waiting:
                    run.awb_waiting.discard(order_id)
                    couriers.put((order_id, awb))
        start_response("204 No Content", [("Content-Length", "0")])
        return [b""]

    sock = eventlet.listen(("127.0.0.1", 0))
    eventlet.spawn_n(
        eventlet.wsgi.server, sock, app, log_output=False, max_size=200, socket_timeout=30
    )
    return f"http://127.0.0.1:{sock.getsockname()[1]}/hooks/gudang"


class Sessions:
    """HTTP clients for concurrent senders: one per green thread at a time, reused."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.free = []

    def take(self):
        return self.free.pop() if self.free else Api(self.base_url)

    def give(self, api):
        self.free.append(api)


def send_order(run, sessions, key, world, order):
    api = sessions.take()
    try:
        order.sent = time.time()
        lateness = order.sent - order.scheduled
        if lateness > LATE_SECONDS:
            run.late += 1
        run.worst_late = max(run.worst_late, lateness)
        try:
            body = order_body(world, order.n, cod_amount=50_000 if order.cod else 0)
            order.order_id = api.ok("POST", "/orders", key, body)["order_id"]
        except (AssertionError, requests.RequestException) as exc:
            run.failed_sends += 1
            run.errors.append(f"order {order.n}: {exc}")
            return
        order.answered = time.time()
        run.orders[order.order_id] = order
    finally:
        sessions.give(api)


def packer(run, api, staff_key, couriers, stop, idle_seconds):
    """Take a pick list, confirm the pick, pack each order; hand AWBs to the couriers."""
    while not stop.ready():
        try:
            pick_list = api.ok("GET", "/warehouse/pick-lists/next", staff_key)["pick_list"]
            if not pick_list:
                run.empty_polls += 1
                eventlet.sleep(idle_seconds)
                continue
            now = time.time()
            for entry in pick_list["orders"]:
                if entry["order_id"] in run.orders:
                    run.orders[entry["order_id"]].pick_list_at = now
            if not pick_by_scan(api, staff_key, pick_list):
                continue  # read the list again: what was scanned stays counted
            api.ok("POST", f"/warehouse/pick-lists/{pick_list['pick_list_id']}/picked", staff_key)
            for entry in pick_list["orders"]:
                if entry["status"] != "picking":
                    continue
                order_id = entry["order_id"]
                check_units(api, staff_key, order_id)
                packed = api.ok("POST", f"/warehouse/orders/{order_id}/pack", staff_key, PACKAGE)
                awb = packed.get("awb") or run.events.get(order_id, {}).get("_awb")
                if awb:
                    couriers.put((order_id, awb))
                else:
                    run.awb_waiting.add(order_id)
        except (AssertionError, requests.RequestException) as exc:
            run.errors.append(f"packer: {exc}")
            eventlet.sleep(idle_seconds)


class Couriers:
    """Each parcel gets its own courier, as parcels travel independently: a fixed crew here
    would queue parcels in the load generator and measure the crew, not the platform."""

    def __init__(self, run, sessions, most):
        self.run = run
        self.sessions = sessions
        self.pool = eventlet.GreenPool(most)

    def put(self, item):
        _, awb = item
        self.pool.spawn_n(self.deliver, awb)

    def deliver(self, awb):
        api = self.sessions.take()
        try:
            deliver(api, SECRET, "jne", awb)
        except (AssertionError, requests.RequestException) as exc:
            self.run.errors.append(f"courier {awb}: {exc}")
        finally:
            self.sessions.give(api)

    def waitall(self):
        self.pool.waitall()


def sampler(run, stop):
    while not stop.ready():
        run.samples.append((time.monotonic(), run.sent, run.delivered_seen))
        eventlet.sleep(1.0)


def slope(points):
    """Least-squares slope of [(x, y)]."""
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else 0.0


# --- the run ----------------------------------------------------------------------------------


def metric_value(url, name, **labels):
    """One sample of a Prometheus text exposition (0 when absent)."""
    text = requests.get(url, timeout=10).text
    want = [f'{k}="{v}"' for k, v in labels.items()]
    for line in text.splitlines():
        if line.startswith(name + "{") and all(w in line for w in want):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def stage_figures(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"n": len(values), "p50": pct(values, 50) * 1000, "p99": pct(values, 99) * 1000}


def run_steps(args, plat, world, run, hook_secret_box):
    key = world.merchant["api_key"]
    gateway = plat.url("gateway")
    couriers = Couriers(run, Sessions(gateway), args.couriers)
    stop = eventlet.Event()
    hook_url = start_receiver(run, hook_secret_box, couriers)
    hook = Api(gateway).ok("POST", "/webhooks", key, {"url": hook_url, "events": list(OBSERVED)})
    hook_secret_box["secret"] = hook["secret"].encode()

    admin = Api(gateway)
    threads = []
    for i in range(args.packers):
        staff = admin.ok("POST", "/staff", ADMIN_KEY, {"name": f"Packer {i}", "role": "packer"})
        threads.append(
            eventlet.spawn(
                packer, run, Api(gateway), staff["api_key"], couriers, stop, args.packer_idle
            )
        )
    eventlet.spawn_n(sampler, run, stop)

    processes = {name: [plat.pid(name)] for name in SERVICES}
    processes["rabbitmq (beam.smp)"] = beam_pids()
    processes["load generator"] = [os.getpid()]

    # the broker is shared with whatever else runs here: its CPU while this platform idles
    idle_start = cpu_snapshot(processes)
    eventlet.sleep(args.idle_seconds)
    idle_end = cpu_snapshot(processes)
    idle = {
        label: (idle_end[label] - idle_start[label]) / (idle_end["_at"] - idle_start["_at"])
        for label in idle_end
        if label != "_at"
    }

    sessions = Sessions(gateway)
    senders = eventlet.GreenPool(10_000)
    steps = []
    n = 0
    for index, rate in enumerate(args.rates):
        started_wall = time.time()
        started = time.monotonic()
        count = int(round(rate * args.step_seconds))
        judged_from = started + args.step_seconds * (1 - args.judge)
        window_start = None
        late_before, worst_before = run.late, run.worst_late
        run.worst_late = 0.0
        print(f"step {index + 1}: {rate:g} orders/s for {args.step_seconds:g} s ...", flush=True)
        for i in range(count):
            slot = started + i / rate
            if window_start is None and slot >= judged_from:
                window_start = cpu_snapshot(processes)
                window_first_order = n
            pause = slot - time.monotonic()
            if pause > 0:
                eventlet.sleep(pause)
            order = Order(n, index, started_wall + i / rate, cod=n % 2 == 0)
            senders.spawn_n(send_order, run, sessions, key, world, order)
            run.sent += 1
            n += 1
        eventlet.sleep(max(0.0, started + args.step_seconds - time.monotonic()))
        window_end = cpu_snapshot(processes)
        if window_start is None:
            window_start, window_first_order = window_end, n
        window_orders = n - window_first_order
        judged = [
            (t, sent - done)
            for t, sent, done in run.samples
            if window_start["_at"] <= t <= window_end["_at"]
        ]
        growth = slope(judged)
        window_seconds = window_end["_at"] - window_start["_at"]
        bounded = growth * window_seconds <= max(BOUNDED_GROWTH * window_orders, NOISE_ORDERS)
        step = {
            "rate": rate,
            "orders": count,
            "window_orders": window_orders,
            "window_seconds": window_seconds,
            "backlog_end": run.sent - run.delivered_seen,
            "backlog_growth": growth,
            "bounded": bounded,
            "late": run.late - late_before,
            "worst_late": run.worst_late,
            "cpu": {
                label: window_end[label] - window_start[label]
                for label in window_end
                if label != "_at"
            },
            "index": index,
        }
        run.worst_late = max(run.worst_late, worst_before)
        steps.append(step)
        print(
            f"  backlog {step['backlog_end']} orders, growing {growth:+.2f}/s over the last "
            f"{step['window_seconds']:.0f} s -> {'bounded' if bounded else 'NOT bounded'}; "
            f"late sends {step['late']}",
            flush=True,
        )
        if not bounded and not args.all_steps:
            break

    # let what was sent finish, so the bounded steps' orders all have their stage times
    senders.waitall()
    drain_deadline = time.monotonic() + args.drain_seconds
    while run.delivered_seen < len(run.orders) and time.monotonic() < drain_deadline:
        eventlet.sleep(0.5)
    billing_metrics = plat.url("billing") + "/metrics"
    cod_delivered = sum(
        1
        for oid, o in run.orders.items()
        if o.cod and "parcel_delivered" in run.events.get(oid, {})
    )
    # billing's counter of settled deliveries, not a per-order poll
    while time.monotonic() < drain_deadline + 30:
        try:
            settled = metric_value(
                billing_metrics, "gudang_entrypoint_calls_total", entrypoint="on_parcel_delivered"
            )
        except requests.RequestException:  # a billing busy with its backlog answers late
            settled = 0
        if settled >= run.delivered_seen:
            break
        eventlet.sleep(0.5)
    stop.send(True)
    couriers.waitall()
    for thread in threads:
        thread.wait()
    return steps, cod_delivered, idle


def read_cod_fees(data_dir):
    """posted_at of each COD fee, by order, straight from billing's ledger (after the run)."""
    from gudang_common.store import open_database

    client, db = open_database({"DATA_DIR": str(data_dir), "MONGO_URI": ""}, "billing")
    try:
        return {
            p["ref"]: epoch(p["posted_at"])
            for p in db.postings.find({"kind": "cod_fee"}, {"ref": 1, "posted_at": 1})
        }
    finally:
        client.close()


def summarise(steps, run, fees):
    """(the highest bounded step or None, {step index: stage figures})."""
    bounded = [s for s in steps if s["bounded"]]
    best = max(bounded, key=lambda s: s["rate"]) if bounded else None
    return best, {s["index"]: stages_of(s, run, fees) for s in steps}


def stages_of(step, run, fees):
    orders = [o for o in run.orders.values() if o.step == step["index"]]
    ev = run.events

    def stage(fn):
        values = []
        for o in orders:
            try:
                values.append(fn(o, ev.get(o.order_id, {})))
            except KeyError:
                values.append(None)
        return stage_figures(values)

    return {
        "intake (send to 202)": stage(lambda o, e: o.answered - o.sent),
        "sent to allocated (includes intake)": stage(lambda o, e: e["order_allocated"] - o.sent),
        "allocated to pick list": stage(
            lambda o, e: (o.pick_list_at or None) and o.pick_list_at - e["order_allocated"]
        ),
        "pick list to packed (packer's work)": stage(
            lambda o, e: (o.pick_list_at or None) and e["order_packed"] - o.pick_list_at
        ),
        "packed to AWB": stage(lambda o, e: e["parcel_booked"] - e["order_packed"]),
        "AWB to delivered (courier's three reports)": stage(
            lambda o, e: e["parcel_delivered"] - e["parcel_booked"]
        ),
        "delivered to fees posted (COD)": stage(
            lambda o, e: fees[o.order_id] - e["parcel_delivered"] if o.cod else None
        ),
        "end to end (send to delivered)": stage(lambda o, e: e["parcel_delivered"] - o.sent),
    }


def report(args, steps, run, base_rate, summary, load, cod_delivered, fees, idle):
    out = []
    out.append(
        "| rate (orders/s) | orders | backlog at end | backlog growth (judged window) | late sends | bounded |"
    )
    out.append("|---|---|---|---|---|---|")
    for s in steps:
        out.append(
            f"| {s['rate']:g} | {s['orders']:,} | {s['backlog_end']:,} | "
            f"{s['backlog_growth']:+.2f} orders/s over {s['window_seconds']:.0f} s | "
            f"{s['late']} (worst {s['worst_late'] * 1000:.0f} ms) | "
            f"{'yes' if s['bounded'] else 'no'} |"
        )
    out.append("")
    best, stages = summary
    # the best step beside the one after it: where the time goes once the platform falls behind
    shown = [s for s in steps if best is None or s["index"] in (best["index"], best["index"] + 1)]
    out.append("Stage latencies of the orders sent in each step, p50 / p99:")
    out.append("")
    out.append("| stage | " + " | ".join(f"at {s['rate']:g} orders/s" for s in shown) + " |")
    out.append("|---|" + "---|" * len(shown))
    for name in stages[shown[0]["index"]]:
        cells = []
        for s in shown:
            fig = stages[s["index"]][name]
            cells.append(
                "-" if fig is None else f"{fig['p50']:,.0f} / {fig['p99']:,.0f} ms ({fig['n']:,})"
            )
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    out.append("")
    if run.errors:  # a refused request is work the platform did not do: never hidden
        out.append(f"{len(run.errors)} errors, first: {run.errors[:3]}")
        out.append("")
    if best is None:
        out.append("No step was bounded: lower the first rate.")
        return "\n".join(out)
    rate = best["rate"]
    e2e_events = rate * DELIVERIES_PER_ORDER
    out.append("| figure | value |")
    out.append("|---|---|")
    out.append(f"| highest rate with a bounded backlog | **{rate:g} orders/s** |")
    out.append(f"| raw nameko event rate (same run) | {base_rate:,.0f} events/s |")
    out.append(
        f"| event deliveries at that rate ({DELIVERIES_PER_ORDER} per order) | "
        f"{e2e_events:,.0f}/s = **{e2e_events / base_rate:.2f} x** the raw nameko rate |"
    )
    out.append(
        f"| COD parcels delivered / COD fees posted (whole run) | {cod_delivered:,} / {len(fees):,} |"
    )
    out.append(f"| machine load average (1 min) before / after | {load[0]} / {load[1]} |")
    out.append("")
    window = best["window_orders"] or 1
    seconds = best["window_seconds"] or 1
    out.append(
        f"CPU at {rate:g} orders/s over the judged {seconds:.0f} s ({best['window_orders']:,} orders):"
    )
    out.append("")
    out.append("| process | CPU ms per order | share of one core |")
    out.append("|---|---|---|")
    cpu = best["cpu"]
    platform_total = 0.0
    for label in [*SERVICES, "rabbitmq (beam.smp)"]:
        platform_total += cpu[label]
        out.append(
            f"| {label} | {cpu[label] * 1000 / window:.1f} | {cpu[label] / seconds * 100:.0f} % |"
        )
    out.append(
        f"| **platform total** | **{platform_total * 1000 / window:.1f}** | "
        f"{platform_total / seconds * 100:.0f} % |"
    )
    gen = cpu["load generator"]
    out.append(
        f"| load generator (apart) | {gen * 1000 / window:.1f} | {gen / seconds * 100:.0f} % |"
    )
    beam_idle = idle["rabbitmq (beam.smp)"]
    beam_net = cpu["rabbitmq (beam.smp)"] - beam_idle * seconds
    out.append(
        f"| rabbitmq while this platform idled ({args.idle_seconds:g} s before the steps) | - | "
        f"{beam_idle * 100:.0f} % |"
    )
    out.append(
        f"| rabbitmq less that idle share (this platform's part, roughly) | "
        f"{beam_net * 1000 / window:.1f} | {beam_net / seconds * 100:.0f} % |"
    )
    other = cpu["_machine"] - platform_total - gen
    out.append(f"| everything else on the machine | - | {other / seconds * 100:.0f} % |")
    return "\n".join(out)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--rates",
        type=lambda s: [float(r) for r in s.split(",")],
        default=[5, 10, 15, 20, 25, 30, 35, 40],
        help="orders/s of each step, comma-separated",
    )
    parser.add_argument("--step-seconds", type=float, default=40)
    parser.add_argument(
        "--judge", type=float, default=0.5, help="the last part of a step that is judged"
    )
    parser.add_argument("--packers", type=int, default=8)
    parser.add_argument(
        "--couriers", type=int, default=500, help="parcels on their way at once, at most"
    )
    parser.add_argument(
        "--packer-idle", type=float, default=0.5, help="an idle packer's pause before asking again"
    )
    parser.add_argument("--events", type=int, default=3000, help="events for the nameko baseline")
    parser.add_argument("--drain-seconds", type=float, default=120)
    parser.add_argument(
        "--idle-seconds", type=float, default=5, help="CPU sampled with no orders, first"
    )
    parser.add_argument("--all-steps", action="store_true", help="go on after an unbounded step")
    parser.add_argument(
        "--port-offset", type=int, default=30000, help="added to every service's HTTP port"
    )
    args = parser.parse_args(argv)

    load_before = os.getloadavg()[0]
    print(f"baseline: raw nameko events, {args.events} events ...", flush=True)
    base_rate = baseline_nameko_events(args.events)
    print(f"  {base_rate:,.0f} events/s", flush=True)

    total = int(sum(r * args.step_seconds for r in args.rates))
    run = Run()

    def env_of(vhost):
        return platform_env(
            vhost, WEBHOOK_ALLOWED_HOSTS="127.0.0.1", MONGO_URI="", **NO_RATE_LIMITS
        )

    with private_platform("gudang-bench-steady", env_of, args.port_offset) as (plat, _):
        api = Api(plat.url("gateway"))
        world = register_world(api, ADMIN_KEY, skus=10, units=total // 10 + 50)
        steps, cod_delivered, idle = run_steps(args, plat, world, run, {"secret": b""})
    fees = read_cod_fees(plat.data_dir)  # once the services have stopped
    load_after = os.getloadavg()[0]
    summary = summarise(steps, run, fees)
    text = report(
        args,
        steps,
        run,
        base_rate,
        summary,
        (f"{load_before:.1f}", f"{load_after:.1f}"),
        cod_delivered,
        fees,
        idle,
    )
    print()
    print(text)
    rates = ",".join(f"{r:g}" for r in args.rates)
    print(
        f"\ncommand: python -m scripts.bench_steady --rates {rates} --step-seconds {args.step_seconds:g} "
        f"--packers {args.packers} --couriers {args.couriers} --events {args.events}"
    )
    return {"steps": steps, "summary": summary, "base_rate": base_rate, "run": run, "fees": fees}


if __name__ == "__main__":
    main()
