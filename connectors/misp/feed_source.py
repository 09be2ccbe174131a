"""Feed source: the new and changed events of a MISP feed directory, by the manifest's timestamps."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from connectors import Change
from connectors.misp.envelope import envelope, version
from connectors.misp.feed import FeedDir
from connectors.misp.watermark import Watermark
from hub.core.misp_release import as_int
from hub.errors import ConnectorError
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

    async def changes(self) -> AsyncIterator[Change]:
        """New and changed events, oldest first."""
        manifest = await asyncio.to_thread(self.feed.manifest)
        todo = sorted(
            (as_int(entry.get("timestamp"), 0), key)
            for key, entry in manifest.items()
            if self.watermark.is_new(key, as_int(entry.get("timestamp"), 0))
        )
        self.pending, self.broken = len(todo), 0
        for listed, key in todo:
            try:
                body = await asyncio.to_thread(self.feed.read, key)
            except ConnectorError as exc:
                self.broken += 1
                log.warning("skipped: %s", exc)
                continue
            if str(body.get("uuid", key)) != key:
                self.broken += 1
                log.warning("skipped: %s.json holds event %s, not %s", key, body.get("uuid"), key)
                continue
            event = from_feed({**body, "uuid": key}, listed, self.distribution)
            yield Change(key, max(version(event), listed), envelope(event, self.side))

    def done(self, changes: Sequence[Change]) -> None:
        """Save progress once the hub acknowledged `changes`."""
        for change in changes:
            self.watermark.mark(change.key, change.version)
        self.watermark.save()
