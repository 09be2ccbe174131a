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
_UNSAFE_KEY_CHAR = re.compile("[\ud800-\U0010ffff]")  # from here up, UTF-16 and code-point orders differ


class _NotPlain(Exception):
    """Raised by the re-parse hooks: the value needs the reference implementation."""


def _no_float(text: str) -> float:
    raise _NotPlain(text)


def _exact_int(text: str) -> int:
    if len(text) > 15 and abs(int(text)) > _MAX_EXACT_INT:  # 15 digits are always below 2**53
        raise _NotPlain(text)
    return 0  # the value itself is not needed


_CHECK = json.JSONDecoder(parse_float=_no_float, parse_int=_exact_int)  # built once: decoders cost to make


def canonical_bytes(value: Any) -> bytes:
    """RFC 8785 canonical JSON of a JSON-compatible value."""
    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        # Two C-speed checks instead of a walk in Python: no code point that could reorder keys (a
        # rare string value holding one also takes the slow path), then no float and no integer
        # beyond 2**53 in a re-parse whose hooks raise.
        if _UNSAFE_KEY_CHAR.search(text) is None:
            _CHECK.decode(text)
            return text.encode("utf-8")
    except (_NotPlain, TypeError, ValueError, UnicodeEncodeError):
        pass  # floats, big integers, non-JSON types, lone surrogates: the reference decides
    return rfc8785.dumps(value)


def content_hash(envelope: Envelope) -> str:
    """SHA-256 hex digest of the envelope's canonical content."""
    content = envelope.model_dump(mode="json", include=_CONTENT_FIELDS)
    return hashlib.sha256(canonical_bytes(content)).hexdigest()
