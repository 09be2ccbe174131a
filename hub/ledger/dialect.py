"""What differs between the ledger's SQL backends: connection and placeholders.

Opening a ledger never takes a lock when its schema is current (see `hub.ledger.schema`).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from hub.errors import LedgerError
from hub.ledger.schema import MIGRATIONS, current, upgrade
from hub.redact import redact


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
    """Open the ledger database named by `url`, its schema brought up to date if needed; (connection, dialect)."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        return _connect_sqlite(url), SQLITE
    if parsed.scheme in {"postgresql", "postgres"}:
        return _connect_postgres(url), POSTGRES
    raise LedgerError(f"ledger URL {redact(url)!r}: scheme must be sqlite:/// or postgresql://")


def sqlite_path(url: str) -> Path:
    """The file of a `sqlite:///` URL: sqlite:///rel/path.db is relative, sqlite:////abs/path.db absolute."""
    path_text = url.removeprefix("sqlite://")
    return Path(path_text[1:] if path_text.startswith("/") else path_text)


def _up_to_date(conn: Any, dialect: str) -> bool:
    version, guarded = current(conn, dialect)
    if version > len(MIGRATIONS):
        raise LedgerError(f"the ledger's schema is version {version}, newer than this hub's {len(MIGRATIONS)}")
    return version == len(MIGRATIONS) and guarded


def _connect_sqlite(url: str) -> sqlite3.Connection:
    path = sqlite_path(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable at checkpoint, no torn writes
        if not _up_to_date(conn, "sqlite"):
            conn.execute("BEGIN IMMEDIATE")
            try:
                upgrade(conn, "sqlite")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
    except sqlite3.Error as exc:
        raise LedgerError(f"cannot open SQLite ledger {path}: {exc}") from exc
    return conn


def _connect_postgres(url: str) -> Any:
    import psycopg

    try:
        conn = psycopg.connect(url, autocommit=False)
        if not _up_to_date(conn, "postgresql"):
            conn.rollback()
            upgrade(conn, "postgresql")
        conn.commit()  # ends the reads' transaction too: an idle connection holds no snapshot
    except psycopg.errors.LockNotAvailable as exc:
        raise LedgerError(
            f"cannot upgrade the PostgreSQL ledger {redact(url)}: open transactions on it (an auditor's reads?) "
            "held their locks too long; end them and start again"
        ) from exc
    except psycopg.Error as exc:
        # psycopg quotes the connection string in some errors: no credential form may show.
        why = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())  # one line, as every error
        raise LedgerError(f"cannot open PostgreSQL ledger {redact(url)}: {redact(why, _password_of(url))}") from exc
    return conn


def _password_of(url: str) -> list[str]:
    """The password a ledger URL carries, if any, so that it is hidden wherever an error repeats it."""
    parsed = urlparse(url)
    found = [parsed.password] if parsed.password else []
    return found + [v for k, vs in parse_qs(parsed.query).items() if k.lower() == "password" for v in vs]
