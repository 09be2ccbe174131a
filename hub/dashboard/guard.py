"""The dashboard's request checks and response headers, as plain functions any web framework can call.

A DNS-rebinding page makes a browser send the attacker's host name to a loopback server: only
requests whose `Host` names this machine's loopback (or a name the operator allowed) are served.
The responses refuse to be framed and to be sniffed as another content type.
"""

from __future__ import annotations

from collections.abc import Iterable

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "localhost.localdomain", "ip6-localhost"})
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    (
        "Content-Security-Policy",
        "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),  # frame-ancestors for browsers that predate CSP 2
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
)


def host_name(header: str) -> str:
    """The name of a `Host` header without its port, lower-cased, without a trailing dot; IPv6 unbracketed."""
    value = header.strip().lower()
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    if value.count(":") == 1:
        value = value.split(":", 1)[0]
    return value.rstrip(".")


def allowed_hosts(extra: Iterable[str] = ()) -> frozenset[str]:
    """The loopback names and the operator's extra names, normalised as `host_name` does."""
    return LOOPBACK_NAMES | {host_name(h) for h in extra if h.strip()}


def host_problem(header: str | None, allowed: frozenset[str]) -> str | None:
    """Why a request's `Host` header is refused, or None when it names an allowed host."""
    if header is None or not header.strip():
        return "a Host header is required"
    name = host_name(header)
    if name in allowed:
        return None
    return f"host {header.strip()[:100]!r} is not served here; allow it with `hub dashboard --allow-host NAME`"
