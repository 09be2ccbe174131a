"""An assessment or a stratcom note as a STIX 2.1 `report`, and a `report` back to its envelope.

The report's own properties carry what STIX defines (name, description, confidence, created,
modified, published, labels for the tags, external references for an assessment's references,
TLP 2.0 markings); its originator is an `identity`; a note's DISARM techniques are `attack-pattern`
objects with an external reference (`source_name` "DISARM", `external_id` the technique id); the
hub's extension (`schemas/stix_extension.py`) carries every other field, so the round trip keeps
them all. Ids are stable: the report's UUID is the item's `source_id`, identities and attack
patterns are UUIDv5 of their names, so every version of an item has the same id.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from hub.core.tag import disarm_techniques
from hub.stix.markings import marking_refs, tlp_of
from schemas.envelope import AssessmentEnvelope, StratcomNoteEnvelope
from schemas.stix_extension import EXTENSION_ID, HubStixExtension

NAMESPACE = uuid.UUID("5c0e2a7b-4f1d-4e8a-9b3c-6d7e8f901234")  # the hub's UUIDv5 namespace for derived STIX ids
DISARM_SOURCE = "DISARM"
REFERENCE_SOURCE = "reference"
Json = dict[str, Any]


def stix_time(value: datetime) -> str:
    """A STIX timestamp: UTC, millisecond precision, `Z`."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def stable_uuid(name: str) -> uuid.UUID:
    """A UUID derived from `name` (UUIDv5's hash) in version 4 form, as STIX asks of domain objects."""
    return uuid.UUID(bytes=uuid.uuid5(NAMESPACE, name).bytes, version=4)


def extension_json(ext: HubStixExtension) -> Json:
    """The extension's properties as JSON; absent and empty values left out (STIX allows no empty list)."""
    data = ext.model_dump(mode="json", exclude_none=True)
    return {k: v for k, v in data.items() if v != []}


def identity_id(name: str) -> str:
    """The stable id of an organisation's identity."""
    return f"identity--{stable_uuid('identity:' + name.strip().casefold())}"


def identity(name: str, at: datetime) -> Json:
    """An organisation as a STIX identity."""
    t = stix_time(at)
    return {"type": "identity", "spec_version": "2.1", "id": identity_id(name), "created": t, "modified": t,
            "name": name, "identity_class": "organization"}  # fmt: skip


def attack_pattern(technique: str, at: datetime) -> Json:
    """A DISARM technique as an attack pattern, named as the DISARM galaxy names it."""
    t = stix_time(at)
    ref = {"source_name": DISARM_SOURCE, "external_id": technique}
    name = disarm_techniques().get(technique, technique)
    return {"type": "attack-pattern", "spec_version": "2.1", "id": attack_pattern_id(technique), "created": t,
            "modified": t, "name": name, "external_references": [ref]}  # fmt: skip


def attack_pattern_id(technique: str) -> str:
    """The stable id of a DISARM technique's attack pattern."""
    return f"attack-pattern--{stable_uuid('disarm:' + technique)}"


def _extension(env: AssessmentEnvelope | StratcomNoteEnvelope) -> Json:
    m = env.markings
    fields: Json = {"kind": env.kind, "origin": env.origin, "originator": env.originator, "area": env.area,
                    "proposals": env.proposals, "pap": m.pap, "releasable_to": m.releasable_to or None,
                    "releasable_to_nobody": m.releasable_to == (),
                    "originator_control": m.originator_control, "classification": m.classification,
                    "content_hash": env.content_hash}  # fmt: skip
    if env.version < env.created:
        fields["created"] = env.created
    if env.modified != env.version:
        fields["modified"] = env.modified
    payload = env.payload.model_dump(mode="python")
    keep: tuple[str, ...]
    if isinstance(env, AssessmentEnvelope):
        keep = ("key_judgements", "domains", "parallel_group")
    else:
        keep = ("window_start", "window_end", "narratives", "platforms", "languages", "target_countries",
                "disarm_techniques", "volume", "trend")  # fmt: skip
    fields.update({k: payload[k] for k in keep})
    return extension_json(HubStixExtension.model_validate(fields))


def _references(refs: tuple[str, ...]) -> list[Json]:
    out = []
    for ref in refs:
        kind = "url" if ref.startswith(("https://", "http://")) else "description"
        out.append({"source_name": REFERENCE_SOURCE, kind: ref})
    return out


def report_objects(env: AssessmentEnvelope | StratcomNoteEnvelope) -> list[Json]:
    """The STIX objects of one assessment or note: its report, its originator's identity, its techniques."""
    who = identity(env.originator, env.created)
    created = min(env.created, env.version)
    report: Json = {"type": "report", "spec_version": "2.1", "id": f"report--{env.source_id}",
                    "created": stix_time(created), "modified": stix_time(env.version),
                    "published": stix_time(env.version), "created_by_ref": who["id"],
                    "report_types": ["threat-report"]}  # fmt: skip
    extra: list[Json] = [who]
    if isinstance(env, AssessmentEnvelope):
        a = env.payload
        report |= {"name": a.title, "description": a.summary, "confidence": a.confidence}
        if a.references:
            report["external_references"] = _references(a.references)
    else:
        n = env.payload
        report |= {"name": n.title, "description": "\n".join(n.narratives)}
        extra += [attack_pattern(t, env.created) for t in n.disarm_techniques]
    report["object_refs"] = [o["id"] for o in extra]
    if env.tags:
        report["labels"] = list(env.tags)
    refs = marking_refs(env.markings.tlp)
    if refs:
        report["object_marking_refs"] = refs
    report["extensions"] = {EXTENSION_ID: _extension(env)}
    return [report, *extra]


def envelope_of_report(report: Json, by_id: dict[str, Json]) -> Json:
    """The envelope (as JSON) of a hub `report` and the objects it refers to; ValueError naming what is wrong."""
    raw_ext = (report.get("extensions") or {}).get(EXTENSION_ID)
    if not isinstance(raw_ext, dict):
        raise ValueError(f"report {report.get('id')!r} has no {EXTENSION_ID} extension: not a hub item")
    ext = HubStixExtension.model_validate(raw_ext)
    rid = str(report.get("id", ""))
    if not rid.startswith("report--"):
        raise ValueError(f"{rid!r} is not a report id")
    listed = () if ext.releasable_to_nobody else ext.releasable_to
    markings: Json = {"tlp": tlp_of(report.get("object_marking_refs") or ()), "pap": ext.pap,
                      "releasable_to": listed, "originator_control": ext.originator_control,
                      "classification": ext.classification}  # fmt: skip
    env: Json = {"kind": ext.kind.value, "origin": ext.origin.value, "originator": ext.originator,
                 "source_id": rid.removeprefix("report--"), "version": report["modified"],
                 "created": ext.created.isoformat() if ext.created else report["created"],
                 "modified": ext.modified.isoformat() if ext.modified else report["modified"],
                 "markings": {k: v for k, v in markings.items() if v is not None and v is not False},
                 "tags": list(report.get("labels") or ()), "area": ext.area.value,
                 "proposals": list(ext.proposals)}  # fmt: skip
    if ext.content_hash:
        env["content_hash"] = ext.content_hash
    env["payload"] = _payload(report, ext, by_id)
    return env


def _payload(report: Json, ext: HubStixExtension, by_id: dict[str, Json]) -> Json:
    data = ext.model_dump(mode="json")
    if ext.kind == "assessment":
        refs = [r.get("url") or r.get("description") or "" for r in report.get("external_references") or ()
                if r.get("source_name") == REFERENCE_SOURCE]  # fmt: skip
        return {"title": report.get("name"), "summary": report.get("description"),
                "confidence": report.get("confidence"), "key_judgements": data["key_judgements"],
                "domains": data["domains"], "parallel_group": data["parallel_group"], "references": refs}  # fmt: skip
    techniques = list(ext.disarm_techniques or ())
    for ref in report.get("object_refs") or ():
        for ext_ref in (by_id.get(ref) or {}).get("external_references") or ():
            tid = ext_ref.get("external_id")
            if ext_ref.get("source_name") == DISARM_SOURCE and tid and tid not in techniques:
                techniques.append(tid)  # a technique named only as an attack pattern counts too
    keep = ("window_start", "window_end", "narratives", "platforms", "languages", "target_countries", "volume", "trend")
    return {
        "title": report.get("name"),
        **{k: data[k] for k in keep if data[k] is not None},
        "disarm_techniques": techniques,
    }
