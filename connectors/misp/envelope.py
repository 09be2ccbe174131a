"""A MISP event as a hub submission: the envelope the pipeline validates, and the way back out."""

from __future__ import annotations

import json
from typing import Any

from hub.core.misp_release import as_int
from schemas.common import Side

# The organisation that publishes each side's MISP events into the hub (and signs them): the
# event's creator (Orgc) stays inside the event, as MISP keeps it across sync.
ORGANISATIONS = {Side.EU: "CERT-EU", Side.NATO: "NCIRC"}
AREA = "cyber"  # MISP exchange is proposal area "cyber security and defence"


def envelope(event: dict[str, Any], side: Side) -> bytes:
    """The submission for `event` (the body inside `{"Event": ...}`) published by `side`."""
    doc = {
        "kind": "misp_event",
        "origin": side.value,
        "originator": ORGANISATIONS[side],
        "area": AREA,
        "payload": {"Event": event},
    }
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def event_of(delivered: dict[str, Any]) -> dict[str, Any] | None:
    """The MISP event body of a delivered envelope, or None when it carries another kind."""
    if delivered.get("kind") != "misp_event":
        return None
    payload = delivered.get("payload") or {}
    body = payload.get("Event", payload)
    return body if isinstance(body, dict) else None


def version(event: dict[str, Any]) -> int:
    """The event's timestamp (its version), 0 when absent."""
    return as_int(event.get("timestamp"), 0)
