"""The ledger store: decisions appended once, chained by hash, with dedupe state and live counts.

All writes of one batch happen in one transaction. On SQLite (one writer at a time: a `flock`,
then BEGIN IMMEDIATE) that is the whole story. On PostgreSQL, where several workers write, there is
no global lock: the ledger holds one hash chain per partition of `hub.submitted`, and a batch
locks only the partitions it writes (`pg_advisory_xact_lock(ADVISORY_LOCK, partition)`, in
ascending order, so two batches never wait on each other in a cycle), plus `ADVISORY_LOCK` alone in
shared mode, which a schema upgrade takes exclusively. Why that is enough:
- a chain is only appended to under its partition's lock: its head (`chain_heads`) is read and
  moved by one batch at a time, and `prev_hash` links each record to the one before it there;
- the dedupe state of an item is only read and written under the lock of its key's partition:
  publishers key each submission by its item key (`hub.kafka.publisher.item_key`), so every
  version of an item lands on one partition; the worker also locks the partition a key belongs
  to when a message arrives elsewhere (a producer that did not key it), see `hub.worker.batch`;
- `seq` comes from a sequence (`ledger_seq`), unique without a lock; it may skip values (a
  rolled-back batch), so gaps are looked for per chain (`chain_seq`), not in `seq`. Within one
  chain, and for one item, `seq` grows in commit order, since both are written under one lock;
- the counts are kept per chain (a live count is the sum over the chains), so writers of two
  partitions never touch one row; they are upserts `n = counts.n + excluded.n`, and should two
  writers meet on a row (a partition changing owner), PostgreSQL makes the second wait for the
  first and add to the committed value, so none is lost; rows are written in key order, so two
  batches never deadlock on them.
What the partitions do not cover: a content hash seen under another item's key (`hash_owners`) in
a batch of another partition being decided at the same moment; the two are then both decided new.
Methods are synchronous; the pipeline runs them in a thread.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import time
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub.core.decision import Outcome
from hub.core.dedupe import Seen
from hub.errors import LedgerError
from hub.ledger.dialect import connect, sqlite_path
from hub.ledger.records import COLUMNS, COUNT_KEYS, GENESIS, CountRow, Record, chain_hash
from hub.ledger.schema import ADVISORY_LOCK
from schemas.common import Side

NULLABLE = ("originator", "source_id", "version", "content_hash", "submitter", "message_digest")  # may be empty
# (a rejected item has no originator, source, version or hash; an unsigned one no submitter; schema-1 records
# have neither submitter nor digest)
NUMBERS = ("chain", "chain_seq")  # integers, null in records written before schema 5
_IN_CHUNK = 500  # parameters per IN (...) query; well under SQLite's and PostgreSQL's limits


@dataclass
class LockStats:
    """How long this store's write transactions waited for their locks and how long they ran (for benchmarks)."""

    transactions: int = 0
    wait_s: float = 0.0  # acquiring the locks: flock and BEGIN IMMEDIATE, or the advisory locks
    held_s: float = 0.0  # from asking for the locks to the commit


class Ledger:
    """Append-only decision ledger on SQLite or PostgreSQL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.conn, self.dialect = connect(url)
        self._db_errors = _db_error_types(self.dialect.name)
        # Writers on one SQLite file queue on this lock: SQLite's own busy handler polls with sleeps of
        # up to 100 ms, which cut two workers' throughput in half; a blocked flock wakes at the release.
        db_file = sqlite_path(url) if self.dialect.name == "sqlite" else None
        self._writer_lock = db_file.with_name(f"{db_file.name}.lock").open("a") if db_file else None
        self.locks = LockStats()

    @property
    def shared(self) -> bool:
        """True when several workers may write at once (PostgreSQL), False for SQLite's single writer."""
        return self.dialect.name != "sqlite"

    def close(self) -> None:
        """Close the database connection."""
        self.conn.close()
        if self._writer_lock is not None:
            self._writer_lock.close()

    def _q(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cur = (
            self.conn.execute(self.dialect.sql(sql), params) if self.dialect.name == "sqlite" else self._pg(sql, params)
        )
        return list(cur.fetchall()) if cur.description else []

    def _pg(self, sql: str, params: Sequence[Any]) -> Any:
        cur = self.conn.cursor()
        cur.execute(self.dialect.sql(sql), params)
        return cur

    def _many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self.conn.cursor().executemany(self.dialect.sql(sql), rows)

    @contextlib.contextmanager
    def transaction(self, partitions: Collection[int] = (0,)) -> Iterator[Ledger]:
        """One transaction holding the locks of `partitions` (all of them on SQLite); commits, or rolls back on error.

        `partitions` must name every chain the transaction appends to and the partition of every
        item key whose dedupe state it reads to decide.
        """
        began = time.perf_counter()
        if self._writer_lock is not None:
            fcntl.flock(self._writer_lock, fcntl.LOCK_EX)
        try:
            if self.dialect.name == "sqlite":
                self.conn.execute("BEGIN IMMEDIATE")
            else:
                self._q(*_locks(partitions))
            self.locks.wait_s += time.perf_counter() - began
            yield self
            self.conn.commit() if self.dialect.name != "sqlite" else self.conn.execute("COMMIT")
        except BaseException as exc:
            with contextlib.suppress(Exception):
                self.conn.rollback() if self.dialect.name != "sqlite" else self.conn.execute("ROLLBACK")
            if isinstance(exc, self._db_errors):
                raise LedgerError(f"ledger write failed: {exc}") from exc
            raise
        finally:
            if self._writer_lock is not None:
                fcntl.flock(self._writer_lock, fcntl.LOCK_UN)
            self.locks.transactions += 1
            self.locks.held_s += time.perf_counter() - began

    def _in(self, sql: str, values: Iterable[str]) -> list[tuple[Any, ...]]:
        vals = list(dict.fromkeys(values))
        rows: list[tuple[Any, ...]] = []
        for i in range(0, len(vals), _IN_CHUNK):
            chunk = vals[i : i + _IN_CHUNK]
            rows += self._q(sql.format(",".join("?" * len(chunk))), chunk)
        return rows

    def decided(self, submission_ids: Iterable[str]) -> dict[str, Record]:
        """The records already written for these submissions (replays after a crash)."""
        sql = f"SELECT {','.join(COLUMNS)} FROM ledger WHERE submission_id IN ({{}})"
        return {r[1]: Record(*r) for r in self._in(sql, submission_ids)}

    def seen(self, keys: Iterable[str]) -> dict[str, Seen]:
        """Dedupe state (and owner) of these item keys."""
        sql = (
            "SELECT i.key, i.version, i.content_hash, i.origin, i.delivered, i.owner, h.parts FROM items i "
            "LEFT JOIN held h ON h.key = i.key WHERE i.key IN ({})"
        )
        rows = self._in(sql, keys)
        return {k: Seen(datetime.fromisoformat(v), h, Side(o), bool(d), w, _held(p)) for k, v, h, o, d, w, p in rows}

    def hash_owners(self, hashes: Iterable[str]) -> dict[str, str]:
        """For each content hash already held, the key of an item that has it."""
        return {h: k for k, h in self._in("SELECT key, content_hash FROM items WHERE content_hash IN ({})", hashes)}

    def dedupe_state(self) -> dict[str, tuple[Any, ...]]:
        """The whole dedupe state as stored: key -> (version, content_hash, origin, delivered, owner), for audits."""
        sql = "SELECT key, version, content_hash, origin, delivered, owner FROM items"
        return {r[0]: tuple(r[1:]) for r in self._q(sql)}

    def mistyped(self) -> tuple[Any, Any, str, str] | None:
        """The first record with a field of the wrong storage type: (seq, submission id, field, type), or None.

        SQLite stores whatever it is given in any column (a BLOB in `reason`, text in `seq`);
        PostgreSQL's typed columns cannot hold such a value, so there this is always None.
        """
        if self.dialect.name != "sqlite":
            return None
        wanted = {c: _stored_types(c) for c in COLUMNS}
        kinds = ", ".join(f"typeof({c})" for c in COLUMNS)
        where = " OR ".join(f"typeof({c}) NOT IN ({','.join(repr(t) for t in ts)})" for c, ts in wanted.items())
        rows = self._q(f"SELECT seq, submission_id, {kinds} FROM ledger WHERE {where} ORDER BY rowid LIMIT 1")
        if not rows:
            return None
        seq, sid, *found = rows[0]
        column, kind = next((c, k) for c, k in zip(COLUMNS, found, strict=True) if k not in wanted[c])
        return seq, sid, column, kind

    def ping(self) -> None:
        """Ask the database a trivial question (for readiness); LedgerError if it cannot answer."""
        try:
            self._q("SELECT 1")
            if self.dialect.name != "sqlite":
                self.conn.rollback()  # leave no transaction open between two pings
        except self._db_errors as exc:
            raise LedgerError(f"the ledger does not answer: {exc}") from exc

    def size(self) -> int:
        """How many decisions the ledger holds."""
        return int(self._q("SELECT COUNT(*) FROM ledger")[0][0])

    def head(self) -> tuple[int, str]:
        """The last record's sequence number and hash, whatever its chain; (0, GENESIS) when empty."""
        rows = self._q("SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1")
        return (int(rows[0][0]), str(rows[0][1])) if rows else (0, GENESIS)

    def heads(self) -> list[tuple[int, int, str]]:
        """Every chain's head as `chain_heads` holds it: (chain, place in the chain, hash), by chain."""
        return [
            (int(c), int(n), str(h))
            for c, n, h in self._q("SELECT chain, chain_seq, hash FROM chain_heads ORDER BY chain")
        ]

    def _heads_of(self, chains: Collection[int]) -> dict[int, tuple[int, str]]:
        sql = "SELECT chain, chain_seq, hash FROM chain_heads WHERE chain IN ({})"
        return {int(c): (int(n), str(h)) for c, n, h in self._q(sql.format(",".join("?" * len(chains))), list(chains))}

    def _next_seqs(self, n: int) -> list[int]:
        """`n` new seq numbers, ascending: the next ones on SQLite (one writer), the sequence's on PostgreSQL."""
        if self.dialect.name == "sqlite":
            last = int(self._q("SELECT COALESCE(MAX(seq), 0) FROM ledger")[0][0])
            return list(range(last + 1, last + n + 1))
        return sorted(int(r[0]) for r in self._q("SELECT nextval('ledger_seq') FROM generate_series(1, ?)", (n,)))

    def append(
        self,
        outcomes: Sequence[Outcome],
        states: dict[str, Seen],
        at: datetime,
        chains: Mapping[str, int] | None = None,
    ) -> list[Record]:
        """Write `outcomes` as records chained in their partitions, upsert `states`, bump the counts; in a transaction.

        `chains` gives the chain (input partition) of each outcome by submission id; chain 0 if unnamed.
        """
        which = [(chains or {}).get(o.submission_id, 0) for o in outcomes]
        heads = self._heads_of(set(which)) if outcomes else {}
        records: list[Record] = []
        for o, chain, seq in zip(outcomes, which, self._next_seqs(len(outcomes)), strict=True):
            place, prev = heads.get(chain, (0, GENESIS))
            records.append(_record(o, seq, prev, at, chain, place + 1))
            heads[chain] = (place + 1, records[-1].hash)
        marks = ",".join("?" * len(COLUMNS))
        self._many(f"INSERT INTO ledger ({','.join(COLUMNS)}) VALUES ({marks})", [_row(r) for r in records])
        last = {r.chain: r for r in records}  # each chain's newest record
        self._many(
            "INSERT INTO chain_heads (chain, chain_seq, seq, hash) VALUES (?,?,?,?) ON CONFLICT (chain) DO UPDATE "
            "SET chain_seq=excluded.chain_seq, seq=excluded.seq, hash=excluded.hash",
            [(c, r.chain_seq, r.seq, r.hash) for c, r in sorted(last.items(), key=lambda cr: cr[0] or 0)],
        )
        self._many(
            "INSERT INTO items (key, version, content_hash, origin, delivered, owner) VALUES (?,?,?,?,?,?) "
            "ON CONFLICT (key) DO UPDATE SET version=excluded.version, content_hash=excluded.content_hash, "
            "origin=excluded.origin, delivered=excluded.delivered, owner=excluded.owner",
            [
                (k, s.version.isoformat(), s.content_hash, s.origin.value, int(s.delivered), s.owner)
                for k, s in sorted(states.items())  # in key order: two batches never wait on each other's rows
            ],
        )
        self._many(
            "INSERT INTO held (key, parts) VALUES (?,?) ON CONFLICT (key) DO UPDATE SET parts=excluded.parts",
            [(k, " ".join(sorted(s.held))) for k, s in states.items() if s.held is not None],
        )
        self._many(
            "INSERT INTO counts (day, area, kind, direction, decision, chain, n) VALUES (?,?,?,?,?,?,?) "
            "ON CONFLICT (day, area, kind, direction, decision, chain) DO UPDATE SET n = counts.n + excluded.n",
            [(*k, n) for k, n in sorted(_tally(records).items())],
        )
        return records

    def counts(self) -> list[CountRow]:
        """The live counts the stream processors keep."""
        keys = ",".join(COUNT_KEYS)
        rows = self._q(f"SELECT {keys}, SUM(n) FROM counts GROUP BY {keys} HAVING SUM(n) > 0 ORDER BY {keys}")
        return [(*map(str, r[:5]), int(r[5])) for r in rows]  # type: ignore[misc]

    def recount(self, first_day: str | None = None, last_day: str | None = None) -> list[CountRow]:
        """The same counts recomputed from the ledger records, for every day or `first_day`..`last_day`."""
        keys = ",".join(COUNT_KEYS)
        terms, params = _where({}, first_day, last_day)
        where = f" WHERE {' AND '.join(terms)}" if terms else ""
        rows = self._q(f"SELECT {keys}, COUNT(*) FROM ledger{where} GROUP BY {keys} ORDER BY {keys}", params)
        return [(*map(str, r[:5]), int(r[5])) for r in rows]  # type: ignore[misc]

    def select(
        self,
        match: Mapping[str, Collection[str]],
        first_day: str | None = None,
        last_day: str | None = None,
        batch: int = 10_000,
    ) -> Iterator[Record]:
        """Records whose count dimensions (area, kind, ...) take one of the `match` values, in chain order, paged."""
        terms, params = _where(match, first_day, last_day)
        where = " AND ".join([*terms, "seq > ?"])
        sql = f"SELECT {','.join(COLUMNS)} FROM ledger WHERE {where} ORDER BY seq LIMIT ?"
        after_seq = 0
        while True:
            page = [Record(*r) for r in self._q(sql, (*params, after_seq, batch))]
            yield from page
            if len(page) < batch:
                return
            after_seq = page[-1].seq

    def records(self, after_seq: int = 0, batch: int = 10_000) -> Iterator[Record]:
        """Every record in chain order, read in pages."""
        sql = f"SELECT {','.join(COLUMNS)} FROM ledger WHERE seq > ? ORDER BY seq LIMIT ?"
        while True:
            page = [Record(*r) for r in self._q(sql, (after_seq, batch))]
            yield from page
            if len(page) < batch:
                return
            after_seq = page[-1].seq


def _stored_types(column: str) -> tuple[str, ...]:
    """The SQLite storage classes a record column may hold as the hub writes it."""
    if column == "seq":
        return ("integer",)
    if column in NUMBERS:
        return ("integer", "null")
    return ("text", "null") if column in NULLABLE else ("text",)


def _held(stored: str | None) -> frozenset[str] | None:
    """`Seen.held` from the `held` table: tokens joined by spaces ("" when no copy crossed); no row: unknown."""
    return None if stored is None else frozenset(stored.split())


def _locks(partitions: Collection[int]) -> tuple[str, list[int]]:
    """One statement taking the batch's locks in one round trip: the upgrade lock shared, then each partition's.

    PostgreSQL evaluates a SELECT's target list left to right, so the partitions are locked in
    ascending order, the same for every batch: no two batches wait on each other in a cycle.
    """
    ordered = sorted(set(partitions))
    calls = ["pg_advisory_xact_lock_shared(?)"] + ["pg_advisory_xact_lock(?, ?)"] * len(ordered)
    params = [ADVISORY_LOCK] + [v for p in ordered for v in (ADVISORY_LOCK, p)]
    return f"SELECT {', '.join(calls)}", params


def _record(o: Outcome, seq: int, prev: str, at: datetime, chain: int, chain_seq: int) -> Record:
    env = o.envelope
    body: dict[str, object] = {
        "seq": seq,
        "submission_id": o.submission_id,
        "decided_at": at.isoformat(),
        "day": at.date().isoformat(),
        "kind": o.kind,
        "area": o.area,
        "direction": o.direction,
        "decision": o.decision.value,
        "rule": o.rule,
        "reason": o.reason,
        "originator": env.originator if env else None,
        "source_id": str(env.source_id) if env else None,
        "version": env.version.isoformat() if env else None,
        "content_hash": o.content_hash,
        "tags": json.dumps(list(o.tags), ensure_ascii=False),
    }
    later: dict[str, object] = {
        "submitter": o.submitter,
        "message_digest": o.message_digest,
        "chain": chain,
        "chain_seq": chain_seq,
    }
    hashed = {**body, **{k: v for k, v in later.items() if v is not None}}
    return Record(**body, prev_hash=prev, hash=chain_hash(prev, hashed), **later)  # type: ignore[arg-type]


def _row(r: Record) -> tuple[Any, ...]:
    return tuple(getattr(r, c) for c in COLUMNS)


def _tally(records: Sequence[Record]) -> dict[tuple[str | int | None, ...], int]:
    """How many records of each count key, per chain: the rows the batch adds to."""
    tally: dict[tuple[str | int | None, ...], int] = {}
    for r in records:
        key = (r.day, r.area, r.kind, r.direction, r.decision, r.chain)
        tally[key] = tally.get(key, 0) + 1
    return tally


def _where(
    match: Mapping[str, Collection[str]], first_day: str | None, last_day: str | None
) -> tuple[list[str], list[str]]:
    """WHERE terms over the count dimensions and a day range; column names only from COUNT_KEYS."""
    terms: list[str] = []
    params: list[str] = []
    for column, accepted in match.items():
        if column not in COUNT_KEYS:
            raise LedgerError(f"cannot select records by {column!r}: not one of {', '.join(COUNT_KEYS)}")
        values = list(accepted)
        terms.append(f"{column} IN ({','.join('?' * len(values))})" if values else "1=0")
        params += values
    for op, day in ((">=", first_day), ("<=", last_day)):
        if day is not None:
            terms.append(f"day {op} ?")
            params.append(day)
    return terms, params


def _db_error_types(name: str) -> tuple[type[BaseException], ...]:
    import sqlite3

    if name == "sqlite":
        return (sqlite3.Error,)
    import psycopg

    return (psycopg.Error,)
