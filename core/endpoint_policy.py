"""Outbound URL policy for model endpoints a client chooses (SSRF defence).

The platform's own endpoint (OPENAI_BASE_URL, or OpenAI's when unset) is
trusted: the operator chose it. Any other base URL must use https (plain http
only where MODEL_ENDPOINT_ALLOW_HTTP allows it), and every address its host
resolves to must be public: loopback, private, link-local, CGNAT, multicast,
reserved and cloud metadata addresses are refused, IPv4 and IPv6 (including
IPv4 addresses wrapped in IPv6). MODEL_ENDPOINT_ALLOWED_HOSTS /
MODEL_ENDPOINT_ALLOWED_NETWORKS let an operator allow a deliberate private
endpoint (an on-premises gateway); metadata addresses stay refused even then.

Checked twice: when a tenant admin saves the URL (`check_url`), and when a
connection is opened (`PinnedTransport`): the host is resolved once, every
address checked, and the socket connects to a checked address itself, while
TLS (SNI, certificate) and the Host header keep the original name, so DNS
rebinding between the check and the connect cannot switch the target.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

import httpcore
import httpx
from django.conf import settings
from django.utils.translation import gettext as _

OPENAI_DEFAULT_URL = "https://api.openai.com/v1"

# Cloud instance metadata services: refused even inside an allow-listed network.
METADATA_NETWORKS = tuple(ipaddress.ip_network(net) for net in (
    "169.254.169.254/32",  # AWS, GCP, Azure, DigitalOcean, OpenStack
    "169.254.170.2/32",  # AWS ECS task metadata
    "fd00:ec2::254/128",  # AWS over IPv6
    "100.100.100.200/32",  # Alibaba Cloud
    "192.0.0.192/32",  # Oracle Cloud
))
NAT64 = ipaddress.ip_network("64:ff9b::/96")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port -> the addresses it resolves to (the system resolver by default).
Resolver = Callable[[str, int], list[str]]


class EndpointRefused(Exception):
    """A client endpoint breaks the policy; `reason` is a sentence for the tenant admin."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def platform_url() -> str:
    return settings.OPENAI_BASE_URL or OPENAI_DEFAULT_URL


def _normalized(url: str) -> tuple[str, str, str, int | None, str]:
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"https": 443, "http": 80}.get(scheme)
    except ValueError:
        port = -1
    userinfo = parts.netloc.rpartition("@")[0]
    return scheme, userinfo, (parts.hostname or "").lower(), port, parts.path.rstrip("/")


def is_platform_url(url: str) -> bool:
    """Whether `url` is the platform's own endpoint (empty means the platform's)."""
    return not url or _normalized(url) == _normalized(platform_url())


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def check_url(url: str, *, resolver: Resolver | None = None) -> list[str]:
    """Refuse (EndpointRefused) a client base URL the policy does not allow;
    return the addresses its host resolves to now."""
    parts = urlsplit(url.strip())
    check_scheme(parts.scheme)
    if not parts.hostname:
        raise EndpointRefused(_("The base URL has no host name."))
    if parts.username is not None or parts.password is not None:
        raise EndpointRefused(_(
            "The base URL must not contain a user name or password; enter the API key in "
            "its own field."))
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError as exc:
        raise EndpointRefused(_("The base URL has an invalid port.")) from exc
    return resolve_checked(parts.hostname, port, resolver=resolver)


def check_scheme(scheme: str, *, allow_http: bool | None = None) -> None:
    """https only; plain http where `allow_http` (default: MODEL_ENDPOINT_ALLOW_HTTP)."""
    scheme = scheme.lower()
    if scheme == "https":
        return
    if allow_http is None:
        allow_http = settings.MODEL_ENDPOINT_ALLOW_HTTP
    if scheme == "http" and allow_http:
        return
    raise EndpointRefused(_(
        "The base URL must start with https:// (plain http would send your API key "
        "and your employees' messages unencrypted)."))


def resolve_checked(host: str, port: int, *, resolver: Resolver | None = None,
                    allow_private: bool = False) -> list[str]:
    """Resolve `host` once and check every address; all must be allowed (an
    attacker's DNS could mix a public address with an internal one).
    `allow_private` (development only) admits internal addresses as the
    operator's allow-list does; cloud metadata addresses stay refused."""
    host = host.strip("[]").lower()
    try:
        addresses = (resolver or system_resolver)(host, port)
    except (OSError, UnicodeError) as exc:
        raise EndpointRefused(_(
            "The host name in the base URL could not be found. Check its spelling.")) from exc
    if not addresses:
        raise EndpointRefused(_(
            "The host name in the base URL could not be found. Check its spelling."))
    host_allowed = allow_private or host in {
        name.strip().lower() for name in settings.MODEL_ENDPOINT_ALLOWED_HOSTS}
    for text in addresses:
        _check_address(ipaddress.ip_address(text.split("%", 1)[0]), host_allowed=host_allowed)
    return addresses


def _embedded_ipv4(address: Address) -> Iterable[Address]:
    """IPv4 addresses an IPv6 address can carry to an IPv4 host."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            yield address.ipv4_mapped
        if address.sixtofour:
            yield address.sixtofour
        if address.teredo:
            yield address.teredo[1]
        if address in NAT64:
            yield ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)


def _is_internal(address: Address) -> bool:
    return (not address.is_global or address.is_multicast or address.is_private
            or address.is_loopback or address.is_link_local or address.is_reserved
            or address.is_unspecified)


def _check_address(address: Address, *, host_allowed: bool) -> None:
    candidates = [address, *_embedded_ipv4(address)]
    if any(candidate in net for candidate in candidates for net in METADATA_NETWORKS
           if candidate.version == net.version):
        raise EndpointRefused(_(
            "The base URL points at a cloud metadata address, which is never allowed."))
    if not any(_is_internal(candidate) for candidate in candidates):
        return
    if host_allowed or _in_allowed_network(address):
        return
    raise EndpointRefused(_(
        "The base URL's host resolves to a private, loopback, link-local or other "
        "internal network address; model endpoints must be reachable on the public "
        "internet. (The platform operator can allow an on-premises gateway.)"))


def _in_allowed_network(address: Address) -> bool:
    for cidr in settings.MODEL_ENDPOINT_ALLOWED_NETWORKS:
        network = ipaddress.ip_network(cidr.strip(), strict=False)
        if network.version == address.version and address in network:
            return True
    return False


class _PinnedBackend(httpcore.SyncBackend):
    """Resolves the host once per connection, checks every address, and opens
    the socket to a checked address; httpcore still does TLS with the original
    host name (SNI and certificate check), and httpx sends it as Host."""

    def __init__(self, resolver: Resolver | None, *, allow_private: bool = False) -> None:
        self._resolver = resolver
        self._allow_private = allow_private

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        addresses = resolve_checked(host, port, resolver=self._resolver,
                                    allow_private=self._allow_private)
        failure: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout=timeout,
                                           local_address=local_address,
                                           socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure  # type: ignore[misc]


class PinnedTransport(httpx.HTTPTransport):
    """The httpx transport for addresses a client chooses — model endpoints
    (llm/gateway.py) and single sign-on providers (tenants/sso/oidc.py):
    scheme checked per request, addresses checked and pinned per connection,
    no proxies from the environment (a proxy would make the connection to
    somewhere unchecked). Use it with `follow_redirects=False`: every request
    goes where it was checked to go, or nowhere.

    `allow_http` (default MODEL_ENDPOINT_ALLOW_HTTP) and `allow_private`
    (default off) are the development relaxations of the caller's own
    settings; the operator's allow-list and the metadata rule always apply."""

    def __init__(self, *, limits: httpx.Limits, verify=True, resolver: Resolver | None = None,
                 allow_http: bool | None = None, allow_private: bool = False):
        super().__init__(verify=verify, limits=limits, trust_env=False)
        self._allow_http = allow_http
        # httpx does not expose httpcore's network_backend: same pool, our backend.
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_PinnedBackend(resolver, allow_private=allow_private),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        check_scheme(request.url.scheme, allow_http=self._allow_http)
        return super().handle_request(request)
