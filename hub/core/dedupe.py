"""Deduplication: exact, by identity and version, against state the ledger keeps durable.

MISP events follow MISP's rule (strictly newer timestamp is an update, equal or older a
duplicate). Assessments and notes are also compared by canonical content hash, so the same
content resent under a new id or a new modified time is a duplicate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from schemas.common import Kind, Side
from schemas.envelope import Envelope


@dataclass(frozen=True)
class Seen:
    """What the hub last decided about one item key."""

    version: datetime
    content_hash: str
    origin: Side
    delivered: bool  # the counterpart holds some version of it


@dataclass(frozen=True)
class Verdict:
    """Dedupe's answer: `is_duplicate`, else whether the item is new or an update."""

    is_duplicate: bool
    is_update: bool
    rule: str
    reason: str


NEW = Verdict(False, False, "new", "new item")


def dedupe(envelope: Envelope, digest: str, prior: Seen | None, hash_owner: str | None) -> Verdict:
    """Classify one valid envelope against the prior state of its key and its content hash."""
    hashed = envelope.kind is not Kind.MISP_EVENT
    if prior is None:
        if hashed and hash_owner is not None and hash_owner != envelope.key:
            return Verdict(True, False, "same-content", f"same content as {hash_owner}")
        return NEW
    v = envelope.version.isoformat()
    if envelope.origin is not prior.origin and prior.delivered and envelope.version <= prior.version:
        return Verdict(True, False, "echo", f"echo: the hub delivered this item into {envelope.origin}")
    if envelope.version < prior.version:
        return Verdict(True, False, "older-version", f"version {v} is older than {prior.version.isoformat()}")
    if envelope.version == prior.version:
        return Verdict(True, False, "same-version", f"version {v} was already received")
    if hashed and digest == prior.content_hash:
        return Verdict(True, False, "same-content", f"version {v} has the same content as the one received")
    if prior.delivered:
        return Verdict(False, True, "newer-version", f"version {v} is newer than {prior.version.isoformat()}")
    return Verdict(False, False, "newer-version", f"version {v} is newer; no earlier version crossed")
