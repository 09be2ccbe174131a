"""The fast MISP event check: whatever it accepts PyMISP accepts, and the common shapes take it."""

from __future__ import annotations

import copy
import json
import random
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pymisp import MISPEvent

from hub.core.validate import Invalid, Valid, validate
from hub.demo.scenario import BASE_TIME, envelope, misp_event
from schemas.misp_fast import ACCEPTED, UNSURE, check_event
from tests.conftest import MISP_FIXTURES

# Fixture events without Galaxy, malware data or other shapes the fast path leaves to PyMISP.
FAST_FIXTURES = [
    "57c4445b-c548-4654-af0b-4be3950d210f.json",  # CIRCL OSINT feed event: tags, attributes
    "attribute.json",
    "attribute_del.json",
    "event.json",
    "event_tags.json",
    "misp_event.json",  # MISP export: Org, Orgc, ids, RelatedEvent/ShadowAttribute empty
    "new_misp_event.json",
    "proposals.json",  # ShadowAttribute on the event and on attributes
    "def_param.json",  # an object with a known template (whois)
    "misp_custom_obj.json",  # an object whose template PyMISP does not know
    "shadow.json",  # objects whose attributes carry proposals
]
# Shapes left to PyMISP: galaxies (existing_event*), malware samples (`data`), and documents
# that are not events at all (PyMISP rejects those).
FALLBACK_FIXTURES = [
    "existing_event.json",
    "existing_event_edited.json",
    "malware.json",
    "event_obj_attr_tag.json",
    "galaxy.json",
    "malware_exist.json",
    "sighting.json",
]


def fixture_body(name: str) -> dict[str, Any]:
    doc = json.loads((MISP_FIXTURES / name).read_text(encoding="utf-8"))
    return doc.get("Event", doc)


def scenario_event(seed: int, attributes: int = 5, tlp: str = "tlp:green") -> dict[str, Any]:
    return misp_event(random.Random(seed), "CERT-EU", attributes, BASE_TIME, tlp)["Event"]


def existing_event_without_galaxy() -> dict[str, Any]:
    """The big real export (49 objects with references, 19 related events, 18 tags) minus its galaxies."""
    body = fixture_body("existing_event.json")
    del body["Galaxy"]
    return body


def pymisp_error(body: Any) -> str | None:
    """PyMISP's complaint about the event, as schemas.misp_event loads it, or None when it loads."""
    try:
        MISPEvent().from_dict(**json.loads(json.dumps(body)))
    except Exception as exc:  # noqa: BLE001 - any exception is a rejection
        return f"{type(exc).__name__}: {exc}"
    return None


def assert_subset(body: Any) -> str:
    verdict = check_event(body)
    if verdict == ACCEPTED:
        error = pymisp_error(body)
        assert error is None, f"fast path accepted an event PyMISP rejects ({error}): {json.dumps(body)[:2000]}"
    return verdict


def all_fixture_bodies() -> list[tuple[str, Any]]:
    found = []
    for path in sorted(MISP_FIXTURES.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        items = doc if isinstance(doc, list) else [doc]
        for i, item in enumerate(items):
            body = item.get("Event", item) if isinstance(item, dict) else item
            found.append((f"{path.name}[{i}]", body))
    return found


# --- 1. differential: fixtures and scenario events ---------------------------------------------


@pytest.mark.parametrize(("name", "body"), all_fixture_bodies(), ids=[n for n, _ in all_fixture_bodies()])
def test_every_fixture_the_fast_path_accepts_pymisp_accepts(name, body):
    if not isinstance(body, dict):
        pytest.skip("not an object")
    assert_subset(body)


def test_scenario_events_agree_with_pymisp():
    for seed in range(40):
        for attributes in (0, 1, 5, 23):
            for tlp in ("tlp:clear", "tlp:green", "tlp:amber"):
                assert assert_subset(scenario_event(seed, attributes, tlp)) == ACCEPTED


def test_objects_references_and_related_events_agree_with_pymisp():
    body = existing_event_without_galaxy()
    assert assert_subset(body) == ACCEPTED
    assert len(body["Object"]) == 49
    assert body["RelatedEvent"]


# --- 2. property: mutated events ------------------------------------------------------------------

ODD_VALUES: list[Any] = [
    None, "", " ", "0", "1", "4", "5", "6", "-1", " 3 ", "1_0", "３", "0x10", "1.0", "abc", "\x00",
    0, 1, 2, 4, 5, 6, -1, 10**20, True, False, 1.5, float("nan"),
    [], [None], [[]], ["a"], [{}], [{"name": "x"}], {}, {"a": 1}, {"Event": {}}, {"x": [1, {"y": None}]},
    "2020-01-01", "2020-13-45", "2020-01-01T10:00:00", "2020-01-01T10:00:00+02:00", "yesterday", "99999999999999",
    "ip-dst", "domain", "datetime", "malware-sample", "not-a-type", "Network activity", "Payload delivery",
    "Payload type", "External analysis", "network activity", "file", "whois", "../file", "no-such-template",
    "not-a-uuid", "5758ebf5-c898-48e6-9fe9-5665c0a83866", "tlp:green",
]  # fmt: skip
ODD_KEYS = [
    "Event", "Attribute", "Object", "Tag", "Galaxy", "Note", "data", "tags", "attributes", "edited", "date",
    "first_seen", "last_seen", "timestamp", "sharing_group_id", "distribution", "type", "category", "value",
    "to_ids", "info", "name", "template_version", "template_uuid", "object_relation", "Org", "Orgc",
    "SharingGroup", "SharingGroupOrg", "Organisation", "ShadowAttribute", "RelatedEvent", "referenced_uuid",
    "relationship_type", "strict", "standalone", "id", "colour", "", "_AbstractMISP__edited", "unknown_key",
]  # fmt: skip

_TIMES = ["99999999999999", 10**20, "-5", "x", "", 0, "0", 1.5, None, "1_700_000_000", " 1700000000 "]
_IDS = ["x", "", "0", 0, "1.5", None, [], " 7 "]
_NOTES = [None, [], [{}], {}]
# Odd values aimed at the rule a key has; a mutation picks from here half the time.
ODD_BY_KEY: dict[str, list[Any]] = {
    "type": ["not-a-type", "", "IP-DST", "datetime", "malware-sample", "text", None, 5],
    "category": ["Weather", "", "network activity", "Other", "Payload type", None, 5, []],
    "value": [None, "", "not a date", "2026-13-01", 5, ["a", "b"], {}],
    "distribution": ["4", 4, "5", 5, "6", -1, "x", None, 1.5, True],
    "analysis": ["3", "-1", "x", 2, None],
    "threat_level_id": ["0", "5", 4, "x", None],
    "sharing_group_id": ["0", 0, "", "x", "3", None, []],
    "timestamp": _TIMES,
    "publish_timestamp": _TIMES,
    "date": ["", "2026-02-30", "June 1st", "2026-06-01T10:00:00", 0, 20260601, None, []],
    "first_seen": ["x", "", 5, "2026-06-01", None, []],
    "last_seen": ["x", "", 5, "2026-06-01", None, []],
    "id": _IDS,
    "event_id": _IDS,
    "org_id": _IDS,
    "orgc_id": _IDS,
    "to_ids": [{}, {"a": 1}, [], [1], 1.5, "", None, "false"],
    "info": [None, "", 5, []],
    "name": [None, 7, "", "no-such-template", "../file", "a" * 300, "file\x00", "whois", "file"],
    "template_version": ["x", "", "8", 8, "1.0", None],
    "object_relation": [None, 5, "", "filename"],
    "Note": _NOTES,
    "Opinion": _NOTES,
    "Relationship": _NOTES,
    "Tag": [None, [], [5], ["tlp:red"], [{"name": "x", "timestamp": "x"}, {"name": "y", "timestamp": "z"}], {}],
    "Org": [None, {}, [], ["x"], {"Organisation": {}}, {"name": [1]}],
    "Orgc": [None, {}, [], ["x"], {"Organisation": {}}, {"name": [1]}],
    "SharingGroup": [{"SharingGroupOrg": None}, {"SharingGroupOrg": [{"Organisation": None}]}, {}, None, {"name": "g"}],
    "ObjectReference": [[{"referenced_uuid": "x"}], [{"referenced_uuid": "x", "relationship_type": "r"}], None, [5]],
    "RelatedEvent": [[{"Event": {}}], [{"Event": {"info": "x"}}], [{"info": "x"}], [5], None],
    "data": [None, "", "aGVsbG8=", "not base64!"],
    "Attribute": [None, [], [5], [{}], [{"type": "ip-dst"}], {}],
    "Object": [None, [], [5], [{}], [{"name": "file"}]],
    "Galaxy": [[{}], [{"name": "g"}], None, []],
    "ShadowAttribute": [[5], [{"Org": None}], [{"Org": [1]}], None, []],
}


def _with_objects() -> dict[str, Any]:
    body = fixture_body("shadow.json")
    body["Object"][0]["ObjectReference"] = [
        {"referenced_uuid": body["Attribute"][0]["uuid"], "relationship_type": "drops", "comment": ""}
    ]
    body["SharingGroup"] = {
        "id": "1",
        "name": "EU-NATO",
        "Organisation": {"id": "1", "name": "CERT-EU"},
        "SharingGroupOrg": [{"id": "1", "extend": True, "Organisation": {"name": "NCIRC", "uuid": "x"}}],
        "SharingGroupServer": [{"all_orgs": False, "server_id": "0", "Server": []}],
    }
    body["Attribute"][0].update(distribution="4", sharing_group_id="1")
    body["RelatedEvent"] = [{"Event": {"info": "related", "uuid": "u", "date": "2018-01-01", "Orgc": {"name": "o"}}}]
    return body


BASES: list[dict[str, Any]] = [
    scenario_event(1, 3),
    fixture_body("misp_event.json"),
    fixture_body("def_param.json"),
    _with_objects(),
]


def _spots(node: Any, found: list[Any]) -> list[Any]:
    """Every dict and list in the event, in a fixed order."""
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            _spots(value, found)
    elif isinstance(node, list):
        found.append(node)
        for value in node:
            _spots(value, found)
    return found


def mutate(draw: Callable[[Any], Any], body: dict[str, Any], times: int) -> dict[str, Any]:
    """Drop a key, replace a value, add a key or touch a list somewhere in the event, `times` times."""
    for _ in range(times):
        spot = draw(st.sampled_from(_spots(body, [])))
        if isinstance(spot, dict):
            action = draw(st.sampled_from(["drop", "replace", "replace", "add"]))
            key = draw(st.sampled_from(sorted(spot) if action != "add" and spot else ODD_KEYS))
            if action == "drop" and key in spot:
                del spot[key]
                continue
            pool = ODD_BY_KEY[key] if key in ODD_BY_KEY and draw(st.booleans()) else ODD_VALUES
            spot[key] = copy.deepcopy(draw(st.sampled_from(pool)))
        elif spot and draw(st.booleans()):
            spot[draw(st.integers(0, len(spot) - 1))] = copy.deepcopy(draw(st.sampled_from(ODD_VALUES)))
        else:
            spot.append(copy.deepcopy(draw(st.sampled_from(ODD_VALUES))))
    return body


@st.composite
def mutated_events(draw: Callable[[Any], Any]) -> dict[str, Any]:
    """A real or scenario event with one to three odd changes."""
    return mutate(draw, copy.deepcopy(draw(st.sampled_from(BASES))), draw(st.integers(1, 3)))


# Generated events: each field takes a value that is fine alone (some combinations are not: a
# sharing-group distribution without a group id, a `datetime` type with a URL value, a category the
# type does not belong to); then one odd change tests one rule at a time.
ABSENT = object()
IDS = ["1", "12", "0", "", 0, 7, ABSENT]
TIMESTAMPS = ["1780300800", "0", "", 1780300800, 0, ABSENT]
EVENT_FIELDS: dict[str, list[Any]] = {
    "info": ["Phishing wave", ""],
    "uuid": ["5758ebf5-c898-48e6-9fe9-5665c0a83866", ABSENT],
    "date": ["2026-06-01", "20260601", "2026-W22-1", ABSENT],
    "timestamp": TIMESTAMPS,
    "publish_timestamp": TIMESTAMPS,
    "published": [True, False, ABSENT],
    "analysis": ["0", "2", 1, ABSENT],
    "threat_level_id": ["1", "4", 2, ABSENT],
    "distribution": ["0", "3", "4", 1, ABSENT],
    "sharing_group_id": IDS,
    "id": IDS,
    "org_id": IDS,
    "orgc_id": IDS,
    "attribute_count": ["3", ABSENT],
    "locked": [False, ABSENT],
    "proposal_email_lock": [False, ABSENT],
    "disable_correlation": [False, True, ABSENT],
    "extends_uuid": ["", ABSENT],
    "Orgc": [{"name": "CERT-EU", "uuid": "5758ebf5-c898-48e6-9fe9-5665c0a83866"}, {"id": "1", "local": True}, ABSENT],
    "Org": [{"name": "CERT-EU", "id": "1"}, {}, ABSENT],
    "Galaxy": [[], ABSENT],
    "RelatedEvent": [[], [{"Event": {"info": "older", "date": "2026-01-01", "Org": {"name": "NCIRC"}}}], ABSENT],
    "ShadowAttribute": [[], [{"type": "ip-dst", "value": "x", "Org": {"name": "o"}}], ABSENT],
    "Note": [[], ABSENT],
}
ATTRIBUTE_FIELDS: dict[str, list[Any]] = {
    "uuid": ["575c8598-f1f0-4c16-a94a-0612c0a83866", ABSENT],
    "type": ["ip-dst", "domain", "url", "sha256", "text", "datetime", "filename"],
    "category": ["Network activity", "Payload delivery", "Other", "External analysis", None, ABSENT],
    "value": ["203.0.113.9", "https://x.example/p", "2026-06-01T10:00:00", " 2026-06-01 ", ""],
    "to_ids": [True, False, "0", "1", 0, None, ABSENT],
    "distribution": ["0", "5", "5", 3, None, ABSENT, ABSENT, "4"],
    "sharing_group_id": IDS,
    "timestamp": TIMESTAMPS,
    "first_seen": ["2026-06-01T10:00:00+00:00", "2026-06-01", ABSENT],
    "last_seen": ["2026-05-01T10:00:00", ABSENT],
    "comment": ["", "seen in the wave", ABSENT],
    "deleted": [False, ABSENT],
    "disable_correlation": [False, None, ABSENT],
    "id": IDS,
    "event_id": IDS,
    "object_id": ["0", ABSENT],
    "Tag": [[{"name": "tlp:green"}], [], ABSENT],
    "ShadowAttribute": [[], ABSENT],
}
OBJECT_FIELDS: dict[str, list[Any]] = {
    "name": ["file", "whois", "domain-ip", "no-such-template", "x509"],
    "uuid": ["5a3cd5b6-9568-4342-b2ab-4c62950d210f", ABSENT],
    "template_uuid": ["688c46fb-5edb-40a3-8273-1af7923e2215", "429faea1-34ff-47af-8a00-7c62d3be5a6a", ABSENT],
    "template_version": ["8", "10", "1", 8, "", ABSENT],
    "meta-category": ["file", ABSENT],
    "description": ["File object", ABSENT],
    "distribution": ["5", "4", 0, ABSENT],
    "sharing_group_id": ["0", "1", ABSENT],
    "timestamp": TIMESTAMPS,
    "comment": ["", ABSENT],
    "deleted": [False, ABSENT],
    "ObjectReference": [[], [{"referenced_uuid": "u", "relationship_type": "drops", "object_uuid": ""}], ABSENT],
}
RELATIONS = ["filename", "ip", "domain", "md5", "registrar"]
TAG_FIELDS: dict[str, list[Any]] = {
    "name": ["tlp:green", 'misp-galaxy:tool="X-Agent"'],
    "colour": ["#00d622", ABSENT],
    "exportable": [True, ABSENT],
    "local": [False, 0, ABSENT],
    "id": ["2", ABSENT],
    "hide_tag": [False, ABSENT],
    "user_id": ["0", ABSENT],
}


@st.composite
def generated_events(draw: Callable[[Any], Any]) -> dict[str, Any]:
    """An event built from values that are each fine, then, three times in four, one odd change."""

    def fill(fields: dict[str, list[Any]]) -> dict[str, Any]:
        found = {}
        for key, pool in fields.items():
            value = draw(st.sampled_from(pool))
            if value is not ABSENT:
                found[key] = copy.deepcopy(value)
        return found

    event = fill(EVENT_FIELDS)
    event["Tag"] = [fill(TAG_FIELDS) for _ in range(draw(st.integers(0, 3)))]
    event["Attribute"] = [fill(ATTRIBUTE_FIELDS) for _ in range(draw(st.integers(0, 3)))]
    objects = []
    for _ in range(draw(st.integers(0, 2))):
        obj = fill(OBJECT_FIELDS)
        obj["Attribute"] = []
        for _ in range(draw(st.integers(0, 3))):
            attribute = fill(ATTRIBUTE_FIELDS)
            attribute["object_relation"] = draw(st.sampled_from(RELATIONS))
            obj["Attribute"].append(attribute)
        objects.append(obj)
    if objects:
        event["Object"] = objects
    return mutate(draw, event, draw(st.sampled_from([0, 1, 1, 1])))


def test_events_the_fast_path_accepts_pymisp_accepts():
    verdicts: Counter[str] = Counter()

    @settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.one_of(mutated_events(), generated_events()))
    def check(body: dict[str, Any]) -> None:
        verdicts[assert_subset(body)] += 1

    check()
    # Both answers must be common, or the property says little.
    assert verdicts[ACCEPTED] >= 50, verdicts
    assert verdicts[UNSURE] >= 50, verdicts


# Every single change: for each dict in a few small events, each key (its own and the odd ones)
# dropped or set to each odd value, aimed and general. Exhaustive where hypothesis samples.
ODD_FEW: list[Any] = [None, "", "x", 5, -1, 1.5, True, [], {}, [None], {"a": [1]}, "99999999999999"]


def single_changes(body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The body with one change at a time, made in place and undone after each yield."""
    for spot in [spot for spot in _spots(body, []) if isinstance(spot, dict)]:
        for key in sorted(set(spot) | set(ODD_KEYS)):
            saved = spot.get(key, ABSENT)
            for value in [ABSENT, *ODD_BY_KEY.get(key, []), *ODD_FEW]:
                if value is ABSENT:
                    spot.pop(key, None)
                else:
                    spot[key] = copy.deepcopy(value)
                yield body
            if saved is ABSENT:
                spot.pop(key, None)
            else:
                spot[key] = saved


def small_bases() -> list[tuple[str, dict[str, Any]]]:
    objects = _with_objects()
    del objects["Attribute"][1:]
    del objects["Object"][0]["Attribute"][1:]
    known_template = fixture_body("def_param.json")
    del known_template["Object"][0]["Attribute"][1:]
    return [("scenario", scenario_event(8, 2)), ("objects", objects), ("whois", known_template)]


@pytest.mark.parametrize(("name", "base"), small_bases(), ids=[n for n, _ in small_bases()])
def test_every_single_change_the_fast_path_accepts_pymisp_accepts(name, base):
    verdicts = Counter(assert_subset(body) for body in single_changes(base))
    assert verdicts[ACCEPTED] >= 100, verdicts
    assert verdicts[UNSURE] >= 100, verdicts


# Known PyMISP rejections, several of them easy to miss: the fast path must not accept any.
REJECTED_BY_PYMISP: list[tuple[str, Callable[[dict[str, Any]], Any]]] = [
    ("no info", lambda e: e.pop("info")),
    ("info None", lambda e: e.update(info=None)),
    ("event distribution 5", lambda e: e.update(distribution="5")),
    ("threat level 0", lambda e: e.update(threat_level_id=0)),
    ("analysis 3", lambda e: e.update(analysis="3")),
    ("analysis not a number", lambda e: e.update(analysis="done")),
    ("empty date", lambda e: e.update(date="")),
    ("date not a date", lambda e: e.update(date="tomorrow-ish")),
    ("timestamp not a number", lambda e: e.update(timestamp="soon")),
    ("id not a number", lambda e: e.update(id="abc")),
    ("Note None", lambda e: e.update(Note=None)),
    ("Org a list", lambda e: e.update(Org=["CERT-EU"])),
    ("Event wrapper inside", lambda e: e.update(Event={"info": None})),
    ("empty key", lambda e: e.update({"": 1})),
    ("org property", lambda e: e.update(org="x")),
    ("edited not a bool", lambda e: e.update(edited="yes")),
    ("unknown type", lambda e: e["Attribute"][0].update(type="not-a-type")),
    ("no type", lambda e: e["Attribute"][0].pop("type")),
    ("value None", lambda e: e["Attribute"][0].update(value=None)),
    ("unknown category", lambda e: e["Attribute"][0].update(category="Weather")),
    ("empty category", lambda e: e["Attribute"][0].update(category="")),
    ("attribute distribution 6", lambda e: e["Attribute"][0].update(distribution=6)),
    ("sharing group without id", lambda e: e["Attribute"][0].update(distribution="4")),
    ("sharing group id 0", lambda e: e["Attribute"][0].update(distribution=4, sharing_group_id="0")),
    ("to_ids a dict", lambda e: e["Attribute"][0].update(to_ids={"a": 1})),
    ("bad datetime value", lambda e: e["Attribute"][0].update(type="datetime", category="Other", value="x")),
    ("tag timestamp", lambda e: e["Tag"].extend([{"name": "a", "timestamp": "x"}, {"name": "b", "timestamp": "y"}])),
    ("tag a number", lambda e: e.update(Tag=[5])),
    ("Attribute a dict list", lambda e: e.update(Attribute=[["type", "ip-dst"]])),
    ("attribute Note None", lambda e: e["Attribute"][0].update(Note=None)),
    ("attribute data", lambda e: e["Attribute"][0].update(data="not base64!")),
    ("related event without info", lambda e: e.update(RelatedEvent=[{"Event": {"uuid": "x"}}])),
]


@pytest.mark.parametrize(("what", "mutate"), REJECTED_BY_PYMISP, ids=[w for w, _ in REJECTED_BY_PYMISP])
def test_pymisp_rejections_are_not_accepted(what, mutate):
    body = scenario_event(3, 2)
    mutate(body)
    assert pymisp_error(body) is not None, f"{what}: PyMISP accepts it now; the case needs a new mutation"
    assert check_event(body) == UNSURE


OBJECT_REJECTED_BY_PYMISP: list[tuple[str, Callable[[dict[str, Any]], Any]]] = [
    ("no name", lambda o: o.pop("name")),
    ("name a number", lambda o: o.update(name=7)),
    ("template version not a number", lambda o: o.update(template_version="ten")),
    ("strict unknown template", lambda o: o.update(name="no-such-template", strict=True)),
    ("object distribution 6", lambda o: o.update(distribution="6")),
    ("object attribute without relation", lambda o: o["Attribute"][0].pop("object_relation")),
    ("object attribute unknown type", lambda o: o["Attribute"][0].update(type="nope")),
    ("reference without type", lambda o: o.update(ObjectReference=[{"referenced_uuid": "x"}])),
    ("sharing group orgs None", lambda o: o.update(SharingGroup={"name": "g", "SharingGroupOrg": None})),
    ("sharing group org None", lambda o: o.update(SharingGroup={"SharingGroupOrg": [{"Organisation": None}]})),
]


@pytest.mark.parametrize(("what", "mutate"), OBJECT_REJECTED_BY_PYMISP, ids=[w for w, _ in OBJECT_REJECTED_BY_PYMISP])
def test_pymisp_object_rejections_are_not_accepted(what, mutate):
    body = fixture_body("def_param.json")
    mutate(body["Object"][0])
    assert pymisp_error(body) is not None, f"{what}: PyMISP accepts it now; the case needs a new mutation"
    assert check_event(body) == UNSURE


# --- 3. coverage: the fast path is really taken ---------------------------------------------------


@pytest.mark.parametrize("seed", range(20))
def test_scenario_events_take_the_fast_path(seed):
    assert check_event(misp_event(random.Random(seed), "CERT-EU", 5, BASE_TIME)["Event"]) == ACCEPTED


@pytest.mark.parametrize("name", FAST_FIXTURES)
def test_plain_fixture_events_take_the_fast_path(name):
    assert check_event(fixture_body(name)) == ACCEPTED


@pytest.mark.parametrize("name", FALLBACK_FIXTURES)
def test_other_shapes_fall_back_to_pymisp(name):
    assert check_event(fixture_body(name)) == UNSURE


@pytest.mark.parametrize(
    ("what", "mutate"),
    [
        (
            "category the type does not belong to (PyMISP drops it)",
            lambda e: e["Attribute"][0].update(category="Other"),
        ),
        ("numbers as numbers", lambda e: e.update(distribution=3, analysis=0, threat_level_id=4, timestamp=1700000000)),
        ("sharing group distribution", lambda e: e["Attribute"][0].update(distribution="4", sharing_group_id="7")),
        ("falsy ids are kept as they are", lambda e: e.update(id="", org_id=0, publish_timestamp="0")),
        ("empty lists MISP exports", lambda e: e.update(Galaxy=[], RelatedEvent=[], ShadowAttribute=[], Object=[])),
        ("first_seen", lambda e: e["Attribute"][0].update(first_seen="2026-05-31T10:00:00+00:00")),
        ("datetime attribute", lambda e: e["Attribute"].append({"type": "datetime", "value": "2026-05-31T10:00:00"})),
    ],
)
def test_edge_shapes_pymisp_accepts_take_the_fast_path(what, mutate):
    body = scenario_event(4, 2)
    mutate(body)
    assert pymisp_error(body) is None
    assert check_event(body) == ACCEPTED


def test_validate_does_not_load_pymisp_for_a_scenario_event(monkeypatch):
    class Refuses:
        def from_dict(self, **_: Any) -> None:
            raise AssertionError("the fast path should have vouched for this event")

    monkeypatch.setattr("pymisp.MISPEvent", Refuses)
    raw = json.dumps(envelope(random.Random(5), "misp_event", "EU", BASE_TIME)).encode()
    assert isinstance(validate(raw), Valid)


# --- 4. rejections still come from PyMISP, through validate ------------------------------------


def test_unknown_attribute_type_is_rejected_with_pymisps_message():
    doc = envelope(random.Random(6), "misp_event", "EU", BASE_TIME)
    doc["payload"]["Event"]["Attribute"][1]["type"] = "ip-dest"
    result = validate(json.dumps(doc).encode())
    assert isinstance(result, Invalid)
    assert result.field == "payload"
    assert result.problem.startswith("PyMISP cannot load the event: ip-dest is invalid, type has to be in ")


def test_bad_event_distribution_is_rejected_with_pymisps_message():
    doc = envelope(random.Random(7), "misp_event", "EU", BASE_TIME)
    doc["payload"]["Event"]["distribution"] = "7"
    result = validate(json.dumps(doc).encode())
    assert isinstance(result, Invalid)
    assert "PyMISP cannot load the event: " in result.problem
    assert "7 is invalid, the distribution has to be in 0, 1, 2, 3, 4" in result.problem
