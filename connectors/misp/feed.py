"""The MISP feed directory format, as CERTs publish it and MISP fetches it.

`manifest.json` maps each event UUID to `{Orgc, Tag, info, date, analysis, threat_level_id,
timestamp}`; `<uuid>.json` holds the event as `{"Event": {...}}`. Event files are written
atomically before the manifest names them, and the manifest is written last, so a reader never
finds a manifest entry whose file is missing or half written.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from connectors.misp.watermark import write_atomic
from hub.core.misp_release import as_int
from hub.errors import ConnectorError
from schemas.markings import is_local

MANIFEST = "manifest.json"


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


def checked_uuid(value: str, where: str) -> str:
    """`value` if it is a UUID (it becomes a file name), else ConnectorError naming `where`."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise ConnectorError(f"{where}: {value!r} is not an event UUID") from None


class FeedDir:
    """One feed directory on disk."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def manifest(self) -> dict[str, dict[str, Any]]:
        """The manifest, empty when the directory has none yet."""
        file = self.path / MANIFEST
        if not file.is_file():
            if not self.path.is_dir():
                raise ConnectorError(f"feed directory {self.path} does not exist")
            return {}
        try:
            data = json.loads(file.read_bytes())
        except (OSError, ValueError) as exc:
            raise ConnectorError(f"{file}: not a readable MISP feed manifest: {exc}") from exc
        if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
            raise ConnectorError(f"{file}: a manifest maps event UUIDs to objects")
        return data

    def read(self, event_uuid: str) -> dict[str, Any]:
        """The event body of `<uuid>.json`."""
        file = self.path / f"{checked_uuid(event_uuid, str(self.path / MANIFEST))}.json"
        try:
            doc = json.loads(file.read_bytes())
        except (OSError, ValueError) as exc:
            raise ConnectorError(f"{file}: cannot read the event: {exc}") from exc
        body = doc.get("Event") if isinstance(doc, dict) else None
        if not isinstance(body, dict):
            raise ConnectorError(f'{file}: field `Event` is missing; a feed file holds {{"Event": {{...}}}}')
        return body

    def write(self, event: dict[str, Any]) -> None:
        """Write `<uuid>.json` atomically; the manifest is saved separately, after it."""
        name = checked_uuid(str(event.get("uuid")), "event")
        data = json.dumps({"Event": event}, ensure_ascii=False, separators=(",", ":")).encode()
        write_atomic(self.path / f"{name}.json", data)

    def save_manifest(self, manifest: dict[str, dict[str, Any]]) -> None:
        """Write the manifest atomically."""
        write_atomic(self.path / MANIFEST, json.dumps(manifest, ensure_ascii=False, sort_keys=True).encode())
