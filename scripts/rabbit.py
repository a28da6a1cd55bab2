"""RabbitMQ's management API, as the tests, the chaos run and the benchmarks use it:
a private virtual host per run, queue depths, and cutting a host's connections."""

import os
import urllib.parse
import uuid

import requests

MANAGEMENT = os.environ.get("RABBIT_MANAGEMENT_URI", "http://guest:guest@localhost:15672/")
AMQP = os.environ.get("AMQP_URI", "pyamqp://guest:guest@localhost:5672/")


def _mgmt():
    parts = urllib.parse.urlsplit(MANAGEMENT)
    return f"{parts.scheme}://{parts.hostname}:{parts.port}", (parts.username, parts.password)


def make_vhost(prefix="gudang"):
    """A fresh virtual host the management user may use fully; returns its name."""
    base, auth = _mgmt()
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    requests.put(f"{base}/api/vhosts/{name}", auth=auth, timeout=10).raise_for_status()
    requests.put(
        f"{base}/api/permissions/{name}/{auth[0]}",
        json={"configure": ".*", "write": ".*", "read": ".*"},
        auth=auth,
        timeout=10,
    ).raise_for_status()
    return name


def drop_vhost(name):
    base, auth = _mgmt()
    requests.delete(f"{base}/api/vhosts/{name}", auth=auth, timeout=10)


def amqp_uri_for(vhost):
    """AMQP_URI pointing at `vhost` on the broker AMQP_URI names."""
    parts = urllib.parse.urlsplit(AMQP)
    path = "/" + urllib.parse.quote(vhost, safe="")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def cut_connections(vhost):
    """Close every AMQP connection of ``vhost`` from the broker's side; returns how many."""
    base, auth = _mgmt()
    quoted = urllib.parse.quote(vhost, safe="")
    conns = requests.get(f"{base}/api/vhosts/{quoted}/connections", auth=auth, timeout=10)
    conns.raise_for_status()
    cut = 0
    for conn in conns.json():
        name = urllib.parse.quote(conn["name"], safe="")
        resp = requests.delete(
            f"{base}/api/connections/{name}",
            auth=auth,
            headers={"X-Reason": "chaos: connection cut"},
            timeout=10,
        )
        cut += resp.status_code in (200, 204)
    return cut


def queue_depth(vhost, queue):
    base, auth = _mgmt()
    quoted = urllib.parse.quote(vhost, safe="")
    resp = requests.get(f"{base}/api/queues/{quoted}/{queue}", auth=auth, timeout=10)
    if resp.status_code == 404:
        return 0
    resp.raise_for_status()
    return resp.json().get("messages", 0)
