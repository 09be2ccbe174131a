"""A MISP event as STIX 2.1 through misp-stix, MISP's own converter, with TLP 2.0 markings.

misp-stix gives a `report` (a published event) or a `grouping` with the event's attributes and
objects as indicators, observed data and their relationships. The hub then marks with TLP 2.0:
TLP 1.0 marking refs become their TLP 2.0 ids (the hub's markings are TLP 2.0, DESIGN), the TLP 1.0
marking-definition objects are replaced by the TLP 2.0 ones, and the top object gets the hub's
extension (origin, originator, area, proposals, releasability) so nothing of the envelope is lost.
"""

from __future__ import annotations

import json
from typing import Any

from misp_stix_converter import MISPtoSTIX21Parser

from hub.stix.markings import TLP2_IDS, marking_definition, to_tlp2
from hub.stix.report import extension_json
from schemas.markings import STIX_TLP, Tlp
from schemas.stix_extension import EXTENSION_ID, HubStixExtension

Json = dict[str, Any]
TOP_TYPES = ("report", "grouping")  # what misp-stix makes of an event, published or not


def misp_objects(envelope: Json) -> list[Json]:
    """The STIX objects of a delivered MISP event envelope (`payload.Event` is the event)."""
    parser = MISPtoSTIX21Parser()
    parser.parse_misp_event({"Event": envelope["payload"]["Event"]})
    objects: list[Json] = [json.loads(o.serialize()) for o in parser.stix_objects]
    tlp_levels: set[Tlp] = set()
    for obj in objects:
        refs = obj.get("object_marking_refs")
        if refs:
            obj["object_marking_refs"] = to_tlp2(refs)
            tlp_levels.update(STIX_TLP[r] for r in obj["object_marking_refs"] if r in STIX_TLP)
    kept = [o for o in objects if not (o["type"] == "marking-definition" and o["id"] in STIX_TLP)]
    kept += [marking_definition(level) for level in TLP2_IDS if level in tlp_levels]
    for obj in kept:
        if obj["type"] in TOP_TYPES:
            obj.setdefault("extensions", {})[EXTENSION_ID] = _extension(envelope)
    return kept


def _extension(envelope: Json) -> Json:
    m = envelope.get("markings") or {}
    fields = {"kind": "misp_event", "origin": envelope["origin"], "originator": envelope["originator"],
              "area": envelope["area"], "proposals": envelope.get("proposals") or (),
              "tags": envelope.get("tags") or (),
              "pap": m.get("pap"), "releasable_to": m.get("releasable_to") or None,
              "releasable_to_nobody": m.get("releasable_to") == [],
              "originator_control": m.get("originator_control", False), "classification": m.get("classification"),
              "content_hash": envelope.get("content_hash")}  # fmt: skip
    return extension_json(HubStixExtension.model_validate(fields))
