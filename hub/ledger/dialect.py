"""What differs between the ledger's SQL backends: connection, placeholders, locking, DDL."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from hub.errors import LedgerError

SCHEMA = """
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
"""

SQLITE_GUARDS = """
CREATE TRIGGER IF NOT EXISTS ledger_no_update BEFORE UPDATE ON ledger
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS ledger_no_delete BEFORE DELETE ON ledger
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
"""

POSTGRES_GUARDS = """
CREATE OR REPLACE FUNCTION ledger_append_only() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'the ledger is append-only'; END; $$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS ledger_append_only ON ledger;
CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON ledger
FOR EACH ROW EXECUTE FUNCTION ledger_append_only();
"""

ADVISORY_LOCK = 7_400_2016  # any constant shared by all hub workers; this one recalls 74 proposals, 2016


@dataclass(frozen=True)
class Dialect:
    """One SQL backend's differences."""

    name: str
    param: str  # the DB-API placeholder

    def sql(self, text: str) -> str:
        """`text` with `?` placeholders turned into this backend's."""
        return text if self.param == "?" else text.replace("?", self.param)


SQLITE = Dialect("sqlite", "?")
POSTGRES = Dialect("postgresql", "%s")


def connect(url: str) -> tuple[Any, Dialect]:
    """Open the ledger database named by `url` and create its tables; (connection, dialect)."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        return _connect_sqlite(url), SQLITE
    if parsed.scheme in {"postgresql", "postgres"}:
        return _connect_postgres(url), POSTGRES
    raise LedgerError(f"ledger URL {url!r}: scheme must be sqlite:/// or postgresql://")


def sqlite_path(url: str) -> Path:
    """The file of a `sqlite:///` URL: sqlite:///rel/path.db is relative, sqlite:////abs/path.db absolute."""
    path_text = url.removeprefix("sqlite://")
    return Path(path_text[1:] if path_text.startswith("/") else path_text)


def _connect_sqlite(url: str) -> sqlite3.Connection:
    path = sqlite_path(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable at checkpoint, no torn writes
        conn.executescript(SCHEMA + SQLITE_GUARDS)
    except sqlite3.Error as exc:
        raise LedgerError(f"cannot open SQLite ledger {path}: {exc}") from exc
    return conn


def _connect_postgres(url: str) -> Any:
    import psycopg

    try:
        conn = psycopg.connect(url, autocommit=False)
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK,))
            cur.execute(SCHEMA)
            cur.execute(POSTGRES_GUARDS)
        conn.commit()
    except psycopg.Error as exc:
        raise LedgerError(f"cannot open PostgreSQL ledger: {exc}") from exc
    return conn
