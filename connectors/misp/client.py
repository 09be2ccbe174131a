"""MISP's REST API as the connectors use it, over bounded HTTP (`connectors.http`), every answer checked.

PyMISP is synchronous and reads whole answers: it can neither bound an answer's size nor be
cancelled when the worker stops, so the few calls the connectors need are made here directly, as
PyMISP makes them (`events/index`, `events/view`, `events/add`, `events/edit`). An edit follows
MISP's rules: a tag the delivery dropped is sent with `"deleted": true` (MISP only adds the tags it
is sent), and a fuller copy of a version MISP holds is sent one second past MISP's timestamp (it
takes nothing else). What a peer
answers is not believed: an index row must hold a UUID and a timestamp, the event served must be
the event asked for, and a write counts only when the answer, or a read-back, shows the event.
"""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass
from typing import Any

from connectors import Applied
from connectors.http import Answer, HttpPeer, Limits, one_line
from connectors.misp.envelope import checked_uuid, event_uuid, missing_uuid, timestamp_of
from connectors.misp.merge import EVENT_FIELDS, behind, missing, removals
from hub.errors import ConnectorError, Refused
from hub.files import MIB

log = logging.getLogger("hub.misp")
INDEX_PAGE = 1000  # rows asked per index page (MISP's `limit`): ~150 KiB of JSON
INDEX_PAGE_BYTES = 8 * MIB  # a page of INDEX_PAGE rows is far smaller; a MISP ignoring `limit` is stopped here
AUTH_FAILED = "Authentication failed"
TRANSIENT_STATUS = (401, 404, 407, 408)  # answers about the request's target or the key, not about this item


class KeyRefused(ConnectorError):
    """MISP refused the API key: nothing this connector asks can work until the key is mended."""


@dataclass(frozen=True)
class IndexRow:
    """One event of the index: its UUID, timestamp (its version) and publication time, all checked."""

    uuid: str
    timestamp: int
    published: int = 0  # `publish_timestamp`; the timestamp when MISP gives none


def _message(answer: Answer) -> str:
    """MISP's error text (`name`, `message`, `errors`), or the start of the body."""
    try:
        doc = answer.json()
    except ConnectorError:
        return answer.text()
    if isinstance(doc, dict):
        parts = [one_line(str(doc[k])) for k in ("name", "message", "errors") if doc.get(k)]
        return one_line("; ".join(dict.fromkeys(parts))) or answer.text()
    return answer.text()


class MispClient:
    """One MISP instance: its base URL, API key, TLS context and answer limits."""

    def __init__(self, url: str, key: str, tls: ssl.SSLContext, limits: Limits | None = None) -> None:
        self.url = url.rstrip("/") + "/"
        headers = {
            "Authorization": key,
            "Accept": "application/json",
            "Content-Type": "application/json",
            "User-Agent": "exchange-hub",
        }
        self.limits = limits or Limits()
        self.http = HttpPeer(self.url, headers, tls, self.limits)
        index_limits = Limits(min(self.limits.max_bytes, INDEX_PAGE_BYTES), self.limits.deadline_s)
        self.index_http = HttpPeer(self.url, headers, tls, index_limits)
        # Events this client merged a copy into: UUID -> (the hub's version, the timestamp MISP then took).
        # Held in memory: after a restart, a further copy of a version merged before it waits for the next.
        self.stamps: dict[str, tuple[int, int]] = {}

    async def close(self) -> None:
        """Close the connections."""
        await self.http.close()
        await self.index_http.close()

    def _failed(self, answer: Answer, what: str) -> ConnectorError:
        """The error for an answer that is not a success: the key refused, a redirect, or MISP's message."""
        message = _message(answer)
        if answer.status == 401 or (answer.status == 403 and AUTH_FAILED in message):
            return KeyRefused(f"MISP at {self.url} refused the API key: check the connector's key or key file")
        if 300 <= answer.status < 400:
            where = answer.headers.get("Location", "elsewhere")[:200]
            return ConnectorError(
                f"MISP at {self.url}: {what} answered HTTP {answer.status}, a redirect to {where}; "
                "the hub follows no redirects (set the url to the address that answers)"
            )
        problem = f"MISP at {self.url}: {what} failed: HTTP {answer.status} {message}".rstrip()
        if 400 <= answer.status < 500 and answer.status not in TRANSIENT_STATUS:
            return Refused(problem)
        return ConnectorError(problem)

    async def check(self) -> None:
        """Return when the URL is a MISP that accepts the key; ConnectorError naming the problem."""
        answer = await self.http.request("GET", "servers/getVersion")
        if answer.status != 200:
            raise self._failed(answer, "servers/getVersion")
        doc = answer.json()
        if not isinstance(doc, dict) or "version" not in doc:
            raise ConnectorError(f"MISP at {self.url}: servers/getVersion did not answer a MISP version")

    async def index(self, since: int, page: int, limit: int = INDEX_PAGE) -> tuple[list[IndexRow], int, int]:
        """One page of events published at or after `since`: (rows, rows refused, rows answered).

        By `publish_timestamp`, not `timestamp`: an event edited long ago and published now is new
        to the other side. Not `minimal`: MISP's minimal rows leave `publish_timestamp` out.
        """
        query: dict[str, Any] = {"published": True, "limit": limit, "page": page}
        if since:
            query["publish_timestamp"] = since
        answer = await self.index_http.request("POST", "events/index", query)
        if answer.status != 200:
            raise self._failed(answer, "events/index")
        doc = answer.json()
        if not isinstance(doc, list):
            raise ConnectorError(f"MISP at {self.url}: events/index answered {type(doc).__name__}, not a list")
        rows = []
        for row in doc:
            found = _row(row)
            if found is not None:
                rows.append(found)
        return rows, len(doc) - len(rows), len(doc)

    async def event(self, uuid: str) -> dict[str, Any] | None:
        """The event with its soft-deleted attributes; None when it no longer exists.

        ConnectorError when the peer serves another event than the one asked for.
        """
        key = checked_uuid(uuid, f"MISP at {self.url}: events/view")
        answer = await self.http.request("POST", f"events/view/{key}", {"deleted": [0, 1]})
        if answer.status == 404:
            return None
        if answer.status != 200:
            raise self._failed(answer, f"events/view/{key}")
        doc = answer.json()
        body = doc.get("Event") if isinstance(doc, dict) else None
        if not isinstance(body, dict):
            raise ConnectorError(f"MISP at {self.url}: events/view/{key} answered no event")
        served = event_uuid(body.get("uuid"))
        if served != key:
            raise ConnectorError(f"MISP at {self.url}: asked for event {key}, served {str(served)[:40]}: refused")
        return body

    async def put(self, event: dict[str, Any]) -> Applied:
        """Add the event by UUID, or edit it when strictly newer; counted only when MISP shows it.

        Refused when MISP refuses it, or says it took it while a read-back shows otherwise.
        """
        key = event_uuid(event.get("uuid"))
        if key is None:
            raise Refused(missing_uuid(event))
        sent = timestamp_of(event.get("timestamp")) or 0
        answer = await self.http.request("POST", "events/add", {"Event": event})
        if answer.status == 200:
            return await self._shown(answer, key, sent, Applied.ADDED, "events/add")
        if not (answer.status == 403 and "already exists" in _message(answer)):
            raise self._failed(answer, f"events/add {key}")
        held = await self.event(key)
        peer = timestamp_of(held.get("timestamp")) or 0 if held is not None else 0
        edit = removals(event, held) if held is not None else event
        merged = held is not None and peer != sent and self.stamps.get(key) == (sent, peer)
        if merged:  # MISP holds our merge of this version: parts it lacks are added; nothing removed or changed
            assert held is not None  # noqa: S101 - implied by `merged`
            if not any(missing(held, event)):
                return Applied.UNCHANGED
            edit = {**event, **{f: held[f] for f in EVENT_FIELDS if f in held}}
        elif held is not None and peer == sent and not behind(held, event) and not _drops(edit):
            return Applied.UNCHANGED  # MISP holds this version or a newer one, with all of it
        if held is not None and (peer == sent or merged):
            # Another copy of the version MISP holds (hub.core.copies), perhaps stamped past it by this
            # client's earlier merge, or the owner's next version at the very second a merge stamped: MISP
            # takes only a strictly newer edit, so what it lacks is sent in one a second past its own (it
            # keeps the parts it holds; newer parts replace theirs). An older delivery (MISP's timestamp
            # past it, not by a merge of ours) stays a no-op, as MISP says: it must not regress.
            self.stamps[key] = (sent, peer + 1)
            sent, edit = peer + 1, {**edit, "timestamp": str(peer + 1)}
        elif sent > peer:
            self.stamps.pop(key, None)  # a newer version replaces what was merged
        answer = await self.http.request("POST", f"events/edit/{key}", {"Event": edit})
        if answer.status == 200:
            return await self._shown(answer, key, sent, Applied.UPDATED, f"events/edit/{key}")
        if answer.status == 403 and "not newer" in _message(answer):
            # MISP's own rule: equal or older is a no-op, not an error; it must still hold this version
            return await self._read_back(key, sent, Applied.UNCHANGED, f"events/edit/{key} answered 'not newer'")
        raise self._failed(answer, f"events/edit/{key}")

    async def _shown(self, answer: Answer, key: str, sent: int, applied: Applied, what: str) -> Applied:
        """`applied` when the answer is the event at the version sent (or newer), else what a read-back shows."""
        try:
            doc = answer.json()
        except ConnectorError:
            doc = None
        body = doc.get("Event") if isinstance(doc, dict) else None
        if isinstance(body, dict) and _holds(body, key, sent):
            return applied
        return await self._read_back(key, sent, applied, f"{what} answered HTTP 200 without the event")

    async def _read_back(self, key: str, sent: int, applied: Applied, what: str) -> Applied:
        held = await self.event(key)
        if held is not None and _holds(held, key, sent):
            return applied
        found = "no such event" if held is None else f"version {timestamp_of(held.get('timestamp'))}"
        raise Refused(f"MISP at {self.url}: {what}, and a read-back shows {found}: not applied")


def _drops(edit: dict[str, Any]) -> bool:
    """Whether an edit sends a tag deleted, on the event or a part: MISP holds a tag the delivery dropped."""
    holders = [edit, *(edit.get("Attribute") or [])]
    for obj in edit.get("Object") or []:
        holders += obj.get("Attribute") or [] if isinstance(obj, dict) else []
    return any(
        isinstance(t, dict) and t.get("deleted") for h in holders if isinstance(h, dict) for t in h.get("Tag") or []
    )


def _holds(body: dict[str, Any], key: str, sent: int) -> bool:
    """The event `key` at version `sent` or newer (MISP may stamp a newer one, never an older)."""
    return event_uuid(body.get("uuid")) == key and (timestamp_of(body.get("timestamp")) or 0) >= sent


def _row(row: Any) -> IndexRow | None:
    if not isinstance(row, dict):
        return None
    key, stamp = event_uuid(row.get("uuid")), timestamp_of(row.get("timestamp"))
    if key is None or stamp is None:
        return None
    return IndexRow(key, stamp, timestamp_of(row.get("publish_timestamp")) or stamp)
