"""Validation: raw bytes from `hub.submitted` to an envelope, or a reason a person can act on."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from hub.core.canonical import content_hash
from hub.core.decision import UNKNOWN
from hub.core.tag import unknown_disarm_techniques, unknown_taxonomy_tags
from schemas.common import Area, Kind, Side
from schemas.envelope import SUBMISSION, Envelope
from schemas.misp_event import LIMITS_CONTEXT, MISP_ATTRIBUTES, MISP_OBJECTS

MAX_SUBMISSION_BYTES = 64 * 1024 * 1024  # above the largest chunk-reassembled MISP event we accept


@dataclass(frozen=True)
class Hint:
    """Kind, area and origin of a rejected item when those fields alone are valid, for the counts."""

    kind: str = UNKNOWN
    area: str = UNKNOWN
    origin: str = UNKNOWN


def read_hint(raw: bytes) -> Hint:
    """Best-effort kind, area and origin of a submission that failed validation."""
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        return Hint()
    if not isinstance(doc, dict):
        return Hint()

    def pick(name: str, vocabulary: type[StrEnum]) -> str:
        value = doc.get(name)
        return value if isinstance(value, str) and value in vocabulary.__members__.values() else UNKNOWN

    return Hint(pick("kind", Kind), pick("area", Area), pick("origin", Side))


@dataclass(frozen=True)
class Invalid:
    """Why a submission was rejected: the field at fault, the problem, and what could still be read."""

    field: str
    problem: str
    hint: Hint = Hint()
    rule: str = "invalid"  # the ledger's rule: `invalid`, or a trust rule such as `unsigned` or `forged`

    @property
    def reason(self) -> str:
        """One sentence naming the field and the problem."""
        return f"field `{self.field}`: {self.problem}" if self.field else self.problem


@dataclass(frozen=True)
class Valid:
    """A submission that passed validation, with its canonical content hash and, once verified, its submitter."""

    envelope: Envelope
    content_hash: str
    submitter: str | None = None  # `SIDE:organisation` of the key that signed it (`hub.core.signing.submitter`)

    @property
    def owner(self) -> str:
        """Who submits it: the verified key's identity, or the claimed origin and originator when unsigned."""
        return self.submitter or f"{self.envelope.origin}:{self.envelope.originator.strip()}"


def _first_error(exc: ValidationError) -> Invalid:
    errors = exc.errors(include_url=False)
    # A MISP payload that fails also leaves the fields lifted from it missing: report the cause.
    lifted = [e for e in errors if e["loc"][:2] == ("misp_event", "payload")]
    err = (lifted or errors)[0]
    loc = [str(p) for p in err["loc"]]
    if loc and loc[0] in {"assessment", "stratcom_note", "misp_event"}:
        loc = loc[1:]  # drop the union's tag: the user never wrote it
    loc = [p for p in loc if not p.startswith("function-")]
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "union_tag_invalid":
        msg = f"{err['input'].get('kind')!r} is not one of assessment, stratcom_note, misp_event"
        return Invalid("kind", msg)
    if err["type"] == "union_tag_not_found":
        return Invalid("kind", "is missing")
    if err["type"] == "json_invalid":
        return Invalid("", f"not a valid JSON document: {err['ctx'].get('error', msg) if 'ctx' in err else msg}")
    if err["type"] == "missing":
        msg = "is missing"
    elif err["type"] == "extra_forbidden":
        msg = "is not a known field"
    elif "input" in err and err["type"] not in {"value_error", "assertion_error"}:
        shown = repr(err["input"])
        msg = f"{shown[:80] + '…' if len(shown) > 80 else shown}: {msg}"
    more = len(lifted or errors) - 1  # the fields lifted from a failed MISP payload are missing too: not news
    return Invalid(".".join(loc), msg + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""))


@dataclass(frozen=True)
class ItemLimits:
    """What validating one item may cost: attributes and objects of a MISP event (the settings' `limits`)."""

    misp_attributes: int = MISP_ATTRIBUTES
    misp_objects: int = MISP_OBJECTS

    @property
    def context(self) -> dict[str, Any]:
        """The validation context the schemas read these limits from."""
        return {LIMITS_CONTEXT: (self.misp_attributes, self.misp_objects)}


DEFAULT_LIMITS = ItemLimits()


def validate(raw: bytes, limits: ItemLimits = DEFAULT_LIMITS) -> Valid | Invalid:
    """Parse and check one submission; never raises."""
    try:
        result = _validate(raw, limits)
    except Exception as exc:  # noqa: BLE001 - bad input must never stop the hub (DESIGN invariant 5)
        result = Invalid("", f"cannot be checked: {type(exc).__name__}: {str(exc)[:200]}")
    if isinstance(result, Invalid) and len(raw) <= MAX_SUBMISSION_BYTES:
        return replace(result, hint=read_hint(raw))
    return result


def _validate(raw: bytes, limits: ItemLimits) -> Valid | Invalid:
    if len(raw) > MAX_SUBMISSION_BYTES:
        return Invalid("", f"submission is {len(raw)} bytes, over the {MAX_SUBMISSION_BYTES} byte limit")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Invalid("", f"not valid UTF-8 at byte {exc.start}")
    strict, has_floats = _strict_parse(text)
    if strict is not None:
        return strict
    try:
        envelope = SUBMISSION.validate_json(text, context=limits.context)
    except ValidationError as exc:
        return _first_error(exc)
    except (ValueError, RecursionError) as exc:
        return Invalid("", f"not a valid JSON document: {exc}")
    return check_envelope(envelope, plain=not has_floats)


MAX_EXACT_INT = 2**53 - 1  # I-JSON (RFC 7493): larger integers lose precision, and RFC 8785 cannot hash them


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise ValueError(f"duplicate key {key[:80]!r} in one JSON object: it is ambiguous which value holds")
        seen.add(key)
    return dict(pairs)


def _exact_int(text: str) -> int:
    digits = text.lstrip("-")
    if len(digits) > len(str(MAX_EXACT_INT)) or abs(int(text)) > MAX_EXACT_INT:
        shown = text if len(text) <= 24 else f"{text[:12]}…({len(digits)} digits)"
        raise ValueError(f"number {shown} is beyond ±2^53-1, the range a JSON number carries exactly")
    return int(text)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def strict_json(text: str) -> Invalid | None:
    """The problem of a document plain JSON parsers accept but the exchange cannot carry, if any."""
    return _strict_parse(text)[0]


def _strict_parse(text: str) -> tuple[Invalid | None, bool]:
    """`strict_json`'s answer, and whether the document holds a float (its hash then needs the full check)."""
    floats: list[str] = []

    def seen_float(number: str) -> float:
        floats.append(number)
        return float(number)

    try:
        json.loads(
            text,
            object_pairs_hook=_unique_keys,
            parse_int=_exact_int,
            parse_float=seen_float,
            parse_constant=_no_constant,
        )
    except RecursionError:
        return Invalid("", "not a valid JSON document: nested too deeply"), True
    except json.JSONDecodeError:
        return None, True  # plain syntax errors: the schema parser's message says more
    except ValueError as exc:
        return Invalid("", str(exc)), True
    return None, bool(floats)


def check_envelope(envelope: Envelope, plain: bool = False) -> Valid | Invalid:
    """The checks that need the whole envelope: content hash, DISARM ids, taxonomy tags.

    `plain`: the envelope came from a document without floats (big integers are refused above).
    """
    digest = content_hash(envelope, plain)
    if envelope.content_hash is not None and envelope.content_hash != digest:
        return Invalid("content_hash", f"does not match the content (computed {digest})")
    if envelope.kind == "stratcom_note":
        unknown = unknown_disarm_techniques(envelope.payload.disarm_techniques)  # type: ignore[union-attr]
        if unknown:
            return Invalid("payload.disarm_techniques", f"{', '.join(unknown)} not in the DISARM framework")
    bad_tags = unknown_taxonomy_tags(envelope.tags)
    if bad_tags:
        return Invalid("tags", f"{', '.join(bad_tags)} not in the taxonomy its namespace names")
    return Valid(envelope, digest)
