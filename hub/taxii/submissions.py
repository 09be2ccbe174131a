"""A POST to a submissions collection: the hub items in a TAXII envelope, each to become one signed submission.

The envelope's `objects` may hold STIX objects, STIX bundles (unpacked), and hub envelopes (JSON
with `kind` and `source_id`) as they are. Each `report` carrying the hub's extension is mapped back
to its envelope (`hub.stix.report.envelope_of_report`) with the objects it refers to (identity,
attack patterns, markings). An object that is neither such a report nor referred to by one (a MISP
event as misp-stix writes it, say) has no mapping to a hub item: it fails at once, with a message
saying so (MISP events travel through the MISP connectors). So does an item whose `origin` and
`originator` are not the authenticated organisation's: the server signs for that organisation only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hub.core.keys import org_key
from hub.errors import InputError
from hub.ledger.tokens import Holder
from hub.stix.convert import envelope_of_item_report
from schemas.stix_extension import EXTENSION_ID

Json = dict[str, Any]
REFERENCES = ("created_by_ref", "object_marking_refs", "object_refs")  # what a hub report refers to
MAX_OBJECTS = 10_000  # objects per POST: far more than a fusion cell's day, bounded all the same


@dataclass(frozen=True)
class Item:
    """One hub item found in a POST: its STIX id and version, and its envelope (JSON)."""

    stix_id: str
    version: str
    envelope: Json


@dataclass(frozen=True)
class Failure:
    """One object the server cannot submit, and why."""

    stix_id: str
    version: str | None
    message: str

    def as_json(self) -> Json:
        """As a TAXII status detail."""
        return {"id": self.stix_id, **({"version": self.version} if self.version else {}), "message": self.message}


def _flatten(objects: list[Any]) -> list[Json]:
    flat: list[Json] = []
    for obj in objects:
        if isinstance(obj, dict) and obj.get("type") == "bundle" and isinstance(obj.get("objects"), list):
            flat.extend(o for o in obj["objects"] if isinstance(o, dict))
        elif isinstance(obj, dict):
            flat.append(obj)
    return flat


def _referred(reports: list[Json]) -> set[str]:
    found: set[str] = set()
    for report in reports:
        for name in REFERENCES:
            value = report.get(name)
            found.update(str(v) for v in (value if isinstance(value, list) else [value]) if v)
    return found


def items_of(body: Json, holder: Holder) -> tuple[list[Item], list[Failure]]:
    """The hub items of a POSTed envelope for `holder`, and the objects that cannot be submitted."""
    objects = _flatten(list(body.get("objects") or []))
    if len(objects) > MAX_OBJECTS:
        raise InputError(f"the envelope holds {len(objects):,} objects; send at most {MAX_OBJECTS:,} per request")
    by_id = {str(o.get("id")): o for o in objects if o.get("id")}
    reports = [o for o in objects if o.get("type") == "report" and EXTENSION_ID in (o.get("extensions") or {})]
    report_ids = {id(o) for o in reports}
    referred = _referred(reports)
    items: list[Item] = []
    failures: list[Failure] = []
    for obj in objects:
        if "kind" in obj and "source_id" in obj:  # a hub envelope as it is
            found = _claimed(Item(f"report--{obj.get('source_id')}", str(obj.get("version") or ""), obj), holder)
        elif id(obj) in report_ids:
            mapped = _mapped(obj, by_id)
            found = _claimed(mapped, holder) if isinstance(mapped, Item) else mapped
        elif str(obj.get("id")) in referred or obj.get("type") == "marking-definition":
            continue
        else:
            found = Failure(str(obj.get("id") or "?"), obj.get("modified"), _unmapped(obj))
        if isinstance(found, Item):
            items.append(found)
        else:
            failures.append(found)
    return items, failures


def _mapped(report: Json, by_id: dict[str, Json]) -> Item | Failure:
    try:
        env = envelope_of_item_report(report, by_id)
    except (ValueError, KeyError, TypeError) as exc:
        return Failure(str(report.get("id")), report.get("modified"), str(exc)[:300])
    return Item(str(report["id"]), str(report.get("modified")), env)


def _claimed(item: Item, holder: Holder) -> Item | Failure:
    """The item, when it claims the authenticated organisation and side; else a failure saying whose it is."""
    env = item.envelope
    if env.get("origin") != holder.side or org_key(str(env.get("originator", ""))) != org_key(holder.org):
        message = (f"this token submits as {holder.org} ({holder.side}) only; the item names "
                   f"{str(env.get('originator'))[:80]} ({str(env.get('origin'))[:10]})")  # fmt: skip
        return Failure(item.stix_id, item.version, message)
    return item


def _unmapped(obj: Json) -> str:
    kind = str(obj.get("type", "?"))[:40]
    return (
        f"an object of type {kind} that no hub report refers to has no hub mapping (assessments and notes "
        f"are reports with the {EXTENSION_ID} extension; MISP events cross through the MISP connectors)"
    )


def raw(item: Item) -> bytes:
    """The submission's bytes."""
    return json.dumps(item.envelope, ensure_ascii=False).encode()
