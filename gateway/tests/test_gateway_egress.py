"""Webhook targets: only public addresses, at registration and again as each delivery connects."""

import ipaddress
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import mongomock
import pytest
import requests

from gateway import egress, notify
from gudang_common.errors import ValidationFailed

REFUSED = {
    "loopback": ["127.0.0.1", "127.8.9.10", "::1"],
    "private": ["10.1.2.3", "172.16.0.1", "172.31.255.254", "192.168.1.1"],
    "link-local": ["169.254.1.1", "fe80::1"],
    "unique-local": ["fc00::1", "fd12:3456::1"],
    "carrier-grade NAT": ["100.64.0.1", "100.127.255.254"],
    "multicast": ["224.0.0.1", "239.255.255.250", "ff02::1"],
    "unspecified": ["0.0.0.0", "::"],
    "metadata": ["169.254.169.254", "fd00:ec2::254", "100.100.100.200", "::ffff:169.254.169.254"],
}


@pytest.mark.parametrize(
    "kind,address", [(kind, a) for kind, addresses in REFUSED.items() for a in addresses]
)
def test_address_classes_that_are_not_public(kind, address):
    assert egress.address_class(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize("address", ["203.0.113.0", "198.51.100.7", "2001:db8::1", "240.0.0.1"])
def test_documentation_and_reserved_ranges_are_not_public(address):
    assert egress.address_class(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["8.8.8.8", "103.10.66.1", "2404:6800:4003:c00::64"])
def test_public_addresses_pass(address):
    assert egress.address_class(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "address,kind",
    [
        ("::ffff:10.0.0.1", "private"),  # IPv4-mapped
        ("::ffff:127.0.0.1", "loopback"),
        ("2002:a9fe:a9fe::1", "metadata"),  # 6to4 of 169.254.169.254
        ("2002:c0a8:0101::1", "private"),  # 6to4 of 192.168.1.1
        ("64:ff9b::7f00:1", "loopback"),  # NAT64 of 127.0.0.1
        ("64:ff9b::808:808", None),  # NAT64 of 8.8.8.8
    ],
)
def test_ipv6_that_carries_an_ipv4_address_is_judged_by_it(address, kind):
    assert egress.address_class(ipaddress.ip_address(address)) == kind


def _refused_at_registration(url):
    with pytest.raises(ValidationFailed) as refused:
        notify.check_url(url)
    assert list(refused.value.fields) == ["url"]
    return refused.value.fields["url"][0]


@pytest.mark.parametrize(
    "url",
    [
        f"http://{a}/hook" if ":" not in a else f"http://[{a}]/hook"
        for a in sum(REFUSED.values(), [])
    ]
    + [
        "http://localhost:8000/hook",
        "http://api.localhost/hook",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://metadata/latest",
        "http://169.254.169.254/latest/meta-data/",
        "https://[fd00:ec2::254]/latest/meta-data/",
    ],
)
def test_registration_refuses_every_non_public_literal_or_name(url):
    assert _refused_at_registration(url).startswith("Not a public address")


def test_registration_resolves_names_and_checks_every_answer(monkeypatch):
    answers = {"shop.example.id": ["103.10.66.1", "10.0.0.5"], "ok.example.id": ["103.10.66.1"]}
    monkeypatch.setattr(egress, "resolve", lambda host, port: answers[host])
    assert "10.0.0.5" in _refused_at_registration("https://shop.example.id/hook")
    notify.check_url("https://ok.example.id/hook")


def test_a_name_that_does_not_resolve_yet_is_accepted_and_checked_at_delivery(monkeypatch):
    def nxdomain(host, port):
        raise OSError("Name or service not known")

    monkeypatch.setattr(egress, "resolve", nxdomain)
    notify.check_url("https://not-live-yet.example.id/hook")


def test_allow_list_lifts_the_check_for_named_hosts_and_networks_but_not_metadata():
    allowed = egress.AllowList("127.0.0.1, localhost, 10.0.0.0/8")
    notify.check_url("http://127.0.0.1:9000/hook", allowed)
    notify.check_url("http://10.2.3.4/hook", allowed)
    notify.check_url("http://localhost:9000/hook", allowed)
    with pytest.raises(ValidationFailed):
        notify.check_url("http://192.168.1.1/hook", allowed)
    with pytest.raises(ValidationFailed):
        notify.check_url("http://169.254.169.254/", egress.AllowList("169.254.0.0/16"))


def test_bad_port_is_a_400_naming_url():
    assert _refused_at_registration("http://example.id:99999/hook")


@pytest.fixture
def local_receiver():
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            hits.append(self.headers["Host"])
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], hits
    server.shutdown()


def test_delivery_refuses_a_name_whose_dns_turned_private_after_registration(
    monkeypatch, local_receiver
):
    port, hits = local_receiver
    dns = {"shop.example.id": ["103.10.66.1"]}
    monkeypatch.setattr(egress, "resolve", lambda host, p: dns[host])
    url = f"http://shop.example.id:{port}/hook"
    notify.check_url(url)  # public when registered

    for rebound in ("127.0.0.1", "10.0.0.7", "169.254.169.254", "100.64.0.9", "::1"):
        dns["shop.example.id"] = ["103.10.66.1", rebound] if rebound != "::1" else [rebound]
        with pytest.raises(egress.BlockedTarget):
            egress.session(egress.AllowList()).post(url, data=b"{}", timeout=2)
    assert hits == []


def test_delivery_connects_to_the_address_it_checked(monkeypatch, local_receiver):
    port, hits = local_receiver
    # the allow-list admits loopback here; the name resolves to it only through our resolver
    monkeypatch.setattr(egress, "resolve", lambda host, p: ["127.0.0.1"])
    http = egress.session(egress.AllowList("127.0.0.1"))
    resp = http.post(f"http://shop.example.id:{port}/hook", data=b"{}", timeout=2)
    assert resp.status_code == 204
    assert hits == [f"shop.example.id:{port}"]  # the Host header still names the URL's host


def test_delivery_session_ignores_proxy_settings(monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://10.0.0.1:3128")
    with pytest.raises(egress.BlockedTarget):
        egress.session(egress.AllowList()).post("http://127.0.0.1:1/hook", timeout=1)
    assert egress.session(egress.AllowList()).trust_env is False


def test_a_refused_connection_is_not_a_requests_error():
    # the deliverer records it as a failed attempt named BlockedTarget
    assert not issubclass(egress.BlockedTarget, requests.RequestException)


class _Counter:
    def __init__(self):
        self.seen = []

    def labels(self, outcome):
        self.seen.append(outcome)
        return self

    def inc(self):
        pass


def test_the_deliverer_records_a_blocked_attempt_and_sends_nothing(monkeypatch, local_receiver):
    port, hits = local_receiver
    db = mongomock.MongoClient()["gw"]
    monkeypatch.setattr(egress, "resolve", lambda host, p: ["103.10.66.1"])
    hook = notify.add_webhook(db, "mer_1", f"http://shop.example.id:{port}/hook", [])
    db.deliveries.insert_one(
        {
            "_id": f"{hook['_id']}:ev1",
            "webhook_id": hook["_id"],
            "status": "pending",
            "attempts": 0,
            "body": "{}",
            "event": "parcel_delivered",
            "next_attempt_at": "2026-01-01T00:00:00.000Z",
        }
    )
    monkeypatch.setattr(egress, "resolve", lambda host, p: ["127.0.0.1"])  # DNS rebound
    deliverer = notify.WebhookDeliverer()
    deliverer.db, deliverer.max_attempts, deliverer.base_delay = db, 8, 10
    deliverer.timeout, deliverer.outcomes = 2, _Counter()
    deliverer.allowed, deliverer.lease = egress.AllowList(), 60
    claimed = deliverer.claim(db.deliveries.find_one())
    deliverer.attempt(egress.pool(deliverer.allowed), claimed)

    delivery = db.deliveries.find_one()
    assert delivery["status"] == "pending" and delivery["attempts"] == 1
    assert delivery["last_error"] == "BlockedTarget"
    assert deliverer.outcomes.seen == ["retry"] and hits == []
