"""MISP's sharing rules below event level, as pure functions over the event JSON.

The hub's release policy (`hub/core/policy.py`) decides whether an event may cross at all. What crosses
is then shaped here, the way MISP's own server sync shapes a pulled event:

- distribution 1 (community only) becomes 0 and 2 (connected communities) becomes 1 on each hop;
  3 (all communities), 4 (sharing group) and 5 (inherit) are kept, as MISP does on pull;
- an attribute, object or object attribute that may not leave is stripped: `tlp:red` or `PAP:RED`
  on it, distribution 0, or a sharing group without the destination;
- local tags never leave; every other tag is sent, as the full set, so a removal arrives too;
- soft-deleted attributes (`deleted: true`) travel as they are, so the deletion arrives as an edit;
- event, attribute and object UUIDs are kept.

Inputs are never mutated: changed parts are shallow copies and unchanged parts are shared, which
keeps a 100,000-attribute event cheap to release.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hub.core.canonical import content_hash
from schemas.envelope import MispEventEnvelope
from schemas.misp_event import MispEvent

Json = dict[str, Any]

DOWNGRADE = {1: 0, 2: 1}  # MISP's pull: community only -> your org only, connected -> community only
ORG_ONLY = 0
SHARING_GROUP = 4
_BLOCKING = {"tlp:red": "tlp-red", "pap:red": "pap-red"}  # lower-cased tag name -> rule


@dataclass(frozen=True)
class Stripped:
    """One attribute or object left behind, and the rule that kept it."""

    uuid: str
    what: str  # "attribute", "object" or "object attribute"
    rule: str  # "tlp-red", "pap-red", "distribution-0" or "sharing-group"


def as_int(value: Any, default: int) -> int:
    """A MISP integer that may arrive as a string (`"3"`); `default` when absent or unreadable."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def is_local(tag: Any) -> bool:
    """True for a local tag (MISP `local: 1`), which never leaves its instance."""
    return isinstance(tag, dict) and str(tag.get("local", "")).lower() in {"1", "true"}


def blocking_rule(tags: Any) -> str | None:
    """`tlp-red` or `pap-red` when one of `tags` forbids release, else None."""
    for tag in tags or ():
        name = tag.get("name") if isinstance(tag, dict) else tag
        rule = _BLOCKING.get(str(name).strip().lower())
        if rule is not None:
            return rule
    return None


def group_names(part: Json) -> set[str]:
    """Lower-cased names and UUIDs of the organisations in `part`'s sharing group."""
    group = part.get("SharingGroup") or {}
    names: set[str] = set()
    for link in group.get("SharingGroupOrg") or ():
        org = link.get("Organisation") or {}
        names.update(str(org[k]).lower() for k in ("name", "uuid") if org.get(k))
    return names


def withheld_by(part: Json, destination: frozenset[str]) -> str | None:
    """The rule that keeps an attribute or object on its side, or None."""
    rule = blocking_rule(part.get("Tag"))
    if rule is not None:
        return rule
    distribution = as_int(part.get("distribution"), 5)  # absent means inherit from the event
    if distribution == ORG_ONLY:
        return "distribution-0"
    if distribution == SHARING_GROUP and not group_names(part) & destination:
        return "sharing-group"
    return None


def _shaped(part: Json) -> Json:
    """`part` with local tags dropped and its distribution downgraded; the same object if unchanged."""
    changes: Json = {}
    tags = part.get("Tag")
    if tags and any(is_local(t) for t in tags):
        changes["Tag"] = [t for t in tags if not is_local(t)]
    distribution = as_int(part.get("distribution"), -1)
    if distribution in DOWNGRADE:
        lowered = DOWNGRADE[distribution]
        changes["distribution"] = str(lowered) if isinstance(part["distribution"], str) else lowered
    return {**part, **changes} if changes else part


def _attributes(items: Iterable[Json], what: str, destination: frozenset[str], out: list[Stripped]) -> list[Json]:
    kept = []
    for attribute in items:
        rule = withheld_by(attribute, destination)
        if rule is None:
            kept.append(_shaped(attribute))
        else:
            out.append(Stripped(str(attribute.get("uuid", "?")), what, rule))
    return kept


def _objects(items: Iterable[Json], destination: frozenset[str], out: list[Stripped]) -> list[Json]:
    kept = []
    for obj in items:
        rule = withheld_by(obj, destination)
        if rule is not None:
            out.append(Stripped(str(obj.get("uuid", "?")), "object", rule))
            continue
        shaped = _shaped(obj)
        inner = obj.get("Attribute") or []
        attrs = _attributes(inner, "object attribute", destination, out)
        if len(attrs) != len(inner) or any(a is not b for a, b in zip(attrs, inner, strict=True)):
            shaped = {**shaped, "Attribute": attrs}
        kept.append(shaped)
    return kept


def release(event: Json, destination: frozenset[str]) -> tuple[Json, list[Stripped]]:
    """The event as it may reach `destination` (lower-cased names of the receiving side) and what was stripped.

    Returns `event` itself when nothing changes.
    """
    stripped: list[Stripped] = []
    shaped = _shaped(event)
    changes: Json = {}
    for key in ("Attribute", "Object"):
        items = event.get(key)
        if not items:
            continue
        if key == "Object":
            new = _objects(items, destination, stripped)
        else:
            new = _attributes(items, "attribute", destination, stripped)
        if len(new) != len(items) or any(a is not b for a, b in zip(new, items, strict=True)):
            changes[key] = new
    if changes:
        shaped = {**shaped, **changes}
    return shaped, stripped


def describe(stripped: list[Stripped], limit: int = 50) -> str:
    """A sentence naming what was stripped, for the ledger; at most `limit` UUIDs are listed."""
    if not stripped:
        return ""
    listed = ", ".join(f"{s.what} {s.uuid} ({s.rule})" for s in stripped[:limit])
    more = f" and {len(stripped) - limit} more" if len(stripped) > limit else ""
    return f"; stripped {len(stripped)}: {listed}{more}"


def _stamp_part(part: Json, now: str) -> Json:
    part.setdefault("uuid", str(uuid.uuid4()))
    if not part.get("timestamp"):
        part["timestamp"] = now
    return part


def stamp(event: Json, now: int) -> Json:
    """What MISP does when it saves an event: a UUID and the current timestamp wherever they are missing.

    PyMISP drops the timestamps of what was edited so that MISP sets new ones; this is that step.
    Mutates and returns `event`.
    """
    ts = str(now)
    _stamp_part(event, ts)
    for attribute in event.get("Attribute") or ():
        _stamp_part(attribute, ts)
    for obj in event.get("Object") or ():
        _stamp_part(obj, ts)
        for attribute in obj.get("Attribute") or ():
            _stamp_part(attribute, ts)
    return event


def release_envelope(
    envelope: MispEventEnvelope, digest: str, destination: frozenset[str]
) -> tuple[MispEventEnvelope, str, str]:
    """The envelope as it may reach `destination`, its content hash, and a note of what was stripped.

    Called once the release policy has let an event cross, and again when a recorded delivery is
    re-sent after a crash, so both send the same bytes.
    """
    body = envelope.payload.Event
    shaped, stripped = release(body, destination)
    if shaped is body:
        return envelope, digest, ""
    # The shaped event is a subset of one PyMISP already loaded: no need to check it again.
    payload = MispEvent.model_construct(Event=shaped)
    released = envelope.model_copy(update={"payload": payload})
    return released, content_hash(released), describe(stripped)
