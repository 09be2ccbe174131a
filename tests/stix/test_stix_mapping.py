"""STIX 2.1 for all three kinds: valid for the OASIS validator, TLP 2.0 markings, DISARM attack patterns, round trip."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stix2validator import ValidationOptions, validate_instance

from hub.core.misp_release import stamp
from hub.demo.scenario import BASE_TIME, envelope
from hub.stix.convert import bundle, envelope_of_bundle, stix_objects
from hub.stix.markings import TLP2_IDS
from schemas.envelope import SUBMISSION
from schemas.markings import Tlp
from schemas.stix_extension import EXTENSION_ID
from tests.connectors.conftest import fixture_event, whole_events

OPTIONS = ValidationOptions(version="2.1")


def delivered(doc: dict) -> dict:
    """The JSON the hub delivers for a submission: the validated envelope, dumped."""
    return json.loads(SUBMISSION.validate_python(doc).model_dump_json())


def errors(objects: list[dict]) -> list[str]:
    result = validate_instance(bundle(objects), OPTIONS)
    return [str(e) for e in result.errors]


@pytest.mark.parametrize("kind", ["assessment", "stratcom_note", "misp_event"])
@pytest.mark.parametrize("tlp", ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT"])
def test_every_kind_validates_with_tlp_2_markings(kind, tlp):
    rng = random.Random(f"{kind}{tlp}")
    doc = delivered(envelope(rng, kind, "EU", BASE_TIME, tlp=tlp, releasable_to=["NATO"]))
    objects = stix_objects(doc)
    assert errors(objects) == []
    top = next(o for o in objects if o["type"] in ("report", "grouping"))
    assert top["object_marking_refs"] == [TLP2_IDS[Tlp(tlp)]]
    definitions = [o for o in objects if o["type"] == "marking-definition"]
    assert [d["id"] for d in definitions] == [TLP2_IDS[Tlp(tlp)]]
    assert definitions[0]["extensions"]["extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"]["tlp_2_0"] == (
        tlp.lower()
    )
    assert top["extensions"][EXTENSION_ID]["origin"] == "EU"


def test_an_assessment_is_a_report_with_its_confidence_judgements_and_domains():
    doc = delivered(envelope(random.Random(3), "assessment", "NATO", BASE_TIME))
    report, who, _marking = stix_objects(doc)
    assert report["type"] == "report"
    assert report["id"] == f"report--{doc['source_id']}"
    assert report["name"] == doc["payload"]["title"]
    assert report["description"] == doc["payload"]["summary"]
    assert report["confidence"] == doc["payload"]["confidence"]
    ext = report["extensions"][EXTENSION_ID]
    assert ext["key_judgements"] == doc["payload"]["key_judgements"]
    assert ext["domains"] == doc["payload"]["domains"]
    assert who == {**who, "type": "identity", "name": doc["originator"], "identity_class": "organization"}
    assert report["created_by_ref"] == who["id"]


def test_a_note_names_its_disarm_techniques_as_attack_patterns():
    doc = delivered(envelope(random.Random(4), "stratcom_note", "EU", BASE_TIME))
    objects = stix_objects(doc)
    patterns = [o for o in objects if o["type"] == "attack-pattern"]
    techniques = doc["payload"]["disarm_techniques"]
    assert len(patterns) == len(techniques) > 0
    refs = [p["external_references"] for p in patterns]
    assert refs == [[{"source_name": "DISARM", "external_id": t}] for t in techniques]
    report = objects[0]
    assert {p["id"] for p in patterns} <= set(report["object_refs"])
    assert all(p["name"] and not p["name"].startswith("T0") for p in patterns)  # the galaxy's names


@pytest.mark.parametrize("name", whole_events())
def test_every_misp_fixture_converts_through_misp_stix_and_validates(name):
    event = stamp(fixture_event(name), int(BASE_TIME.timestamp()))
    doc = {"kind": "misp_event", "origin": "EU", "originator": "CERT-EU", "area": "cyber", "payload": {"Event": event}}
    objects = stix_objects(delivered(doc))
    assert errors(objects) == []
    assert not [
        o for o in objects if o["type"] == "marking-definition" and o["id"].startswith("marking-definition--613f")
    ]
    tops = [o for o in objects if o["type"] in ("report", "grouping")]
    assert len(tops) == 1
    assert tops[0]["extensions"][EXTENSION_ID]["originator"] == "CERT-EU"


@settings(max_examples=60, deadline=None)
@given(
    kind=st.sampled_from(["assessment", "stratcom_note"]),
    origin=st.sampled_from(["EU", "NATO"]),
    seed=st.integers(0, 2**32),
    tlp=st.sampled_from(["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]),
    releasable=st.sampled_from([None, ["NATO"], ["EU", "NATO"], []]),
)
def test_a_bundle_maps_back_to_the_same_envelope(kind, origin, seed, tlp, releasable):
    doc = delivered(envelope(random.Random(seed), kind, origin, BASE_TIME, tlp=tlp, releasable_to=releasable))
    back = delivered(envelope_of_bundle(bundle(stix_objects(doc))))
    assert back == doc


def test_a_bundle_without_a_hub_report_is_refused_naming_the_problem():
    with pytest.raises(ValueError, match="exactly one report with the extension-definition--"):
        envelope_of_bundle({"type": "bundle", "id": "bundle--1", "objects": []})
    with pytest.raises(ValueError, match="not a STIX bundle"):
        envelope_of_bundle({"type": "report"})
