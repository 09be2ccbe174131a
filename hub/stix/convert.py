"""The entry points: a delivered envelope as STIX 2.1 objects, and a STIX bundle back to an envelope.

objects = stix_objects(delivered)        # the JSON the hub delivered to an inbox
envelope = envelope_of_bundle(bundle)    # a bundle a fusion cell or stratcom team submits
"""

from __future__ import annotations

import uuid
from typing import Any

from hub.stix.markings import marking_definition
from hub.stix.misp import misp_objects
from hub.stix.report import envelope_of_report, report_objects
from schemas.envelope import SUBMISSION, AssessmentEnvelope, StratcomNoteEnvelope
from schemas.stix_extension import EXTENSION_ID

Json = dict[str, Any]


def stix_objects(delivered: Json) -> list[Json]:
    """The STIX objects of one delivered item (envelope JSON), its TLP marking definition included."""
    if delivered.get("kind") == "misp_event":
        return misp_objects(delivered)
    env = SUBMISSION.validate_python(delivered)
    if not isinstance(env, AssessmentEnvelope | StratcomNoteEnvelope):
        raise ValueError(f"kind {delivered.get('kind')!r} has no STIX mapping")
    objects = report_objects(env)
    if env.markings.tlp is not None:
        objects.append(marking_definition(env.markings.tlp))
    return objects


def bundle(objects: list[Json]) -> Json:
    """A STIX 2.1 bundle of `objects`."""
    return {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": objects}


MISP_NOT_MAPPED = (
    "a MISP event in STIX (as misp-stix writes it) is not mapped back to a hub item: MISP events cross through "
    "the MISP connectors"
)


def envelope_of_item_report(report: Json, by_id: dict[str, Json]) -> Json:
    """The envelope of a hub report that maps back (an assessment or a note); ValueError naming the problem."""
    ext = (report.get("extensions") or {}).get(EXTENSION_ID)
    if isinstance(ext, dict) and ext.get("kind") == "misp_event":
        raise ValueError(MISP_NOT_MAPPED)
    return envelope_of_report(report, by_id)


def envelope_of_bundle(doc: Json) -> Json:
    """The envelope (JSON) of a bundle holding one hub report; ValueError naming the problem."""
    if not isinstance(doc, dict) or doc.get("type") != "bundle":
        raise ValueError('not a STIX bundle: `type` must be "bundle"')
    objects = doc.get("objects")
    if not isinstance(objects, list) or not all(isinstance(o, dict) for o in objects):
        raise ValueError("`objects` must be a list of STIX objects")
    reports = [o for o in objects if o.get("type") == "report" and EXTENSION_ID in (o.get("extensions") or {})]
    if len(reports) != 1:
        raise ValueError(
            f"a submitted bundle holds exactly one report with the {EXTENSION_ID} extension, found {len(reports)}"
        )
    by_id = {str(o.get("id")): o for o in objects}
    return envelope_of_report(reports[0], by_id)
