"""Where a webhook may go (SSRF guard) and the POST itself.

A URL must be http(s), without credentials, and every address its host resolves to (A and AAAA) must be public:
loopback, private, link-local, multicast, reserved, unspecified and other non-global addresses are refused unless
``settings.ACCORD_WEBHOOKS_ALLOW_PRIVATE``. The check runs when an endpoint is saved and again before each attempt,
and the request goes to the address that was checked (the host name stays in the Host header and TLS's SNI and
certificate check), so a DNS answer that changes in between (DNS rebinding) cannot redirect it. Redirects are not
followed, proxies from the environment are not used.
"""

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx
from django.conf import settings
from django.utils.translation import gettext as _

from core.errors import DomainError

TIMEOUT_SECONDS = 10
EXCERPT_BYTES = 1000
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeURLError(DomainError):
    default_code = "unsafe_url"


def _is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return _is_public(address.ipv4_mapped)  # ::ffff:127.0.0.1 is 127.0.0.1
    if isinstance(address, ipaddress.IPv6Address) and address.sixtofour and not _is_public(address.sixtofour):
        return False  # 6to4: 2002:7f00:1:: reaches 127.0.0.1 through a relay
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise UnsafeURLError(_("The host %(host)s could not be resolved.") % {"host": host}) from error
    addresses = []
    for *_rest, sockaddr in answers:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


@dataclass(frozen=True)
class Target:
    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[IPAddress, ...]


def check_url(url: str) -> Target:
    """The URL's parts and the addresses it resolves to now. Raises UnsafeURLError for a URL Accord must not call."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeURLError(_("Only http and https URLs can receive webhooks."))
    if not parts.hostname:
        raise UnsafeURLError(_("The URL has no host."))
    if parts.username or parts.password:
        raise UnsafeURLError(_("Put no user name or password in the URL: verify the signature instead."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise UnsafeURLError(_("The URL's port is not valid.")) from error
    try:  # an internationalised name as its ASCII form: the form DNS, the Host header and TLS's SNI all take
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError as error:
        raise UnsafeURLError(_("The host %(host)s could not be resolved.") % {"host": parts.hostname}) from error
    addresses = _resolve(host, port)
    if not settings.ACCORD_WEBHOOKS_ALLOW_PRIVATE:
        refused = [str(address) for address in addresses if not _is_public(address)]
        if refused:
            raise UnsafeURLError(
                _("%(host)s resolves to a private or reserved address (%(addresses)s): webhooks go to public hosts.")
                % {"host": host, "addresses": ", ".join(refused)}
            )
    return Target(url=url, scheme=parts.scheme, host=host, port=port, addresses=tuple(addresses))


@dataclass(frozen=True)
class Response:
    status_code: int | None
    excerpt: str
    duration_ms: int
    error: str = ""


def post(target: Target, body: bytes, headers: dict[str, str]) -> Response:
    """POST ``body`` to the target's first checked address; never raises for a network failure."""
    address = target.addresses[0]
    literal = f"[{address}]" if address.version == 6 else str(address)
    parts = urlsplit(target.url)
    pinned = urlunsplit((parts.scheme, f"{literal}:{target.port}", parts.path or "/", parts.query, ""))
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    if ":" in target.host:  # an IPv6 literal keeps its brackets in the Host header
        host_header = host_header.replace(target.host, f"[{target.host}]", 1)
    started = time.monotonic()
    try:
        with (
            httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False, trust_env=False) as client,
            client.stream(
                "POST",
                pinned,
                content=body,
                headers={**headers, "Host": host_header},
                extensions={"sni_hostname": target.host},
            ) as answer,
        ):
            return Response(answer.status_code, _read_excerpt(answer), _since(started))
    except httpx.HTTPError as error:
        return Response(None, "", _since(started), error=f"{type(error).__name__}: {error}"[:500])


def _read_excerpt(answer: httpx.Response) -> str:
    content = b""
    for chunk in answer.iter_bytes():
        content += chunk
        if len(content) >= EXCERPT_BYTES:
            break
    return content[:EXCERPT_BYTES].decode("utf-8", errors="replace")


def _since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
