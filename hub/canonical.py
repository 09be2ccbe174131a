"""Canonical JSON (RFC 8785) and the content hash that catches the same content resent.

RFC 8785 (JCS) and `json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)` give
the same bytes for JSON without floats, without integers beyond 2**53 and without object keys
holding code points above U+D7FF (JCS sorts keys by UTF-16 code units, Python by code points; the
two orders differ only there). Strings are escaped alike (`\\"`, `\\\\`, `\\b\\f\\n\\r\\t`,
other controls as lowercase `\\u00xx`). Such values, which are nearly all the hub sees, take the
C-accelerated `json` path; anything else goes through the reference `rfc8785` implementation.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import rfc8785

from schemas.envelope import Envelope

# Fields that describe the content; identity, times and the hash itself are left out so that the
# same content resent under a new modified time still hashes the same.
_CONTENT_FIELDS = {"kind", "origin", "originator", "markings", "tags", "area", "proposals", "payload"}
_MAX_EXACT_INT = 2**53  # IEEE 754 doubles hold every integer up to here; JCS numbers are doubles
_UNSAFE_KEY_CHAR = re.compile("[\ud800-\U0010ffff]")  # from the surrogates up, UTF-16 and code-point orders differ


def _plain(value: Any) -> bool:
    """True when `json.dumps` gives exactly the RFC 8785 bytes for `value`."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str) or v is None or isinstance(v, bool):
            continue
        if isinstance(v, int):
            if abs(v) > _MAX_EXACT_INT:
                return False
        elif isinstance(v, dict):
            if not all(isinstance(k, str) for k in v) or _UNSAFE_KEY_CHAR.search("".join(v)):
                return False
            stack.extend(v.values())
        elif isinstance(v, list | tuple):
            stack.extend(v)
        else:
            return False  # floats and anything else: the reference implementation decides
    return True


def canonical_bytes(value: Any) -> bytes:
    """RFC 8785 canonical JSON of a JSON-compatible value."""
    if _plain(value):
        try:
            return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: let the reference implementation report it
    return rfc8785.dumps(value)


def content_hash(envelope: Envelope) -> str:
    """SHA-256 hex digest of the envelope's canonical content."""
    content = envelope.model_dump(mode="json", include=_CONTENT_FIELDS)
    return hashlib.sha256(canonical_bytes(content)).hexdigest()
