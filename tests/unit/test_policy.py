"""Release policy: fails closed, names the rule that fired."""

from __future__ import annotations

import random

import pytest

from hub.core.policy import ReleasePolicy, release_check
from hub.demo.scenario import BASE_TIME, envelope
from schemas.envelope import SUBMISSION

POLICY = ReleasePolicy()


def env(kind: str = "assessment", origin: str = "EU", **markings):
    doc = envelope(random.Random(3), kind, origin, BASE_TIME)
    doc["markings"] = markings
    return SUBMISSION.validate_python(doc)


def misp(distribution: str, sharing_orgs: list[str] | None = None, tlp: str = "tlp:green"):
    doc = envelope(random.Random(4), "misp_event", "EU", BASE_TIME)
    doc["markings"] = {}
    ev = doc["payload"]["Event"]
    ev["distribution"] = distribution
    ev["Tag"] = [{"name": tlp}]
    if sharing_orgs is not None:
        ev["SharingGroup"] = {"name": "sg", "SharingGroupOrg": [{"Organisation": {"name": n}} for n in sharing_orgs]}
    return SUBMISSION.validate_python(doc)


@pytest.mark.parametrize(
    ("markings", "rule"),
    [
        ({"tlp": "RED"}, "tlp-red"),
        ({}, "no-tlp"),
        ({"tlp": "GREEN", "classification": "NATO RESTRICTED"}, "classified"),
        ({"tlp": "AMBER+STRICT"}, "amber-strict"),
        ({"tlp": "AMBER+STRICT", "releasable_to": ["EU"]}, "amber-strict"),
        ({"tlp": "GREEN", "releasable_to": ["EU"]}, "releasable-to"),
        ({"tlp": "GREEN", "releasable_to": []}, "releasable-to"),
        ({"tlp": "GREEN", "originator_control": True}, "orcon"),
        ({"tlp": "GREEN", "pap": "RED"}, "pap-red"),
    ],
)
def test_withheld_with_the_rule_that_fired(markings, rule):
    withhold = release_check(env(**markings), POLICY)
    assert withhold is not None
    assert withhold.rule == rule


@pytest.mark.parametrize(
    "markings",
    [
        {"tlp": "GREEN"},
        {"tlp": "CLEAR"},
        {"tlp": "AMBER"},
        {"tlp": "AMBER+STRICT", "releasable_to": ["NCIRC"]},
        {"tlp": "GREEN", "releasable_to": ["EU", "nato"]},
        {"tlp": "GREEN", "originator_control": True, "releasable_to": ["NATO"]},
    ],
)
def test_releasable_items_pass(markings):
    assert release_check(env(**markings), POLICY) is None


def test_destination_is_the_counterpart_of_the_origin():
    assert release_check(env(origin="NATO", tlp="GREEN", releasable_to=["EU"]), POLICY) is None
    withheld = release_check(env(origin="NATO", tlp="GREEN", releasable_to=["NATO"]), POLICY)
    assert withheld is not None
    assert "does not include EU" in withheld.reason


@pytest.mark.parametrize(
    ("distribution", "orgs", "rule"),
    [
        ("0", None, "misp-distribution-0"),
        ("4", ["CERT-EU", "ENISA"], "misp-sharing-group"),
    ],
)
def test_misp_rules(distribution, orgs, rule):
    withhold = release_check(misp(distribution, orgs), POLICY)
    assert withhold is not None
    assert withhold.rule == rule


def test_misp_sharing_group_with_the_counterpart_crosses():
    assert release_check(misp("4", ["CERT-EU", "NCIRC"]), POLICY) is None
    assert release_check(misp("1"), POLICY) is None


def test_misp_event_tlp_red_tag_blocks_it():
    withhold = release_check(misp("3", tlp="tlp:red"), POLICY)
    assert withhold is not None
    assert withhold.rule == "tlp-red"


def test_misp_event_level_distribution_5_is_invalid():
    import json

    from hub.core.validate import Invalid, validate

    doc = envelope(random.Random(4), "misp_event", "EU", BASE_TIME)
    doc["payload"]["Event"]["distribution"] = "5"
    result = validate(json.dumps(doc).encode())
    assert isinstance(result, Invalid)
    assert "the distribution has to be in 0, 1, 2, 3, 4" in result.reason
