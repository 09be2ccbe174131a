"""Canonical JSON (RFC 8785) and the content hash that catches the same content resent."""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785

from schemas.envelope import Envelope

# Fields that describe the content; identity, times and the hash itself are left out so that the
# same content resent under a new modified time still hashes the same.
_CONTENT_FIELDS = {"kind", "origin", "originator", "markings", "tags", "area", "proposals", "payload"}


def canonical_bytes(value: Any) -> bytes:
    """RFC 8785 canonical JSON of a JSON-compatible value."""
    return rfc8785.dumps(value)


def content_hash(envelope: Envelope) -> str:
    """SHA-256 hex digest of the envelope's canonical content."""
    content = envelope.model_dump(mode="json", include=_CONTENT_FIELDS)
    return hashlib.sha256(canonical_bytes(content)).hexdigest()
