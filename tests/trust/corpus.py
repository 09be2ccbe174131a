"""A generated corpus for the trust boundary: every marking family at every level, in hypothesis-drawn spellings.

Each item is built with one hazard (or none) at one level, and says on its own what must happen to
it, without asking the hub: a hazard on the item itself keeps the whole item home; a hazard on a
part of a MISP event keeps that part home and lets the rest cross; a control crosses whole. Every
part carries a unique marker text, so what reached the other side can be checked byte for byte.
"""

from __future__ import annotations

import copy
import json
import random
import uuid
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from hub.demo.scenario import BASE_TIME, envelope
from tests.trust.spellings import FAMILIES, STIX_RED, names, spelled, tag_form

LEVELS = [
    "attribute",
    "object",
    "object attribute",
    "event report",
    "galaxy cluster",
    "attribute galaxy cluster",
    "related event",
    "analyst note",
    "unknown part",
]
DISTRIBUTION_HAZARDS = ["distribution-0", "sharing-group"]
FIELD_HAZARDS = ["field-tlp-red", "field-pap-red", "field-classification", "field-releasable-to", "field-orcon",
                 "field-amber-strict"]  # fmt: skip
# An assessment's or note's own tags must also pass the taxonomy check, so controls there are spelled as it accepts.
ENVELOPE_CONTROL_TAGS = [
    "tlp:green",
    "TLP:GREEN",
    "Tlp:Green",
    "tlp:white",
    "tlp:clear",
    "PAP:GREEN",
    " tlp:green",
    'osint:source-type="blog-post"',
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
]
HOME_ORG = {"EU": "CERT-EU", "NATO": "NCIRC"}


def home_group(origin: str) -> dict[str, Any]:
    """A sharing group of the origin's side only: the destination is not in it."""
    return {"id": "7", "name": f"{origin} only", "SharingGroupOrg": [{"Organisation": {"name": HOME_ORG[origin]}}]}


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def misp_doc(rng: random.Random, origin: str, mark: str) -> dict[str, Any]:
    """A releasable MISP event (TLP:GREEN, distribution 3) with a part at every level, each with a marker."""
    doc = envelope(rng, "misp_event", origin, BASE_TIME, attributes=2)
    ev = doc["payload"]["Event"]
    ts = ev["timestamp"]
    ev["distribution"] = "3"
    for n, attribute in enumerate(ev["Attribute"]):
        attribute["comment"] = f"{mark}-attribute-{n}"
    cluster = {"uuid": _uuid(rng), "value": "X", "type": "threat-actor", "tag_name": 'misp-galaxy:threat-actor="X"'}
    ev["Object"] = [
        {
            "uuid": _uuid(rng),
            "name": "file",
            "meta-category": "file",
            "distribution": "5",
            "timestamp": ts,
            "comment": f"{mark}-object",
            "Attribute": [
                {
                    "uuid": _uuid(rng),
                    "type": "filename",
                    "object_relation": "filename",
                    "category": "Payload delivery",
                    "value": "dropper.exe",
                    "comment": f"{mark}-object-attribute",
                    "distribution": "5",
                    "timestamp": ts,
                }
            ],
        }
    ]
    ev["EventReport"] = [
        {"uuid": _uuid(rng), "name": "r", "content": f"{mark}-event-report", "distribution": "5", "timestamp": ts}
    ]
    ev["Galaxy"] = [
        {
            "uuid": _uuid(rng),
            "name": "Threat Actor",
            "type": "threat-actor",
            "GalaxyCluster": [{**cluster, "description": f"{mark}-galaxy-cluster"}],
        }
    ]
    ev["Attribute"][0]["Galaxy"] = copy.deepcopy(ev["Galaxy"])
    inner = ev["Attribute"][0]["Galaxy"][0]["GalaxyCluster"][0]
    inner.update(uuid=_uuid(rng), description=f"{mark}-attribute-galaxy-cluster")
    ev["RelatedEvent"] = [{"Event": {"uuid": _uuid(rng), "info": f"{mark}-related-event", "distribution": "3"}}]
    ev["Note"] = [{"uuid": _uuid(rng), "note": f"{mark}-analyst-note", "distribution": "5"}]
    ev["Custom"] = [{"uuid": _uuid(rng), "anything": f"{mark}-unknown-part"}]
    return doc


def part_at(ev: dict[str, Any], level: str) -> dict[str, Any]:
    """The part of the event body `ev` at `level`."""
    return {
        "attribute": lambda: ev["Attribute"][1],
        "object": lambda: ev["Object"][0],
        "object attribute": lambda: ev["Object"][0]["Attribute"][0],
        "event report": lambda: ev["EventReport"][0],
        "galaxy cluster": lambda: ev["Galaxy"][0]["GalaxyCluster"][0],
        "attribute galaxy cluster": lambda: ev["Attribute"][0]["Galaxy"][0]["GalaxyCluster"][0],
        "related event": lambda: ev["RelatedEvent"][0]["Event"],
        "analyst note": lambda: ev["Note"][0],
        "unknown part": lambda: ev["Custom"][0],
    }[level]()


def marker_of(mark: str, level: str) -> str:
    """The marker text of the part at `level` (the object's own marker for the object level)."""
    return f"{mark}-{level.replace(' ', '-')}"


def part_markers(mark: str) -> dict[str, str]:
    """Every part's marker, by level; the first attribute's is its comment."""
    out = {level: marker_of(mark, level) for level in LEVELS}
    out["attribute"] = f"{mark}-attribute-1"
    out["first attribute"] = f"{mark}-attribute-0"
    return out


@dataclass(repr=False)
class Item:
    """One corpus item: what it is, where its hazard sits, and what must reach the other side."""

    kind: str
    origin: str
    hazard: str  # a marking family, a distribution or field hazard, or "none"
    level: str  # "item" (envelope or event), a part level, or "none"
    written: list[Any] = field(default_factory=list)  # the hazard as written, for the failure message
    doc: dict[str, Any] = field(default_factory=dict)
    mark: str = ""

    def __repr__(self) -> str:
        return f"Item({self.kind}, {self.origin}, {self.hazard} at {self.level}: {self.written!r:.120})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))  # hypothesis prints dataclasses field by field: a corpus would take 300 kB

    @property
    def raw(self) -> bytes:
        """The submission's bytes."""
        return json.dumps(self.doc, ensure_ascii=False).encode()

    @property
    def source_id(self) -> str:
        """The item's identity (the event UUID for MISP)."""
        return str(self.doc["payload"]["Event"]["uuid"] if self.kind == "misp_event" else self.doc["source_id"])

    @property
    def crosses(self) -> bool:
        """Whether the item may reach the other side at all (a hazard on a part lets the rest cross)."""
        return self.level != "item"

    def kept_markers(self) -> set[str]:
        """The markers that must arrive: every part's but the one that must stay home."""
        if self.kind != "misp_event":
            return {self.mark}
        markers = part_markers(self.mark)
        gone = set()
        if self.level in LEVELS:
            gone.add(markers[self.level])
            if self.level == "object":  # its attribute leaves with it
                gone.add(markers["object attribute"])
        return set(markers.values()) - gone

    def closed_markers(self) -> set[str]:
        """The markers that must not arrive."""
        if self.level == "item":
            return {self.mark}
        if self.kind != "misp_event" or self.level not in LEVELS:
            return set()
        markers = part_markers(self.mark)
        return {markers[self.level]} | ({markers["object attribute"]} if self.level == "object" else set())


def _place_misp(draw: st.DrawFn, item: Item) -> None:
    ev = item.doc["payload"]["Event"]
    target = ev if item.level == "item" else part_at(ev, item.level)
    if item.hazard in FAMILIES:
        tags = draw(st.lists(names(item.hazard).flatmap(tag_form), min_size=1, max_size=2))
        item.written = tags
        key = draw(st.sampled_from(["Tag", "EventTag" if item.level == "item" else "AttributeTag"]))
        target[key] = [*target.get(key, []), *tags] if key == "Tag" else tags
        if item.level in ("galaxy cluster", "attribute galaxy cluster") and draw(st.booleans()):
            name = draw(names(item.hazard))
            target["tag_name"] = item.written = name  # a cluster's own tag spelled as the hazard
    elif item.hazard == "distribution-0":
        target["distribution"] = draw(st.sampled_from(["0", 0, " 0 "] if item.level != "item" else ["0", 0]))
    elif item.hazard == "sharing-group":
        target.update(distribution="4", sharing_group_id="7", SharingGroup=home_group(item.origin))


def _field_hazard(draw: st.DrawFn, item: Item) -> None:
    markings = item.doc["markings"]
    origin = item.origin
    if item.hazard == "field-tlp-red":
        markings["tlp"] = draw(st.sampled_from(["RED", "red", "tlp:red", " TLP:RED ", *STIX_RED, ["GREEN", "RED"]]))
    elif item.hazard == "field-pap-red":
        markings["pap"] = draw(st.sampled_from(["RED", "PAP:RED", "pap:red"]))
    elif item.hazard == "field-classification":
        markings["classification"] = draw(st.sampled_from(["EU SECRET", "NATO RESTRICTED", 'nato:classification="NU"']))
    elif item.hazard == "field-releasable-to":
        markings["releasable_to"] = draw(st.sampled_from([[origin], ["CERT-EU"] if origin == "EU" else ["NCIRC"], []]))
    elif item.hazard == "field-orcon":
        markings["originator_control"] = True
    elif item.hazard == "field-amber-strict":
        markings["tlp"] = draw(st.sampled_from(["AMBER+STRICT", "tlp:amber+strict"]))
    item.written = [dict(markings)]


@st.composite
def corpus_item(draw: st.DrawFn, n: int, salt: int, kind: str, hazard: str, level: str) -> Item:
    """Item `n` of one corpus: `kind`, with `hazard` at `level`, spelled by hypothesis."""
    rng = random.Random(f"{salt}:{n}")
    origin = draw(st.sampled_from(["EU", "NATO"]))
    mark = f"mk{salt}x{n}z"  # the z ends it: mk1x1z is no part of mk1x10z
    if kind == "misp_event":
        doc = misp_doc(rng, origin, mark)
        doc["markings"] = {}  # the event's own TLP tag speaks for it
        for _ in range(draw(st.integers(0, 2))):  # control tags in any spelling, at any level
            where = draw(st.sampled_from(["item", *LEVELS]))
            part = doc["payload"]["Event"] if where == "item" else part_at(doc["payload"]["Event"], where)
            part["Tag"] = [*part.get("Tag", []), draw(spelled(["green", "benign"])).tag]
    else:
        doc = envelope(rng, kind, origin, BASE_TIME)
        doc["payload"]["title"] = mark
        doc["tags"] = draw(st.lists(st.sampled_from(ENVELOPE_CONTROL_TAGS), max_size=2, unique=True))
    item = Item(kind, origin, hazard, level, doc=doc, mark=mark)
    if hazard.startswith("field-"):
        _field_hazard(draw, item)
    elif kind == "misp_event" and hazard != "none":
        _place_misp(draw, item)
    elif hazard in FAMILIES:  # an assessment's or note's own tags
        item.written = draw(st.lists(names(hazard), min_size=1, max_size=2))
        doc["tags"] = [*doc["tags"], *item.written]
    return item


def plan() -> list[tuple[str, str, str]]:
    """(kind, hazard, level) of every item: each family and hazard at each level, and controls."""
    out = []
    for hazard in FAMILIES + DISTRIBUTION_HAZARDS:
        out += [("misp_event", hazard, "item")] * 2
        out += [("misp_event", hazard, level) for level in LEVELS]
    for hazard in FIELD_HAZARDS:
        out += [(kind, hazard, "item") for kind in ("misp_event", "assessment", "stratcom_note")]
    for hazard in FAMILIES:
        out += [(kind, hazard, "item") for kind in ("assessment", "stratcom_note")]
    out += [("misp_event", "none", "none")] * 10 + [("assessment", "none", "none")] * 5
    out += [("stratcom_note", "none", "none")] * 5
    return out


@st.composite
def corpus(draw: st.DrawFn) -> list[Item]:
    """One whole corpus, every planned item drawn with its own spellings."""
    salt = draw(st.integers(0, 10**6))
    return [draw(corpus_item(n, salt, *spec)) for n, spec in enumerate(plan())]
