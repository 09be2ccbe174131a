"""REST source: incremental pull of published events from a MISP instance with PyMISP.

`search_index(minimal=True, published=True, timestamp=watermark)` lists what changed, then each
changed event is fetched whole with `get_event(uuid, deleted=[0, 1])` so that soft-deleted
attributes travel as edits. PyMISP runs in a thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from connectors import Change
from connectors.misp.client import MispClient
from connectors.misp.envelope import envelope, version
from connectors.misp.watermark import Watermark
from hub.core.misp_release import as_int
from schemas.common import Side


class RestSource:
    """Pulls one MISP instance against a watermark."""

    def __init__(self, client: MispClient, side: Side, watermark: Watermark) -> None:
        self.client = client
        self.side = side
        self.watermark = watermark
        self.pending = 0  # events found new or changed by the last index, for progress

    async def changes(self) -> AsyncIterator[Change]:
        """Changed published events, oldest first, each fetched whole."""
        index = await asyncio.to_thread(self.client.index, self.watermark.since)
        todo = sorted(
            (as_int(row.get("timestamp"), 0), str(row["uuid"]))
            for row in index
            if "uuid" in row and self.watermark.is_new(str(row["uuid"]), as_int(row.get("timestamp"), 0))
        )
        self.pending = len(todo)
        for listed, key in todo:
            event = await asyncio.to_thread(self.client.event, key)
            if event is None:
                continue  # deleted between the index and the fetch
            yield Change(key, max(version(event), listed), envelope(event, self.side))

    def done(self, changes: Sequence[Change]) -> None:
        """Save progress once the hub acknowledged `changes`."""
        for change in changes:
            self.watermark.mark(change.key, change.version)
        self.watermark.save()
