"""Copies of one version: the content decides between them (MISP #4975).

A MISP server that pulls with filters, or a CERT that exports for a community, passes on a copy
of an event that keeps its UUID and timestamp but holds fewer attributes. MISP's own rule (equal
timestamp: not newer) would then let whichever copy arrived first win. The hub remembers, per item
key, what the counterpart holds of the current version (`Seen.held`: the event's own UUID and the
UUIDs of its attributes, objects and object attributes, as they crossed), and compares a later copy
of the same version with it once the copy has passed the release policy and been shaped, so only
releasable parts count:

- a strict superset crosses as `updated` (rule `fuller-copy`);
- a subset, or an equal set, is a `duplicate` (rule `filtered-copy`);
- a copy that is neither (each holds parts the other lacks) crosses as `updated` (rule
  `diverging-copy`): the sinks add parts by UUID and never remove any at the same version, so the
  counterpart ends with the union, and the hub remembers the union. Withholding it instead would
  make the end state depend on the order of arrival; crossing makes every order end alike.

An assessment or a note has no parts to compare: its copies are ordered by the size of their
canonical content, then by content hash, and the larger crosses (`fuller-copy`), the other is a
`duplicate` (`filtered-copy`); the largest copy is what the counterpart ends with, whatever the
order. A copy of a version whose earlier copies were all withheld is not compared: the policy
alone decides it (a withheld copy never blocks a later one).
"""

from __future__ import annotations

from dataclasses import dataclass
from hashlib import sha256
from typing import Any

from hub.core.canonical import canonical_bytes
from schemas.envelope import Envelope, MispEventEnvelope

SIZE_DIGITS = 12  # zero-padded so tokens compare as (size, hash); 10**12 bytes is far beyond any item
RECEIVED = "#"  # marks a held token that is the content hash of a copy received as it was, not a part


def received(digest: str) -> str:
    """The held token of a copy that crossed, by its content hash as received: that copy resent is a duplicate."""
    return RECEIVED + digest


def parts(held: frozenset[str]) -> frozenset[str]:
    """The held tokens that stand for content (the `received` marks left out)."""
    return frozenset(t for t in held if not t.startswith(RECEIVED))


@dataclass(frozen=True)
class Comparison:
    """How a releasable copy compares with the copy the counterpart holds: crosses or not, rule, reason."""

    crosses: bool
    rule: str
    reason: str


def tokens(env: Envelope) -> frozenset[str]:
    """What identifies a copy's content: a MISP event's part UUIDs (its own included), else `size:hash`."""
    payload = getattr(env, "payload", None)  # absent only from envelopes built without validation (tests)
    if isinstance(env, MispEventEnvelope):
        event = payload.Event if payload is not None else {}
        return frozenset(_part_uuids(event, str(env.source_id)))
    body = canonical_bytes(payload.model_dump(mode="json") if payload is not None else None)
    return frozenset({f"{len(body):0{SIZE_DIGITS}d}:{sha256(body).hexdigest()}"})


def _part_uuids(event: dict[str, Any], own: str) -> set[str]:
    found = {own}
    for attribute in _dicts(event.get("Attribute")):
        found.add(str(attribute.get("uuid", "")))
    for obj in _dicts(event.get("Object")):
        found.add(str(obj.get("uuid", "")))
        found.update(str(a.get("uuid", "")) for a in _dicts(obj.get("Attribute")))
    found.discard("")
    return found


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def compare(copy: frozenset[str], held: frozenset[str], misp: bool, version: str) -> Comparison:
    """Compare a releasable copy's tokens with those of the copy the counterpart holds of `version`."""
    held = parts(held)
    if not misp:
        if max(copy) > max(held):
            return Comparison(True, "fuller-copy", f"version {version}: this copy's content is larger; it replaces")
        return Comparison(False, "filtered-copy", f"version {version}: the counterpart holds a copy as large or larger")
    missing, extra = len(held - copy), len(copy - held)
    if not extra:
        what = "the same parts" if not missing else f"a subset: {missing} part(s) fewer"
        return Comparison(False, "filtered-copy", f"version {version}: this copy holds {what} than the counterpart's")
    if not missing:
        return Comparison(True, "fuller-copy", f"version {version}: this copy adds {extra} attribute/object UUID(s)")
    return Comparison(
        True,
        "diverging-copy",
        f"version {version}: this copy adds {extra} attribute/object UUID(s) and lacks {missing} the counterpart "
        "holds; it crosses so the counterpart adds the new ones and keeps its own (it ends with the union)",
    )
