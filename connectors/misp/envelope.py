"""A MISP event in a hub submission envelope, the way back out, and the reading of its identity and version.

A peer's UUIDs and timestamps are read here only: a UUID is checked (and put in its canonical form)
before it goes into a URL or a file name, and a timestamp must be a whole number of seconds in
range, never `1e999`, `true` or `"12abc"`.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from connectors import Change, Unsent
from hub.errors import ConnectorError
from hub.kafka.config import MAX_RECORD_BYTES
from schemas.common import Side

# The organisation that publishes each side's MISP events into the hub (and signs them): the
# event's creator (Orgc) stays inside the event, as MISP keeps it across sync.
ORGANISATIONS = {Side.EU: "CERT-EU", Side.NATO: "NCIRC"}
AREA = "cyber"  # MISP exchange is proposal area "cyber security and defence"
MAX_TIMESTAMP = 99_999_999_999  # MISP stores timestamps as int(11): year 5138, far past any real one
_DIGITS = re.compile(r"[0-9]{1,11}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}")


def envelope(event: dict[str, Any], side: Side) -> bytes:
    """The submission for `event` (the body inside `{"Event": ...}`) published by `side`.

    ValueError when the event holds a number JSON cannot carry (infinity, NaN). Text that is not
    valid Unicode (a lone surrogate) travels escaped, and the hub rejects it with its reason.
    """
    doc = {
        "kind": "misp_event",
        "origin": side.value,
        "originator": ORGANISATIONS[side],
        "area": AREA,
        "payload": {"Event": event},
    }
    text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    try:
        return text.encode()
    except UnicodeEncodeError:
        return json.dumps(doc, ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode()


def submission(key: str, version: int, event: dict[str, Any], side: Side) -> Change | Unsent:
    """`event` ready to submit at `version`, or Unsent saying why it cannot be (too large, not representable)."""
    try:
        raw = envelope(event, side)
    except (ValueError, RecursionError) as exc:
        return Unsent(key, version, f"event {key} cannot be submitted: {str(exc)[:200]}")
    if len(raw) > MAX_RECORD_BYTES:
        return Unsent(
            key, version, f"event {key} is {len(raw):,} bytes, more than a hub message's {MAX_RECORD_BYTES:,}"
        )
    return Change(key, version, raw)


def event_of(delivered: dict[str, Any]) -> dict[str, Any] | None:
    """The MISP event body of a delivered envelope, or None when it carries another kind."""
    if delivered.get("kind") != "misp_event":
        return None
    payload = delivered.get("payload")
    body = payload.get("Event", payload) if isinstance(payload, dict) else None
    return body if isinstance(body, dict) else None


def event_uuid(value: Any) -> str | None:
    """`value` as a canonical lower-case UUID, or None when it is not one (`../x`, `{…}`, `urn:`, a number)."""
    if not isinstance(value, str) or _UUID.fullmatch(value) is None:
        return None
    return str(uuid.UUID(value))


def missing_uuid(event: dict[str, Any]) -> str:
    """Why a delivered event cannot be applied for want of a UUID."""
    if "uuid" not in event:
        return "the delivered event has no uuid"
    return f"the delivered event's uuid {str(event['uuid'])[:60]!r} is not a UUID"


def checked_uuid(value: Any, where: str) -> str:
    """`value` as a canonical UUID (it goes into a URL or a file name), else ConnectorError naming `where`."""
    found = event_uuid(value)
    if found is None:
        raise ConnectorError(f"{where}: {str(value)[:100]!r} is not an event UUID")
    return found


def timestamp_of(value: Any) -> int | None:
    """A MISP timestamp (an int, or digits in a string) within range; None for anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 <= value <= MAX_TIMESTAMP else None
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        found = int(value)
        return found if found <= MAX_TIMESTAMP else None
    return None


def version(event: dict[str, Any]) -> int:
    """The event's timestamp (its version), 0 when absent or unreadable."""
    return timestamp_of(event.get("timestamp")) or 0
