"""Feed sink: delivered events written into a MISP feed directory that other MISPs can fetch.

An event file is replaced only by a strictly newer version (MISP's rule); older is a no-op. A
copy of the version the feed holds (a fuller or diverging copy the hub let cross,
`hub.core.copies`) adds the attributes and objects the file lacks, by UUID (`merge.union`); an
equal or filtered copy is a no-op. A MISP fetching the feed edits its event only when the
manifest's timestamp is strictly greater than its own (MISP's `Feed::getNewEventUuids`), so a
merged file is written one second later than the feed had it, and its manifest entry keeps the
hub's version in `hub_version`: the sink compares deliveries with that, not with the bumped
timestamp, and a later true edit is written past the bump. Each file is written atomically, and
`flush` writes `hashes.csv` and the manifest after the files they name.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

from connectors import Applied
from connectors.misp.envelope import event_of, event_uuid, missing_uuid, timestamp_of, version
from connectors.misp.feed import FeedDir, hash_lines, manifest_entry
from connectors.misp.merge import union
from hub.errors import ConnectorError, Refused
from schemas.common import Side


class FeedSink:
    """Writes one side's deliveries into a feed directory."""

    def __init__(self, directory: Path, side: Side) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.feed = FeedDir(directory)
        self.side = side
        self._manifest: dict[str, dict[str, Any]] | None = None
        self._hashes: dict[str, list[str]] = {}
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
            manifest = await asyncio.to_thread(self.feed.manifest)
            self._hashes = await asyncio.to_thread(self.feed.hashes, manifest)
            self._manifest = manifest
        known = self._manifest.get(key)
        body = await self._body(key, {**event, "uuid": key}, known)
        if body is None:
            return Applied.UNCHANGED
        try:
            await asyncio.to_thread(self.feed.write, body)
        except (ValueError, RecursionError) as exc:  # a number JSON cannot carry: the hub never sends one
            raise Refused(f"event {key} cannot be written as JSON: {str(exc)[:200]}") from exc
        except OSError as exc:
            raise ConnectorError(f"feed directory {self.feed.path}: cannot write {key}.json: {exc}") from exc
        entry = manifest_entry(body)
        if version(body) != version(event):
            entry["hub_version"] = version(event)
        self._manifest[key] = entry
        self._hashes[key] = hash_lines(body)
        self._dirty = True
        return Applied.ADDED if known is None else Applied.UPDATED

    async def _body(self, key: str, event: dict[str, Any], known: dict[str, Any] | None) -> dict[str, Any] | None:
        """What to write for `event` given the manifest's entry: None when the feed holds it all already."""
        if known is None:
            return event
        stamp = timestamp_of(known.get("timestamp")) or 0
        held = timestamp_of(known.get("hub_version")) or stamp  # the hub's version of what the feed holds
        if held > version(event):
            return None
        if held < version(event):
            return event if version(event) > stamp else {**event, "timestamp": str(stamp + 1)}
        try:
            file = await asyncio.to_thread(self.feed.read, key)
        except (ConnectorError, Refused):
            file = {}  # unreadable: the delivered copy replaces it
        merged = union(file, event) if file else event
        return None if merged is None else {**merged, "timestamp": str(stamp + 1)}

    async def flush(self) -> None:
        """Write the manifest, after every file it names."""
        if self._dirty and self._manifest is not None:
            try:
                await asyncio.to_thread(self.feed.save_hashes, dict(self._hashes))
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
