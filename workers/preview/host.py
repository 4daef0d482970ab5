"""Which ``Host:`` headers the preview answers (pure): its own names only, against DNS rebinding.

A page on any web site can make a browser resolve its own name to 127.0.0.1 and then read a loopback server
as same-origin (DNS rebinding). The browser still sends the attacker's name in ``Host``, so a server that
answers only its own names is out of reach. The preview's names: the address it is bound to, ``localhost``,
``127.0.0.1`` and ``[::1]``, each with its port (RFC 9110 §7.2: ``Host = uri-host [ ":" port ]``; the port
may be left out only when it is 80), plus names given with ``vodfleet preview --allow-host``. Any other
``Host`` gets 421 Misdirected Request (RFC 9110 §15.5.20); a request without one gets 400 (RFC 9112 §3.2).
"""

from __future__ import annotations

from collections.abc import Iterable

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")


def _authority(host: str) -> str:
    host = host.strip().lower().rstrip(".")
    return f"[{host}]" if host.count(":") >= 2 and not host.startswith("[") else host  # a bare IPv6 address


def own_hosts(bound: str, port: int, extra: Iterable[str] = ()) -> frozenset[str]:
    """Every ``Host`` value the preview answers: each name with ``:port`` (and bare when the port is 80).
    `extra` entries may carry their own port (``media.lan:8080``)."""
    found: set[str] = set()
    for name in (bound, *LOOPBACK_NAMES, *extra):
        authority = _authority(name)
        if authority.rpartition(":")[2].isdigit() and not authority.endswith("]"):
            found.add(authority)  # "name:port" as given
            continue
        found.add(f"{authority}:{port}")
        if port == 80:
            found.add(authority)
    return frozenset(found)


def host_allowed(header: str | None, allowed: frozenset[str]) -> bool:
    """Whether a request's ``Host`` header names this server (case and a trailing dot of the name ignored)."""
    if not header:
        return False
    name, sep, port = header.strip().lower().rpartition(":")
    if sep and port.isdigit() and not header.strip().endswith("]"):
        return f"{_authority(name) if not name.startswith('[') else name}:{port}" in allowed
    return _authority(header) in allowed
