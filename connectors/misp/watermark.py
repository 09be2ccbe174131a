"""A source's saved progress: the version of every event submitted, and the low mark of the next pull.

Kept in a small SQLite file (WAL, synchronous commits), so a save writes only what changed: the
events marked since the last save and the low mark, in one transaction, whatever the number of
events already known (a JSON file rewritten whole took 3.8 s a save at a million events). Saved
only after the hub acknowledged the submissions, so a crash re-submits at most what was in
flight, and the hub's dedupe absorbs that. A watermark JSON file of an earlier version is read in
once and renamed `*.json.imported`.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from hub.errors import ConnectorError
from hub.files import MIB, read_text

LOOKUP_CHUNK = 500  # keys per IN (...) query, under SQLite's parameter limit
OLD_FILE_LIMIT = 512 * MIB  # a JSON watermark of an earlier version: ~60 bytes an event
SCHEMA = """
CREATE TABLE IF NOT EXISTS versions (key TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS mark (id INTEGER PRIMARY KEY CHECK (id = 1), since INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS contents (key TEXT PRIMARY KEY, digest TEXT NOT NULL) WITHOUT ROWID;
"""


class Watermark:
    """Per-event versions and the pull's low mark, in an SQLite file beside the connector's other state."""

    def __init__(self, path: Path) -> None:
        self.path = path.with_suffix(".db")
        self._pending: dict[str, int] = {}
        self._contents: dict[str, str] = {}  # content digests not saved yet (`note`)
        self._since: int | None = None  # a low mark not saved yet
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")  # a save is on disk when it returns
            self.db.executescript(SCHEMA)
            row = self.db.execute("SELECT since FROM mark WHERE id = 1").fetchone()
        except (OSError, sqlite3.Error) as exc:
            raise ConnectorError(
                f"watermark {self.path} is unusable ({exc}); delete it to pull everything again"
            ) from exc
        self._saved_since = int(row[0]) if row else 0
        old = path.with_suffix(".json")
        if old.is_file():
            self._import(old)

    def _import(self, old: Path) -> None:
        """Take over the versions of an earlier version's JSON watermark, once."""
        try:
            versions = json.loads(read_text(old, OLD_FILE_LIMIT, "watermark", ConnectorError)).get("versions", {})
            for key, value in versions.items():
                self.mark(str(key), int(value))
        except (ValueError, AttributeError, TypeError) as exc:
            raise ConnectorError(f"watermark {old} is unreadable ({exc}); delete it to pull everything again") from exc
        self.advance(max(self._pending.values(), default=0))
        self.save()
        os.replace(old, old.with_name(old.name + ".imported"))

    @property
    def since(self) -> int:
        """Where the next pull starts: peer timestamps below it were all handled."""
        return self._since if self._since is not None else self._saved_since

    def size(self) -> int:
        """How many events the watermark knows."""
        return int(self.db.execute("SELECT COUNT(*) FROM versions").fetchone()[0])

    def known(self, keys: Iterable[str]) -> dict[str, int]:
        """The saved or marked version of each of `keys` that has one."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, int] = {}
        for i in range(0, len(wanted), LOOKUP_CHUNK):
            chunk = wanted[i : i + LOOKUP_CHUNK]
            sql = f"SELECT key, version FROM versions WHERE key IN ({','.join('?' * len(chunk))})"  # noqa: S608
            found.update((str(k), int(v)) for k, v in self.db.execute(sql, chunk))
        for key in wanted:
            if key in self._pending:
                found[key] = max(found.get(key, -1), self._pending[key])
        return found

    def unseen(self, rows: Iterable[tuple[str, int]]) -> list[tuple[str, int]]:
        """The (key, version) pairs never submitted at that version or later."""
        pairs = list(rows)
        known = self.known(k for k, _ in pairs)
        return [(k, v) for k, v in pairs if v > known.get(k, -1)]

    def is_new(self, key: str, version: int) -> bool:
        """True when `key` was never submitted at `version` or later."""
        return bool(self.unseen([(key, version)]))

    def mark(self, key: str, version: int) -> None:
        """Record that `key` was submitted (or refused) at `version`; saved by `save`."""
        if version > self._pending.get(key, -1):
            self._pending[key] = version

    def contents(self, keys: Iterable[str]) -> dict[str, str]:
        """The saved or noted content digest of each of `keys` that has one (feeds: a copy at one version)."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, str] = {}
        for i in range(0, len(wanted), LOOKUP_CHUNK):
            chunk = wanted[i : i + LOOKUP_CHUNK]
            sql = f"SELECT key, digest FROM contents WHERE key IN ({','.join('?' * len(chunk))})"  # noqa: S608
            found.update((str(k), str(d)) for k, d in self.db.execute(sql, chunk))
        found.update((k, self._contents[k]) for k in wanted if k in self._contents)
        return found

    def note(self, key: str, digest: str) -> None:
        """Record the content digest of what was submitted for `key`; saved by `save`."""
        self._contents[key] = digest

    def advance(self, since: int) -> None:
        """Move the low mark forward to `since` (never back); saved by `save`."""
        self._since = max(self.since, since)

    def save(self) -> None:
        """Write what changed since the last save, in one transaction."""
        if not self._pending and self._since is None and not self._contents:
            return
        try:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.executemany(
                "INSERT INTO versions (key, version) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET version = max(version, excluded.version)",
                self._pending.items(),
            )
            self.db.executemany(
                "INSERT INTO contents (key, digest) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET digest = excluded.digest",
                self._contents.items(),
            )
            if self._since is not None:
                self.db.execute("INSERT OR REPLACE INTO mark (id, since) VALUES (1, ?)", (self._since,))
            self.db.execute("COMMIT")
        except sqlite3.Error as exc:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise ConnectorError(f"watermark {self.path} cannot be saved: {exc}") from exc
        self._pending.clear()
        self._contents.clear()
        if self._since is not None:
            self._saved_since, self._since = self._since, None

    def close(self) -> None:
        """Close the file."""
        self.db.close()
