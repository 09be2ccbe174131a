"""MISP's rules below event level, as pure functions: downgrade, strip, local tags, deletions, stamping."""

from __future__ import annotations

import copy

from hub.core.misp_release import describe, release, stamp
from hub.core.policy import ReleasePolicy
from schemas.common import Side
from tests.connectors.conftest import fixture_event

NATO = ReleasePolicy().destination(Side.NATO)


def attr(uuid: str, *tags: str, distribution: str = "5", **extra):
    return {
        "uuid": uuid,
        "type": "ip-dst",
        "value": "203.0.113.9",
        "distribution": distribution,
        "Tag": [{"name": t} for t in tags],
        **extra,
    }


def test_distribution_downgraded_one_level_per_hop_as_misp_pulls():
    for given, expected in (("1", "0"), ("2", "1"), ("3", "3"), ("4", "4"), ("5", "5")):
        shaped, stripped = release(
            {"uuid": "e", "distribution": given, "Attribute": [attr("a", distribution=given)]}, NATO
        )
        if given == "4":
            assert [s.rule for s in stripped] == ["sharing-group"]  # the attribute's group names no NATO org
            continue
        assert shaped["distribution"] == expected
        assert shaped["Attribute"][0]["distribution"] == expected
        assert stripped == []


def test_red_attributes_and_object_attributes_are_stripped_and_named():
    event = {
        "uuid": "e",
        "distribution": "3",
        "Attribute": [attr("keep"), attr("red", "tlp:red"), attr("pap", "PAP:RED")],
        "Object": [
            {"uuid": "o1", "distribution": "5", "Attribute": [attr("o1-keep"), attr("o1-red", "TLP:RED")]},
            {"uuid": "o2", "distribution": "0", "Attribute": [attr("o2-a")]},
        ],
    }
    before = copy.deepcopy(event)
    shaped, stripped = release(event, NATO)
    assert event == before  # the input is never changed
    assert [a["uuid"] for a in shaped["Attribute"]] == ["keep"]
    assert [o["uuid"] for o in shaped["Object"]] == ["o1"]
    assert [a["uuid"] for a in shaped["Object"][0]["Attribute"]] == ["o1-keep"]
    assert {(s.uuid, s.what, s.rule) for s in stripped} == {
        ("red", "attribute", "tlp-red"),
        ("pap", "attribute", "pap-red"),
        ("o1-red", "object attribute", "tlp-red"),
        ("o2", "object", "distribution-0"),
    }
    note = describe(stripped)
    assert note.startswith("; stripped 4: ")
    assert "attribute red (tlp-red)" in note


def test_local_tags_never_leave_and_the_rest_is_the_full_set():
    event = {
        "uuid": "e",
        "distribution": "3",
        "Tag": [{"name": "tlp:green"}, {"name": "internal:triage", "local": 1}, {"name": "osint"}],
        "Attribute": [{**attr("a", "malware"), "Tag": [{"name": "seen-here", "local": True}, {"name": "malware"}]}],
    }
    shaped, stripped = release(event, NATO)
    assert [t["name"] for t in shaped["Tag"]] == ["tlp:green", "osint"]
    assert [t["name"] for t in shaped["Attribute"][0]["Tag"]] == ["malware"]
    assert stripped == []


def test_soft_deleted_attributes_travel_and_uuids_are_kept():
    event = {"uuid": "e", "distribution": "3", "Attribute": [attr("gone", deleted=True), attr("here")]}
    shaped, _ = release(event, NATO)
    assert shaped is event  # nothing to change: the very same object
    assert [(a["uuid"], a.get("deleted", False)) for a in shaped["Attribute"]] == [("gone", True), ("here", False)]


def test_sharing_group_attribute_crosses_only_with_the_counterpart_in_it():
    group = {"SharingGroupOrg": [{"Organisation": {"name": "NCIRC", "uuid": "u-1"}}]}
    event = {
        "uuid": "e",
        "distribution": "3",
        "Attribute": [{**attr("in", distribution="4"), "SharingGroup": group}, attr("out", distribution="4")],
    }
    shaped, stripped = release(event, NATO)
    assert [a["uuid"] for a in shaped["Attribute"]] == ["in"]
    assert [(s.uuid, s.rule) for s in stripped] == [("out", "sharing-group")]


def test_real_event_keeps_every_uuid_value_and_tag_that_may_leave():
    event = fixture_event("existing_event.json")
    shaped, stripped = release(event, NATO)
    # This export (CIRCL's MISP) holds galaxy clusters and one related event at distribution 0: they stay home,
    # and each cluster's tag goes with it; attributes and objects (distribution 3 and inherit) are untouched.
    closed = {c["tag_name"] for g in event["Galaxy"] for c in g["GalaxyCluster"] if c["distribution"] == "0"}
    assert len(closed) == 14
    assert {(s.what, s.rule) for s in stripped} == {
        ("galaxy cluster", "distribution-0"),
        ("related event", "distribution-0"),
    }
    assert [t["name"] for t in shaped["Tag"]] == [t["name"] for t in event["Tag"] if t["name"] not in closed]
    assert len(shaped["Tag"]) == len(event["Tag"]) - 14
    assert shaped["Attribute"] is event["Attribute"]
    assert shaped["Object"] is event["Object"]
    kept = [r["Event"]["uuid"] for r in event["RelatedEvent"] if r["Event"]["distribution"] != "0"]
    assert [r["Event"]["uuid"] for r in shaped["RelatedEvent"]] == kept
    assert len(kept) == len(event["RelatedEvent"]) - 1


def test_stamp_sets_what_misp_sets_on_save():
    edited = fixture_event("existing_event_edited.json")
    assert "timestamp" not in edited
    assert "timestamp" not in edited["Object"][0]
    stamp(edited, 1_900_000_000)
    assert edited["timestamp"] == "1900000000"
    assert edited["Object"][0]["timestamp"] == "1900000000"
    assert edited["Object"][0]["Attribute"][0]["timestamp"] == "1900000000"
    assert edited["Attribute"][0]["timestamp"] == "1513893921"  # what had one keeps it


def test_hub_validation_leaves_the_event_whole():
    from connectors.misp.envelope import envelope
    from hub.core.validate import Valid, validate
    from schemas.common import Side

    event = fixture_event("existing_event.json")
    checked = validate(envelope(copy.deepcopy(event), Side.EU))
    assert isinstance(checked, Valid)
    assert checked.envelope.payload.Event == event  # PyMISP's check must not pop object names or related events
