"""MISP event payload: the event JSON as MISP writes it, checked by loading it with PyMISP."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from schemas.misp_fast import ACCEPTED, check_event

# The cost of validating one event grows with its attributes and objects (the fast check, PyMISP,
# hashing, MISP's per-hop rules). The defaults let the advertised 100,000-attribute event cross with
# room to spare and refuse the ~270,000 attributes a 58 MiB event holds; the settings can change them.
MISP_ATTRIBUTES = 150_000
MISP_OBJECTS = 20_000
LIMITS_CONTEXT = "misp_limits"  # validation context key: (attributes, objects) per event


def _count(value: Any) -> int:
    return len(value) if isinstance(value, list) else 0


def check_size(body: dict[str, Any], limits: tuple[int, int] = (MISP_ATTRIBUTES, MISP_OBJECTS)) -> None:
    """Raise before any per-attribute work when the event holds more attributes or objects than `limits`."""
    attributes, objects = limits
    found = body.get("Object")
    n_objects = _count(found)
    if n_objects > objects:
        raise ValueError(f"Event has {n_objects:,} objects, over the limit of {objects:,} per event")
    inner = sum(_count(o.get("Attribute")) for o in found if isinstance(o, dict)) if isinstance(found, list) else 0
    n_attributes = _count(body.get("Attribute")) + inner
    if n_attributes > attributes:
        raise ValueError(
            f"Event has {n_attributes:,} attributes (objects' included), over the limit of {attributes:,} per event"
        )


def _event_body(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError("must be a MISP event object")
    body = value.get("Event", value)
    if not isinstance(body, dict):
        raise ValueError("`Event` must be an object")
    return body


def _check_with_pymisp(body: dict[str, Any]) -> None:
    """Raise unless PyMISP loads the event; the fast check vouches for the common shapes first."""
    if check_event(body) == ACCEPTED:
        return  # PyMISP would load it: see schemas.misp_fast
    from pymisp import MISPEvent  # imported here: PyMISP is heavy and only this kind needs it

    try:
        MISPEvent().from_dict(**json.loads(json.dumps(body)))  # a copy: PyMISP pops keys of nested objects
    except Exception as exc:  # noqa: BLE001 - PyMISP raises many types; all mean "not an event"
        raise ValueError(f"PyMISP cannot load the event: {exc}") from exc


class MispEvent(BaseModel):
    """A MISP event (`{"Event": {...}}`); its UUID and timestamp identify and version it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    Event: dict[str, Any] = Field(description="The MISP event JSON, attributes and objects included")

    @model_validator(mode="before")
    @classmethod
    def _wrap_and_check(cls, value: Any, info: ValidationInfo) -> dict[str, Any]:
        body = _event_body(value)
        for name in ("uuid", "timestamp", "info"):
            if name not in body:
                raise ValueError(f"Event.{name} is missing")
        try:
            UUID(str(body["uuid"]))
        except ValueError:
            raise ValueError(f"Event.uuid {body['uuid']!r} is not a UUID") from None
        try:
            int(body["timestamp"])
        except (TypeError, ValueError):
            raise ValueError(f"Event.timestamp {body['timestamp']!r} is not a Unix time") from None
        check_size(body, (info.context or {}).get(LIMITS_CONTEXT, (MISP_ATTRIBUTES, MISP_OBJECTS)))
        _check_with_pymisp(body)
        return {"Event": body}

    @property
    def uuid(self) -> UUID:
        """The event UUID: the item's identity across MISP instances."""
        return UUID(str(self.Event["uuid"]))

    @property
    def timestamp(self) -> datetime:
        """The event timestamp: its version (strictly newer is an update)."""
        return datetime.fromtimestamp(int(self.Event["timestamp"]), tz=UTC)

    @property
    def created(self) -> datetime:
        """The event date, or its timestamp when it has none."""
        date = self.Event.get("date")
        if isinstance(date, str):
            try:
                return datetime.fromisoformat(date).replace(tzinfo=UTC)
            except ValueError:
                pass
        return self.timestamp

    @property
    def distribution(self) -> int:
        """MISP distribution: 0 org, 1 community, 2 connected, 3 all, 4 sharing group; unreadable reads as 0."""
        found = read_distribution(self.Event.get("distribution", 0))
        return 0 if found is None else found


INHERIT = 5  # MISP distribution 5: a part inherits its event's distribution
DISTRIBUTIONS = range(6)  # 0 org only, 1 community, 2 connected, 3 all, 4 sharing group, 5 inherit


# The spellings nearly all parts use, read with one lookup.
_PLAIN: dict[str | int, int] = {**{str(d): d for d in DISTRIBUTIONS}, **{d: d for d in DISTRIBUTIONS}}


def read_distribution(value: Any) -> int | None:
    """A MISP distribution as MISP reads it (`3`, `"3"`, `" 3 "`); None when it is none of 0-5."""
    kind = type(value)
    if kind is str or kind is int:  # not bool: True would pass for 1
        found = _PLAIN.get(value)
        if found is not None:
            return found
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return value if isinstance(value, int) and value in DISTRIBUTIONS else None


def group_members(part: dict[str, Any]) -> set[str]:
    """Lower-cased names and UUIDs of the organisations in `part`'s sharing group; empty when unreadable."""
    group = part.get("SharingGroup")
    links = group.get("SharingGroupOrg") if isinstance(group, dict) else None
    found: set[str] = set()
    for link in links if isinstance(links, list) else ():
        org = link.get("Organisation") if isinstance(link, dict) else None
        if isinstance(org, dict):
            found.update(str(org[k]).strip().lower() for k in ("name", "uuid") if isinstance(org.get(k), str))
    return found
