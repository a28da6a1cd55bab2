"""Checks of the deployment files: Prometheus config and alert rules (with promtool),
docker-compose.yml and the Kubernetes manifests against the service table that
scripts/supervisor.py runs, so that the three ways of running the platform cannot drift apart."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from scripts.supervisor import SERVICES

ROOT = Path(__file__).resolve().parent.parent
PROMETHEUS = ROOT / "deploy" / "prometheus"
COMPOSE = ROOT / "docker-compose.yml"
K8S = ROOT / "deploy" / "k8s"


def _promtool() -> str:
    path = shutil.which("promtool")
    assert path, "promtool is missing: install the Debian package 'prometheus' (make test does)"
    return path


@pytest.mark.parametrize(
    "args",
    [
        ["check", "config", "prometheus.yml"],
        ["check", "rules", "rules.yml"],
        ["test", "rules", "rules_test.yml"],
    ],
    ids=["check-config", "check-rules", "test-rules"],
)
def test_promtool(args):
    result = subprocess.run(
        [_promtool(), *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_unit_test_or_is_listed():
    rules = yaml.safe_load((PROMETHEUS / "rules.yml").read_text())
    alerts = {r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r}
    tests = yaml.safe_load((PROMETHEUS / "rules_test.yml").read_text())
    tested = {a["alertname"] for t in tests["tests"] for a in t.get("alert_rule_test", [])}
    assert {"DeadLettersWaiting", "ServiceDown"} <= tested
    assert tested <= alerts, f"tests name unknown alerts: {tested - alerts}"
    assert {
        "DeadLettersWaiting",
        "OutboxBacklog",
        "OrdersStuckAllocated",
        "HandlerErrors",
        "GatewaySlow",
        "ServiceDown",
    } <= alerts


def test_prometheus_scrapes_every_service():
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    scraped = set()
    for job in config["scrape_configs"]:
        assert job.get("metrics_path", "/metrics") == "/metrics", job["job_name"]
        for static in job.get("static_configs", []):
            scraped.update(static["targets"])
    expected = {f"{name}:{spec.port}" for name, spec in SERVICES.items()}
    assert expected <= scraped, f"not scraped: {sorted(expected - scraped)}"


# --- docker-compose.yml --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_runs_every_service_with_the_platform_command(compose):
    services = compose["services"]
    for name, spec in SERVICES.items():
        assert name in services, f"docker-compose.yml lacks service {name}"
        assert services[name]["command"] == spec.command, name
        env = services[name]["environment"]
        assert env["AMQP_URI"] == "pyamqp://guest:guest@rabbitmq:5672/", name
        assert env["MONGO_URI"] == "mongodb://mongo:27017/?replicaSet=rs0", name
        assert env["WEB_SERVER_ADDRESS"].endswith(f":{spec.port}"), name


def test_compose_publishes_only_the_gateway_among_app_services(compose):
    services = compose["services"]
    assert services["gateway"]["ports"] == ["8000:8000"]
    for name, spec in SERVICES.items():
        if name != "gateway":
            assert "ports" not in services[name], name
            assert str(spec.port) in [str(p) for p in services[name]["expose"]], name


def test_compose_references_are_consistent(compose):
    services = compose["services"]
    assert {"rabbitmq", "mongo", "mongo-init", "prometheus"} <= set(services)
    for name, service in services.items():
        assert "image" in service or "build" in service, f"{name} has neither image nor build"
        depends = service.get("depends_on") or {}
        for target in depends:
            assert target in services, f"{name} depends on unknown service {target}"
        if isinstance(depends, dict):
            for target, cond in depends.items():
                assert cond["condition"] in {
                    "service_started",
                    "service_healthy",
                    "service_completed_successfully",
                }, (name, target)
                if cond["condition"] == "service_healthy":
                    assert "healthcheck" in services[target], f"{target} has no healthcheck"
    assert "--replSet" in services["mongo"]["command"]
    assert any("rs.initiate" in part for part in services["mongo-init"]["command"])
    assert "healthcheck" in services["rabbitmq"]
    assert any(v.startswith("./deploy/prometheus:") for v in services["prometheus"]["volumes"]), (
        "prometheus must mount deploy/prometheus"
    )


def test_compose_grafana_shows_the_dashboards_of_deploy_on_the_compose_prometheus(compose):
    grafana = compose["services"]["grafana"]
    mounts = dict(v.rsplit(":", 2)[:2] for v in grafana["volumes"] if v.startswith("./"))
    assert mounts["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    dashboards_dir = mounts["./deploy/grafana/dashboards"]
    provisioning = ROOT / "deploy" / "grafana" / "provisioning"
    (provider,) = yaml.safe_load((provisioning / "dashboards" / "gudang.yml").read_text())[
        "providers"
    ]
    assert provider["options"]["path"] == dashboards_dir
    (source,) = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())[
        "datasources"
    ]
    prometheus_port = compose["services"]["prometheus"]["ports"][0].split(":")[-1]
    assert source["url"] == f"http://prometheus:{prometheus_port}"
    assert "prometheus" in grafana["depends_on"]


def test_compose_build_uses_the_root_dockerfile(compose):
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in dockerfile
    for name in SERVICES:
        build = compose["services"][name]["build"]
        context = build["context"] if isinstance(build, dict) else build
        assert context == ".", name


def test_docker_compose_cli_accepts_the_file():
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("docker CLI not installed")
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip("docker compose plugin not installed")
    result = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE), "config", "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


# --- Kubernetes ----------------------------------------------------------------------------------
def _k8s_docs():
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        docs.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    return docs


def test_k8s_has_a_deployment_and_service_per_app_service():
    docs = _k8s_docs()
    assert docs, "no manifests in deploy/k8s"
    for doc in docs:
        assert {"apiVersion", "kind", "metadata"} <= set(doc), doc
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    k8s_services = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}
    config_maps = {d["metadata"]["name"] for d in docs if d["kind"] == "ConfigMap"}
    secrets = {d["metadata"]["name"] for d in docs if d["kind"] == "Secret"}
    for name, spec in SERVICES.items():
        dep = deployments[name]
        assert dep["spec"]["replicas"] >= 2, name
        selector = dep["spec"]["selector"]["matchLabels"]
        pod = dep["spec"]["template"]
        assert selector.items() <= pod["metadata"]["labels"].items(), name
        (container,) = pod["spec"]["containers"]
        assert container["command"] == spec.command, name
        assert [p["containerPort"] for p in container["ports"]] == [spec.port], name
        assert container["readinessProbe"]["httpGet"]["path"] == "/health", name
        for source in container.get("envFrom", []):
            if "configMapRef" in source:
                assert source["configMapRef"]["name"] in config_maps, name
            if "secretRef" in source:
                assert source["secretRef"]["name"] in secrets, name
        svc = k8s_services[name]
        assert svc["spec"]["selector"].items() <= pod["metadata"]["labels"].items(), name
        assert [p["port"] for p in svc["spec"]["ports"]] == [spec.port], name


# --- scripts/supervisor.py, the local process supervisor ------------------------------------------
FAKE_SERVICE = """
import json
import os

from nameko.web.handlers import http


class Service:
    name = "{name}"

    @http("GET", "/health")
    def health(self, request):
        if os.environ.get("FAKE_CRASH_ON_HEALTH") == "{name}":
            os._exit(3)
        body = {{"status": "ok", "data_dir": os.environ["GUDANG_DATA_DIR"], "pid": os.getpid()}}
        return 200, json.dumps(body)
"""
# GUDANG_TEST_PORT_OFFSET keeps two test runs on one machine off each other's ports; the
# bases below keep every port under 32768, where Linux picks clients' own (ephemeral) ports
PORT_OFFSET = int(os.environ.get("GUDANG_TEST_PORT_OFFSET", "0"))


def _fake_root(tmp_path):
    """A repository root whose five 'services' are tiny nameko HTTP services (no broker use)."""
    root = tmp_path / "root"
    for name, spec in SERVICES.items():
        config = root / spec.config
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(
            "AMQP_URI: ${AMQP_URI:pyamqp://guest:guest@localhost:5672/}\n"
            f"WEB_SERVER_ADDRESS: ${{WEB_SERVER_ADDRESS:0.0.0.0:{spec.port}}}\n"
        )
        package = root / spec.module.split(".")[0]
        package.mkdir(exist_ok=True)
        (package / "__init__.py").write_text("")  # wins over the installed package of that name
        (package / "service.py").write_text(FAKE_SERVICE.format(name=name))
    return root


def test_platform_starts_crashes_restarts_and_stops_processes(tmp_path):
    from scripts.supervisor import Platform, ServiceDied

    ports = {name: 21000 + PORT_OFFSET + spec.port for name, spec in SERVICES.items()}
    root = _fake_root(tmp_path)
    data_dir = tmp_path / "data"
    with Platform(root, data_dir=data_dir, log_dir=tmp_path / "log", ports=ports) as platform:
        platform.start_all()
        assert all(platform.is_running(name) for name in SERVICES)
        with urllib.request.urlopen(platform.url("packing") + "/health", timeout=5) as resp:
            assert resp.status == 200
            assert str(data_dir) in resp.read().decode()

        pid = platform.pid("inventory")
        assert platform.kill9("inventory") == -9
        assert not platform.is_running("inventory")
        platform.start("inventory")
        platform.wait_healthy("inventory")
        assert platform.pid("inventory") != pid

        platform.restart("billing")
        assert platform.is_running("billing")
        assert platform.stop("shipping") == 0, platform.log_tail("shipping")
        assert platform.exited() == {}
        assert "starting gateway" in platform.log_tail("gateway")
    for port in ports.values():
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still open"

    crashing = Platform(
        root,
        data_dir=data_dir,
        log_dir=tmp_path / "log",
        ports=ports,
        env={"FAKE_CRASH_ON_HEALTH": "packing"},
    )
    with crashing, pytest.raises(ServiceDied) as died:
        crashing.start_all()
    assert died.value.name == "packing"
    assert died.value.returncode == 3


def _health(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as resp:
            return json.load(resp)
    except OSError:
        return None


def _wait(check, timeout, what, output):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}; supervisor output:\n{output.read_text()}")


def _restarted(port, old_pid):
    """The health answer of a process other than ``old_pid``, or None."""
    health = _health(port)
    return health if health and health["pid"] != old_pid else None


def test_run_restarts_a_service_killed_with_kill_9_and_stops_only_on_sigterm(tmp_path):
    _promtool()  # the Debian package that brings promtool brings prometheus
    root = _fake_root(tmp_path)
    offset = 22000 + PORT_OFFSET
    port = SERVICES["inventory"].port + offset
    output = tmp_path / "supervisor.out"
    argv = [sys.executable, "-m", "scripts.supervisor", "run", "--root", str(root)]
    argv += ["--no-seed", "--port-offset", str(offset), "--prometheus-dir", str(tmp_path / "prom")]
    argv += ["--data-dir", str(tmp_path / "data"), "--log-dir", str(tmp_path / "log")]
    with open(output, "wb") as out:
        supervisor = subprocess.Popen(argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait(lambda: "Press Ctrl-C" in output.read_text(), 60, "the banner", output)
        first = _health(port)["pid"]
        prometheus = int(re.search(r"Prometheus +http://localhost:(\d+)", output.read_text())[1])
        with urllib.request.urlopen(f"http://127.0.0.1:{prometheus}/-/ready", timeout=5) as resp:
            assert resp.status == 200
        config = yaml.safe_load((tmp_path / "prom" / "prometheus.yml").read_text())
        assert [j["static_configs"][0]["targets"] for j in config["scrape_configs"]] == [
            [f"127.0.0.1:{spec.port + offset}"] for spec in SERVICES.values()
        ]

        os.kill(first, signal.SIGKILL)
        again = _wait(lambda: _restarted(port, first), 30, "a restart", output)
        assert again["status"] == "ok"
        _wait(lambda: "inventory is healthy again" in output.read_text(), 10, "report", output)
        text = output.read_text()
        assert "inventory exited unexpectedly (code -9); starting it again in 1s" in text
        assert "starting inventory" in text  # the tail of its log
        assert supervisor.poll() is None

        # crashing again right away: the pause before the next start has doubled
        os.kill(again["pid"], signal.SIGKILL)
        _wait(lambda: "starting it again in 2s" in output.read_text(), 10, "backoff", output)
        _wait(lambda: _restarted(port, again["pid"]), 30, "a second restart", output)
    finally:
        supervisor.send_signal(signal.SIGTERM)
        code = supervisor.wait(timeout=60)
    assert code == 0, output.read_text()
    assert "All services stopped." in output.read_text()
    for name, port in [
        *((s.name, s.port + offset) for s in SERVICES.values()),
        ("prom", prometheus),
    ]:
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0, name


def test_demo_barcodes_are_valid_ean13():
    from scripts.demo import SKUS, ean13

    assert ean13("400638133393") == "4006381333931"
    for sku in SKUS:
        code = sku["barcode"]
        assert len(code) == 13 and ean13(code[:12]) == code


class _CrashingPlatform:
    """Stands in for Platform in the Keeper: ``crash()`` makes the inventory exit."""

    def __init__(self):
        self.running = set(SERVICES)
        self.starts = []

    def crash(self):
        self.running.discard("inventory")

    def exited(self):
        return {name: -9 for name in SERVICES if name not in self.running}

    def start(self, name):
        self.starts.append(name)
        self.running.add(name)

    def is_running(self, name):
        return name in self.running

    def is_healthy(self, name, timeout=1.0):
        return name in self.running

    def log_path(self, name):
        return Path(f"/logs/{name}.log")

    def log_tail(self, name, lines=40):
        return "Traceback: boom\n"


def test_keeper_backs_off_while_a_service_keeps_crashing_and_forgives_after_a_while():
    from scripts.supervisor import Keeper

    now = [0.0]
    lines = []
    platform = _CrashingPlatform()
    keeper = Keeper(platform, reset_after=60, report=lines.append, clock=lambda: now[0])

    def crash_and_wait_for_restart():
        platform.crash()
        keeper.check()
        waited = 0.0
        while not platform.starts or platform.starts[-1] != "inventory" or len(lines) < 2:
            now[0] += 0.5
            waited += 0.5
            keeper.check()
        lines.clear()
        platform.starts.clear()
        return waited

    assert [crash_and_wait_for_restart() for _ in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    now[0] += 61  # up for more than a minute: the next crash is a first one again
    keeper.check()
    platform.crash()
    keeper.check()
    assert "exited unexpectedly (code -9); starting it again in 1s" in lines[0]
    assert "    Traceback: boom" in lines[0]
