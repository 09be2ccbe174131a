"""Feed sink: delivered events written into a MISP feed directory that other MISPs can fetch.

An event file is replaced only by a strictly newer version (MISP's rule); equal or older is a
no-op. Each file is written atomically, and `flush` writes the manifest after the files it names.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from connectors import Applied
from connectors.misp.envelope import event_of, event_uuid, missing_uuid, timestamp_of, version
from connectors.misp.feed import FeedDir, manifest_entry
from hub.errors import ConnectorError, Refused
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
        key = event_uuid(event.get("uuid"))
        if key is None:
            raise Refused(missing_uuid(event))
        if self._manifest is None:
            self._manifest = await asyncio.to_thread(self.feed.manifest)
        known = self._manifest.get(key)
        if known is not None and (timestamp_of(known.get("timestamp")) or 0) >= version(event):
            return Applied.UNCHANGED
        try:
            await asyncio.to_thread(self.feed.write, {**event, "uuid": key})
        except (ValueError, RecursionError) as exc:  # a number JSON cannot carry: the hub never sends one
            raise Refused(f"event {key} cannot be written as JSON: {str(exc)[:200]}") from exc
        except OSError as exc:
            raise ConnectorError(f"feed directory {self.feed.path}: cannot write {key}.json: {exc}") from exc
        self._manifest[key] = manifest_entry(event)
        self._dirty = True
        return Applied.ADDED if known is None else Applied.UPDATED

    async def flush(self) -> None:
        """Write the manifest, after every file it names."""
        if self._dirty and self._manifest is not None:
            try:
                await asyncio.to_thread(self.feed.save_manifest, dict(self._manifest))
            except OSError as exc:
                raise ConnectorError(f"feed directory {self.feed.path}: cannot write the manifest: {exc}") from exc
            self._dirty = False

    async def check(self) -> None:
        """Return when the feed directory exists and can be written."""
        path = self.feed.path
        if not path.is_dir() or not os.access(path, os.W_OK | os.X_OK):
            raise ConnectorError(f"feed directory {path} is missing or cannot be written")

    async def close(self) -> None:
        """Nothing to release."""
