"""Fault report: crash, cut and confuse the platform under a steady order flow, then count the damage.

    make chaos                          # 150 orders, writes docs/reliability.md
    .venv/bin/python -m scripts.chaos --orders 60 --write /tmp/reliability.md

A merchant pushes orders (retrying each with the same ``external_id``, which makes a resent
POST /orders safe), a packer works pick lists, a courier reports every parcel with signed
webhooks (some delivered, some failed and returned, each with replays and reports out of
order). Meanwhile every service is killed with SIGKILL and started again (the gateway in the
middle of intake), RabbitMQ drops every AMQP connection of the run's vhost, and slow clients hold
connections to the gateway open with half-sent bodies. Then it counts what the platform lost,
duplicated, left stuck, charged twice or credited wrongly, how far stock drifted from its
movements and from what was shipped, and what sits in the dead-letter queues.

Everything runs on this machine: a private RabbitMQ vhost and a temp data directory per run.
The exit status is 1 when a count that must be 0 is not.
The end-to-end suite runs a short version (tests/test_e2e_chaos.py).
"""

import argparse
import socket
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from scripts.rabbit import cut_connections, queue_depth
from scripts.simulate import (
    PACKAGE,
    Api,
    courier_update,
    order_body,
    pick_by_scan,
    register_world,
)
from scripts.supervisor import SERVICE_NAMES, private_platform

FINAL = ("delivered", "returned", "cancelled", "rejected")
COD = 50_000


# --- clients that keep trying, as real ones do ------------------------------------------------
def _transient(status):
    return status in (502, 503, 504)


def persist(call, deadline, stop=None):
    """Run ``call()`` (-> (status, payload)) until it answers something other than a refused
    connection or a 502/503/504, or ``deadline`` passes. Returns (status, payload) or None."""
    while time.monotonic() < deadline and not (stop and stop.is_set()):
        try:
            status, payload = call()
        except requests.RequestException:
            time.sleep(0.2)
            continue
        if not _transient(status):
            return status, payload
        time.sleep(0.2)
    return None


def checked_at_station(api, staff, order_id, stop=None):
    """Scan the order's units again at the pack station through the faults: the station
    keeps what was checked, so after a lost answer the order is opened again to see."""
    deadline = time.monotonic() + 30
    body, path = {"code": order_id}, f"/warehouse/orders/{order_id}/verify"
    while time.monotonic() < deadline:
        opened = persist(
            lambda: api.request("POST", "/warehouse/pack-station/open", staff, body), deadline, stop
        )
        if not opened or opened[0] != 200:
            return False
        todo = [i for i in opened[1]["items"] if i["verified"] < i["qty"]]
        if not todo:
            return True
        scan = {"code": todo[0]["sku"], "qty": todo[0]["qty"] - todo[0]["verified"]}
        persist(lambda scan=scan: api.request("POST", path, staff, scan), deadline, stop)
    return False


def _stamp(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class Run:
    """What the clients did and saw during one chaos run."""

    orders: int
    accepted: dict = field(default_factory=dict)  # external_id -> order_id
    refused: dict = field(default_factory=dict)  # external_id -> last answer
    resends: int = 0  # POST /orders sent again after no answer or a 5xx
    packed: set = field(default_factory=set)
    reported: set = field(default_factory=set)  # order_ids whose courier reports were all sent
    returned: set = field(default_factory=set)  # order_ids the courier returned
    reports: int = 0
    replays: int = 0
    out_of_order: int = 0
    contradicting: int = 0
    kills: list = field(default_factory=list)
    connections_cut: int = 0
    slow_connections: int = 0
    slow_probe_worst: float = 0.0
    slow_probe_failed: int = 0
    errors: list = field(default_factory=list)


@dataclass
class Chaos:
    """One fault run against a running platform; `execute()` returns its Run."""

    platform: object
    api: object
    admin_key: str
    courier_secret: str
    vhost: str
    orders: int = 150
    slow_connections: int = 40
    slow_seconds: float = 8.0
    settle_seconds: float = 240.0
    order_interval: float = 0.1
    log: Callable[[str], None] = print

    def __post_init__(self):
        self.run = Run(self.orders)
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def client(self):
        # one HTTP session per thread: requests does not promise a shared one is thread-safe
        return Api(self.platform.url("gateway"))

    # --- the actors ----------------------------------------------------------------------------
    def returns_parcel(self, n):
        return n % 5 == 4

    def merchant(self):
        api = self.client()
        key = self.world.merchant["api_key"]
        for n in range(self.orders):
            # the same body on every retry: its external_id makes a lost answer safe to resend
            body = order_body(
                self.world, n, cod_amount=COD if n % 3 == 0 or self.returns_parcel(n) else 0
            )
            attempts = []

            def post(body=body, attempts=attempts):
                attempts.append(1)
                return api.request("POST", "/orders", key, body)

            answer = persist(post, time.monotonic() + 120, self.stop)
            with self.lock:
                self.run.resends += max(0, len(attempts) - 1)
                if answer and answer[0] in (200, 201, 202):
                    self.run.accepted[body["external_id"]] = answer[1]["order_id"]
                    self.numbers[answer[1]["order_id"]] = n
                else:
                    self.run.refused[body["external_id"]] = answer
            # a steady flow that lasts through the faults, not one burst before them
            time.sleep(self.order_interval)

    def packer(self):
        api = self.client()
        staff = self.world.staff["api_key"]
        while not self.stop.is_set():
            got = persist(
                lambda: api.request("GET", "/warehouse/pick-lists/next", staff),
                time.monotonic() + 30,
                self.stop,
            )
            pick_list = got and got[0] == 200 and got[1]["pick_list"]
            if not pick_list:
                time.sleep(0.3)
                continue
            try:
                scanned = pick_by_scan(api, staff, pick_list)
            except requests.RequestException:
                scanned = False
            if not scanned:  # read the list again: what was scanned stays counted
                time.sleep(0.3)
                continue
            path = f"/warehouse/pick-lists/{pick_list['pick_list_id']}/picked"
            picked = persist(
                lambda path=path: api.request("POST", path, staff), time.monotonic() + 30
            )
            if not picked:
                continue
            for order in pick_list["orders"]:
                if order["status"] != "picking":
                    continue
                checked_at_station(api, staff, order["order_id"], self.stop)
                path = f"/warehouse/orders/{order['order_id']}/pack"
                answer = persist(
                    lambda path=path: api.request("POST", path, staff, PACKAGE),
                    time.monotonic() + 30,
                    self.stop,
                )
                if answer and answer[0] in (200, 202):
                    with self.lock:
                        self.run.packed.add(order["order_id"])
                elif answer:
                    self.run.errors.append(f"pack {order['order_id']}: {answer}")

    def courier(self):
        api = self.client()
        key = self.world.merchant["api_key"]
        while not self.stop.is_set():
            with self.lock:
                unreported = sorted(self.run.packed - self.run.reported)
            if not unreported:
                time.sleep(0.3)
                continue
            for order_id in unreported:
                got = persist(
                    lambda order_id=order_id: api.request("GET", f"/orders/{order_id}", key),
                    time.monotonic() + 30,
                    self.stop,
                )
                if not got or got[0] != 200 or not got[1].get("awb"):
                    continue
                self.report_parcel(api, order_id, got[1]["awb"], got[1]["courier"])

    def report_parcel(self, api, order_id, awb, courier):
        """The courier's reports for one parcel, with the mess real couriers make."""
        t0 = datetime.now(UTC) - timedelta(minutes=30)
        at = [_stamp(t0 + timedelta(minutes=i)) for i in range(5)]
        if self.returns_parcel(self.numbers[order_id]):
            sends = [
                ("picked_up", at[0], None),
                ("returned", at[3], None),  # arrives before the failure that led to it
                ("failed", at[1], "alamat tidak ditemukan"),  # late, out of order
                ("returned", at[3], None),  # replayed
                ("delivered", at[4], None),  # contradicts the final state: announces nothing
            ]
            self.run.out_of_order += 1
            self.run.contradicting += 1
            self.run.replays += 1
        else:
            sends = [
                ("picked_up", at[0], None),
                ("delivered", at[2], None),  # before in_transit arrives
                ("in_transit", at[1], None),  # late, out of order
                ("delivered", at[2], None),  # replayed
                ("picked_up", at[0], None),  # replayed, late
            ]
            self.run.out_of_order += 1
            self.run.replays += 2
        for status, when, reason in sends:
            answer = persist(
                lambda status=status, when=when, reason=reason: courier_update(
                    api, self.courier_secret, courier, awb, status, reason=reason, occurred_at=when
                ),
                time.monotonic() + 60,
                self.stop,
            )
            if answer is None:
                return
            if answer[0] != 200:
                self.run.errors.append(f"courier {status} {awb}: {answer}")
            self.run.reports += 1
        with self.lock:
            self.run.reported.add(order_id)
            if self.returns_parcel(self.numbers[order_id]):
                self.run.returned.add(order_id)

    # --- the faults ----------------------------------------------------------------------------
    def kill(self, name):
        self.platform.kill9(name)
        self.platform.start(name)
        self.platform.wait_healthy(name, timeout=90)
        self.run.kills.append(name)
        self.log(f"  kill -9 {name}: back")

    def cut(self):
        # the management API lists a new connection only once its first stats are in (seconds)
        deadline = time.monotonic() + 15
        count = cut_connections(self.vhost)
        while not count and time.monotonic() < deadline:
            time.sleep(1)
            count = cut_connections(self.vhost)
        self.run.connections_cut += count
        self.log(f"  cut {count} AMQP connections")

    def slow_clients(self):
        """Connections that send half a request and wait; the gateway must keep answering."""
        host, port = "127.0.0.1", self.platform.port("gateway")
        key = self.world.merchant["api_key"]
        socks = []
        for _ in range(self.slow_connections):
            try:
                sock = socket.create_connection((host, port), timeout=5)
                # signed in, so the gateway gets as far as reading the body it will not get
                sock.sendall(
                    b"POST /api/v1/orders HTTP/1.1\r\nHost: gudang\r\n"
                    + f"Authorization: Bearer {key}\r\n".encode()
                    + b"Content-Type: application/json\r\nContent-Length: 4096\r\n\r\n"
                    + b'{"external_id": "slow'
                )
                socks.append(sock)
            except OSError:
                break
        self.run.slow_connections = len(socks)
        worst, failed = 0.0, 0
        deadline = time.monotonic() + self.slow_seconds
        try:
            while time.monotonic() < deadline:
                started = time.monotonic()
                try:
                    ok = requests.get(self.platform.url("gateway") + "/health", timeout=10).ok
                except requests.RequestException:
                    ok = False
                worst = max(worst, time.monotonic() - started)
                failed += not ok
                time.sleep(0.25)
        finally:
            for sock in socks:
                sock.close()
        self.run.slow_probe_worst, self.run.slow_probe_failed = worst, failed
        self.log(
            f"  {len(socks)} slow connections held: /health worst {worst:.2f}s, {failed} failed"
        )

    def accepted_share(self):
        with self.lock:
            return (len(self.run.accepted) + len(self.run.refused)) / self.orders

    def wait_for_share(self, share):
        while self.accepted_share() < share and not self.stop.is_set():
            time.sleep(0.05)

    # --- the run -------------------------------------------------------------------------------
    def execute(self):
        self.log(f"chaos: {self.orders} orders")
        self.world = register_world(self.api, self.admin_key, skus=4, units=self.orders)
        self.units_received = {sku: self.orders for sku in self.world.skus}
        self.numbers = {}
        actors = [
            threading.Thread(target=f, daemon=True)
            for f in (self.merchant, self.packer, self.courier)
        ]
        started = time.monotonic()
        for thread in actors:
            thread.start()
        try:
            self.wait_for_share(0.25)
            self.kill("gateway")  # in the middle of intake
            for share, victim in ((0.4, "inventory"), (0.55, "packing"), (0.7, "shipping")):
                self.wait_for_share(share)
                self.kill(victim)
            self.cut()
            self.wait_for_share(0.85)
            self.kill("billing")
            self.slow_clients()
            self.cut()
            actors[0].join()
            self.kill("shipping")  # while courier reports arrive
            self.settle()
        finally:
            self.stop.set()
            for thread in actors:
                thread.join(timeout=60)
        self.elapsed = time.monotonic() - started
        return self.count()

    def settle(self):
        """Wait until every accepted order reached a final state and every inspected return's
        units are back on the shelf, inspecting returns on the way."""
        deadline = time.monotonic() + self.settle_seconds
        while time.monotonic() < deadline:
            self.inspect_returns()
            with self.lock:
                pending = set(self.run.accepted.values()) - self.run.reported
            if not pending and not self.not_final() and not self.not_restocked():
                return
            time.sleep(1)

    def not_restocked(self):
        """Inspected returns whose restock has not landed yet: inventory restocks on its own
        return_inspected event, which travels through the broker after the inspection's answer."""
        staff, key = self.world.staff["api_key"], self.world.merchant["api_key"]
        got = persist(
            lambda: self.api.request("GET", "/warehouse/returns?status=inspected", staff),
            time.monotonic() + 30,
        )
        waiting = set()
        for ret in got[1]["returns"] if got and got[0] == 200 else []:
            moves = persist(
                lambda oid=ret["order_id"]: self.api.request(
                    "GET", f"/movements?ref={oid}&limit=100", key
                ),
                time.monotonic() + 30,
            )
            listed = moves[1]["movements"] if moves and moves[0] == 200 else []
            if not any(m["type"] == "return" for m in listed):
                waiting.add(ret["return_id"])
        return waiting

    def not_final(self):
        statuses = self.statuses()
        return {oid for oid in self.run.accepted.values() if statuses.get(oid) not in FINAL}

    def inspect_returns(self):
        staff = self.world.staff["api_key"]
        got = persist(
            lambda: self.api.request("GET", "/warehouse/returns?status=awaiting_inspection", staff),
            time.monotonic() + 30,
        )
        for ret in got[1]["returns"] if got and got[0] == 200 else []:
            lines = {}
            for line in ret["lines"]:
                lines[line["sku"]] = lines.get(line["sku"], 0) + line["qty"]
            body = {
                "lines": [
                    {"sku": sku, "qty_good": qty, "qty_damaged": 0} for sku, qty in lines.items()
                ]
            }
            path = f"/warehouse/returns/{ret['return_id']}/inspect"
            persist(
                lambda path=path, body=body: self.api.request("POST", path, staff, body),
                time.monotonic() + 30,
            )

    # --- counting ------------------------------------------------------------------------------
    def orders_listed(self):
        """Every order the gateway holds for the merchant (the list answers 200 at most per call,
        so one call per status)."""
        key = self.world.merchant["api_key"]
        found = {}
        for status in (
            "received",
            "backordered",
            "allocated",
            "picked",
            "packed",
            "booked",
            "dispatched",
            "in_transit",
            "delivery_failed",
            "delivered",
            "returned",
            "rejected",
            "cancelled",
        ):
            got = persist(
                lambda status=status: self.api.request(
                    "GET", f"/orders?status={status}&limit=200", key
                ),
                time.monotonic() + 30,
            )
            for order in got[1]["orders"] if got and got[0] == 200 else []:
                found[order["order_id"]] = order
        return found

    def statuses(self):
        return {oid: o["status"] for oid, o in self.orders_listed().items()}

    def count(self):
        run = self.run
        key = self.world.merchant["api_key"]
        listed = self.orders_listed()
        accepted = set(run.accepted.values())
        per_external = Counter(o["external_id"] for o in listed.values())
        lost = sorted(accepted - set(listed))
        duplicated = sum(n - 1 for n in per_external.values() if n > 1)
        stuck = sorted(oid for oid in accepted if listed.get(oid, {}).get("status") not in FINAL)
        status = {oid: o["status"] for oid, o in listed.items()}

        wallet = persist(
            lambda: self.api.request("GET", "/wallet?limit=1000", key), time.monotonic() + 30
        )
        entries = wallet[1]["entries"] if wallet and wallet[0] == 200 else []
        per_cause = Counter((e["kind"], e["ref"]) for e in entries)
        double = sum(n - 1 for n in per_cause.values() if n > 1)
        wrong_cod = sorted(
            e["ref"]
            for e in entries
            if e["kind"] == "cod_collected" and status.get(e["ref"]) != "delivered"
        )
        missing_cod = sorted(
            oid
            for oid, n in self.numbers.items()
            if status.get(oid) == "delivered"
            and (n % 3 == 0 or self.returns_parcel(n))
            and ("cod_collected", oid) not in per_cause
        )

        shipped = Counter()
        for oid, order in listed.items():
            if oid in accepted and order["status"] in ("delivered", "returned"):
                for line in self.order_lines(oid):
                    shipped[line["sku"]] += line["qty"]
        back = Counter()
        staff = self.world.staff["api_key"]
        got = persist(
            lambda: self.api.request("GET", "/warehouse/returns?status=inspected", staff),
            time.monotonic() + 30,
        )
        for ret in got[1]["returns"] if got and got[0] == 200 else []:
            for line in ret["lines"]:
                back[line["sku"]] += line["qty"]
        drift_expected = drift_ledger = reserved = 0
        stock = persist(lambda: self.api.request("GET", "/stock", key), time.monotonic() + 30)
        for level in stock[1]["stock"] if stock and stock[0] == 200 else []:
            sku = level["sku"]
            expected = self.units_received.get(sku, 0) - shipped[sku] + back[sku]
            drift_expected += abs(level["on_hand"] - expected)
            moves = persist(
                lambda sku=sku: self.api.request("GET", f"/movements?sku={sku}&limit=1000", key),
                time.monotonic() + 30,
            )
            ledger = (
                sum(m["qty"] for m in moves[1]["movements"]) if moves and moves[0] == 200 else 0
            )
            drift_ledger += abs(level["on_hand"] - ledger)
            reserved += level["reserved"]
        dead = {name: queue_depth(self.vhost, f"{name}.dlq") for name in SERVICE_NAMES}
        return {
            "orders": run.orders,
            "settle_seconds": self.settle_seconds,
            "accepted": len(accepted),
            "not accepted": len(run.refused),
            "resends": run.resends,
            "lost": len(lost),
            "duplicated": duplicated,
            "stuck": len(stuck),
            "double charges": double,
            "COD credited, not delivered": len(wrong_cod),
            "COD missing, delivered": len(missing_cod),
            "stock drift vs expected": drift_expected,
            "stock drift vs ledger": drift_ledger,
            "reserved left": reserved,
            "dead letters": sum(dead.values()),
            "dead letters by service": dead,
            "delivered": sum(1 for oid in accepted if status.get(oid) == "delivered"),
            "returned": sum(1 for oid in accepted if status.get(oid) == "returned"),
            "kills": list(run.kills),
            "connections cut": run.connections_cut,
            "courier reports": run.reports,
            "replayed": run.replays,
            "out of order": run.out_of_order,
            "contradicting": run.contradicting,
            "slow connections": run.slow_connections,
            "slow /health worst s": round(run.slow_probe_worst, 2),
            "slow /health failed": run.slow_probe_failed,
            "client errors": list(run.errors[:10]),
            "lost ids": lost[:10],
            "stuck ids": [(oid, listed.get(oid, {}).get("status")) for oid in stuck[:10]],
            "wrong COD ids": wrong_cod[:10],
        }

    def order_lines(self, order_id):
        key = self.world.merchant["api_key"]
        got = persist(
            lambda: self.api.request("GET", f"/orders/{order_id}", key), time.monotonic() + 30
        )
        return got[1]["lines"] if got and got[0] == 200 else []


# --- the report --------------------------------------------------------------------------------
ROWS = (
    ("orders sent", "orders", "each POST /orders retried with its external_id until answered"),
    ("accepted (201/202, or 200 for a resend)", "accepted", ""),
    ("not accepted", "not accepted", "the client gave up after 120 s of refusals"),
    ("POST /orders resent", "resends", "no answer or 502/503/504: sent again, same external_id"),
    ("**lost** (accepted, then unknown)", "lost", "must be 0"),
    ("**duplicated** (two orders for one external_id)", "duplicated", "must be 0"),
    ("**stuck** (not delivered or returned at the end)", "stuck", "must be 0"),
    ("**double charges** (two wallet entries, one cause)", "double charges", "must be 0"),
    ("COD credited for a parcel not delivered", "COD credited, not delivered", "must be 0"),
    ("COD missing for a delivered parcel", "COD missing, delivered", "must be 0"),
    ("stock drift vs shipped and returned (units)", "stock drift vs expected", "must be 0"),
    ("stock drift vs movement ledger (units)", "stock drift vs ledger", "must be 0"),
    ("units still reserved", "reserved left", "must be 0"),
    ("dead letters (all `<service>.dlq`)", "dead letters", ""),
    ("delivered / returned", None, ""),
    ("services killed with SIGKILL", None, ""),
    ("AMQP connections cut", "connections cut", "DELETE /api/connections/{name}, run's vhost"),
    ("courier reports sent", "courier reports", "signed webhooks"),
    ("of which replays / out of order / contradicting a final state", None, ""),
    ("slow connections held against the gateway", "slow connections", "half-sent POST bodies"),
    (
        "gateway /health meanwhile: slowest answer (s)",
        "slow /health worst s",
        "probed every 0.25 s",
    ),
    ("gateway /health meanwhile: failed (10 s timeout)", "slow /health failed", "must be 0"),
)


def table(result):
    lines = ["| measure | count | note |", "|---|---:|---|"]
    for label, key, note in ROWS:
        if key is not None:
            value = result[key]
        elif label.startswith("delivered"):
            value = f"{result['delivered']} / {result['returned']}"
        elif label.startswith("services killed"):
            value = len(result["kills"])
            note = ", ".join(result["kills"])
        else:
            value = f"{result['replayed']} / {result['out of order']} / {result['contradicting']}"
        lines.append(f"| {label} | {value} | {note} |")
    return "\n".join(lines)


def failures(result):
    """The measures that must be 0 and are not."""
    return {key: result[key] for _, key, note in ROWS if note == "must be 0" and result[key]}


def markdown(result, command, elapsed):
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    bad = failures(result)
    verdict = (
        "Every measure that must be 0 is 0."
        if not bad
        else "Not 0 where it must be: " + ", ".join(f"{k} = {v}" for k, v in bad.items()) + "."
    )
    dead = ", ".join(f"{k} {v}" for k, v in result["dead letters by service"].items())
    return f"""# Reliability: the fault report

Measured with `{command}` on {when} (flow and faults: {elapsed:.0f} s) on the development machine (2 cores,
RabbitMQ on localhost, the five services as real processes on the embedded store). Anyone can
rerun it: `make chaos` rewrites this page.

What the run does (scripts/chaos.py): a merchant sends orders one after another, retrying each
with the same `external_id` until it is answered; a packer works pick lists; a courier reports
every packed parcel with signed webhooks: four in five delivered, one in five failed and
returned, every parcel with reports replayed and arriving out of order, and every returned
parcel with a late `delivered` that contradicts its final state. Meanwhile the gateway is
killed with SIGKILL in the middle of intake, then inventory, packing, shipping and billing,
and shipping once more while courier reports arrive; RabbitMQ closes every AMQP connection of
the run's vhost twice; {result["slow connections"]} clients hold connections to the gateway open with
half-sent request bodies. Returned parcels are inspected (all units good) before counting, and
the count waits until each inspected return's units are back in stock (`GET /movements?ref=`
shows its `return` movement): the restock follows the inspection through the broker.

{table(result)}

{verdict}

Dead letters per service: {dead}.
The console shows the ids behind any count that is not 0.

How each measure is counted: *lost*: accepted order ids the gateway no longer lists;
*duplicated*: orders beyond the first per `external_id`; *stuck*: accepted orders not in a final
state (delivered, returned, cancelled, rejected) when the run ends (it waits for them, and for
the restock of inspected returns, up to {int(result["settle_seconds"])} s after the last fault);
*double charges*: wallet entries (`GET /wallet`) of the same kind for the same cause beyond the
first; *COD credited for a parcel not delivered*: `cod_collected` entries of orders whose final
state is not delivered; *stock drift vs shipped and returned*: per SKU, |on hand - (received -
units of delivered or returned orders + units back from inspected returns)|; *stock drift vs
movement ledger*: per SKU, |on hand - sum of `GET /movements`|; *dead letters*: messages in the
`<service>.dlq` queues (RabbitMQ management API).
"""


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m scripts.chaos", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--orders", type=int, default=150, help="orders to send (at most 190)")
    parser.add_argument("--slow-connections", type=int, default=40)
    parser.add_argument("--slow-seconds", type=float, default=8.0)
    parser.add_argument("--settle-seconds", type=float, default=240.0)
    parser.add_argument(
        "--port-offset", type=int, default=20000, help="added to every service port"
    )
    parser.add_argument("--write", default=None, help="write the report to this Markdown file")
    args = parser.parse_args(argv)
    if not 1 <= args.orders <= 190:
        parser.error("--orders must be from 1 to 190 (the order list answers 200 per status)")
    sys.stdout.reconfigure(line_buffering=True)

    admin_key, secret = f"chaos-admin-{uuid.uuid4().hex}", f"chaos-courier-{uuid.uuid4().hex}"

    def env_of(vhost):
        return {
            "AMQP_URI": f"pyamqp://guest:guest@localhost:5672/{vhost}",
            "GUDANG_ADMIN_KEY": admin_key,
            "GUDANG_COURIER_SECRET": secret,
            "GUDANG_PAYMENT_CALLBACK_TOKEN": secret,
            "EVENT_RETRY_DELAY_SECONDS": "0.05",
        }

    with private_platform("gudang-chaos", env_of, args.port_offset) as (plat, vhost):
        print(f"logs in {plat.log_dir}")
        chaos = Chaos(
            plat,
            Api(plat.url("gateway")),
            admin_key,
            secret,
            vhost,
            orders=args.orders,
            slow_connections=args.slow_connections,
            slow_seconds=args.slow_seconds,
            settle_seconds=args.settle_seconds,
        )
        result = chaos.execute()
    print(table(result))
    bad = failures(result)
    for key in ("lost ids", "stuck ids", "wrong COD ids", "client errors"):
        if result[key]:
            print(f"{key}: {result[key]}")
    if args.write:
        command = (
            "make chaos"
            if argv is None and args.orders == 150
            else "python -m scripts.chaos " + " ".join(argv or sys.argv[1:])
        )
        Path(args.write).write_text(markdown(result, command, chaos.elapsed))
        print(f"written to {args.write}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
