"""REST source: incremental pull of published events from a MISP instance, by publication time.

Each pass reads the index page by page (`events/index`, MISP's `limit` and `page`) of the events
published since the low mark (`publish_timestamp`: an event edited before the mark and published
after it is new to the other side, and would be missed by edit time), keeps the
MAX_EVENTS_PER_PASS published first among those not yet submitted at their version, and fetches
each whole (`events/view`, soft-deleted attributes included so they travel as edits). The event
served must be the one asked for. An event that cannot be submitted (larger than a message, a
number JSON cannot carry) is yielded as `Unsent`: recorded as refused, and passed.

The low mark is a publication time and moves only past what was handled: to the earliest
published event that failed or was left for the next pass, else to the latest published handled,
and never beyond the hub's clock plus ALLOWED_SKEW_S (one event dated 2100 must not hide every
later one). Each pass asks again from OVERLAP_S before the mark, so an event published while the
last index was read is not missed; the per-event versions
keep those from being submitted twice (and the hub's dedupe, anything resent).
"""

from __future__ import annotations

import heapq
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence

from connectors import Change, Unsent
from connectors.misp.client import INDEX_PAGE, KeyRefused, MispClient
from connectors.misp.envelope import submission, timestamp_of
from connectors.misp.watermark import Watermark
from hub.errors import ConnectorError, PeerUnavailable, Refused
from schemas.common import Side

log = logging.getLogger("hub.misp")
ALLOWED_SKEW_S = 300  # how far a peer's clock may run ahead of the hub's (Kerberos's default tolerance)
OVERLAP_S = ALLOWED_SKEW_S  # each index is asked from this far before the low mark
MAX_EVENTS_PER_PASS = 10_000  # events fetched in one pass; the rest wait for the next (bounds memory)
MAX_INDEX_PAGES = 10_000  # 10 million index rows: beyond it the peer is repeating itself


class RestSource:
    """Pulls one MISP instance against a watermark."""

    def __init__(
        self,
        client: MispClient,
        side: Side,
        watermark: Watermark,
        per_pass: int = MAX_EVENTS_PER_PASS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.side = side
        self.watermark = watermark
        self.per_pass = per_pass
        self.clock = clock
        self.pending = 0  # events found new or changed by the last index, for progress
        self.failed = 0  # events of the last pass that could not be fetched (asked again next pass)
        self._todo: list[tuple[int, str, int]] = []  # (published, uuid, timestamp)
        self._held: list[int] = []  # timestamps the low mark must not pass yet

    async def changes(self) -> AsyncIterator[Change | Unsent]:
        """Changed published events, oldest first, each fetched whole; or why one cannot be sent."""
        self._todo = await self._index()
        self.pending, self.failed = len(self._todo), 0
        for published, key, listed in self._todo:
            try:
                event = await self.client.event(key)
            except (PeerUnavailable, KeyRefused):
                raise  # the peer is down or refuses the key: the whole pass is retried, nothing is marked
            except Refused as exc:  # too large, or refused by the peer for good: recorded, and passed
                yield Unsent(key, listed, str(exc))
                continue
            except ConnectorError as exc:
                self.failed += 1
                self._held.append(published)
                log.warning("%s; asked again next pass", exc)
                continue
            if event is not None:  # None: deleted between the index and the fetch
                yield submission(key, max(timestamp_of(event.get("timestamp")) or 0, listed), event, self.side)

    async def _index(self) -> list[tuple[int, str, int]]:
        """The first published `per_pass` (published, uuid, timestamp) of the index not submitted at that version."""
        since = self.watermark.since
        oldest: list[tuple[int, str, int]] = []  # a max-heap by negated publication: the latest is dropped first
        refused = 0
        self._held = []
        for page in range(1, MAX_INDEX_PAGES + 1):
            rows, bad, answered = await self.client.index(max(0, since - OVERLAP_S) if since else 0, page)
            refused += bad
            published = {r.uuid: r.published for r in rows}
            for key, stamp in self.watermark.unseen((r.uuid, r.timestamp) for r in rows):
                heapq.heappush(oldest, (-published[key], key, stamp))
                if len(oldest) > self.per_pass:
                    dropped = -heapq.heappop(oldest)[0]
                    self._held.append(dropped)  # left for the next pass: the low mark waits for it
            if answered != INDEX_PAGE:  # the last page (or a MISP that ignores `limit`: one page is all)
                break
        else:
            raise ConnectorError(f"MISP at {self.client.url}: events/index gave {MAX_INDEX_PAGES} full pages")
        if refused:
            log.warning("MISP at %s: skipped %d index rows with no valid uuid or timestamp", self.client.url, refused)
        return sorted((-published, key, stamp) for published, key, stamp in oldest)

    def done(self, items: Sequence[Change | Unsent]) -> None:
        """Save progress once the hub acknowledged `items` (or they were recorded as refused)."""
        for item in items:
            self.watermark.mark(item.key, item.version)
        self.watermark.save()

    def passed(self) -> None:
        """The pass ended: the low mark moves to the oldest event still owed, or past the newest handled."""
        if not self._todo and not self._held:
            return
        mark = min(self._held) if self._held else max(published for published, _, _ in self._todo)
        self.watermark.advance(min(mark, int(self.clock()) + ALLOWED_SKEW_S))
        self.watermark.save()

    async def close(self) -> None:
        """Release the connections and the watermark file."""
        await self.client.close()
        self.watermark.close()
