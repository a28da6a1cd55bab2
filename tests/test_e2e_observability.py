"""What ops see: a real Prometheus scrapes the running platform; every alert rule and every
Grafana panel must parse and name only metrics the services export."""

import json
import os
import re
import time
from pathlib import Path

import pytest
import requests
import yaml

from scripts.prometheus import DEFAULT_PORT, Prometheus, find_binary, free_port
from scripts.simulate import place_order, register_world, work_pick_lists
from scripts.supervisor import SERVICES
from tests.conftest import ADMIN_KEY

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "deploy" / "prometheus" / "rules.yml"
DASHBOARDS = sorted((ROOT / "deploy" / "grafana" / "dashboards").glob("*.json"))

# words of PromQL that are not metric names
KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan"}
GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")


def metric_names(expr):
    """The metric names an expression selects (a small reading of PromQL, enough for ours)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # label values
    text = GROUPING.sub(" ", text)
    text = re.sub(r"\{[^}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)  # ranges
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        word = match.group(0)
        if text[match.end() :].lstrip().startswith("(") or word.lower() in KEYWORDS:
            continue  # a function or an aggregation
        names.add(word)
    return names


def test_metric_names_reads_the_expressions_we_write():
    expr = (
        'histogram_quantile(0.99, sum by (le) (rate(x_bucket{service="a", b=~"c|d"}[5m]))) > 1'
        " and on (job) up == 0 or max without (instance) (y) * 60"
    )
    assert metric_names(expr) == {"x_bucket", "up", "y"}


def rule_expressions():
    rules = yaml.safe_load(RULES.read_text())
    return [(r.get("alert") or r["record"], r["expr"]) for g in rules["groups"] for r in g["rules"]]


def panel_expressions():
    found = []
    for path in DASHBOARDS:
        dashboard = json.loads(path.read_text())
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                found.append((f"{path.name}: {panel['title']}", target["expr"]))
    return found


def test_the_dashboard_uses_the_provisioned_datasource():
    datasources = ROOT / "deploy" / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
    (source,) = yaml.safe_load(datasources.read_text())["datasources"]
    assert DASHBOARDS, "no dashboard in deploy/grafana/dashboards"
    for path in DASHBOARDS:
        for panel in json.loads(path.read_text())["panels"]:
            if panel["type"] != "row":
                assert panel["datasource"]["uid"] == source["uid"], panel["title"]
                assert panel["targets"], panel["title"]


@pytest.fixture(scope="module")
def prometheus(platform, api, tmp_path_factory):
    if find_binary() is None:
        pytest.fail(
            "prometheus is missing: install the Debian package 'prometheus' (make test does)"
        )
    # some order flow first, so that counters and histograms have series
    world = register_world(api, ADMIN_KEY, skus=1, units=5)
    order_id = place_order(api, world, 1)
    deadline = time.monotonic() + 30
    while order_id not in work_pick_lists(api, world.staff["api_key"]):
        assert time.monotonic() < deadline, "the order never reached packing"
        time.sleep(0.2)
    offset = int(os.environ.get("GUDANG_TEST_PORT_OFFSET", "0"))
    prom = Prometheus(
        {name: platform.port(name) for name in SERVICES},
        port=free_port(DEFAULT_PORT + offset + 100),
        work_dir=tmp_path_factory.mktemp("prometheus"),
        scrape_interval="1s",
    )
    with prom:
        prom.wait_ready()
        deadline = time.monotonic() + 30
        while True:
            up = {s["metric"]["job"]: s["value"][1] for s in prom.query("up")["result"]}
            if up == dict.fromkeys(SERVICES, "1"):
                break
            assert time.monotonic() < deadline, f"targets not all up: {up}"
            time.sleep(0.5)
        yield prom


@pytest.fixture(scope="module")
def exported(platform, prometheus):
    """Metric names the services export: every series Prometheus scraped, and every family a
    service declares on /metrics (a labelled counter that has not counted yet, say handler
    errors, is exported but has no series)."""
    names = prometheus.metric_names()
    # the text format names a counter with its _total already; a histogram by its stem
    suffixes = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count", "")}
    for name in SERVICES:
        text = requests.get(platform.url(name) + "/metrics", timeout=10).text
        for family, kind in re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M):
            names.update(family + suffix for suffix in suffixes.get(kind, ("",)))
    return names


@pytest.mark.parametrize("name,expr", rule_expressions(), ids=[n for n, _ in rule_expressions()])
def test_alert_rule_evaluates_on_exported_metrics(prometheus, exported, name, expr):
    prometheus.query(expr)  # PrometheusError with the parser's message otherwise
    unknown = metric_names(expr) - exported
    assert not unknown, f"{name} names metrics no service exports: {sorted(unknown)}"


@pytest.mark.parametrize(
    "name,expr",
    panel_expressions(),
    ids=[f"{n}#{i}" for i, (n, _) in enumerate(panel_expressions())],
)
def test_dashboard_panel_evaluates_on_exported_metrics(prometheus, exported, name, expr):
    prometheus.query(expr)
    unknown = metric_names(expr) - exported
    assert not unknown, f"{name} names metrics no service exports: {sorted(unknown)}"


def test_prometheus_loaded_the_alert_rules(prometheus):
    deadline = time.monotonic() + 15
    while True:
        groups = prometheus.api("rules")["groups"]
        rules = {r["name"]: r for g in groups for r in g["rules"]}
        if rules and all(r.get("health") == "ok" for r in rules.values()):
            break
        assert time.monotonic() < deadline, {n: r.get("lastError") for n, r in rules.items()}
        time.sleep(0.5)
    assert set(rules) == {n for n, _ in rule_expressions()}


def test_a_misspelt_metric_is_caught(prometheus, exported):
    with pytest.raises(Exception, match="parse error"):
        prometheus.query("sum by (status) (gudang_orders_by_status")
    assert metric_names("sum(gudang_orders_by_stage)") - exported == {"gudang_orders_by_stage"}
