"""The ledger's tables, set up by versioned migrations applied once, not on every open.

Opening a ledger reads its schema version and looks for its append-only guard: two cheap reads
that take no lock, so readers (counts, audit, reports, the dashboard) never wait for, or make wait,
a worker's batch. Only a ledger behind the newest version, or one whose guard is missing, is
changed, under the writers' lock, in one transaction; the guard's return is logged as a warning,
since only someone with the database's own rights can remove it.

A migration is appended to `MIGRATIONS` (never edited once released); its number is its position.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("hub.ledger")

MIGRATION_LOCK_TIMEOUT_S = 60  # how long a schema upgrade waits for readers' transactions to end
ADVISORY_LOCK = 7_400_2016  # any constant shared by all hub workers; this one recalls 74 proposals, 2016
# (alone, exclusive: a schema upgrade; shared, by every batch; paired with a partition: that partition's chain)


@dataclass(frozen=True)
class Migration:
    """One step of the schema: its purpose and its DDL (the same SQL for both backends unless split)."""

    purpose: str
    sql: str
    postgres: str | None = None  # PostgreSQL's own text, when it differs

    def text(self, dialect: str) -> str:
        """The SQL to run on `dialect` ("sqlite" or "postgresql")."""
        return self.postgres if dialect == "postgresql" and self.postgres is not None else self.sql


# The TAXII server's tables (version 6), the same on both backends.
TAXII_TABLES = """CREATE INDEX IF NOT EXISTS delivery_objects_added ON delivery_objects (side, date_added);
CREATE TABLE IF NOT EXISTS api_tokens (
  token_id TEXT PRIMARY KEY, org TEXT NOT NULL, side TEXT NOT NULL, salt TEXT NOT NULL, digest TEXT NOT NULL,
  created TEXT NOT NULL, revoked TEXT);
CREATE TABLE IF NOT EXISTS taxii_status (
  id TEXT PRIMARY KEY, side TEXT NOT NULL, org TEXT NOT NULL, created TEXT NOT NULL,
  submissions TEXT NOT NULL, failures TEXT NOT NULL);
"""

# One hash chain per input partition (version 5), the same on both backends but for PostgreSQL's sequence.
CHAINS = """
ALTER TABLE ledger ADD COLUMN chain INTEGER;
ALTER TABLE ledger ADD COLUMN chain_seq BIGINT;
CREATE TABLE IF NOT EXISTS chain_heads (
  chain INTEGER PRIMARY KEY, chain_seq BIGINT NOT NULL, seq BIGINT NOT NULL, hash TEXT NOT NULL);
INSERT INTO chain_heads (chain, chain_seq, seq, hash)
  SELECT 0, seq, seq, hash FROM ledger ORDER BY seq DESC LIMIT 1;
CREATE TABLE counts_by_chain (
  day TEXT NOT NULL, area TEXT NOT NULL, kind TEXT NOT NULL, direction TEXT NOT NULL,
  decision TEXT NOT NULL, chain INTEGER NOT NULL, n BIGINT NOT NULL,
  PRIMARY KEY (day, area, kind, direction, decision, chain));
INSERT INTO counts_by_chain (day, area, kind, direction, decision, chain, n)
  SELECT day, area, kind, direction, decision, 0, n FROM counts;
DROP TABLE counts;
ALTER TABLE counts_by_chain RENAME TO counts;
"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        "records, dedupe state, live counts",
        """
CREATE TABLE IF NOT EXISTS ledger (
  seq BIGINT PRIMARY KEY, submission_id TEXT NOT NULL UNIQUE, decided_at TEXT NOT NULL,
  day TEXT NOT NULL, kind TEXT NOT NULL, area TEXT NOT NULL, direction TEXT NOT NULL,
  decision TEXT NOT NULL, rule TEXT NOT NULL, reason TEXT NOT NULL, originator TEXT,
  source_id TEXT, version TEXT, content_hash TEXT, tags TEXT NOT NULL,
  prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ledger_day ON ledger (day);
CREATE TABLE IF NOT EXISTS items (
  key TEXT PRIMARY KEY, version TEXT NOT NULL, content_hash TEXT NOT NULL,
  origin TEXT NOT NULL, delivered INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS items_hash ON items (content_hash);
CREATE TABLE IF NOT EXISTS counts (
  day TEXT NOT NULL, area TEXT NOT NULL, kind TEXT NOT NULL, direction TEXT NOT NULL,
  decision TEXT NOT NULL, n BIGINT NOT NULL, PRIMARY KEY (day, area, kind, direction, decision));
""",
    ),
    Migration(
        "trust: who submitted each record and the digest that seals it; the owner of each item",
        """
ALTER TABLE ledger ADD COLUMN submitter TEXT;
ALTER TABLE ledger ADD COLUMN message_digest TEXT;
ALTER TABLE items ADD COLUMN owner TEXT;
UPDATE items SET owner = earliest.owner FROM (
  SELECT l.kind || ':' || l.source_id AS key,
         substr(l.direction, 1, instr(l.direction, '->') - 1) || ':' || l.originator AS owner
  FROM ledger l JOIN (
    SELECT kind, source_id, MIN(seq) AS seq FROM ledger
    WHERE decision IN ('delivered', 'updated', 'withheld') AND source_id IS NOT NULL GROUP BY kind, source_id
  ) f ON l.seq = f.seq
) AS earliest WHERE items.key = earliest.key;
""",
        postgres="""
ALTER TABLE ledger ADD COLUMN submitter TEXT;
ALTER TABLE ledger ADD COLUMN message_digest TEXT;
ALTER TABLE items ADD COLUMN owner TEXT;
UPDATE items SET owner = earliest.owner FROM (
  SELECT l.kind || ':' || l.source_id AS key,
         split_part(l.direction, '->', 1) || ':' || l.originator AS owner
  FROM ledger l JOIN (
    SELECT kind, source_id, MIN(seq) AS seq FROM ledger
    WHERE decision IN ('delivered', 'updated', 'withheld') AND source_id IS NOT NULL GROUP BY kind, source_id
  ) f ON l.seq = f.seq
) AS earliest WHERE items.key = earliest.key;
""",
    ),
    Migration(
        "refusals: deliveries a destination refused and events a source could not submit, append-only",
        """
CREATE TABLE IF NOT EXISTS refusals (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, day TEXT NOT NULL, connector TEXT NOT NULL,
  side TEXT NOT NULL, role TEXT NOT NULL, item TEXT, version TEXT, submission_id TEXT, location TEXT,
  reason TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS refusals_day ON refusals (day);
CREATE TRIGGER IF NOT EXISTS refusals_no_update BEFORE UPDATE ON refusals
BEGIN SELECT RAISE(ABORT, 'the refusals are append-only'); END;
CREATE TRIGGER IF NOT EXISTS refusals_no_delete BEFORE DELETE ON refusals
BEGIN SELECT RAISE(ABORT, 'the refusals are append-only'); END;
""",
        postgres="""
CREATE TABLE IF NOT EXISTS refusals (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at TEXT NOT NULL, day TEXT NOT NULL,
  connector TEXT NOT NULL, side TEXT NOT NULL, role TEXT NOT NULL, item TEXT, version TEXT,
  submission_id TEXT, location TEXT, reason TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS refusals_day ON refusals (day);
CREATE OR REPLACE FUNCTION refusals_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'the refusals are append-only'; END; $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS refusals_append_only ON refusals;
CREATE TRIGGER refusals_append_only BEFORE UPDATE OR DELETE ON refusals
FOR EACH ROW EXECUTE FUNCTION refusals_append_only();
""",
    ),
    Migration(
        "copies: what the counterpart holds of each item's current version (MISP part UUIDs, or size:hash)",
        "CREATE TABLE IF NOT EXISTS held (key TEXT PRIMARY KEY, parts TEXT NOT NULL);",
    ),
    Migration(
        "one hash chain per input partition: each record's chain and place, the heads, counts kept per chain",
        CHAINS,
        postgres=CHAINS
        + """CREATE SEQUENCE IF NOT EXISTS ledger_seq;
SELECT setval('ledger_seq', COALESCE((SELECT MAX(seq) FROM ledger), 0) + 1, false);
""",
    ),
    Migration(
        "the delivery store (each side's hub-signed deliveries and their STIX objects), API tokens, TAXII statuses",
        """
CREATE TABLE IF NOT EXISTS deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT, side TEXT NOT NULL, kind TEXT NOT NULL, source_id TEXT NOT NULL,
  version TEXT NOT NULL, content_hash TEXT NOT NULL, stored_at TEXT NOT NULL, envelope TEXT NOT NULL,
  UNIQUE (side, kind, source_id, version));
CREATE TABLE IF NOT EXISTS delivery_objects (
  id INTEGER PRIMARY KEY AUTOINCREMENT, side TEXT NOT NULL, stix_id TEXT NOT NULL, stix_type TEXT NOT NULL,
  version TEXT NOT NULL, date_added TEXT NOT NULL, delivery_id BIGINT NOT NULL, object TEXT NOT NULL,
  UNIQUE (side, stix_id, version));
"""
        + TAXII_TABLES,
        postgres="""
CREATE TABLE IF NOT EXISTS deliveries (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, side TEXT NOT NULL, kind TEXT NOT NULL,
  source_id TEXT NOT NULL, version TEXT NOT NULL, content_hash TEXT NOT NULL, stored_at TEXT NOT NULL,
  envelope TEXT NOT NULL, UNIQUE (side, kind, source_id, version));
CREATE TABLE IF NOT EXISTS delivery_objects (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, side TEXT NOT NULL, stix_id TEXT NOT NULL,
  stix_type TEXT NOT NULL, version TEXT NOT NULL, date_added TEXT NOT NULL, delivery_id BIGINT NOT NULL,
  object TEXT NOT NULL, UNIQUE (side, stix_id, version));
"""
        + TAXII_TABLES,
    ),
)
"""Every version of the schema in order; version N is reached by applying the first N.

Version 5 partitions the chain (see `hub.ledger.store`): the records written before it keep their
hashes and are chain 0, places 1..N (their `chain` and `chain_seq` stay null: the hash covers those
two fields only when set), and chain 0's head is their last record. The counts gain a `chain` in
their key (the existing rows become chain 0's), so that writers of two partitions never wait on
one count row; the live count of a key is the sum over the chains. On PostgreSQL, `seq` comes from
the sequence `ledger_seq`, started after the last record's.

Version 2 backfills each item's owner from its first record that set its state (delivered,
updated or withheld): that record's origin side and originator, whose key the hub had checked.
Version 4 keeps `held` apart from `items` (a new table takes no lock readers hold) and finds none
for the items already there: what crossed before cannot be read back from the ledger, so their
equal versions stay duplicates, as they were (`hub.core.copies`).
Version 6 adds the delivery store, the TAXII API tokens and statuses: new tables only.
"""

VERSION_TABLE = "CREATE TABLE IF NOT EXISTS ledger_schema (version INTEGER NOT NULL)"

SQLITE_GUARD = """
CREATE TRIGGER IF NOT EXISTS ledger_no_update BEFORE UPDATE ON ledger
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS ledger_no_delete BEFORE DELETE ON ledger
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
"""
SQLITE_GUARD_PRESENT = (
    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name IN ('ledger_no_update', 'ledger_no_delete')"
)
SQLITE_GUARDS = 2

POSTGRES_GUARD = """
CREATE OR REPLACE FUNCTION ledger_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'the ledger is append-only'; END; $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS ledger_append_only ON ledger;
CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON ledger
FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
"""
POSTGRES_GUARD_PRESENT = (
    "SELECT COUNT(*) FROM pg_trigger WHERE tgname = 'ledger_append_only' AND tgenabled <> 'D' "
    "AND tgrelid = 'ledger'::regclass"
)


def current(conn: Any, dialect: str) -> tuple[int, bool]:
    """(schema version, guard present) of an open ledger database, read without a lock."""
    cur = conn.cursor()
    if dialect == "sqlite":
        found = cur.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'ledger_schema'").fetchone()[0]
    else:
        cur.execute("SELECT to_regclass('ledger_schema') IS NOT NULL")
        found = cur.fetchone()[0]
    if not found:
        return 0, False
    cur.execute("SELECT MAX(version) FROM ledger_schema")
    version = int(cur.fetchone()[0] or 0)
    if version == 0:
        return 0, False
    cur.execute(SQLITE_GUARD_PRESENT if dialect == "sqlite" else POSTGRES_GUARD_PRESENT)
    present = int(cur.fetchone()[0])
    return version, present == (SQLITE_GUARDS if dialect == "sqlite" else 1)


def upgrade(conn: Any, dialect: str) -> None:
    """Bring the schema to the newest version and the guard back, under the writers' lock; inside a transaction.

    The caller has begun the transaction and commits it; the state is read again under the lock,
    so two workers opening one new ledger apply each migration once.
    """
    cur = conn.cursor()
    if dialect == "postgresql":
        # A migration that alters a table waits for every open reader of it; past this it fails, and the
        # error says why, rather than hold the advisory lock (and every worker behind it) indefinitely.
        cur.execute(f"SET LOCAL lock_timeout = '{MIGRATION_LOCK_TIMEOUT_S}s'")
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK,))
    cur.execute(VERSION_TABLE)
    version, guarded = current(conn, dialect)
    for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
        log.info("ledger schema: applying version %d (%s)", number, migration.purpose)
        _script(cur, migration.text(dialect), dialect)
        cur.execute("DELETE FROM ledger_schema")
        cur.execute(f"INSERT INTO ledger_schema (version) VALUES ({int(number)})")  # noqa: S608 - an int
    if not guarded:
        if version:
            log.warning("the ledger's append-only guard was missing or disabled; it is restored")
        _script(cur, SQLITE_GUARD if dialect == "sqlite" else POSTGRES_GUARD, dialect)


def _script(cur: Any, sql: str, dialect: str) -> None:
    if dialect == "sqlite":
        for statement in _statements(sql):
            cur.execute(statement)
    else:
        cur.execute(sql)


def _statements(sql: str) -> list[str]:
    """SQLite runs one statement per execute: lines gathered until SQLite calls them a complete statement."""
    out, part = [], []
    for line in sql.strip().splitlines():
        part.append(line)
        if sqlite3.complete_statement("\n".join(part)):
            out.append("\n".join(part))
            part = []
    return out
