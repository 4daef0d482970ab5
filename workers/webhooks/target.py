"""Where a webhook may be sent: the target's host resolved, every address checked, the checked address pinned.

A webhook URL is chosen by whoever submits a job, and the worker that POSTs it sits inside the fleet's network:
without a check, ``http://169.254.169.254/`` (a cloud's metadata service) or ``http://127.1:6379/`` (the
store) are one ``--webhook`` away. So the host is resolved (``getaddrinfo``, which reads every spelling the
C library does: ``127.1``, ``2130706433``, ``0x7f000001``, ``[::ffff:127.0.0.1]``) and refused when ANY
address it resolves to is not a public unicast address (`refusal`): loopback, private, link-local (the
metadata address), shared (100.64/10), multicast, reserved, unspecified (``0.0.0.0`` reaches the host
itself), or an IPv6 form that embeds such an IPv4 address (IPv4-mapped ``::ffff:0:0/96``, NAT64
``64:ff9b::/96`` RFC 6052, 6to4 ``2002::/16``). The rule is IANA's special-purpose registries
(RFC 6890) as Python's `ipaddress` tables carry them.

The check runs when a job is created (`vodfleet submit`, `vodfleet watch`) and again before each send: the
sender connects to the very address it checked (`Target.addresses`), never to the name again, so a DNS answer
that changes between the check and the connection (DNS rebinding) cannot redirect the POST. ``Host`` and TLS
SNI/certificate checks still use the name.

``VODFLEET_WEBHOOK_ALLOW`` (comma-separated CIDRs, addresses or host names) names internal receivers that are
allowed anyway: an address inside an allowed network, or a host name listed as written.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from workers.errors import WebhookRefused, WebhookUnresolvable
from workers.settings import IPNetwork, parse_webhook_allow

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[IPAddress]]  # (host, port) → its addresses; raises OSError

NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052 well-known prefix: the low 32 bits are the IPv4 address
ALLOW_HINT = ("send webhooks to a public address, or allow this internal receiver explicitly with "
              "VODFLEET_WEBHOOK_ALLOW (comma-separated CIDRs or host names)")


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (IPv4-mapped, NAT64 /96, 6to4), or None (pure)."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def refusal(address: IPAddress) -> str | None:
    """Why a webhook may not go to `address` ("loopback", "private", …), or None for a public unicast one (pure).

    Source of the rule: IANA special-purpose address registries (RFC 6890) via `ipaddress`; multicast is refused
    even where it is global (a POST to a group makes no sense and reaches every member)."""
    inner = embedded_ipv4(address)
    if inner is not None:
        why = refusal(inner)
        return None if why is None else f"{why} ({inner} inside {address})"
    for flag in ("is_unspecified", "is_loopback", "is_link_local", "is_multicast", "is_private", "is_reserved"):
        if getattr(address, flag):
            return flag.removeprefix("is_").replace("_", "-")
    return None if address.is_global else "not globally routable"


@dataclass(frozen=True)
class Allowlist:
    """Internal receivers allowed anyway (``VODFLEET_WEBHOOK_ALLOW``): networks and exact host names."""

    networks: tuple[IPNetwork, ...] = ()
    hosts: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, text: str | None) -> Allowlist:
        """``"127.0.0.1/32, 10.0.0.0/8, hooks.internal"`` → an Allowlist (pure); ValueError names a bad entry
        (the syntax is the setting's: `workers.settings.parse_webhook_allow`)."""
        networks, hosts = parse_webhook_allow(text)
        return cls(networks, hosts)

    def allows_host(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.hosts

    def allows(self, address: IPAddress) -> bool:
        inner = embedded_ipv4(address)
        return any(address in n or (inner is not None and inner in n) for n in self.networks)


def system_resolver(host: str, port: int) -> list[IPAddress]:
    """Every address the C library resolves `host` to (numeric spellings included), in its order."""
    found: list[IPAddress] = []
    for *_, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        address = ipaddress.ip_address(str(sockaddr[0]).partition("%")[0])  # drop an IPv6 zone (fe80::1%eth0)
        if address not in found:
            found.append(address)
    return found


@dataclass(frozen=True)
class Target:
    """A checked webhook URL: its parts and the addresses the sender may connect to (in order)."""

    url: str
    scheme: str
    host: str  # as the URL names it (IPv6 without brackets): the Host header and TLS SNI
    port: int
    path: str  # path + query, what the request line carries
    addresses: tuple[IPAddress, ...]


def check_target(url: str, allow: Allowlist, *, resolve: Resolver = system_resolver,
                 field: str = "webhook") -> Target:
    """Resolve `url`'s host and check every address; raise `WebhookRefused` (naming `field`) otherwise.

    Raises WebhookUnresolvable when the host does not resolve, WebhookRefused when any address is internal and
    not allowed."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    name = host.lower().rstrip(".")
    loopback = ipaddress.IPv4Address("127.0.0.1")
    if (name == "localhost" or name.endswith(".localhost")) and not (allow.allows_host(host)
                                                                      or allow.allows(loopback)):
        # RFC 6761 §6.3: loopback whatever a resolver says (some resolve "localhost." and subdomains, some not)
        raise WebhookRefused(f"{field} {url!r}: {host!r} is a loopback name", hint=ALLOW_HINT)
    try:
        addresses = tuple(resolve(host, port))
    except (OSError, UnicodeError, ValueError) as exc:
        raise WebhookUnresolvable(f"{field} {url!r}: its host {host!r} does not resolve ({exc})",
                             hint="check the host name; webhooks are sent only to hosts that resolve") from exc
    if not addresses:
        raise WebhookUnresolvable(f"{field} {url!r}: its host {host!r} resolves to no address",
                                  hint="check the host name")
    if not allow.allows_host(host):
        for address in addresses:
            why = refusal(address)
            if why is not None and not allow.allows(address):
                shown = "" if host == str(address) else f" (it resolves to {address})"
                raise WebhookRefused(f"{field} {url!r}: {host!r} is an internal address{shown}: {why}",
                                     hint=ALLOW_HINT)
    return Target(url, parts.scheme, host, port, path, addresses)
