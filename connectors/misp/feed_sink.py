"""Feed sink: delivered events written into a MISP feed directory that other MISPs can fetch.

An event file is replaced only by a strictly newer version (MISP's rule); equal or older is a
no-op. Each file is written atomically, and `flush` writes the manifest after the files it names.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from connectors import Applied
from connectors.misp.envelope import event_of, version
from connectors.misp.feed import FeedDir, manifest_entry
from hub.core.misp_release import as_int
from schemas.common import Side


class FeedSink:
    """Writes one side's deliveries into a feed directory."""

    def __init__(self, directory: Path, side: Side) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.feed = FeedDir(directory)
        self.side = side
        self._manifest: dict[str, dict[str, Any]] | None = None
        self._dirty = False

    async def apply(self, envelope: dict[str, Any]) -> Applied:
        """Write the delivered event if it is new or strictly newer than the file in the feed."""
        event = event_of(envelope)
        if event is None:
            return Applied.SKIPPED
        if self._manifest is None:
            self._manifest = await asyncio.to_thread(self.feed.manifest)
        key = str(event["uuid"])
        known = self._manifest.get(key)
        if known is not None and as_int(known.get("timestamp"), 0) >= version(event):
            return Applied.UNCHANGED
        await asyncio.to_thread(self.feed.write, event)
        self._manifest[key] = manifest_entry(event)
        self._dirty = True
        return Applied.ADDED if known is None else Applied.UPDATED

    async def flush(self) -> None:
        """Write the manifest, after every file it names."""
        if self._dirty and self._manifest is not None:
            await asyncio.to_thread(self.feed.save_manifest, dict(self._manifest))
            self._dirty = False
