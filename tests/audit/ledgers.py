"""Helpers of the report, audit and dashboard tests: ledgers with chosen decisions, and a DBA's tampering."""

from __future__ import annotations

import sqlite3
import uuid
from dataclasses import replace
from datetime import UTC, datetime

import psycopg

from hub.core.decide import next_state
from hub.core.decision import Decision, Outcome
from hub.demo.history import envelope
from hub.ledger import GENESIS, Ledger, Record
from hub.ledger.schema import MIGRATIONS, SQLITE_GUARD
from schemas.common import Area, Kind, Side


def outcome(kind="misp_event", decision="delivered", area="cyber", origin="EU", source=None) -> Outcome:
    """One decision about an item of `kind` from side `origin` (rejections carry only the hint)."""
    sid = str(uuid.uuid4())
    if decision == "rejected":
        return Outcome(sid, Decision.REJECTED, "field `version`: missing", "invalid", hint=(kind, area, origin))
    env = envelope(Kind(kind), Side(origin), Area(area), source or uuid.uuid4(), datetime(2018, 6, 1, tzinfo=UTC))
    tags = ("tlp:green", "disarm:T0022") if decision != "withheld" else ()
    reason = "TLP:RED may not leave its originator" if decision == "withheld" else "new item"
    # The worker's outcomes name who submitted a valid item (its key's side and organisation).
    return Outcome(
        sid, Decision(decision), reason, "rule", env, "ab" * 32, tags, submitter=f"{origin}:{env.originator}"
    )


def write(ledger: Ledger, at: str, *outcomes: Outcome, chain: int = 0) -> list[Record]:
    """Append `outcomes` as decided at `at` (ISO date or time, UTC), to the chain of partition `chain`."""
    when = datetime.fromisoformat(at if "T" in at else at + "T10:00:00").replace(tzinfo=UTC)
    with ledger.transaction((chain,)):
        state = ledger.seen(o.envelope.key for o in outcomes if o.envelope is not None)
        changed = {}
        for o in outcomes:  # the dedupe state the worker would keep, so that `hub audit verify` recomputes it
            new = next_state(o, state.get(o.envelope.key)) if o.envelope is not None else None
            if new is not None:
                state[o.envelope.key] = changed[o.envelope.key] = new
        return ledger.append(list(outcomes), changed, when, {o.submission_id: chain for o in outcomes})


def many(n: int, **kw) -> list[Outcome]:
    """`n` outcomes alike."""
    return [outcome(**kw) for _ in range(n)]


def tamper(url: str, sql: str, params: tuple = ()) -> None:
    """What a DBA would do: switch the append-only guard off, change the ledger by hand, switch it back on."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("DROP TRIGGER ledger_no_update")
        conn.execute("DROP TRIGGER ledger_no_delete")
        conn.execute(sql.replace("%s", "?"), params)
        conn.executescript(SQLITE_GUARD)
        conn.close()
        return
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE ledger DISABLE TRIGGER ledger_append_only")
        conn.execute(sql, params)
        conn.execute("ALTER TABLE ledger ENABLE TRIGGER ledger_append_only")


# The schema version just before one hash chain per partition: the migrations before it, counted.
ONE_CHAIN = next(n for n, m in enumerate(MIGRATIONS) if m.purpose.startswith("one hash chain"))


def as_one_chain(url: str) -> None:
    """Turn a ledger whose records are all chain 0 back into what the schema before chains wrote: one chain.

    Each record is re-hashed without `chain` and `chain_seq` (the hash the code before the chains
    computed), the chain heads table, the sequence and the two columns are dropped, the version set
    to the one before the chains (`ONE_CHAIN`): the ledger an upgrade finds.
    """
    ledger = Ledger(url)
    records = list(ledger.records())
    ledger.close()
    prev, rows = GENESIS, []
    for r in records:
        assert r.chain == 0, "only a ledger of chain 0 has a one-chain past"
        old = replace(r, chain=None, chain_seq=None, prev_hash=prev)
        prev = old.expected_hash()
        rows.append((old.prev_hash, prev, r.seq))
    update = "UPDATE ledger SET prev_hash = %s, hash = %s WHERE seq = %s"
    undo = [
        "DROP TABLE chain_heads",
        "ALTER TABLE ledger DROP COLUMN chain",
        "ALTER TABLE ledger DROP COLUMN chain_seq",
    ]
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute("DROP TRIGGER ledger_no_update")
        conn.execute("DROP TRIGGER ledger_no_delete")
        conn.executemany(update.replace("%s", "?"), rows)
        for statement in undo:
            conn.execute(statement)
        conn.execute(f"UPDATE ledger_schema SET version = {ONE_CHAIN}")  # noqa: S608 - an int
        conn.executescript(SQLITE_GUARD)
        conn.close()
        return
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE ledger DISABLE TRIGGER ledger_append_only")
        conn.cursor().executemany(update, rows)
        version = f"UPDATE ledger_schema SET version = {ONE_CHAIN}"  # noqa: S608 - an int
        for statement in [*undo, "DROP SEQUENCE ledger_seq", version]:
            conn.execute(statement)
        conn.execute("ALTER TABLE ledger ENABLE TRIGGER ledger_append_only")
