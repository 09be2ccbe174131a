"""Another copy of a version a peer already holds: the parts it lacks, by UUID (MISP #4975).

The hub delivers a fuller or diverging copy of an event at the version the peer holds
(`hub.core.copies`). MISP takes nothing at an equal timestamp, so a sink adds what the peer lacks
by UUID, and never removes what the peer holds: the peer ends with the union of every copy of that
version the hub let cross, whatever the order they came in.
"""

from __future__ import annotations

from typing import Any

from schemas.markings import is_local

Json = dict[str, Any]


def _by_uuid(parts: Any) -> dict[str, Json]:
    found = parts if isinstance(parts, list) else []
    return {str(p["uuid"]): p for p in found if isinstance(p, dict) and p.get("uuid")}


def _every_attribute(event: Json) -> dict[str, Json]:
    """The event's attributes and its objects' attributes, by UUID."""
    found = _by_uuid(event.get("Attribute"))
    for obj in _by_uuid(event.get("Object")).values():
        found.update(_by_uuid(obj.get("Attribute")))
    return found


def missing(held: Json, copy: Json) -> tuple[list[Json], list[Json]]:
    """The attributes and the objects of `copy` (event bodies) that `held` lacks, by UUID.

    An object `held` has is not missing, but the object attributes it lacks are returned as a
    copy of the object with only those attributes (MISP adds them to the object it holds).
    """
    have_attrs, have_objs = _by_uuid(held.get("Attribute")), _by_uuid(held.get("Object"))
    attrs = [a for u, a in _by_uuid(copy.get("Attribute")).items() if u not in have_attrs]
    objs = []
    for u, obj in _by_uuid(copy.get("Object")).items():
        if u not in have_objs:
            objs.append(obj)
            continue
        inner = _by_uuid(have_objs[u].get("Attribute"))
        new = [a for v, a in _by_uuid(obj.get("Attribute")).items() if v not in inner]
        if new:
            objs.append({**obj, "Attribute": new})
    return attrs, objs


def union(held: Json, copy: Json) -> Json | None:
    """`held` with the parts of `copy` it lacks added, or None when it lacks none."""
    attrs, objs = missing(held, copy)
    if not attrs and not objs:
        return None
    objects = {u: dict(o) for u, o in _by_uuid(held.get("Object")).items()}
    added = []
    for obj in objs:
        u = str(obj["uuid"])
        if u in objects:
            objects[u]["Attribute"] = [*objects[u].get("Attribute", []), *obj["Attribute"]]
        else:
            added.append(obj)
    return {**held, "Attribute": [*(held.get("Attribute") or []), *attrs], "Object": [*objects.values(), *added]}


EVENT_FIELDS = ("info", "threat_level_id", "analysis", "date")  # what an edit of the event itself changes


def behind(held: Json, copy: Json) -> bool:
    """Whether a peer holding `held` at `copy`'s very timestamp still lacks something of it.

    Another copy of that version, or the owner's next version arriving at the second a merge stamped
    on the peer (`MispClient.put`). Lacking: a part by UUID, a part whose own timestamp is newer in
    `copy`, another value of the event's own fields, or a tag.
    """
    attrs, objs = missing(held, copy)
    if attrs or objs or any(copy.get(f) is not None and str(copy.get(f)) != str(held.get(f)) for f in EVENT_FIELDS):
        return True
    tags = {t.get("name") for t in held.get("Tag") or [] if isinstance(t, dict)}
    if any(isinstance(t, dict) and t.get("name") not in tags for t in copy.get("Tag") or []):
        return True
    have = {**_every_attribute(held), **_by_uuid(held.get("Object"))}
    sent = {**_every_attribute(copy), **_by_uuid(copy.get("Object"))}
    return any(_ts(p.get("timestamp")) > _ts(have[u].get("timestamp")) for u, p in sent.items() if u in have)


def _ts(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def untagged(event: dict[str, Any], held: dict[str, Any]) -> list[Any]:
    """The event's tags, plus each tag MISP holds that the delivery dropped, sent with `"deleted": true`.

    MISP's edit attaches the tags it is sent and keeps the others: a removal reaches it only as a tag
    sent deleted (or through its untag endpoint). Local tags MISP holds are its own: never removed.
    """
    tags = [t for t in event.get("Tag") or [] if isinstance(t, dict)]
    names = {t.get("name") for t in tags}
    dropped = [
        {"name": t["name"], "deleted": True}
        for t in held.get("Tag") or []
        if isinstance(t, dict) and t.get("name") and t["name"] not in names and not is_local(t)
    ]
    return [*tags, *dropped]


def removals(event: Json, held: Json) -> Json:
    """`event` as an edit MISP applies whole: each tag MISP holds that the delivery dropped, on the event
    and on each attribute (objects' included) MISP holds, is sent with `"deleted": true`."""
    out = {**event, "Tag": untagged(event, held)}  # no `Tag` at all: the delivery holds none
    have = _every_attribute(held)

    def part(p: Any) -> Any:
        if not isinstance(p, dict) or str(p.get("uuid")) not in have:
            return p
        return {**p, "Tag": untagged(p, have[str(p["uuid"])])}

    if isinstance(event.get("Attribute"), list):
        out["Attribute"] = [part(a) for a in event["Attribute"]]
    if isinstance(event.get("Object"), list):
        out["Object"] = [
            {**o, "Attribute": [part(a) for a in o["Attribute"]]}
            if isinstance(o, dict) and isinstance(o.get("Attribute"), list)
            else o
            for o in event["Object"]
        ]
    return out
