"""TAXII status resources: which submissions one POST to a submissions collection made, and what failed at once.

The hub's decision on each submission is the ledger's; a status only remembers the submission ids
behind it (and the objects the server could not submit at all), so `GET status/{id}` can follow
the decisions from pending to complete, after restarts too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hub.ledger.store import Ledger


@dataclass(frozen=True)
class Submitted:
    """One object of a POST that went to the hub: its STIX id and version, and its submission id."""

    stix_id: str
    version: str
    submission_id: str


@dataclass(frozen=True)
class StatusRecord:
    """A status resource as kept: who posted, when, what went to the hub and what failed at once."""

    id: str
    side: str
    org: str
    created: str
    submissions: list[Submitted]
    failures: list[dict[str, Any]]  # {"id", "version", "message"} of objects never submitted


def save(ledger: Ledger, status: StatusRecord) -> None:
    """Keep one status resource."""
    subs = json.dumps([s.__dict__ for s in status.submissions])
    with ledger.transaction():
        ledger._q(
            "INSERT INTO taxii_status (id, side, org, created, submissions, failures) VALUES (?, ?, ?, ?, ?, ?)",
            (status.id, status.side, status.org, status.created, subs, json.dumps(status.failures)),
        )


def load(ledger: Ledger, status_id: str) -> StatusRecord | None:
    """The status resource `status_id`, or None."""
    sql = "SELECT id, side, org, created, submissions, failures FROM taxii_status WHERE id = ?"
    rows = ledger._q(sql, (status_id,))
    if ledger.dialect.name != "sqlite":
        ledger.conn.rollback()
    if not rows:
        return None
    sid, side, org, created, subs, failures = rows[0]
    return StatusRecord(sid, side, org, created, [Submitted(**s) for s in json.loads(subs)], json.loads(failures))


def now() -> str:
    """A status's creation time."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Decided:
    """One of an organisation's own submissions and the hub's decision on it (the inbox page)."""

    decided_at: str
    kind: str
    source_id: str | None
    version: str | None
    decision: str
    rule: str
    reason: str


def decisions_for(ledger: Ledger, side: str, org: str, limit: int = 200) -> list[Decided]:
    """The newest `limit` decisions on what `org` submitted from `side`, newest first."""
    rows = ledger._q(
        "SELECT decided_at, kind, source_id, version, decision, rule, reason FROM ledger "
        "WHERE direction LIKE ? AND lower(originator) = lower(?) ORDER BY seq DESC LIMIT ?",
        (f"{side}->%", org, limit),
    )
    if ledger.dialect.name != "sqlite":
        ledger.conn.rollback()
    return [Decided(*r) for r in rows]
