"""The MISP feed directory format, as CERTs publish it and MISP fetches it.

`manifest.json` maps each event UUID to `{Orgc, Tag, info, date, analysis, threat_level_id,
timestamp}`; `<uuid>.json` holds the event as `{"Event": {...}}`; `hashes.csv` has one line per
attribute value, `md5(value),event-uuid` (a composite value `a|b` gives a line per half), as
MISP's and PyMISP's feed generators write it, for MISP's cache of feed values. Event files are
written atomically before the manifest names them, and the manifest and the hashes are written
last, so a reader never finds a manifest entry whose file is missing or half written.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from connectors.atomic import write_atomic
from connectors.misp.envelope import checked_uuid
from hub.core.misp_release import as_int
from hub.errors import ConnectorError, Refused
from hub.files import MIB, read_limited
from hub.kafka.config import MAX_RECORD_BYTES
from schemas.markings import is_local

MANIFEST = "manifest.json"
HASHES = "hashes.csv"
MANIFEST_LIMIT = 64 * MIB  # ~300 bytes an entry: some 200,000 events, ten times CIRCL's OSINT feed


def manifest_entry(event: dict[str, Any]) -> dict[str, Any]:
    """The manifest entry MISP writes for `event` (exportable, non-local tags only)."""
    found = event.get("Orgc")
    orgc: dict[str, Any] = found if isinstance(found, dict) else {}
    tags = [
        {k: t[k] for k in ("name", "colour") if k in t}
        for t in event.get("Tag") or ()
        if isinstance(t, dict) and "name" in t and not is_local(t) and t.get("exportable", True)
    ]
    return {
        "Orgc": {k: orgc[k] for k in ("name", "uuid") if k in orgc},
        "Tag": tags,
        "info": event.get("info", ""),
        "date": event.get("date", ""),
        "analysis": str(event.get("analysis", "0")),
        "threat_level_id": str(event.get("threat_level_id", "4")),
        "timestamp": as_int(event.get("timestamp"), 0),
    }


def hash_lines(event: dict[str, Any]) -> list[str]:
    """`hashes.csv` lines of `event`: `md5(value),uuid` per value of its attributes and objects' (not deleted)."""
    uuid = str(event.get("uuid", ""))
    found = [a for a in event.get("Attribute") or () if isinstance(a, dict)]
    for obj in event.get("Object") or ():
        if isinstance(obj, dict):
            found += [a for a in obj.get("Attribute") or () if isinstance(a, dict)]
    lines = []
    for attr in found:
        if attr.get("deleted") in (True, 1, "1", "true"):
            continue
        value, kind = str(attr.get("value", "")), str(attr.get("type", ""))
        halves = value.split("|") if "|" in kind or kind == "malware-sample" else [value]
        lines += [f"{hashlib.md5(v.encode(), usedforsecurity=False).hexdigest()},{uuid}" for v in halves]
    return lines


class FeedDir:
    """One feed directory on disk."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def manifest(self, required: bool = False) -> dict[str, dict[str, Any]]:
        """The manifest; empty when the directory has none yet, unless `required` (a source's feed)."""
        file = self.path / MANIFEST
        if not self.path.is_dir():
            raise ConnectorError(f"feed directory {self.path} does not exist")
        if not file.exists() and not file.is_symlink():
            if required:
                raise ConnectorError(f"feed directory {self.path} has no {MANIFEST}: it is not a MISP feed")
            return {}
        try:
            data = json.loads(self._read(file, MANIFEST_LIMIT))
        except (ValueError, RecursionError) as exc:
            raise ConnectorError(f"{file}: not a readable MISP feed manifest: {str(exc)[:200]}") from exc
        if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
            raise ConnectorError(f"{file}: a manifest maps event UUIDs to objects")
        return data

    def read(self, event_uuid: str) -> dict[str, Any]:
        """The event body of `<uuid>.json`."""
        file = self.path / f"{checked_uuid(event_uuid, str(self.path / MANIFEST))}.json"
        try:
            doc = json.loads(self._read(file, MAX_RECORD_BYTES))
        except (ValueError, RecursionError) as exc:
            raise ConnectorError(f"{file}: cannot read the event: {str(exc)[:200]}") from exc
        body = doc.get("Event") if isinstance(doc, dict) else None
        if not isinstance(body, dict):
            raise ConnectorError(f'{file}: field `Event` is missing; a feed file holds {{"Event": {{...}}}}')
        return body

    def fingerprint(self, event_uuid: str) -> str | None:
        """`size:mtime_ns` of `<uuid>.json`, a cheap sign its content may have changed; None if it is missing."""
        try:
            st = (self.path / f"{checked_uuid(event_uuid, 'event')}.json").stat()
        except OSError:
            return None
        return f"{st.st_size}:{st.st_mtime_ns}"

    def _read(self, file: Path, limit: int) -> bytes:
        """A file of the feed, within `limit`; a symbolic link that leads out of the directory is refused."""
        try:
            real, base = file.resolve(strict=True), self.path.resolve(strict=True)
        except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
            raise ConnectorError(f"{file}: cannot read: {exc}") from exc
        if not real.is_relative_to(base):
            raise ConnectorError(f"{file} is a symbolic link out of the feed directory (to {real}): refused")
        if real.is_file() and real.stat().st_size > limit:
            raise Refused(f"{file} is {real.stat().st_size:,} bytes, more than the {limit:,} a hub message holds")
        return read_limited(real, limit, "feed file", ConnectorError)

    def write(self, event: dict[str, Any]) -> None:
        """Write `<uuid>.json` atomically; the manifest is saved separately, after it."""
        name = checked_uuid(str(event.get("uuid")), "event")
        data = json.dumps({"Event": event}, ensure_ascii=False, separators=(",", ":")).encode()
        write_atomic(self.path / f"{name}.json", data)

    def save_manifest(self, manifest: dict[str, dict[str, Any]]) -> None:
        """Write the manifest atomically."""
        write_atomic(self.path / MANIFEST, json.dumps(manifest, ensure_ascii=False, sort_keys=True).encode())

    def hashes(self, manifest: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
        """`hashes.csv` as event UUID -> its lines; rebuilt from the event files when missing (an older feed)."""
        file = self.path / HASHES
        if file.exists():
            out: dict[str, list[str]] = {}
            for line in self._read(file, MANIFEST_LIMIT * 4).decode(errors="replace").splitlines():
                if "," in line:
                    out.setdefault(line.rpartition(",")[2], []).append(line)
            return out
        rebuilt: dict[str, list[str]] = {}
        for key in manifest:
            try:
                rebuilt[key] = hash_lines({**self.read(key), "uuid": key})
            except (ConnectorError, Refused):
                continue  # unreadable here: the sink leaves it to whoever fixes the file
        return rebuilt

    def save_hashes(self, hashes: dict[str, list[str]]) -> None:
        """Write `hashes.csv` atomically, events in UUID order."""
        text = "".join(line + "\n" for key in sorted(hashes) for line in hashes[key])
        write_atomic(self.path / HASHES, text.encode())
