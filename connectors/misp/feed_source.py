"""Feed source: the new and changed events of a MISP feed directory, by the manifest's timestamps."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from connectors import Change, Unsent
from connectors.misp.envelope import event_uuid, submission, timestamp_of, version
from connectors.misp.feed import FeedDir
from connectors.misp.watermark import Watermark
from hub.errors import ConnectorError, Refused
from schemas.common import Side

log = logging.getLogger("hub.misp")
FEED_DISTRIBUTION = 3  # what MISP gives a fetched feed event by default: all communities; TLP tags still apply


def from_feed(event: dict[str, Any], listed: int, distribution: int) -> dict[str, Any]:
    """A feed event as MISP imports it: the manifest's timestamp if it has none, the feed's distribution.

    Feeds carry no distribution (MISP's feed export removes it); one the publisher left in is kept.
    """
    if not event.get("timestamp"):
        event = {**event, "timestamp": str(listed)}
    if event.get("distribution") is None:
        event = {**event, "distribution": str(distribution)}
    return event


class FeedSource:
    """Reads one feed directory against a watermark."""

    def __init__(self, directory: Path, side: Side, watermark: Watermark, distribution: int = FEED_DISTRIBUTION):
        self.feed = FeedDir(directory)
        self.side = side
        self.watermark = watermark
        self.distribution = distribution
        self.pending = 0  # events found new or changed by the last scan, for progress
        self.broken = 0  # event files that could not be read in the last scan

    async def changes(self) -> AsyncIterator[Change | Unsent]:
        """New and changed events, oldest first; or why one cannot be sent."""
        manifest = await asyncio.to_thread(self.feed.manifest, True)
        listed: list[tuple[str, int]] = []
        self.broken = 0
        for name, entry in manifest.items():
            key, stamp = event_uuid(name), timestamp_of(entry.get("timestamp"))
            if key is None or stamp is None:
                self.broken += 1
                log.warning("skipped: manifest entry %.60r has no event UUID or no valid timestamp", name)
                continue
            listed.append((key, stamp))
        todo = sorted((stamp, key) for key, stamp in self.watermark.unseen(listed))
        self.pending = len(todo)
        for stamp, key in todo:
            try:
                body = await asyncio.to_thread(self.feed.read, key)
            except Refused as exc:  # too large to cross: recorded, and passed
                yield Unsent(key, stamp, str(exc))
                continue
            except ConnectorError as exc:
                self.broken += 1
                log.warning("skipped: %s", exc)
                continue
            if event_uuid(body.get("uuid", key)) != key:
                self.broken += 1
                log.warning("skipped: %s.json holds event %.60s, not %s", key, body.get("uuid"), key)
                continue
            event = from_feed({**body, "uuid": key}, stamp, self.distribution)
            yield submission(key, max(version(event), stamp), event, self.side)

    def done(self, items: Sequence[Change | Unsent]) -> None:
        """Save progress once the hub acknowledged `items` (or they were recorded as refused)."""
        for item in items:
            self.watermark.mark(item.key, item.version)
        self.watermark.save()

    def passed(self) -> None:
        """Nothing more to save: a feed's manifest lists every event, the low mark is not used."""

    async def close(self) -> None:
        """Release the watermark file."""
        self.watermark.close()
