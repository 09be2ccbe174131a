"""MISP parts at every level are judged like the event itself: one reading, one set of checks.

The property: a set of tags placed on the event makes the release policy withhold it by rule R
exactly when the same set placed on any part makes the shaper strip that part by rule R. Then the
parts themselves: every level that carries tags, a distribution or a sharing group, every hazard.
"""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.core.misp_release import release
from hub.core.policy import ReleasePolicy, release_check
from hub.core.validate import Valid, validate
from schemas.common import Side
from schemas.envelope import SUBMISSION
from tests.trust.corpus import LEVELS, misp_doc, part_at
from tests.trust.spellings import spelled

POLICY = ReleasePolicy()
NATO = POLICY.destination(Side.NATO)
MARKING_RULES = {"tlp-red", "pap-red", "classified", "unreadable-marking", "tlp-not-allowed", "amber-strict"}


def base_event(seed: int = 1) -> dict[str, Any]:
    """A releasable EU event (TLP:GREEN, distribution 3) with a part at every level."""
    return misp_doc(random.Random(seed), "EU", f"m{seed}")


def uuids(node: Any) -> set[str]:
    """Every `uuid` value anywhere in `node`."""
    text = json.dumps(node)
    return {u for u in (p.split('"')[0] for p in text.split('"uuid": "')[1:])}


def stripped_rule(doc: dict[str, Any], level: str) -> str | None:
    """The rule by which the shaper strips the part at `level`, or None when it crosses."""
    ev = doc["payload"]["Event"]
    target = part_at(ev, level)["uuid"]
    shaped, stripped = release(ev, NATO)
    found = [s.rule for s in stripped if s.uuid == target]
    assert (target in uuids(shaped)) == (not found)  # stripped parts are gone, kept ones are there
    return found[0] if found else None


def policy_rule(doc: dict[str, Any]) -> str | None:
    withhold = release_check(SUBMISSION.validate_python(doc), POLICY)
    return withhold.rule if withhold else None


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(spelled(), min_size=1, max_size=4), st.sampled_from(LEVELS), st.sampled_from(["Tag", "alt"]))
def test_policy_and_shaper_read_the_same_markings_at_every_level(tags, level, key):
    """A tag set withholds the event by rule R exactly when it strips any part by rule R."""
    written = [t.tag for t in tags]
    on_event = base_event()
    ev = on_event["payload"]["Event"]
    ev["Tag"] = [{"name": "tlp:green"}, *(written if key == "Tag" else [])]
    if key == "alt":
        ev["EventTag"] = written  # the same tags under MISP's other key for them
    on_part = base_event()
    part = part_at(on_part["payload"]["Event"], level)
    part["AttributeTag" if key == "alt" else "Tag"] = written
    event_rule = policy_rule(on_event)
    assert event_rule is None or event_rule in MARKING_RULES
    assert stripped_rule(on_part, level) == event_rule
    expected = next((t.rule for t in tags if t.rule), None)  # the generator's own meaning of the set
    assert (event_rule is None) == (expected is None), (written, event_rule)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"Tag": [{"name": "tlp:red", "local": "0"}]}, "tlp-red"),
        ({"Tag": ["TLP:RED"]}, "tlp-red"),
        ({"Tag": [{"name": " PAP:RED"}]}, "pap-red"),
        ({"Tag": [{"name": "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"}]}, "tlp-red"),
        ({"Tag": [{"name": 'tlp:"red"'}]}, "tlp-red"),
        ({"Tag": [{"name": 'nato:classification="NS"'}]}, "classified"),
        ({"Tag": [{"name": "euci:R-UE/EU-R"}]}, "classified"),
        ({"Tag": [{"name": "tlp:purple"}]}, "unreadable-marking"),
        ({"distribution": "0"}, "distribution-0"),
        ({"distribution": 0}, "distribution-0"),
        ({"distribution": "4", "SharingGroup": {"SharingGroupOrg": [{"Organisation": {"name": "CERT-EU"}}]}},
         "sharing-group"),
        ({"distribution": "4"}, "sharing-group"),
        ({"distribution": "nine"}, "distribution-unreadable"),
        ({"distribution": "7"}, "distribution-unreadable"),
    ],
)  # fmt: skip
def test_a_part_that_may_not_leave_is_stripped_at_every_level(level, change, rule):
    doc = base_event()
    part_at(doc["payload"]["Event"], level).update(change)
    before = copy.deepcopy(doc)
    assert stripped_rule(doc, level) == rule
    assert doc == before  # the input is never changed
    checked = validate(json.dumps(doc).encode())
    if isinstance(checked, Valid):
        assert release_check(checked.envelope, POLICY) is None  # the event itself crosses, without that part
    else:  # PyMISP refuses some of these shapes (a sharing group without its members, distribution 7): rejected
        assert "PyMISP cannot load the event" in checked.reason


@pytest.mark.parametrize("level", LEVELS)
def test_a_part_with_the_counterpart_in_its_sharing_group_crosses(level):
    doc = base_event()
    group = {"SharingGroupOrg": [{"Organisation": {"name": "NCIRC", "uuid": "u-1"}}]}
    part_at(doc["payload"]["Event"], level).update({"distribution": "4", "SharingGroup": group, "Tag": ["tlp:amber"]})
    assert stripped_rule(doc, level) is None


def test_a_control_event_crosses_whole():
    ev = base_event()["payload"]["Event"]
    shaped, stripped = release(ev, NATO)
    assert stripped == []
    assert uuids(shaped) == uuids(ev)


def test_local_tags_leave_at_no_level_and_a_stripped_cluster_takes_its_tag():
    doc = base_event()
    ev = doc["payload"]["Event"]
    for level in LEVELS:
        part_at(ev, level)["Tag"] = [{"name": "internal:triage", "local": "true"}, {"name": "osint"}]
    ev["Tag"] = [{"name": "tlp:green"}, {"name": 'misp-galaxy:threat-actor="X"'}, {"name": "x", "local": " 1 "}]
    ev["Galaxy"][0]["GalaxyCluster"][0]["distribution"] = "0"
    shaped, stripped = release(ev, NATO)
    text = json.dumps(shaped)
    assert "internal:triage" not in text
    assert '"x"' not in text
    assert text.count('"osint"') == len(LEVELS) - 1  # every level but the stripped cluster keeps its shared tag
    assert [t["name"] for t in shaped["Tag"]] == ["tlp:green"]  # the stripped cluster's tag stayed home with it
    assert [(s.what, s.rule) for s in stripped] == [("galaxy cluster", "distribution-0")]


def test_distribution_is_downgraded_per_hop_at_every_level():
    doc = base_event()
    ev = doc["payload"]["Event"]
    ev["distribution"] = "1"
    for level in LEVELS:
        part_at(ev, level)["distribution"] = 2 if level == "analyst note" else "2"
    shaped, _ = release(ev, NATO)
    assert shaped["distribution"] == "0"
    for level in LEVELS:
        assert part_at(shaped, level)["distribution"] == (1 if level == "analyst note" else "1")
