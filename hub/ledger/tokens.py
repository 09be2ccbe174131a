"""API tokens of the organisations that use the hub's web server (TAXII, the inbox page), hashed at rest.

A token is `hub_<id>_<secret>`: the id finds its row, the secret is checked against a salted
SHA-256 digest. The secret is 32 random bytes, so a slow password hash would add nothing an
attacker could not already not do (no dictionary reaches 2^256); the salt keeps two rows' digests
apart, and the database never holds anything that opens the server. `hub tokens add` prints the
token once; a revoked token is kept (who had access, when) but opens nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from hub.errors import InputError
from hub.ledger.store import Ledger

PREFIX = "hub"
SECRET_BYTES = 32  # 256 bits: out of reach of any guessing, so a fast hash suffices
_TOKEN = re.compile(r"^hub_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class Holder:
    """Who a token speaks for."""

    token_id: str
    org: str
    side: str
    created: str
    revoked: str | None = None


def _digest(salt: str, secret: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + secret.encode()).hexdigest()


def add(ledger: Ledger, org: str, side: str) -> tuple[Holder, str]:
    """Make a token for `org` on `side`; (its holder, the token itself, shown once and never kept)."""
    if not org.strip():
        raise InputError("the organisation must be named")
    token_id, secret, salt = secrets.token_hex(8), secrets.token_urlsafe(SECRET_BYTES), secrets.token_hex(16)
    holder = Holder(token_id, org.strip(), side, datetime.now(UTC).isoformat(timespec="seconds"))
    with ledger.transaction():
        ledger._q(
            "INSERT INTO api_tokens (token_id, org, side, salt, digest, created) VALUES (?, ?, ?, ?, ?, ?)",
            (token_id, holder.org, side, salt, _digest(salt, secret), holder.created),
        )
    return holder, f"{PREFIX}_{token_id}_{secret}"


def holders(ledger: Ledger) -> list[Holder]:
    """Every token's holder, revoked ones included."""
    rows = ledger._q("SELECT token_id, org, side, created, revoked FROM api_tokens ORDER BY created, token_id")
    return [Holder(*r) for r in rows]


def revoke(ledger: Ledger, token_id: str) -> bool:
    """Revoke a token by its id; False when no live token has that id."""
    with ledger.transaction():
        found = ledger._q("SELECT 1 FROM api_tokens WHERE token_id = ? AND revoked IS NULL", (token_id,))
        if found:
            now = datetime.now(UTC).isoformat(timespec="seconds")
            ledger._q("UPDATE api_tokens SET revoked = ? WHERE token_id = ?", (now, token_id))
    return bool(found)


def holder_of(ledger: Ledger, token: str) -> Holder | None:
    """The live holder of `token`, or None (unknown, malformed, revoked or wrong secret alike)."""
    match = _TOKEN.match(token.strip())
    if match is None:
        return None
    token_id, secret = match.groups()
    rows = ledger._q(
        "SELECT org, side, created, salt, digest FROM api_tokens WHERE token_id = ? AND revoked IS NULL", (token_id,)
    )
    if ledger.dialect.name != "sqlite":
        ledger.conn.rollback()
    if not rows:
        return None
    org, side, created, salt, digest = rows[0]
    if not hmac.compare_digest(_digest(salt, secret), digest):
        return None
    return Holder(token_id, org, side, created)
