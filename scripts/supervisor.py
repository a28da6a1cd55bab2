"""Run the five Gudang services as local processes.

As a library (tests use it to start, kill and restart real service processes)::

    from scripts.supervisor import Platform

    with Platform(root, data_dir=tmp / "data", env={"AMQP_URI": uri}, log_dir=tmp / "log") as p:
        p.start_all()               # start the five and wait until each answers GET /health
        p.kill9("inventory")        # crash one
        p.restart("inventory")      # start it again and wait until healthy
    # leaving the block stops every process (SIGTERM, then SIGKILL after 15 s)

As a command::

    python -m scripts.supervisor run      # start all, seed a demo world once, wait for Ctrl-C

``run`` keeps the services up: a service that dies is reported (with the tail of its log) and
started again after a pause that doubles from 1 s to 30 s while it keeps dying; only Ctrl-C or
SIGTERM stops everything. It also runs a local Prometheus (scripts/prometheus.py) scraping them.

Every service is started as ``nameko run --config <config.yml> <module>`` from the repository
root, in its own process group, with stdout and stderr in ``<log_dir>/<service>.log``.
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_AMQP_URI = "pyamqp://guest:guest@localhost:5672/"
DEFAULT_MANAGEMENT_URI = "http://guest:guest@localhost:15672/"
STOP_TIMEOUT = 15.0


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    config: str  # path of the nameko config file, relative to the repository root
    module: str  # module holding the nameko service class
    port: int  # HTTP port from config.yml (health, metrics; the public API on the gateway)

    @property
    def command(self) -> list[str]:
        """The command line, as docker-compose.yml and the Kubernetes manifests use it too."""
        return ["nameko", "run", "--config", self.config, self.module]


SERVICES: dict[str, ServiceSpec] = {
    spec.name: spec
    for spec in (
        ServiceSpec("gateway", "gateway/config.yml", "gateway.service", 8000),
        ServiceSpec("inventory", "services/inventory/config.yml", "inventory.service", 8101),
        ServiceSpec("packing", "services/packing/config.yml", "packing.service", 8102),
        ServiceSpec("shipping", "services/shipping/config.yml", "shipping.service", 8103),
        ServiceSpec("billing", "services/billing/config.yml", "billing.service", 8104),
    )
}
SERVICE_NAMES: tuple[str, ...] = tuple(SERVICES)


def command(name: str) -> list[str]:
    """``nameko run ...`` argv for a service (with the bare ``nameko`` name)."""
    return SERVICES[name].command


class PlatformError(RuntimeError):
    """A service could not be started, or did not become healthy."""


class ServiceDied(PlatformError):
    def __init__(self, name: str, returncode: int | None, log_tail: str):
        self.name = name
        self.returncode = returncode
        self.log_tail = log_tail
        super().__init__(
            f"service {name!r} exited with code {returncode}; last lines of its log:\n{log_tail}"
        )


def _port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class Platform:
    """Start, stop, crash and restart the five service processes.

    ``root``     repository root (cwd of every process; config paths are relative to it)
    ``data_dir`` exported as GUDANG_DATA_DIR (relative paths are relative to ``root``)
    ``env``      extra environment on top of os.environ (e.g. AMQP_URI with a per-test vhost);
                 it wins over everything else
    ``log_dir``  one ``<service>.log`` per service, appended to across restarts
    ``ports``    optional {service: port} overrides, passed as WEB_SERVER_ADDRESS
    """

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        data_dir: str | os.PathLike | None = None,
        env: dict[str, str] | None = None,
        log_dir: str | os.PathLike | None = None,
        ports: dict[str, int] | None = None,
        nameko: str | os.PathLike | None = None,
    ):
        self.root = Path(root or REPO_ROOT).resolve()
        if data_dir is None:
            data_dir = os.environ.get("GUDANG_DATA_DIR") or "var/data"
        self.data_dir = self._under_root(data_dir)
        self.log_dir = self._under_root(log_dir or "var/log")
        self.extra_env = {k: str(v) for k, v in (env or {}).items()}
        self._ports = {name: spec.port for name, spec in SERVICES.items()}
        self._port_overrides = dict(ports or {})
        self._ports.update(self._port_overrides)
        self.nameko = str(nameko) if nameko else self._find_nameko()
        self._procs: dict[str, subprocess.Popen] = {}

    # --- helpers ------------------------------------------------------------------------------
    def _under_root(self, path: str | os.PathLike) -> Path:
        path = Path(path)
        return path if path.is_absolute() else self.root / path

    @staticmethod
    def _find_nameko() -> str:
        candidate = Path(sys.executable).parent / "nameko"
        if candidate.exists():
            return str(candidate)
        found = shutil.which("nameko")
        if found:
            return found
        raise PlatformError(
            f"no 'nameko' next to {sys.executable} or on PATH; create the venv with `make venv`"
        )

    def _spec(self, name: str) -> ServiceSpec:
        try:
            return SERVICES[name]
        except KeyError:
            raise ValueError(f"unknown service {name!r}; known: {', '.join(SERVICES)}") from None

    def environment(self, name: str) -> dict[str, str]:
        """The environment a service process gets."""
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        env["GUDANG_DATA_DIR"] = str(self.data_dir)
        if name in self._port_overrides:
            env["WEB_SERVER_ADDRESS"] = f"0.0.0.0:{self._port_overrides[name]}"
        env.update(self.extra_env)
        return env

    # --- inspection ---------------------------------------------------------------------------
    def port(self, name: str) -> int:
        self._spec(name)
        return self._ports[name]

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port(name)}"

    def log_path(self, name: str) -> Path:
        self._spec(name)
        return self.log_dir / f"{name}.log"

    def log_tail(self, name: str, lines: int = 40) -> str:
        try:
            with open(self.log_path(name), errors="replace") as fh:
                return "".join(deque(fh, maxlen=lines))
        except FileNotFoundError:
            return "(no log file)"

    def is_healthy(self, name: str, timeout: float = 1.0) -> bool:
        """One GET /health, without waiting or raising."""
        try:
            with urllib.request.urlopen(self.url(name) + "/health", timeout=timeout) as resp:
                return resp.status == 200
        except (OSError, ValueError):
            return False

    def pid(self, name: str) -> int | None:
        proc = self._procs.get(name)
        return proc.pid if proc is not None and proc.poll() is None else None

    def is_running(self, name: str) -> bool:
        return self.pid(name) is not None

    def exited(self) -> dict[str, int]:
        """Services started here and not stopped here that have exited: {name: returncode}."""
        return {
            name: proc.returncode for name, proc in self._procs.items() if proc.poll() is not None
        }

    # --- lifecycle ----------------------------------------------------------------------------
    def start(self, name: str) -> subprocess.Popen:
        """Start one service (no-op if it is running). Does not wait for health."""
        spec = self._spec(name)
        proc = self._procs.get(name)
        if proc is not None and proc.poll() is None:
            return proc
        port = self.port(name)
        if _port_open("127.0.0.1", port):
            raise PlatformError(
                f"cannot start {name}: port {port} is already in use "
                "(is another copy of the platform running?)"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        argv = [self.nameko, *spec.command[1:]]
        with open(self.log_path(name), "ab") as log:
            stamp = time.strftime("%Y-%m-%d %H:%M:%S")
            log.write(f"\n===== {stamp} starting {name}: {' '.join(spec.command)}\n".encode())
            log.flush()
            proc = subprocess.Popen(
                argv,
                cwd=self.root,
                env=self.environment(name),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group: signals reach only this service
            )
        self._procs[name] = proc
        return proc

    def start_all(self, wait: bool = True, timeout: float = 90) -> None:
        """Start the five services; with ``wait`` (default) return once all are healthy."""
        for name in SERVICES:
            self.start(name)
        if wait:
            deadline = time.monotonic() + timeout
            for name in SERVICES:
                self.wait_healthy(name, timeout=max(1.0, deadline - time.monotonic()))

    def wait_healthy(self, name: str, timeout: float = 60) -> None:
        """Poll GET /health until it answers 200; raise ServiceDied or PlatformError otherwise."""
        url = self.url(name) + "/health"
        deadline = time.monotonic() + timeout
        last_error = "no answer"
        while True:
            proc = self._procs.get(name)
            if proc is not None and proc.poll() is not None:
                raise ServiceDied(name, proc.returncode, self.log_tail(name))
            try:
                with urllib.request.urlopen(url, timeout=2) as resp:
                    if resp.status == 200:
                        return
                    last_error = f"HTTP {resp.status}"
            except urllib.error.HTTPError as exc:
                last_error = f"HTTP {exc.code}"
            except (OSError, ValueError) as exc:
                last_error = str(exc)
            if time.monotonic() >= deadline:
                raise PlatformError(
                    f"{name} did not become healthy at {url} within {timeout:.0f}s "
                    f"(last: {last_error}); last lines of its log:\n{self.log_tail(name)}"
                )
            time.sleep(0.25)

    def _signal_group(self, proc: subprocess.Popen, sig: int) -> None:
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        except PermissionError:
            proc.send_signal(sig)

    def _poke(self, name: str) -> None:
        """Open and close a connection to the service's HTTP port.

        nameko's SIGTERM handler only schedules the shutdown on the eventlet hub; an idle hub
        sleeping in epoll runs it when some I/O or timer wakes it, which can take long. A
        connection is such a wake-up."""
        try:
            with socket.create_connection(("127.0.0.1", self._ports[name]), timeout=0.2):
                pass
        except OSError:
            pass

    def _reap(self, name: str, proc: subprocess.Popen, timeout: float) -> int:
        deadline = time.monotonic() + max(0.0, timeout)
        while proc.poll() is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._signal_group(proc, signal.SIGKILL)
                proc.wait()
                break
            self._poke(name)
            try:
                proc.wait(timeout=min(0.5, remaining))
            except subprocess.TimeoutExpired:
                pass
        # anything the service left behind in its group goes too
        self._signal_group(proc, signal.SIGKILL)
        self._procs.pop(name, None)
        return proc.returncode

    def stop(self, name: str, timeout: float = STOP_TIMEOUT) -> int | None:
        """SIGTERM, wait up to ``timeout`` seconds, then SIGKILL. Returns the exit code."""
        self._spec(name)
        proc = self._procs.get(name)
        if proc is None:
            return None
        if proc.poll() is None:
            self._signal_group(proc, signal.SIGTERM)
        return self._reap(name, proc, timeout)

    def kill9(self, name: str) -> int | None:
        """SIGKILL the service (a crash: no shutdown code runs) and wait for it."""
        self._spec(name)
        proc = self._procs.get(name)
        if proc is None:
            return None
        self._signal_group(proc, signal.SIGKILL)
        return self._reap(name, proc, 0)

    def restart(self, name: str, wait: bool = True, timeout: float = 60) -> None:
        """Stop (gracefully) and start again; with ``wait`` (default) until healthy."""
        self.stop(name)
        self.start(name)
        if wait:
            self.wait_healthy(name, timeout=timeout)

    def stop_all(self, timeout: float = STOP_TIMEOUT) -> dict[str, int]:
        """SIGTERM every service at once, wait up to ``timeout``, SIGKILL the rest."""
        procs = list(self._procs.items())
        for _, proc in procs:
            if proc.poll() is None:
                self._signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(proc.poll() is None for _, proc in procs):
            for name, proc in procs:
                if proc.poll() is None:
                    self._poke(name)
            time.sleep(0.2)
        return {name: self._reap(name, proc, deadline - time.monotonic()) for name, proc in procs}

    def signal_all(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to every service's process group without waiting (safe in a signal
        handler, unlike the methods that wait)."""
        for proc in list(self._procs.values()):
            if proc.poll() is None:
                self._signal_group(proc, sig)

    def __enter__(self) -> "Platform":
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop_all()


# --- keeping services up ----------------------------------------------------------------------
class Keeper:
    """Restarts services of a ``Platform`` that died, with a backoff per service.

    The first restart comes ``first`` seconds after the crash; while the service keeps dying the
    pause doubles up to ``most``; once it has stayed up for ``reset_after`` seconds, the next crash
    is again treated as the first. ``check()`` never blocks: call it from a loop."""

    def __init__(
        self,
        platform: Platform,
        first: float = 1.0,
        most: float = 30.0,
        reset_after: float = 60.0,
        report=print,
        clock=time.monotonic,
    ):
        self.platform = platform
        self.first, self.most, self.reset_after = first, most, reset_after
        self.report = report
        self.clock = clock
        self.delay = dict.fromkeys(SERVICES, first)
        self.restarts = dict.fromkeys(SERVICES, 0)
        self.due: dict[str, float] = {}  # name -> when to start it again
        self.up_since: dict[str, float] = {}
        self.recovering: set[str] = set()  # restarted, not yet answering /health

    def check(self) -> None:
        now = self.clock()
        for name, since in list(self.up_since.items()):
            if now - since >= self.reset_after and self.platform.is_running(name):
                self.delay[name] = self.first
                del self.up_since[name]
        for name, code in self.platform.exited().items():
            if name not in self.due:
                self._schedule(name, now, f"{name} exited unexpectedly (code {code})", tail=True)
        for name, at in list(self.due.items()):
            if now >= at:
                self._start(name)
        for name in list(self.recovering):
            if self.platform.is_healthy(name, timeout=0.5):
                self.recovering.discard(name)
                self.report(f"{_stamp()} {name} is healthy again (restart {self.restarts[name]})")

    def _schedule(self, name: str, now: float, why: str, tail: bool = False) -> None:
        delay = self.delay[name]
        self.delay[name] = min(delay * 2, self.most)
        self.due[name] = now + delay
        self.up_since.pop(name, None)
        self.recovering.discard(name)
        message = f"{_stamp()} {why}; starting it again in {delay:g}s"
        if tail:
            log = self.platform.log_path(name)
            lines = self.platform.log_tail(name, lines=20).rstrip("\n").splitlines()
            message += f". Last lines of {log}:\n" + "\n".join("    " + ln for ln in lines)
        self.report(message)

    def _start(self, name: str) -> None:
        del self.due[name]
        self.restarts[name] += 1
        try:
            self.platform.start(name)
        except (PlatformError, OSError) as exc:
            self._schedule(name, self.clock(), f"{name} could not be started: {exc}")
            return
        self.up_since[name] = self.clock()
        self.recovering.add(name)


@contextmanager
def private_platform(name: str, env_of, port_offset: int):
    """The five services started on a private RabbitMQ vhost and a fresh temp directory,
    their HTTP ports shifted by `port_offset` (so a bench or a fault run goes beside
    `make run` and the tests); yields the Platform and the vhost, which is dropped
    afterwards. `env_of(vhost)` gives the services' environment."""
    from scripts.rabbit import drop_vhost, make_vhost  # the management API, over HTTP

    vhost = make_vhost(name)
    tmp = Path(tempfile.mkdtemp(prefix=f"{name}-"))
    ports = {service: spec.port + port_offset for service, spec in SERVICES.items()}
    try:
        with Platform(
            data_dir=tmp / "data", env=env_of(vhost), log_dir=tmp / "log", ports=ports
        ) as platform:
            platform.start_all()
            yield platform, vhost
    finally:
        drop_vhost(vhost)


def _stamp() -> str:
    return time.strftime("%H:%M:%S")


# --- the `run` command ------------------------------------------------------------------------
class _Stop(Exception):
    pass


def _mask(uri: str) -> str:
    parts = urllib.parse.urlsplit(uri)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    return uri


def _check_broker() -> bool:
    parts = urllib.parse.urlsplit(os.environ.get("AMQP_URI") or DEFAULT_AMQP_URI)
    return _port_open(parts.hostname or "localhost", parts.port or 5672, timeout=2)


def _banner(platform: Platform, demo: dict | None, prometheus=None) -> str:
    def rel(path) -> str:
        path = Path(path)
        return (
            str(path.relative_to(platform.root))
            if path.is_relative_to(platform.root)
            else str(path)
        )

    lines = [
        "",
        "Gudang is running.",
        "",
        f"  API (gateway)        http://localhost:{platform.port('gateway')}/api/v1",
        f"  API reference        {rel(platform.root / 'docs' / 'api.md')}",
        f"  Packer tablet        {platform.url('gateway')}/tablet  (sign in with the packer's key)",
        f"  Merchant dashboard   {platform.url('gateway')}/dashboard  (sign up at /signup)",
    ]
    for i, name in enumerate(SERVICES):
        label = "  Metrics              " if i == 0 else " " * 23
        lines.append(f"{label}{name:<10} http://localhost:{platform.port(name)}/metrics")
    lines.append("  RabbitMQ management  http://localhost:15672  (guest / guest)")
    if prometheus is not None:
        lines.append(
            f"  Prometheus           http://localhost:{prometheus.port}  "
            f"(alerts: /alerts; config {rel(prometheus.config_path)})"
        )
    mongo = os.environ.get("MONGO_URI")
    store = f"MongoDB {_mask(mongo)}" if mongo else f"embedded store in {rel(platform.data_dir)}"
    lines.append(f"  Data                 {store}")
    lines.append(f"  Logs                 {rel(platform.log_dir)}/<service>.log")
    mode = os.environ.get("GUDANG_ENV", "production")
    note = " (default secrets allowed; never expose this)" if mode == "development" else ""
    lines.append(f"  Mode                 GUDANG_ENV={mode}{note}")
    if demo:
        m, p, s = demo["merchant"], demo["promoter"], demo["staff"]
        lines += [
            "",
            "Demo accounts (send 'Authorization: Bearer <api key>'):",
            f"  merchant  {m['name']:<20} merchant_id={m['merchant_id']}",
            f"            api key {m['api_key']}",
            f"  promoter  {p['name']:<20} referral code {p['referral_code']}",
            f"            api key {p['api_key']}",
            f"  packer    {s['name']:<20} staff_id={s['staff_id']}",
            f"            api key {s['api_key']}",
            f"  admin     GUDANG_ADMIN_KEY     {demo['admin_key']}",
            f"  (saved in {rel(demo['_path'])}; remove it and {rel(platform.data_dir)} to start over)",
        ]
    lines += ["", "Press Ctrl-C to stop.", ""]
    return "\n".join(lines)


def cmd_run(args: argparse.Namespace) -> int:
    from scripts.demo import SeedError, seed_demo

    sys.stdout.reconfigure(line_buffering=True)  # progress shows up under make and in pipes
    if not _check_broker():
        print(
            "RabbitMQ does not answer at AMQP_URI "
            f"({_mask(os.environ.get('AMQP_URI') or DEFAULT_AMQP_URI)}); "
            "start it with `make rabbitmq`.",
            file=sys.stderr,
        )
        return 2

    # the platform refuses the built-in demo secrets outside development; `run` is a dev tool,
    # but an operator who set GUDANG_ENV keeps what they chose
    if not os.environ.get("GUDANG_ENV"):
        os.environ["GUDANG_ENV"] = "development"
    root = Path(args.root).resolve()
    ports = {name: spec.port + args.port_offset for name, spec in SERVICES.items()}
    platform = Platform(
        root,
        data_dir=args.data_dir,
        log_dir=args.log_dir,
        ports=ports if args.port_offset else None,
    )
    state = {"stopping": False}
    prometheus = None

    def on_signal(signum, frame):
        if state["stopping"]:
            # a second Ctrl-C while stopping: stop waiting for a graceful shutdown
            platform.signal_all(signal.SIGKILL)
            return
        state["stopping"] = True
        raise _Stop(signal.Signals(signum).name)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    exit_code = 0
    try:
        print(f"Starting services (logs in {platform.log_dir})...")
        for name in SERVICES:
            platform.start(name)
        for name in SERVICES:
            started = time.monotonic()
            platform.wait_healthy(name, timeout=args.timeout)
            print(
                f"  {name:<10} healthy on :{platform.port(name)} ({time.monotonic() - started:.1f}s)"
            )

        demo = None
        if not args.no_seed:
            # kept beside the data it describes: a new data directory means a new demo world
            demo_path = Path(args.demo_file) if args.demo_file else platform.data_dir / "demo.json"
            if not demo_path.is_absolute():
                demo_path = root / demo_path
            gateway = platform.url("gateway")
            admin_key = os.environ.get("GUDANG_ADMIN_KEY") or "dev-admin-key"
            demo = seed_demo(gateway, admin_key, demo_path, log=print)
            demo["_path"] = demo_path
        if not args.no_prometheus:
            prometheus = _prometheus_for(platform, root, args)
            if prometheus is not None and not _start_prometheus(prometheus, args.timeout):
                prometheus = None
        print(_banner(platform, demo, prometheus), flush=True)

        keeper = Keeper(platform, first=args.backoff_first, most=args.backoff_max)
        prometheus_reported = False
        while True:
            keeper.check()
            if prometheus is not None and not prometheus.running() and not prometheus_reported:
                print(f"{_stamp()} Prometheus exited; see {prometheus.log_path}", file=sys.stderr)
                prometheus_reported = True
            time.sleep(0.5)
    except _Stop as exc:
        print(f"\n{exc} received, stopping...")
    except ServiceDied as exc:
        print(f"\n{exc}", file=sys.stderr)
        exit_code = 1
    except PlatformError as exc:
        print(f"\n{exc}", file=sys.stderr)
        exit_code = 1
    except SeedError as exc:
        print(f"\nSeeding the demo world failed: {exc}", file=sys.stderr)
        exit_code = 1
    finally:
        state["stopping"] = True
        if prometheus is not None:
            prometheus.stop()
        platform.stop_all()
    print("All services stopped." if exit_code == 0 else "All services stopped (after an error).")
    return exit_code


def _prometheus_for(platform: Platform, root: Path, args: argparse.Namespace):
    """A Prometheus scraping the platform's ports, or None (with a note) when not installed."""
    from scripts.prometheus import DEFAULT_PORT, Prometheus, find_binary, free_port

    if find_binary() is None:
        print("  prometheus is not installed (apt-get install prometheus); going on without it")
        return None
    work_dir = Path(args.prometheus_dir)
    if not work_dir.is_absolute():
        work_dir = root / work_dir
    return Prometheus(
        {name: platform.port(name) for name in SERVICES},
        port=free_port(DEFAULT_PORT + args.port_offset),
        work_dir=work_dir,
    )


def _start_prometheus(prometheus, timeout: float) -> bool:
    from scripts.prometheus import PrometheusError

    try:
        prometheus.start()
        prometheus.wait_ready(timeout=timeout)
    except PrometheusError as exc:
        # metrics are a convenience of `run`, not a reason to refuse starting the platform
        print(f"  Prometheus did not start ({exc}); going on without it", file=sys.stderr)
        prometheus.stop()
        return False
    print(f"  {'prometheus':<10} ready on :{prometheus.port}")
    return True


def cmd_commands(args: argparse.Namespace) -> int:
    for name, spec in SERVICES.items():
        print(f"{name:<10} :{spec.port:<5} {' '.join(spec.command)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.supervisor", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start all services, seed a demo world, wait for Ctrl-C")
    run.add_argument("--data-dir", default=None, help="GUDANG_DATA_DIR (default var/data)")
    run.add_argument("--log-dir", default="var/log", help="service logs (default var/log)")
    run.add_argument(
        "--demo-file", default=None, help="demo credentials marker [<data dir>/demo.json]"
    )
    run.add_argument("--no-seed", action="store_true", help="do not create demo data")
    run.add_argument("--timeout", type=float, default=90, help="seconds to wait for health")
    run.add_argument(
        "--port-offset", type=int, default=0, help="add this to every HTTP port (a second copy)"
    )
    run.add_argument("--no-prometheus", action="store_true", help="do not start Prometheus")
    run.add_argument(
        "--prometheus-dir",
        default="var/prometheus",
        help="generated config and Prometheus data (default var/prometheus)",
    )
    run.add_argument(
        "--backoff-first", type=float, default=1.0, help="seconds before restarting a crash"
    )
    run.add_argument(
        "--backoff-max", type=float, default=30.0, help="longest pause between restarts"
    )
    run.add_argument("--root", default=str(REPO_ROOT), help=argparse.SUPPRESS)
    run.set_defaults(func=cmd_run)
    cmds = sub.add_parser("commands", help="print the command line of every service")
    cmds.set_defaults(func=cmd_commands)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
