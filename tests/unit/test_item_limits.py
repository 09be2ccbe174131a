"""The cost of validating one item is bounded: MISP events over the attribute or object caps are refused first."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

import pytest

from hub.core.validate import DEFAULT_LIMITS, Invalid, ItemLimits, Valid, validate
from hub.demo.scenario import BASE_TIME, envelope, misp_event
from hub.settings import load_settings
from schemas.misp_event import MISP_ATTRIBUTES, MISP_OBJECTS


def event_doc(attributes: int, objects: int = 0, per_object: int = 2) -> dict:
    doc = envelope(random.Random(3), "misp_event", "EU", BASE_TIME, attributes=1)
    ev = misp_event(random.Random(4), "CERT-EU", attributes, datetime(2026, 6, 1, tzinfo=UTC))["Event"]
    template = ev["Attribute"][0]
    ev["Object"] = [
        {"name": "file", "meta-category": "file", "template_uuid": "688c46fb-5edb-40a3-8273-1af7923e2215",
         "template_version": "24", "uuid": f"00000000-0000-4000-8000-{n:012d}", "timestamp": ev["timestamp"],
         "distribution": "5", "sharing_group_id": "0", "comment": "", "deleted": False,
         "Attribute": [{**template, "uuid": f"10000000-0000-4000-8000-{n * per_object + k:012d}",
                        "object_relation": "filename", "type": "filename", "value": f"f{k}.exe"}
                       for k in range(per_object)]}
        for n in range(objects)
    ]  # fmt: skip
    doc["payload"] = {"Event": ev}
    return doc


def check(doc: dict, limits: ItemLimits = DEFAULT_LIMITS) -> Valid | Invalid:
    return validate(json.dumps(doc).encode(), limits)


def test_the_defaults_are_the_settings_defaults():
    settings = load_settings()
    assert (settings.limits.misp_attributes, settings.limits.misp_objects) == (MISP_ATTRIBUTES, MISP_OBJECTS)
    assert ItemLimits() == ItemLimits(MISP_ATTRIBUTES, MISP_OBJECTS)


def test_an_event_at_the_caps_is_valid():
    assert isinstance(check(event_doc(6, objects=2), ItemLimits(misp_attributes=10, misp_objects=2)), Valid)


@pytest.mark.parametrize(
    ("attributes", "objects", "limits", "reason"),
    [
        (11, 0, ItemLimits(10, 5), "Event has 11 attributes (objects' included), over the limit of 10 per event"),
        (7, 2, ItemLimits(10, 5), "Event has 11 attributes (objects' included), over the limit of 10 per event"),
        (1, 6, ItemLimits(100, 5), "Event has 6 objects, over the limit of 5 per event"),
    ],
)
def test_over_the_caps_is_refused_with_a_reason(attributes, objects, limits, reason):
    result = check(event_doc(attributes, objects), limits)
    assert isinstance(result, Invalid)
    assert result.reason == f"field `payload`: {reason}"
    assert (result.hint.kind, result.hint.origin) == ("misp_event", "EU")


def test_the_cap_is_checked_before_the_per_attribute_checks():
    doc = event_doc(2000)
    doc["payload"]["Event"]["Attribute"][-1]["type"] = "no-such-type"  # what the per-attribute checks would find
    assert "no-such-type" in check(doc).reason
    capped = check(doc, ItemLimits(misp_attributes=1000))
    assert (
        capped.reason
        == "field `payload`: Event has 2,000 attributes (objects' included), over the limit of 1,000 per event"
    )
