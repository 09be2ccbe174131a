"""Validation: every bad submission gets a reason naming the field and the problem."""

from __future__ import annotations

import json
import random

import pytest

from hub.core.canonical import content_hash
from hub.core.validate import Invalid, Valid, validate
from hub.demo.scenario import BASE_TIME, envelope, misp_event


def good(kind: str = "assessment") -> dict:
    return envelope(random.Random(1), kind, "EU", BASE_TIME)


@pytest.mark.parametrize("kind", ["assessment", "stratcom_note", "misp_event"])
def test_generated_items_of_every_kind_are_valid(kind):
    result = validate(json.dumps(good(kind)).encode())
    assert isinstance(result, Valid)
    assert result.content_hash == content_hash(result.envelope)


@pytest.mark.parametrize(
    ("mutate", "field", "problem"),
    [
        (lambda d: d["markings"].update(tlp="PURPLE"), "markings.tlp", "'PURPLE' is not one of CLEAR"),
        (lambda d: d.update(proposals=[75]), "proposals.0", "less than or equal to 74"),
        (lambda d: d["payload"].update(confidence=101), "payload.confidence", "less than or equal to 100"),
        (lambda d: d.pop("originator"), "originator", "is missing"),
        (lambda d: d.update(kind="podcast"), "kind", "'podcast' is not one of"),
        (lambda d: d.update(colour="red"), "colour", "is not a known field"),
        (lambda d: d.update(created="2024-01-01T00:00:00"), "created", "must carry a time zone"),
        (lambda d: d["payload"].update(domains=["weather"]), "payload.domains.0", "'weather'"),
        (lambda d: d.update(content_hash="0" * 64), "content_hash", "does not match the content"),
    ],
)
def test_bad_fields_are_named(mutate, field, problem):
    doc = good()
    mutate(doc)
    result = validate(json.dumps(doc).encode())
    assert isinstance(result, Invalid)
    assert result.field == field
    assert problem in result.problem
    assert result.reason.startswith(f"field `{field}`: ")


def test_unknown_disarm_technique_is_rejected():
    doc = good("stratcom_note")
    doc["payload"]["disarm_techniques"] = ["T0002", "T9999"]
    result = validate(json.dumps(doc).encode())
    assert result == Invalid("payload.disarm_techniques", "T9999 not in the DISARM framework", result.hint)


def test_tag_outside_its_taxonomy_is_rejected():
    doc = good()
    doc["tags"] = ['admiralty-scale:source-reliability="z"']
    result = validate(json.dumps(doc).encode())
    assert isinstance(result, Invalid)
    assert result.field == "tags"


def test_misp_event_identity_comes_from_the_event():
    event = misp_event(random.Random(2), "CERT-EU", 3, BASE_TIME)
    doc = {"kind": "misp_event", "origin": "EU", "originator": "CERT-EU", "area": "cyber", "payload": event}
    result = validate(json.dumps(doc).encode())
    assert isinstance(result, Valid)
    assert str(result.envelope.source_id) == event["Event"]["uuid"]
    assert int(result.envelope.version.timestamp()) == int(event["Event"]["timestamp"])
    assert result.envelope.markings.tlp == "GREEN"  # from the event's tlp:green tag


def test_misp_event_without_uuid_names_it():
    event = misp_event(random.Random(2), "CERT-EU", 1, BASE_TIME)
    del event["Event"]["uuid"]
    doc = {"kind": "misp_event", "origin": "EU", "originator": "CERT-EU", "area": "cyber", "payload": event}
    result = validate(json.dumps(doc).encode())
    assert isinstance(result, Invalid)
    assert "Event.uuid is missing" in result.reason


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"\xff\xfe", "not valid UTF-8 at byte 0"),
        (b'{"kind": ', "not a valid JSON document"),
        (b"[" * 100_000 + b"]" * 100_000, "not a valid JSON document"),
    ],
)
def test_unreadable_bytes_are_rejected_not_raised(raw, problem):
    result = validate(raw)
    assert isinstance(result, Invalid)
    assert problem in result.problem


def test_rejected_item_keeps_readable_kind_area_origin():
    doc = good()
    doc["markings"]["tlp"] = "PURPLE"
    result = validate(json.dumps(doc).encode())
    assert isinstance(result, Invalid)
    assert (result.hint.kind, result.hint.area, result.hint.origin) == ("assessment", "hybrid_threats", "EU")


def test_the_disarm_techniques_read_from_the_cluster_file_equal_what_pymispgalaxies_gives():
    """The DISARM check reads the galaxy's one cluster file (fast start-up); pymispgalaxies agrees."""
    from pymispgalaxies import Clusters  # type: ignore[attr-defined]

    from hub.core.tag import disarm_techniques

    cluster = Clusters().get("disarm-techniques")
    by_id = {
        v.meta.additional_properties["external_id"]: v.value
        for v in cluster.cluster_values.values()
        if v.meta and (v.meta.additional_properties or {}).get("external_id")
    }
    assert disarm_techniques() == by_id
    assert len(by_id) > 200
