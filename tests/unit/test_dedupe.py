"""Deduplication decisions: versions, content hashes, echoes."""

from __future__ import annotations

import random
from datetime import timedelta

from hub.core.canonical import content_hash
from hub.core.dedupe import Seen, dedupe
from hub.demo.scenario import BASE_TIME, envelope, updated
from schemas.common import Side
from schemas.envelope import SUBMISSION


def make(kind: str = "assessment", origin: str = "EU", seed: int = 5):
    doc = envelope(random.Random(seed), kind, origin, BASE_TIME)
    e = SUBMISSION.validate_python(doc)
    return doc, e, content_hash(e)


def test_new_item():
    _, e, h = make()
    assert dedupe(e, h, None, None).rule == "new"


def test_same_content_under_another_id_is_a_duplicate():
    _, e, h = make()
    v = dedupe(e, h, None, "assessment:some-other-id")
    assert (v.is_duplicate, v.rule) == (True, "same-content")


def test_versions():
    doc, e, h = make()
    seen = Seen(e.version, h, Side.EU, delivered=True)
    assert dedupe(e, h, seen, e.key).rule == "same-version"
    newer = SUBMISSION.validate_python(updated(doc, BASE_TIME + timedelta(hours=1)))
    v = dedupe(newer, content_hash(newer), seen, None)
    assert (v.is_duplicate, v.is_update) == (False, True)
    older = Seen(e.version + timedelta(days=1), "x" * 64, Side.EU, True)
    assert dedupe(e, h, older, None).rule == "older-version"


def test_newer_version_with_same_content_is_a_duplicate_for_notes_not_misp():
    doc, e, h = make("stratcom_note")
    doc2 = {**doc, "version": (BASE_TIME + timedelta(hours=1)).isoformat()}
    e2 = SUBMISSION.validate_python(doc2)
    assert dedupe(e2, content_hash(e2), Seen(e.version, h, Side.EU, True), None).rule == "same-content"


def test_misp_strictly_newer_timestamp_is_an_update_even_if_content_is_equal():
    doc, e, h = make("misp_event")
    doc2 = {**doc, "payload": {"Event": {**doc["payload"]["Event"], "timestamp": str(int(e.version.timestamp()) + 1)}}}
    e2 = SUBMISSION.validate_python(doc2)
    v = dedupe(e2, content_hash(e2), Seen(e.version, h, Side.EU, True), None)
    assert v.is_update


def test_echo_from_the_side_the_hub_delivered_into():
    _, e, h = make(origin="NATO")
    v = dedupe(e, h, Seen(e.version, h, Side.EU, delivered=True), None)
    assert (v.is_duplicate, v.rule) == (True, "echo")


def test_update_of_a_never_delivered_item_is_delivered_not_updated():
    doc, e, h = make()
    newer = SUBMISSION.validate_python(updated(doc, BASE_TIME + timedelta(hours=1)))
    v = dedupe(newer, content_hash(newer), Seen(e.version, h, Side.EU, delivered=False), None)
    assert (v.is_duplicate, v.is_update) == (False, False)
