"""Where the gateway may send merchant webhooks: public internet addresses only.

A webhook URL is the one place a merchant makes our servers open a connection
of their choosing; pointed inward (loopback, the private network, a cloud
metadata service) it would reach what the internet must not. A target is
checked when it is registered and again at every delivery, when the connection
is made: the host is resolved, every address must be public, and the socket is
opened to an address that passed, so a DNS answer that changes in between
cannot slip a private address in.

`WEBHOOK_ALLOWED_HOSTS` (comma-separated host names, addresses or networks,
e.g. `127.0.0.1,localhost` for development and tests) lifts the check for those.
Metadata services stay refused whatever the list says.
"""

import ipaddress
import socket

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)
from urllib3.util import connection as urllib3_connection

METADATA_HOSTS = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
    )
)
CGNAT = ipaddress.ip_network("100.64.0.0/10")


class BlockedTarget(Exception):
    """A webhook target that is not on the public internet."""

    def __init__(self, host, reason):
        super().__init__(f"{host}: {reason}")
        self.host, self.reason = host, reason


NAT64 = ipaddress.ip_network("64:ff9b::/96")
UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")


def _embedded_ipv4(ip):
    """The IPv4 address an IPv6 one carries (mapped, 6to4, NAT64), which is where it leads."""
    if ip.version != 6:
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_class(ip):
    """Why an address must not be a webhook target ("loopback", ...), or None if public."""
    inner = _embedded_ipv4(ip)
    if inner is not None:
        ip = inner
    if ip in METADATA_ADDRESSES:
        return "metadata"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.version == 4 and ip in CGNAT:
        return "carrier-grade NAT"
    if ip.version == 6 and ip in UNIQUE_LOCAL:
        return "unique-local"
    if ip.is_private:
        return "private"
    if ip.is_reserved or not ip.is_global:
        return "reserved"
    return None


class AllowList:
    """Hosts, addresses and networks exempt from the check (development, tests)."""

    def __init__(self, text=""):
        self.names, self.networks = set(), []
        for item in (part.strip().lower() for part in str(text or "").split(",")):
            if not item:
                continue
            try:
                self.networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                self.names.add(item.rstrip("."))

    def host(self, host):
        return host in self.names

    def address(self, ip):
        return any(ip in net for net in self.networks)


def _literal(host):
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def resolve(host, port):
    """Every address the host resolves to (patched in tests to play a changing DNS)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [info[4][0] for info in infos]


def _metadata_name(host):
    return host in METADATA_HOSTS or host.endswith(".internal")


def check_address(host, ip, allowed):
    problem = address_class(ip)
    if problem == "metadata" or (problem and not allowed.address(ip)):
        raise BlockedTarget(host, f"{ip} is a {problem} address")


def public_addresses(host, port, allowed, must_resolve=True):
    """The host's addresses, each checked; BlockedTarget if any is not public.

    With must_resolve=False a name that does not resolve (yet) passes with no
    addresses: registration accepts it and each delivery checks it again."""
    host = (host or "").lower().rstrip(".")
    if not host:
        raise BlockedTarget(host, "no host")
    if _metadata_name(host):
        raise BlockedTarget(host, "a metadata service")
    literal = _literal(host)
    if literal is not None:
        check_address(host, literal, allowed)
        return [str(literal)]
    if host == "localhost" or host.endswith(".localhost"):
        if not allowed.host(host):
            raise BlockedTarget(host, "a loopback name")
    try:
        addresses = [ipaddress.ip_address(a.split("%")[0]) for a in resolve(host, port)]
    except (OSError, UnicodeError):
        if must_resolve:
            raise
        return []
    if allowed.host(host):
        for ip in addresses:  # an allowed name still never reaches a metadata service
            if ip in METADATA_ADDRESSES:
                raise BlockedTarget(host, f"{ip} is a metadata address")
        return [str(ip) for ip in addresses]
    # every answer, not the first: a connection may try any of them
    for ip in addresses:
        check_address(host, ip, allowed)
    return [str(ip) for ip in addresses]


class _CheckedConnect:
    """urllib3 connection that resolves, checks and connects to a checked address itself.

    TLS still verifies the certificate against the URL's host name (urllib3 wraps
    the socket with server_hostname=self.host), so pinning the address changes
    only where the bytes go."""

    allowed = AllowList()

    def _new_conn(self):
        addresses = public_addresses(self._dns_host, self.port, self.allowed)
        last = None
        for address in addresses:
            try:
                return urllib3_connection.create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError as exc:
                last = ConnectTimeoutError(self, f"connection to {self.host} timed out")
                last.__cause__ = exc
            except OSError as exc:
                last = NewConnectionError(self, f"failed to connect: {exc}")
        raise last or NewConnectionError(self, f"{self.host} has no address")


class PublicOnlyAdapter(HTTPAdapter):
    """A requests transport that only opens connections to public addresses."""

    def __init__(self, allowed, **kwargs):
        self.allowed = allowed
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        extra = {"allowed": self.allowed}
        http_conn = type("PublicHTTPConnection", (_CheckedConnect, HTTPConnection), extra)
        https_conn = type("PublicHTTPSConnection", (_CheckedConnect, HTTPSConnection), extra)
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("PublicHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
            "https": type("PublicHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}),
        }


def pool(allowed):
    """The connection pools webhook deliveries are sent through, without requests on top:
    the same checked connections as session() (no proxy either), no redirect followed (a
    3xx is not a 2xx: the delivery is retried). request_error names what went wrong."""
    return PublicOnlyAdapter(allowed).poolmanager


def request_error(exc):
    """What a failed delivery records as its last_error: the names requests gave them."""
    if isinstance(exc, MaxRetryError):
        exc = exc.reason
    if isinstance(exc, NewConnectionError | ProtocolError):
        return "ConnectionError"
    if isinstance(exc, ConnectTimeoutError):
        return "ConnectTimeout"
    if isinstance(exc, ReadTimeoutError):
        return "ReadTimeout"
    return type(exc).__name__


def session(allowed):
    """A requests session for webhook deliveries: public targets only, no proxy from env."""
    http = requests.Session()
    http.trust_env = False  # a proxy would make the proxy, not the target, what we check
    adapter = PublicOnlyAdapter(allowed)
    http.mount("http://", adapter)
    http.mount("https://", adapter)
    return http
