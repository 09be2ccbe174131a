"""A fast check that PyMISP would load a MISP event, for the shapes MISP exports; PyMISP decides the rest.

`MISPEvent().from_dict` costs ~290 µs for a five-attribute event, most of it building objects the
hub throws away. `check_event` walks the same dict in ~15 µs and answers `"accepted"` only when
it can show, rule by rule from PyMISP's own code (pymisp 2.5.34.4: `MISPEvent.from_dict`,
`MISPAttribute.from_dict`, `MISPObject.from_dict`, `MISPObjectAttribute.from_dict`,
`AbstractMISP.from_dict` and the `__setattr__` hooks), that loading cannot raise. Anything else is
`"unsure"` and goes to PyMISP, which stays the authority and writes every rejection message.

How it stays a subset of what PyMISP accepts:
- Every dict is checked against a list of known keys; an unknown key is unsure. Leftover keys reach
  `setattr`, where a name can hit a property (`tags`, `attributes`, `edited`...) or a hook (`date`,
  `data`, `first_seen`), so only plain names are let through.
- Values must be `str`, `int` (below 2**63), `bool` or `None` where a scalar is expected, `dict`/`list`
  (exact types) where a container is; floats, subclasses and anything else are unsure. Checked
  values are then sure to survive the JSON copy `schemas.misp_event` hands PyMISP.
- Conversions PyMISP makes (`int()`, `date.fromisoformat`, `datetime.fromisoformat`,
  `datetime.fromtimestamp`) are made here with the same functions, or the value is unsure.
- Types, categories and their mapping come from PyMISP's own `data/describeTypes.json`, read once.
- Objects: the template PyMISP would read (`data/misp-objects/objects/<name>/definition.json`) is
  checked once per name; object attributes must carry `type`, `category` and `to_ids` themselves so
  that no template default comes into play.

PyMISP checks no UUID format and no attribute value except `datetime`; `schemas.misp_event` checks
the event UUID and timestamp itself. Galaxies, event reports, cryptographic keys, notes, opinions,
relationships and sightings are covered only when empty.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Final, Literal

Verdict = Literal["accepted", "unsure"]
ACCEPTED: Final = "accepted"
UNSURE: Final = "unsure"

Rule = Callable[[Any], bool]

_MAX_TIMESTAMP = 253402300799  # 9999-12-31T23:59:59Z, the last second `datetime.fromtimestamp` can give
_TEMPLATE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")  # no path separator, no dot, short enough for a path
_TEMPLATE_KEYS = ("meta-category", "uuid", "description", "version")  # read by MISPObject._load_template


@dataclass(frozen=True)
class _DescribeTypes:
    default_category: dict[str, str]  # attribute type -> its sane default category
    category_types: dict[str, frozenset[str]]  # category -> the types it allows
    categories: frozenset[str]


def _pymisp_data() -> Path:
    spec = find_spec("pymisp")  # finds the package without importing it
    if spec is None or spec.origin is None:
        raise ImportError("pymisp is not installed")
    return Path(spec.origin).parent / "data"


@cache
def _describe_types() -> _DescribeTypes:
    doc = json.loads((_pymisp_data() / "describeTypes.json").read_bytes())["result"]
    categories = frozenset(doc["categories"])
    defaults: dict[str, str] = {}
    for kind in doc["types"]:
        sane = doc["sane_defaults"].get(kind)
        # MISPAttribute.from_dict reads sane_defaults[type] and always evaluates int(to_ids)
        if not isinstance(kind, str) or not isinstance(sane, dict):
            continue
        try:
            int(sane["to_ids"])
        except (KeyError, TypeError, ValueError):
            continue
        if sane.get("default_category") in categories:
            defaults[kind] = sane["default_category"]
    mapping = {str(c): frozenset(t) for c, t in doc["category_type_mappings"].items()}
    return _DescribeTypes(defaults, mapping, categories)


@lru_cache(maxsize=1024)
def _template_ok(name: str) -> bool:
    """Whether MISPObject(name) loads its template, if there is one, without raising."""
    if _TEMPLATE_NAME.fullmatch(name) is None:
        return False
    path = _pymisp_data() / "misp-objects" / "objects" / name / "definition.json"
    if not path.exists():
        return True  # an unknown template: PyMISP (not strict) carries on without one
    try:
        template = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return False
    if not template:
        return True
    if type(template) is not dict or any(key not in template for key in _TEMPLATE_KEYS):
        return False
    attributes = template.get("attributes")
    return type(attributes) is dict and all(type(d) is dict for d in attributes.values())


# --- rules for single values --------------------------------------------------------------------


_MAX_INT = 2**63 - 1  # bigger ints are unsure: past 4300 digits `json.dumps` (PyMISP gets a JSON copy) raises


def _scalar(value: Any) -> bool:
    kind = type(value)
    return kind is str or value is None or kind is bool or (kind is int and -_MAX_INT <= value <= _MAX_INT)


def _int(value: Any) -> int | None:
    """`int(value)` for a str or int (not bool), or None when that raises or the type is odd."""
    if type(value) is int:
        return value if -_MAX_INT <= value <= _MAX_INT else None
    if type(value) is str:
        try:
            return int(value)
        except ValueError:
            return None
    return None


def _int_range(low: int, high: int) -> Rule:
    """`int(value)` must lie in low..high; None is skipped."""

    def rule(value: Any) -> bool:
        if value is None:
            return True
        number = _int(value)
        return number is not None and low <= number <= high

    return rule


def _int_if_set(value: Any) -> bool:
    """`if kwargs.get(k): int(kwargs.pop(k))`: a falsy value is set as is, a truthy one converted."""
    if value is None:
        return True
    if type(value) not in (str, int):
        return False
    return not value or _int(value) is not None


def _timestamp(value: Any) -> bool:
    """`if kwargs.get(k): datetime.fromtimestamp(int(ts), timezone.utc)`."""
    if value is None:
        return True
    if type(value) not in (str, int):
        return False
    if not value:
        return True
    number = _int(value)
    return number is not None and 0 <= number <= _MAX_TIMESTAMP


def _iso(value: Any, parse: Callable[[str], object]) -> bool:
    """None, or a string `parse` (an ISO `fromisoformat`) accepts."""
    if value is None:
        return True
    if type(value) is not str:
        return False
    try:
        parse(value)
    except ValueError:
        return False
    return True


def _date(value: Any) -> bool:
    """MISPEvent.__setattr__('date'): `date.fromisoformat`, else dateutil (unsure here)."""
    return _iso(value, date.fromisoformat)


def _seen(value: Any) -> bool:
    """first_seen / last_seen: PyMISP logs and skips what it cannot parse; only ISO strings are taken here."""
    return _iso(value, datetime.fromisoformat)


def _empty_or_none(value: Any) -> bool:
    """A list PyMISP would parse element by element: covered only when it is empty (or None, skipped)."""
    return value is None or (type(value) is list and not value)


def _empty(value: Any) -> bool:
    """Note / Opinion / Relationship are popped with a [] default and iterated: None would raise."""
    return type(value) is list and not value


def _list_of(check: Rule) -> Rule:
    def rule(value: Any) -> bool:
        return value is None or (type(value) is list and all(check(item) for item in value))

    return rule


def _dict_of(rules: dict[str, Rule]) -> Rule:
    """A dict whose keys all have a rule, each value passing it."""
    plain = frozenset(key for key, check in rules.items() if check is _scalar)  # inlined: most keys are these
    special = {key: check for key, check in rules.items() if check is not _scalar}

    def rule(value: Any) -> bool:
        if type(value) is not dict:
            return False
        for key, item in value.items():
            if key in plain:
                kind = type(item)  # _scalar, inlined
                if not (kind is str or item is None or kind is bool or (kind is int and -_MAX_INT <= item <= _MAX_INT)):
                    return False
            else:
                check = special.get(key)
                if check is None or not check(item):
                    return False
        return True

    return rule


def _or_none(check: Rule) -> Rule:
    def rule(value: Any) -> bool:
        return value is None or check(value)

    return rule


def _plain(*names: str) -> dict[str, Rule]:
    return dict.fromkeys(names, _scalar)


# --- nested MISP structures that are only `setattr` (any plain value loads) ----------------------

_ORGANISATION: Final = _dict_of(
    _plain(
        "id", "name", "uuid", "local", "date_created", "date_modified", "description", "type",
        "nationality", "sector", "created_by", "contacts", "landingpage", "user_count", "created_by_email",
    )
)  # fmt: skip
# MISPTag: no "timestamp": comparing tags (`misp_tag not in self.tags`) calls to_dict, which int()s it
_TAG: Final = _dict_of(
    _plain(
        "name", "colour", "exportable", "local", "id", "hide_tag", "user_id", "numerical_value",
        "is_galaxy", "is_custom_galaxy", "inherited", "relationship_type", "org_id", "local_only",
    )
)  # fmt: skip
_SHADOW_ATTRIBUTE: Final = _dict_of(
    _plain(
        "category", "comment", "disable_correlation", "event_id", "event_uuid", "id", "old_id", "org_id",
        "proposal_to_delete", "timestamp", "to_ids", "type", "uuid", "value", "deleted", "object_id",
        "object_relation", "email", "first_seen", "last_seen",
    )
    | {"Org": _or_none(_ORGANISATION)}
)  # fmt: skip


def _flat(value: Any) -> bool:
    """A dict of scalars, or a list of scalars (nested copies MISP adds to references and servers)."""
    if type(value) is dict:
        return all(type(k) is str and _scalar(v) for k, v in value.items())
    return type(value) is list and all(_scalar(v) for v in value)


_SHARING_GROUP_ORG: Final = _dict_of(
    _plain("id", "sharing_group_id", "org_id", "extend") | {"Organisation": _ORGANISATION}  # popped and `**`ed: no None
)
_SHARING_GROUP_SERVER: Final = _dict_of(
    _plain("id", "all_orgs", "server_id", "sharing_group_id") | {"Server": _or_none(_flat)}
)
_SHARING_GROUP_RULES: Final = _plain(
    "id", "uuid", "name", "description", "releasability", "local", "active", "roaming", "created", "modified",
    "org_id", "sync_user_id", "organisation_uuid", "org_count",
) | {
    "Organisation": _or_none(_ORGANISATION),
    "SharingGroupOrg": lambda v: type(v) is list and all(_SHARING_GROUP_ORG(o) for o in v),  # iterated if present
    "SharingGroupServer": _list_of(_SHARING_GROUP_SERVER),
}  # fmt: skip
_SHARING_GROUP: Final = _or_none(_dict_of(_SHARING_GROUP_RULES))
_OBJECT_REFERENCE_RULES: Final = _plain(
    "id", "uuid", "timestamp", "object_id", "object_uuid", "referenced_id", "referenced_uuid", "referenced_type",
    "relationship_type", "comment", "deleted", "event_id", "source_uuid",
) | {"Attribute": _or_none(_flat), "Object": _or_none(_flat)}  # fmt: skip


_CHECK_OBJECT_REFERENCE_KEYS: Final = _dict_of(_OBJECT_REFERENCE_RULES)


def _object_reference(value: Any) -> bool:
    # add_reference(referenced_uuid, relationship_type, ...): both are required arguments
    return _CHECK_OBJECT_REFERENCE_KEYS(value) and "referenced_uuid" in value and "relationship_type" in value


# --- attributes -----------------------------------------------------------------------------------

_ATTRIBUTE_RULES: Final = _plain(
    "type", "value", "category", "uuid", "comment", "deleted", "disable_correlation", "object_id", "object_relation",
    "event_uuid",
) | {
    "to_ids": _scalar,  # make_bool converts bool, int and str; None takes the type's default
    "distribution": _int_range(0, 5),
    "id": _int_if_set,
    "event_id": _int_if_set,
    "sharing_group_id": _int_if_set,
    "timestamp": _timestamp,
    "first_seen": _seen,
    "last_seen": _seen,
    "data": lambda v: v is None,  # `data` is decoded (base64, zip): PyMISP's job
    "Tag": _list_of(_TAG),
    "ShadowAttribute": _list_of(_SHADOW_ATTRIBUTE),
    "SharingGroup": _SHARING_GROUP,
    "Galaxy": _empty_or_none,
    "Sighting": _empty_or_none,
    "Note": _empty,
    "Opinion": _empty,
    "Relationship": _empty,
}  # fmt: skip
_CHECK_ATTRIBUTE_KEYS: Final = _dict_of(_ATTRIBUTE_RULES)


def _attribute(value: Any, in_object: bool = False) -> bool:
    """MISPAttribute.from_dict (non-strict, as MISPEvent.add_attribute and MISPObject.add_attribute make it)."""
    if not _CHECK_ATTRIBUTE_KEYS(value):
        return False
    kind = value.get("type")
    text = value.get("value")
    if type(kind) is not str or type(text) is not str:
        return False  # both are required arguments; a list value would make several attributes
    types = _describe_types()
    if kind not in types.default_category:
        return False
    category = value.get("category")
    if category is not None:
        if type(category) is not str or not category:
            return False  # "" would be kept as the category and fail the category check
        allowed = types.category_types.get(category)
        if allowed is None:
            return False  # category_type_mappings[category]: KeyError
        if kind in allowed and category not in types.categories:
            return False
        # a type the category does not allow: non-strict PyMISP drops the category for the default
    if kind == "datetime":
        if in_object:
            text = text.strip().strip("\x00")  # as MISPObject.add_attribute does first
        try:
            datetime.fromisoformat(text)
        except ValueError:
            return False
    distribution = value.get("distribution")
    if distribution is not None and _int(distribution) == 4:
        group = value.get("sharing_group_id")
        if not group or _int(group) == 0:
            return False  # a sharing group distribution needs a (non-zero) sharing_group_id
    return True


def _event_attribute(value: Any) -> bool:
    return _attribute(value)


def _object_attribute(value: Any) -> bool:
    """MISPObject.add_attribute(object_relation, **value) then MISPObjectAttribute.from_dict."""
    if type(value) is not dict or type(value.get("object_relation")) is not str:
        return False
    # Without type, category or to_ids the object template would supply them: require them here.
    if "category" not in value or value.get("to_ids") is None:
        return False
    return _attribute(value, in_object=True)


# --- objects --------------------------------------------------------------------------------------

_OBJECT_RULES: Final = _plain(
    "name", "uuid", "id", "event_id", "sharing_group_id", "comment", "deleted", "description", "meta-category",
    "template_uuid",
) | {
    "template_version": _int_if_set,
    "distribution": _int_range(0, 5),
    "timestamp": _timestamp,
    "first_seen": _seen,
    "last_seen": _seen,
    "Attribute": _list_of(_object_attribute),
    "ObjectReference": _list_of(_object_reference),
    "SharingGroup": _SHARING_GROUP,
    "Tag": _list_of(_TAG),
    "Note": _empty,
    "Opinion": _empty,
    "Relationship": _empty,
}  # fmt: skip
_CHECK_OBJECT_KEYS: Final = _dict_of(_OBJECT_RULES)


def _object(value: Any) -> bool:
    """MISPEvent.add_object(dict): MISPObject(name=..., **rest) then from_dict(**rest)."""
    if not _CHECK_OBJECT_KEYS(value):
        return False
    name = value.get("name")
    return type(name) is str and _template_ok(name)


# --- events ---------------------------------------------------------------------------------------


def _event_rules(related: Rule) -> dict[str, Rule]:
    return _plain(
        "info", "uuid", "published", "attribute_count", "locked", "proposal_email_lock", "disable_correlation",
        "event_creator_email", "extends_uuid", "protected", "orgc_uuid", "org_uuid",
    ) | {
        "distribution": _int_range(0, 4),
        "threat_level_id": _int_range(1, 4),
        "analysis": _int_range(0, 2),
        "date": _date,
        "id": _int_if_set,
        "org_id": _int_if_set,
        "orgc_id": _int_if_set,
        "sharing_group_id": _int_if_set,
        "timestamp": _timestamp,
        "publish_timestamp": _timestamp,
        "sighting_timestamp": _timestamp,
        "Org": _or_none(_ORGANISATION),
        "Orgc": _or_none(_ORGANISATION),
        "Tag": _list_of(_TAG),
        "Attribute": _list_of(_event_attribute),
        "Object": _list_of(_object),
        "ShadowAttribute": _list_of(_SHADOW_ATTRIBUTE),
        "SharingGroup": _SHARING_GROUP,
        "RelatedEvent": related,
        "Galaxy": _empty_or_none,
        "EventReport": _empty_or_none,
        "CryptographicKey": _empty_or_none,
        "Note": _empty,
        "Opinion": _empty,
        "Relationship": _empty,
    }  # fmt: skip


def _event_with(rules: dict[str, Rule]) -> Rule:
    check_keys = _dict_of(rules)

    def rule(value: Any) -> bool:
        # info is popped and must not be None; any str will do (the hub requires it anyway)
        return check_keys(value) and type(value.get("info")) is str

    return rule


# A related event is loaded as a whole event (`MISPEvent().load({"Event": {...}})`); one level deep.
_RELATED_EVENT_BODY: Final = _event_with(_event_rules(_empty_or_none))
_RELATED_EVENT: Final = _list_of(lambda v: type(v) is dict and len(v) == 1 and _RELATED_EVENT_BODY(v.get("Event")))
_EVENT: Final = _event_with(_event_rules(_RELATED_EVENT))


def check_event(body: dict[str, Any]) -> Verdict:
    """`"accepted"` when `MISPEvent().from_dict(**body)` is sure to succeed; `"unsure"` otherwise."""
    try:
        return ACCEPTED if _EVENT(body) else UNSURE
    except Exception:  # noqa: BLE001 - a surprise here only means "ask PyMISP"
        return UNSURE
