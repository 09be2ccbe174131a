"""Refusals: deliveries a destination refused, and events a source could not submit, kept for auditors.

The hub's ledger says what the hub decided; a refusal says what happened after (or before) it at a
peer: a MISP that answered "Event blocked by event blocklist" to a delivery, or an event too large
to submit. Each is one append-only row beside the ledger (its own table, outside the hash chain
and the counts), written by the connector before it moves on, so an auditor can list what was
delivered by the hub and refused by the destination (`hub audit refusals`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from hub.errors import LedgerError
from hub.ledger.store import Ledger

REASON_LIMIT = 1000  # characters of a reason kept: a hostile peer's error text is not the auditor's problem
FIELD_LIMIT = 200  # characters of any other field (ids, names, locations)


@dataclass(frozen=True)
class Refusal:
    """One item a connector could not bring across, with the reason, as the refusals table holds it."""

    connector: str  # the connector's name (`misp-rest-nato-…`)
    side: str  # the side whose peer it is: EU or NATO
    role: str  # "sink": refused by the destination; "source": could not be submitted to the hub
    item: str | None  # the item's identity (a MISP event UUID)
    version: str | None  # its version (a MISP event timestamp)
    submission_id: str | None  # the hub's submission id of a delivery (its `hub-sid` header)
    location: str | None  # where it was read: `nato.inbox/2@117`, or the peer's path
    reason: str
    at: str = ""  # ISO 8601 UTC; set when recorded

    @classmethod
    def of(cls, **given: Any) -> Refusal:
        """A refusal with every field made printable and bounded, stamped now."""
        clean = {k: _printable(v, REASON_LIMIT if k == "reason" else FIELD_LIMIT) for k, v in given.items()}
        return cls(**{"at": datetime.now(UTC).isoformat(timespec="milliseconds"), **clean})

    def as_json(self) -> dict[str, Any]:
        """The refusal as a JSON object."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


COLUMNS = tuple(f.name for f in fields(Refusal))


def _printable(value: Any, limit: int) -> Any:
    if value is None:
        return None
    text = "".join(c if c.isprintable() else " " for c in str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def record(ledger: Ledger, refusal: Refusal) -> None:
    """Append `refusal`; LedgerError when the database cannot take it (the caller then does not move on)."""
    marks = ",".join("?" * (len(COLUMNS) + 1))
    sql = f"INSERT INTO refusals ({','.join(COLUMNS)}, day) VALUES ({marks})"
    values = (*(getattr(refusal, c) for c in COLUMNS), refusal.at[:10])
    with _translated(ledger, "recording a refusal"):
        _execute(ledger, sql, values)
        if ledger.dialect.name != "sqlite":
            ledger.conn.commit()


def refusals(
    ledger: Ledger,
    first_day: str | None = None,
    last_day: str | None = None,
    match: dict[str, str] | None = None,
    batch: int = 10_000,
) -> Iterator[Refusal]:
    """The refusals in the order they were recorded, from `first_day` to `last_day`, matching `match` (side, role)."""
    terms, params = ["id > ?"], []
    match = match or {}
    for column, value in match.items():
        if column not in ("side", "role", "connector"):
            raise LedgerError(f"cannot select refusals by {column!r}")
        terms.append(f"{column} = ?")
        params.append(value)
    for op, day in ((">=", first_day), ("<=", last_day)):
        if day is not None:
            terms.append(f"day {op} ?")
            params.append(day)
    sql = f"SELECT id, {','.join(COLUMNS)} FROM refusals WHERE {' AND '.join(terms)} ORDER BY id LIMIT ?"
    after = 0
    while True:
        with _translated(ledger, "listing the refusals"):
            page = _execute(ledger, sql, (after, *params, batch))
            if ledger.dialect.name != "sqlite":
                ledger.conn.rollback()  # a reader holds no snapshot between pages
        yield from (Refusal(*row[1:]) for row in page)
        if len(page) < batch:
            return
        after = page[-1][0]


def _execute(ledger: Ledger, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    text = ledger.dialect.sql(sql)
    if ledger.dialect.name == "sqlite":
        cur = ledger.conn.execute(text, params)
    else:
        cur = ledger.conn.cursor()
        cur.execute(text, params)
    return list(cur.fetchall()) if cur.description else []


@contextlib.contextmanager
def _translated(ledger: Ledger, what: str) -> Iterator[None]:
    """Database errors as LedgerError; a PostgreSQL transaction left usable after one."""
    if ledger.dialect.name == "sqlite":
        import sqlite3

        errors: tuple[type[Exception], ...] = (sqlite3.Error,)
    else:
        import psycopg

        errors = (psycopg.Error,)
    try:
        yield
    except errors as exc:
        if ledger.dialect.name != "sqlite":
            with contextlib.suppress(Exception):
                ledger.conn.rollback()
        raise LedgerError(f"{what} failed: {exc}") from exc
