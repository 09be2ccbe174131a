"""Inbox directory: one file per delivery the hub signed for this side, written atomically.

A delivery's file is named by its item and version, and by a digest of its content (two deliveries
of one version, a filtered and a full MISP event, are two files):

    assessment--2f1c0e4a-…--20260601T080000Z--a1b2c3d4e5f6.json

The version is the item's version in UTC (a MISP event's timestamp, an assessment's or a note's
modified time), so names sort by kind, item and version. A file holds the delivered envelope, or
(`inbox_format = "stix"`) a STIX 2.1 bundle of it (`hub.stix.convert.stix_objects`). Each is
written under a hidden temporary name, flushed and renamed (`connectors.atomic.write_atomic`): a reader that
skips names starting with `.` never sees a partial file. A delivery whose file exists already (a
re-delivery after a crash or a replay) leaves it as it is: `unchanged`.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import json
import os
import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors import Applied
from connectors.atomic import remove_stale, sync_dirs, write_atomic
from connectors.http import one_line
from hub.errors import ConnectorError, Refused
from schemas.common import Kind, Side

BUNDLE_NAMESPACE = uuid.UUID("9d3c4f60-3b7e-4c55-8a21-0f6b2e7d5a19")  # UUIDv5 namespace: a file's bundle id
DIGEST_CHARS = 12  # hex characters of the content digest in a name: 48 bits, apart for any item's versions
SEPARATOR = "--"  # between the parts of a name: kinds hold `_`, UUIDs and versions hold `-` only singly
_HEX = re.compile(r"[0-9a-f]{64}")


def file_name(envelope: dict[str, Any]) -> str:
    """`kind--source_id--version--digest.json` of a delivered envelope; Refused when it cannot be named."""
    kind = envelope.get("kind")
    if kind not in {k.value for k in Kind}:
        raise Refused(f"the delivery's `kind` {str(kind)[:40]!r} is not one of the hub's kinds")
    try:
        item = uuid.UUID(str(envelope.get("source_id")))
        version = datetime.fromisoformat(str(envelope.get("version")))
    except ValueError as exc:
        raise Refused(f"the delivery has no usable `source_id` and `version`: {one_line(str(exc), 200)}") from exc
    if version.tzinfo is None:
        raise Refused("the delivery's `version` has no time zone")
    return SEPARATOR.join((str(kind), str(item), utc_stamp(version), _digest(envelope))) + ".json"


def utc_stamp(version: datetime) -> str:
    """A version as a name holds it: UTC, `20260601T080000Z` (with microseconds when it has any)."""
    utc = version.astimezone(UTC)
    return utc.strftime("%Y%m%dT%H%M%S") + (f".{utc.microsecond:06d}Z" if utc.microsecond else "Z")


def _digest(envelope: dict[str, Any]) -> str:
    """The start of the delivery's content hash, or of a SHA-256 of its JSON when it carries none."""
    given = str(envelope.get("content_hash") or "")
    if _HEX.fullmatch(given):
        return given[:DIGEST_CHARS]
    text = json.dumps(envelope, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:DIGEST_CHARS]


def render(envelope: dict[str, Any], inbox_format: str, name: str) -> bytes:
    """The file's bytes: the envelope, or a STIX 2.1 bundle of it; Refused when it cannot be written so."""
    doc: dict[str, Any] = envelope
    if inbox_format == "stix":
        from hub.stix.convert import stix_objects  # here: misp-stix takes seconds to import, for STIX only

        try:
            objects = stix_objects(envelope)
        except Exception as exc:  # misp-stix raises what it likes; the delivery is refused with it, the rest go on
            raise Refused(f"cannot be written as STIX 2.1: {one_line(f'{type(exc).__name__}: {exc}', 300)}") from exc
        doc = {"type": "bundle", "id": f"bundle--{uuid.uuid5(BUNDLE_NAMESPACE, name)}", "objects": objects}
    try:
        return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode()
    except (ValueError, RecursionError) as exc:  # UnicodeEncodeError is a ValueError; the hub never sends either
        raise Refused(f"cannot be written as JSON: {one_line(str(exc), 200)}") from exc


class InboxDir:
    """Writes one side's deliveries into a directory, one file each (a `connectors.Sink`)."""

    def __init__(self, directory: Path, side: Side, inbox_format: str = "envelope") -> None:
        self.path = directory
        self.side = side
        self.format = inbox_format
        self._items: set[str] | None = None  # `kind--source_id` of the files present, read once
        self._dirty = False
        self._failed: OSError | None = None  # the last write's failure, for `check`
        try:
            directory.mkdir(parents=True, exist_ok=True)
            remove_stale(directory)
        except OSError as exc:
            raise ConnectorError(f"inbox directory {directory} cannot be used: {exc}") from exc

    def _index(self) -> set[str]:
        """The items with a file in the directory (so a newer version is told `updated`)."""
        with os.scandir(self.path) as entries:
            return {SEPARATOR.join(e.name.split(SEPARATOR)[:2]) for e in entries if not e.name.startswith(".")}

    async def apply(self, envelope: dict[str, Any]) -> Applied:
        """Write the delivery's file unless it is there already."""
        name = file_name(envelope)
        item = SEPARATOR.join(name.split(SEPARATOR)[:2])
        if self._items is None:
            self._items = await asyncio.to_thread(self._index)
        if not await asyncio.to_thread(self._write, name, envelope):
            return Applied.UNCHANGED
        self._dirty = True
        known = item in self._items
        self._items.add(item)
        return Applied.UPDATED if known else Applied.ADDED

    def _write(self, name: str, envelope: dict[str, Any]) -> bool:
        """Write the file `name` of `envelope` unless it exists; True when written."""
        path = self.path / name
        if os.path.lexists(path):
            return False
        data = render(envelope, self.format, name)
        try:
            write_atomic(path, data)
        except OSError as exc:
            self._failed = exc
            raise ConnectorError(f"inbox directory {self.path}: cannot write {name}: {exc.strerror}") from exc
        self._failed = None
        return True

    async def flush(self) -> None:
        """Make the new files' names durable (their contents were flushed as each was written)."""
        if self._dirty:
            try:
                await asyncio.to_thread(sync_dirs, self.path)
            except OSError as exc:
                raise ConnectorError(f"inbox directory {self.path} cannot be flushed: {exc}") from exc
            self._dirty = False

    async def check(self) -> None:
        """Return when the directory takes files: a failed write that was not about one file's size means it does not.

        So a full disk, a quota or a read-only directory stops the loop (retried later, nothing skipped)
        instead of refusing every delivery in turn.
        """
        failed, self._failed = self._failed, None
        if failed is not None and failed.errno != errno.EFBIG:  # EFBIG: that one file is too large for the filesystem
            raise ConnectorError(f"inbox directory {self.path} cannot take files: {failed.strerror}")
        if not self.path.is_dir() or not os.access(self.path, os.W_OK | os.X_OK):
            raise ConnectorError(f"inbox directory {self.path} is missing or cannot be written")

    async def close(self) -> None:
        """Nothing to release."""
