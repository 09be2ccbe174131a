"""The delivery store: each side's hub-signed deliveries, and their STIX objects, kept in the ledger's database.

The inboxes live on the broker, and the embedded one forgets them when it restarts; TAXII clients
and analysts need them page by page for as long as the hub runs. So a consumer of each inbox
(`connectors/store.py`) writes what the hub delivered here, keyed by side, item and version, and
idempotently: the same delivery read again changes nothing, another content for the same version
(a fuller copy of a MISP event) replaces it. Each delivery's STIX objects are kept beside it, one
row per object version, so TAXII's filters (`match[id]`, `match[type]`, `match[version]`,
`added_after`) and its pages are plain indexed queries.

`date_added` is the time a row was written, in microseconds, strictly increasing per side (the
next row of a side never gets a time at or before the last one's): a client that asks for what was
added after the last `X-TAXII-Date-Added-Last` it saw misses nothing and gets nothing twice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hub.ledger.store import Ledger

VERSION_KEYWORDS = ("last", "first", "all")  # TAXII 2.1's words for match[version], besides timestamps
Json = dict[str, Any]


@dataclass(frozen=True)
class Delivered:
    """One delivery to keep: the envelope as the hub signed it, and its STIX objects."""

    side: str
    kind: str
    source_id: str
    version: str
    content_hash: str
    envelope: str  # the delivered JSON, as received
    objects: Sequence[Json]


@dataclass(frozen=True)
class StoredObject:
    """One STIX object version as the store serves it."""

    row: int  # the store's order: `next` of a TAXII page
    stix_id: str
    stix_type: str
    version: str  # the object's `modified` (or `created`) in the store's form
    date_added: str
    object: Json


@dataclass(frozen=True)
class ObjectQuery:
    """TAXII's filters over one side's objects; `after_row` continues a page (`next`)."""

    side: str
    added_after: str | None = None
    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    versions: tuple[str, ...] = ("last",)
    after_row: int = 0


def taxii_time(value: datetime) -> str:
    """A timestamp as the store keeps and TAXII shows it: UTC, microseconds, `Z` (sorts as text)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    """A STIX or TAXII timestamp (any precision, `Z` or an offset); ValueError when it is not one."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"timestamp {text[:40]!r} has no time zone")
    return value


def object_version(obj: Json) -> str:
    """The version of a STIX object: its `modified`, else its `created`, else the epoch (marking definitions)."""
    stamp = obj.get("modified") or obj.get("created")
    return taxii_time(parse_time(str(stamp))) if stamp else taxii_time(datetime(1970, 1, 1, tzinfo=UTC))


def put(ledger: Ledger, items: Sequence[Delivered], now: datetime) -> int:
    """Keep `items` in one transaction; returns how many were new or changed (a re-read delivery is not)."""
    changed = 0
    with ledger.transaction():
        clock = _Clock(ledger, now)
        for item in items:
            found = ledger._q(
                "SELECT id, content_hash FROM deliveries WHERE side = ? AND kind = ? AND source_id = ? AND version = ?",
                (item.side, item.kind, item.source_id, item.version),
            )
            if found and found[0][1] == item.content_hash:
                continue
            stamp = taxii_time(now)
            if found:
                ledger._q(
                    "UPDATE deliveries SET content_hash = ?, envelope = ?, stored_at = ? WHERE id = ?",
                    (item.content_hash, item.envelope, stamp, found[0][0]),
                )
                row = int(found[0][0])
            else:
                row = int(
                    ledger._q(
                        "INSERT INTO deliveries (side, kind, source_id, version, content_hash, stored_at, envelope) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                        (item.side, item.kind, item.source_id, item.version, item.content_hash, stamp, item.envelope),
                    )[0][0]
                )
            for obj in item.objects:
                _put_object(ledger, item.side, row, obj, clock)
            changed += 1
    return changed


def _put_object(ledger: Ledger, side: str, delivery: int, obj: Json, clock: _Clock) -> None:
    """One object version: kept once; another content under the same id and version replaces it, added anew."""
    text = json.dumps(obj, ensure_ascii=False, sort_keys=True)
    stix_id, version = str(obj["id"]), object_version(obj)
    found = ledger._q(
        "SELECT id, object FROM delivery_objects WHERE side = ? AND stix_id = ? AND version = ?",
        (side, stix_id, version),
    )
    if found and found[0][1] == text:
        return
    if found:
        ledger._q("DELETE FROM delivery_objects WHERE id = ?", (found[0][0],))
    ledger._q(
        "INSERT INTO delivery_objects (side, stix_id, stix_type, version, date_added, delivery_id, object) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (side, stix_id, str(obj["type"]), version, clock.tick(side), delivery, text),
    )


class _Clock:
    """`date_added` values strictly increasing per side, from the last one written (read under the lock)."""

    def __init__(self, ledger: Ledger, now: datetime) -> None:
        self.ledger = ledger
        self.now = now
        self.last: dict[str, datetime] = {}

    def tick(self, side: str) -> str:
        if side not in self.last:
            found = self.ledger._q("SELECT MAX(date_added) FROM delivery_objects WHERE side = ?", (side,))
            self.last[side] = parse_time(found[0][0]) if found and found[0][0] else self.now - timedelta(seconds=1)
        self.last[side] = max(self.now, self.last[side] + timedelta(microseconds=1))
        return taxii_time(self.last[side])


def objects(ledger: Ledger, query: ObjectQuery, limit: int) -> list[StoredObject]:
    """Up to `limit` objects of `query` in the order they were added; ValueError for a bad `match[version]`."""
    terms, params = _filters(query)
    sql = (
        "SELECT o.id, o.stix_id, o.stix_type, o.version, o.date_added, o.object FROM delivery_objects o "
        f"WHERE {' AND '.join(terms)} ORDER BY o.id LIMIT ?"
    )
    rows = ledger._q(sql, (*params, limit))
    _end_read(ledger)
    return [StoredObject(int(r[0]), r[1], r[2], r[3], r[4], json.loads(r[5])) for r in rows]


def _filters(query: ObjectQuery) -> tuple[list[str], list[Any]]:
    terms: list[str] = ["o.side = ?", "o.id > ?"]
    params: list[Any] = [query.side, query.after_row]
    if query.added_after is not None:
        terms.append("o.date_added > ?")
        params.append(taxii_time(parse_time(query.added_after)))
    for column, values in (("o.stix_id", query.ids), ("o.stix_type", query.types)):
        if values:
            terms.append(f"{column} IN ({','.join('?' * len(values))})")
            params.extend(values)
    version_terms: list[str] = [] if query.versions else ["1 = 0"]  # no version asked for: nothing matches
    for v in query.versions:
        if v == "all":
            version_terms = ["1 = 1"]
            break
        if v in ("last", "first"):
            agg = "MAX" if v == "last" else "MIN"
            version_terms.append(
                f"o.version = (SELECT {agg}(v.version) FROM delivery_objects v WHERE v.side = o.side "
                "AND v.stix_id = o.stix_id)"
            )
        else:
            version_terms.append("o.version = ?")
            params.append(taxii_time(parse_time(v)))
    if version_terms:
        terms.append("(" + " OR ".join(version_terms) + ")")
    return terms, params


def deliveries(ledger: Ledger, side: str, limit: int = 1000) -> list[tuple[str, Json]]:
    """The newest `limit` deliveries kept for `side`: (stored_at, envelope), newest first (the inbox page)."""
    rows = ledger._q(
        "SELECT stored_at, envelope FROM deliveries WHERE side = ? ORDER BY stored_at DESC, id DESC LIMIT ?",
        (side, limit),
    )
    _end_read(ledger)
    return [(r[0], json.loads(r[1])) for r in rows]


def count(ledger: Ledger, side: str) -> int:
    """How many deliveries are kept for `side`."""
    rows = ledger._q("SELECT COUNT(*) FROM deliveries WHERE side = ?", (side,))
    _end_read(ledger)
    return int(rows[0][0])


def _end_read(ledger: Ledger) -> None:
    """A reader holds no snapshot between requests (PostgreSQL)."""
    if ledger.dialect.name != "sqlite":
        ledger.conn.rollback()
