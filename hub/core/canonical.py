"""Canonical JSON (RFC 8785) and the content hash that catches the same content resent.

RFC 8785 (JCS) and `json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)` give
the same bytes for JSON without floats, without integers beyond 2**53 and without object keys
holding code points above U+D7FF (JCS sorts keys by UTF-16 code units, Python by code points; the
two orders differ only there). Strings are escaped alike (`\\"`, `\\\\`, `\\b\\f\\n\\r\\t`,
other controls as lowercase `\\u00xx`). Such values, which are nearly all the hub sees, take the
C-accelerated `json` path; anything else goes through the reference `rfc8785` implementation.

A value its caller vouches for (`plain=True`: no float, no integer beyond 2**53) is encoded by
orjson (compiled: 1.4x the `json` path for a ledger record, 2.9x for a 50-attribute MISP event,
measured here), whose output with sorted keys is the same bytes
for the same values: escapes, separators and UTF-8 alike, keys in code-point order (UTF-8 byte
order, equal to UTF-16 order below U+D800). A key order that could differ is looked for in the
bytes; orjson's refusals (integers beyond 64 bits, lone surrogates, nesting past 255, types that
are not JSON's) fall back to the `json` path. The equality is property-tested against `rfc8785`.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

import orjson
import rfc8785

from schemas.envelope import Envelope

# Fields that describe the content; identity, times and the hash itself are left out so that the
# same content resent under a new modified time still hashes the same.
_CONTENT_FIELDS = {"kind", "origin", "originator", "markings", "tags", "area", "proposals", "payload"}
_MAX_EXACT_INT = 2**53  # IEEE 754 doubles hold every integer up to here; JCS numbers are doubles
_UNSAFE_KEY_CHAR = re.compile("[\ud800-\U0010ffff]")  # from here up, UTF-16 and code-point orders differ
_UNSAFE_KEY_BYTES = re.compile(rb"\xed[\xa0-\xbf]|[\xee\xef\xf0-\xf4]")  # the same code points in UTF-8
# datetimes, dataclasses and str subclasses refused (TypeError) as `json` refuses them: the `json` path decides
_ORJSON = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


class _NotPlain(Exception):
    """Raised by the re-parse hooks: the value needs the reference implementation."""


def _no_float(text: str) -> float:
    raise _NotPlain(text)


def _exact_int(text: str) -> int:
    if len(text) > 15 and abs(int(text)) > _MAX_EXACT_INT:  # 15 digits are always below 2**53
        raise _NotPlain(text)
    return 0  # the value itself is not needed


def _plain_int(text: str) -> int:
    _exact_int(text)
    return int(text)


_CHECK = json.JSONDecoder(parse_float=_no_float, parse_int=_exact_int)  # built once: decoders cost to make
_PLAIN = json.JSONDecoder(parse_float=_no_float, parse_int=_plain_int)


def canonical_bytes(value: Any, plain: bool = False) -> bytes:
    """RFC 8785 canonical JSON of a JSON-compatible value.

    `plain=True` promises that `value` holds no float and no integer beyond 2**53 (the caller built
    it from such parts, or read it with `canonical_of_json`), which spares the re-parse check and
    lets orjson encode it.
    """
    if plain:
        try:
            data = orjson.dumps(value, option=_ORJSON)
            if _UNSAFE_KEY_BYTES.search(data) is None:
                return data
        except TypeError:  # orjson.JSONEncodeError is one
            pass
    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        # Two C-speed checks instead of a walk in Python: no code point that could reorder keys (a
        # rare string value holding one also takes the slow path), then no float and no integer
        # beyond 2**53 in a re-parse whose hooks raise.
        if _UNSAFE_KEY_CHAR.search(text) is None:
            if not plain:
                _CHECK.decode(text)
            return text.encode("utf-8")
    except (_NotPlain, TypeError, ValueError, UnicodeEncodeError):
        pass  # floats, big integers, non-JSON types, lone surrogates: the reference decides
    return rfc8785.dumps(value)


def canonical_of_json(raw: bytes | str) -> bytes:
    """RFC 8785 canonical JSON of a JSON document; ValueError (or RecursionError) if it is not one.

    One parse whose hooks refuse floats and big integers proves the document plain, so the
    canonical form needs no second parse; other documents go through the reference.
    """
    text = raw.decode(json.detect_encoding(raw), "surrogatepass") if isinstance(raw, bytes) else raw  # as json.loads
    try:
        return canonical_bytes(_PLAIN.decode(text), plain=True)
    except _NotPlain:
        return rfc8785.dumps(json.loads(text))


def content_hash(envelope: Envelope, plain: bool = False) -> str:
    """SHA-256 hex digest of the envelope's canonical content.

    `plain=True`: the envelope was validated from a document without floats or integers beyond
    2**53; the schemas declare no float field (a unit test holds them to it), so its dump has none.
    """
    content = envelope.model_dump(mode="json", include=_CONTENT_FIELDS)
    return hashlib.sha256(canonical_bytes(content, plain)).hexdigest()
