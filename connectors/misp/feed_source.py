"""Feed source: the new and changed events of a MISP feed directory, by the manifest's timestamps and content.

An event listed at a newer timestamp than the watermark holds is read and submitted. One listed at
the same timestamp is read again only when its file's size or modification time moved, and
submitted again only when its content digest differs from the one submitted (another copy of one
version, MISP #4975: the hub decides between them, `hub.core.copies`). A manifest entry written by
the hub's own feed sink carries the hub's version (`hub_version`): that is what is submitted, so the
hub recognises its own delivery coming back (an echo).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
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


def _digest(body: dict[str, Any]) -> str:
    """SHA-256 of an event body's JSON with sorted keys: the same content gives the same digest."""
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class FeedSource:
    """Reads one feed directory against a watermark."""

    def __init__(self, directory: Path, side: Side, watermark: Watermark, distribution: int = FEED_DISTRIBUTION):
        self.feed = FeedDir(directory)
        self.side = side
        self.watermark = watermark
        self.distribution = distribution
        self.pending = 0  # events found new or changed by the last scan, for progress
        self.broken = 0  # event files that could not be read in the last scan
        self.skipped: list[str] = []  # those files (or manifest entries) named, each with why, for the command line
        self._digests: dict[str, str] = {}  # key -> `fingerprint digest` of what the last scan read
        self._hub: set[str] = set()  # entries the hub's feed sink wrote past their version (`hub_version`)

    async def changes(self) -> AsyncIterator[Change | Unsent]:
        """New and changed events, oldest first; or why one cannot be sent."""
        manifest = await asyncio.to_thread(self.feed.manifest, True)
        listed: list[tuple[str, int]] = []
        self.broken = 0
        self.skipped = []
        self._hub = set()
        for name, entry in manifest.items():
            key = event_uuid(name)
            stamp = timestamp_of(entry.get("hub_version", entry.get("timestamp")))
            if key is None or stamp is None:
                self._skip(f"manifest entry {name[:60]!r}", "no event UUID or no valid timestamp")
                continue
            listed.append((key, stamp))
            if "hub_version" in entry:
                self._hub.add(key)
        todo = sorted((stamp, key) for key, stamp in self.watermark.unseen(listed)) + await self._recopied(listed)
        self.pending = len(todo)
        for stamp, key in todo:
            try:
                print_ = await asyncio.to_thread(self.feed.fingerprint, key)
                body = await asyncio.to_thread(self.feed.read, key)
            except Refused as exc:  # too large to cross: recorded, and passed
                yield Unsent(key, stamp, str(exc))
                continue
            except ConnectorError as exc:
                self._skip(f"{key}.json", str(exc))
                continue
            if event_uuid(body.get("uuid", key)) != key:
                self._skip(f"{key}.json", f"{key}.json holds event {str(body.get('uuid'))[:60]}, not {key}")
                continue
            digest, before = f"{print_} {_digest(body)}", self._digests.get(key)
            if before is not None and before.partition(" ")[2] == digest.partition(" ")[2]:
                self.watermark.note(key, digest)  # touched, not changed: nothing to submit
                continue
            self._digests[key] = digest
            body = {**body, "uuid": key}
            if key in self._hub:
                body["timestamp"] = str(stamp)  # the hub's version of its own delivery, not the feed's bump
            event = from_feed(body, stamp, self.distribution)
            yield submission(key, max(version(event), stamp), event, self.side)

    async def _recopied(self, listed: list[tuple[str, int]]) -> list[tuple[int, str]]:
        """Events listed at the version submitted whose file moved since: maybe another copy of that version."""
        known = self.watermark.known(k for k, _ in listed)
        same = [(k, s) for k, s in listed if known.get(k) == s]
        digests = self.watermark.contents(k for k, _ in same)
        self._digests = {k: digests[k] for k, _ in same if k in digests}
        out = []
        for key, stamp in same:
            if key not in digests:
                continue  # submitted before digests were kept: taken as it is
            print_ = await asyncio.to_thread(self.feed.fingerprint, key)
            if print_ is not None and digests[key].partition(" ")[0] != print_:
                out.append((stamp, key))
        return out

    def _skip(self, name: str, why: str) -> None:
        """Count and name a file or entry that cannot be read; it is tried again next scan."""
        self.broken += 1
        self.skipped.append(f"{name} ({why.replace(str(self.feed.path) + '/', '')[:200]})")
        log.warning("skipped: %s", why if name in why else f"{name}: {why}")

    def done(self, items: Sequence[Change | Unsent]) -> None:
        """Save progress once the hub acknowledged `items` (or they were recorded as refused)."""
        for item in items:
            self.watermark.mark(item.key, item.version)
            if item.key in self._digests:
                self.watermark.note(item.key, self._digests[item.key])
        self.watermark.save()

    def passed(self) -> None:
        """Nothing more to save: a feed's manifest lists every event, the low mark is not used."""

    async def close(self) -> None:
        """Release the watermark file."""
        self.watermark.close()
