"""MISP's sharing rules below event level, as pure functions over the event JSON.

The hub's release policy (`hub/core/policy.py`) decides whether an event may cross at all. What crosses
is then shaped here, the way MISP's own server sync shapes a pulled event, at every level of it:

- every part that carries its own tags, distribution or sharing group (attribute, object, object
  attribute, event report, galaxy, galaxy cluster, related event, analyst data, and whatever else
  does) is judged by the destination's rules, with the same reading of markings and the same
  checks as the event itself (`Destination.marking_withhold`, `Destination.distribution_withhold`);
  a part that may not leave is stripped, with what it holds;
- distribution 1 (community only) becomes 0 and 2 (connected communities) becomes 1 on each hop;
  3 (all communities), 4 (sharing group) and 5 (inherit) are kept, as MISP does on pull;
- local tags (and locally attached galaxy clusters) never leave, nor does the tag of a galaxy cluster
  that was stripped; every other tag is sent, as the full set, so a removal arrives too;
- soft-deleted attributes (`deleted: true`) travel as they are, so the deletion arrives as an edit;
- event, attribute and object UUIDs are kept.

Inputs are never mutated: changed parts are shallow copies and unchanged parts are shared, which
keeps a 100,000-attribute event cheap to release.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from hub.core.canonical import content_hash
from hub.core.policy import Destination
from schemas.envelope import MispEventEnvelope
from schemas.markings import TAG_KEYS, is_local, read_part, skeleton, tag_names
from schemas.misp_event import MispEvent, read_distribution

Json = dict[str, Any]

DOWNGRADE = {1: 0, 2: 1}  # MISP's pull: community only -> your org only, connected -> community only
_TAG_KEYS = frozenset(TAG_KEYS)
# How the ledger names a stripped part, by the key that holds it.
PART_NAMES = {
    "Attribute": "attribute",
    "Object": "object",
    "EventReport": "event report",
    "Galaxy": "galaxy",
    "GalaxyCluster": "galaxy cluster",
    "RelatedEvent": "related event",
    "ShadowAttribute": "proposal",
    "Note": "analyst note",
    "Opinion": "analyst opinion",
    "Relationship": "analyst relationship",
}
# The part-level names of the event-level distribution rules (the ledger has always used these for parts).
_PART_RULES = {
    "misp-distribution-0": "distribution-0",
    "misp-sharing-group": "sharing-group",
    "misp-distribution": "distribution-not-allowed",
}
_GONE = object()  # marks a key whose value was stripped
_FLAT = frozenset({list, dict})  # the JSON types that can hold parts


@dataclass(frozen=True)
class Stripped:
    """One part left behind, and the rule that kept it."""

    uuid: str
    what: str  # "attribute", "object", "object attribute", "event report", "galaxy cluster", ...
    rule: str  # a marking rule (`tlp-red`, `pap-red`, `classified`, ...) or a distribution rule


def as_int(value: Any, default: int) -> int:
    """A MISP integer that may arrive as a string (`"3"`); `default` when absent or unreadable."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def part_rule(part: Json, dest: Destination, named: bool) -> str | None:
    """The rule that keeps one part of an event on its side, or None; the event's own checks, per part."""
    reading = read_part(part) if not _TAG_KEYS.isdisjoint(part) else None
    if reading:
        withhold = dest.marking_withhold(reading, named)
        if withhold is not None:
            return withhold.rule
    if "distribution" in part:
        distribution = read_distribution(part["distribution"])
        if distribution is None:
            return "distribution-unreadable"
        withhold = dest.distribution_withhold(distribution, part)
        if withhold is not None:
            return _PART_RULES.get(withhold.rule, withhold.rule)
    return None


def _name(key: str, parent: str) -> str:
    what = PART_NAMES.get(key, key)
    return f"object {what}" if parent == "object" and key == "Attribute" else what


@dataclass
class _Walk:
    """One release of one event: the destination's rules and what was stripped so far."""

    dest: Destination
    named: bool  # the envelope's releasable_to names the destination (for TLP:AMBER+STRICT parts)
    stripped: list[Stripped] = field(default_factory=list)
    hidden: set[str] = field(default_factory=set)  # tag names (skeletons) of the galaxy clusters left behind

    def judged(self, part: Json, what: str) -> Json | None:
        """`part` shaped, or None when it may not leave (recorded unless it is a local attachment)."""
        local = "tag_name" in part and is_local(part)  # a locally attached galaxy cluster: it stays home
        rule = None if local else part_rule(part, self.dest, self.named)
        if local or rule is not None:
            if isinstance(part.get("tag_name"), str):
                self.hidden.add(skeleton(part["tag_name"]))  # its tag on the enclosing part goes with it
            if rule is not None:
                self.stripped.append(Stripped(str(part.get("uuid", "?")), what, rule))
            return None
        shaped = self.shaped(part, what)
        return None if not shaped and part else shaped  # a wrapper emptied by stripping goes too

    def leaves(self, tag: Any) -> bool:
        """True when `tag` may travel: not local, not the tag of a cluster left behind."""
        return not is_local(tag) and not (self.hidden and any(skeleton(n) in self.hidden for n in tag_names(tag) or ()))

    def tags(self, value: Any) -> Any:
        """A tag list (or single tag) with what may not travel removed; the same object if nothing is."""
        if type(value) is list and not all(self.leaves(t) for t in value):
            return [t for t in value if self.leaves(t)]
        return [] if type(value) is dict and not self.leaves(value) else value

    def shaped(self, part: Json, what: str) -> Json:
        """`part` with local tags dropped, distribution downgraded and sub-parts judged; itself if unchanged."""
        changes: Json = {}
        nested = not _FLAT.isdisjoint(map(type, part.values()))  # at C speed: most attributes hold only scalars
        for key, value in part.items() if nested else ():
            kind = type(value)
            if (kind is not list and kind is not dict) or key in _TAG_KEYS:
                continue  # tags after the sub-parts: a cluster stripped there takes its tag here along
            if kind is list:
                new = self.listed(value, key, what)
                if new is not value:
                    changes[key] = new
            else:
                found = self.judged(value, _name(key, what) if key != "Event" else what)
                if found is not value:
                    changes[key] = _GONE if found is None else found
        if not _TAG_KEYS.isdisjoint(part):
            for key in _TAG_KEYS.intersection(part):
                kept = self.tags(part[key])
                if kept is not part[key]:
                    changes[key] = kept
        distribution = read_distribution(part.get("distribution"))
        if distribution in DOWNGRADE:
            lowered = DOWNGRADE[distribution]
            changes["distribution"] = str(lowered) if isinstance(part["distribution"], str) else lowered
        if not changes:
            return part
        return {k: v for k, v in {**part, **changes}.items() if v is not _GONE}

    def listed(self, items: list[Any], key: str, parent: str) -> list[Any]:
        """A list of parts with those that may not leave removed; the same list if nothing changed."""
        out: list[Any] | None = None
        what = _name(key, parent)
        for n, item in enumerate(items):
            kind = type(item)
            new = self.judged(item, what) if kind is dict else self.listed(item, key, parent) if kind is list else item
            if new is not item and out is None:
                out = list(items[:n])
            if out is not None and new is not None:
                out.append(new)
        return items if out is None else out


def release(event: Json, dest: Destination, named: bool = False) -> tuple[Json, list[Stripped]]:
    """The event as it may reach `dest`, and what was stripped; `event` itself when nothing changes.

    The event's own markings and distribution are the release policy's to judge; here only its parts are.
    """
    walk = _Walk(dest, named)
    return walk.shaped(event, "event"), walk.stripped


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
    envelope: MispEventEnvelope, digest: str, dest: Destination
) -> tuple[MispEventEnvelope, str, list[Stripped]]:
    """The envelope as it may reach `dest`, its content hash, and what was stripped.

    Called once the release policy has let an event cross, and again when a recorded delivery is
    re-sent after a crash, so both send the same bytes.
    """
    body = envelope.payload.Event
    shaped, stripped = release(body, dest, dest.names_me(envelope.markings.releasable_to))
    if shaped is body:
        return envelope, digest, stripped
    # The shaped event is a subset of one PyMISP already loaded: no need to check it again.
    payload = MispEvent.model_construct(Event=shaped)
    released = envelope.model_copy(update={"payload": payload})
    return released, content_hash(released), stripped
