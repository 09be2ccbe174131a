"""What a dropped file holds, as a submission: a JSON envelope sent as it is, or a STIX bundle mapped to one.

A file is checked as the hub will check it (`hub.core.validate`), and against the side whose drop
directory it is in, before anything is sent: what cannot be read or validated is rejected with a
reason naming the field and the problem. Its submission id is derived from the directory, the
file's name, its exact bytes and the signing key, so a file sent again after a crash is a replay
the hub recognises (decided once), and the same bytes under another name are a submission of their
own (decided too: as a duplicate).
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from connectors.http import one_line
from hub.core.validate import Invalid, ItemLimits, strict_json, validate
from hub.files import BOM
from schemas.common import Side

SID_CONTEXT = b"hub-file/1"  # domain separation: a file's submission id is never any other hash
SID_PREFIX = "file-"
SID_HEX = 40  # 160 bits of SHA-256: no two files meet by chance; the id stays short in logs and the ledger
_WIDE_BOMS = {
    codecs.BOM_UTF32_LE: "UTF-32",  # before UTF-16: its mark starts with UTF-16 LE's
    codecs.BOM_UTF32_BE: "UTF-32",
    codecs.BOM_UTF16_LE: "UTF-16",
    codecs.BOM_UTF16_BE: "UTF-16",
}


@dataclass(frozen=True)
class Submission:
    """A dropped file made ready to send: the bytes to submit and the item they are."""

    raw: bytes
    item: str  # `kind:source_id`, for the log


def submission_id(directory: str, name: str, data: bytes, key_id: str | None) -> str:
    """The stable submission id of the file `name` holding `data` in `directory`, signed by `key_id`.

    The key is part of it: after a key change the same file is a new submission, not `sid-reuse`.
    """
    fields = (SID_CONTEXT, os.fsencode(directory), os.fsencode(name), (key_id or "unsigned").encode())
    digest = hashlib.sha256(b"\0".join(fields) + b"\0")  # none of them can hold a NUL byte
    digest.update(data)
    return SID_PREFIX + digest.hexdigest()[:SID_HEX]


def submission_of(data: bytes, side: Side, limits: ItemLimits) -> Submission | str:
    """The submission a dropped file holds, or why it cannot be sent (one line)."""
    text = _text(data)
    if not isinstance(text, tuple):
        return text
    body, raw = text
    problem = strict_json(body)
    if problem is not None:
        return problem.reason
    try:
        doc = json.loads(body)
    except json.JSONDecodeError as exc:
        return f"is not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
    except RecursionError:
        return "not a valid JSON document: nested too deeply"
    if isinstance(doc, dict) and doc.get("type") == "bundle":
        converted = _from_bundle(doc)
        if isinstance(converted, str):
            return converted
        raw = converted
    elif not isinstance(doc, dict):
        return f"holds a JSON {_json_type(doc)}: a dropped file holds one envelope (an object) or one STIX bundle"
    result = validate(raw, limits)
    if isinstance(result, Invalid):
        return result.reason
    env = result.envelope
    if env.origin != side:
        return f"field `origin`: {env.origin.value!r}, but this is the drop directory of the {side.value} side"
    return Submission(raw, env.key)


def _text(data: bytes) -> tuple[str, bytes] | str:
    """The file as UTF-8 text and as the bytes to send (a leading byte-order mark left out); else why not."""
    for mark, name in _WIDE_BOMS.items():
        if data.startswith(mark):
            return f"is {name} text: save it as UTF-8 (JSON travels as UTF-8, RFC 8259)"
    raw = data.removeprefix(BOM)
    if not raw.strip():
        return "is empty"
    try:
        return raw.decode("utf-8"), raw
    except UnicodeDecodeError as exc:
        return f"is not UTF-8 text (byte {exc.start + len(data) - len(raw) + 1} cannot be read)"


def _from_bundle(doc: dict[str, Any]) -> bytes | str:
    """The envelope of a STIX bundle, as the bytes to submit; else why not."""
    from hub.stix.convert import envelope_of_bundle  # here: misp-stix takes seconds to import, for bundles only

    try:
        env = envelope_of_bundle(doc)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in err["loc"])
        return one_line(f"STIX bundle: the hub's extension, field `{where}`: {err['msg']}")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        problem = f"{exc.args[0]!r} is missing" if isinstance(exc, KeyError) and exc.args else str(exc)
        return one_line(f"STIX bundle: {problem}")
    try:
        return json.dumps(env, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    except UnicodeEncodeError as exc:  # a lone surrogate (`\ud800`) no UTF-8 can carry
        return f"STIX bundle: holds {exc.object[exc.start : exc.end]!r}, a lone surrogate that UTF-8 cannot carry"


def _json_type(doc: Any) -> str:
    return {list: "array", str: "string", bool: "boolean", type(None): "null"}.get(type(doc), "number")
