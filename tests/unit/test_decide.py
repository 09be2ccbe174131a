"""The pure decisions: `decide_one`, `next_state`, `decide_all`, `replayed_outcome` with no database and no event loop.

Every test here builds its inputs in memory (`validate` of generated envelopes, a `Known` snapshot)
and checks the exact decision, rule and state; nothing opens a ledger, a socket or an event loop.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hub.core.copies import received, tokens
from hub.core.decide import Known, Recorded, Submitted, decide_all, decide_one, next_state, released, replayed_outcome
from hub.core.decision import Decision
from hub.core.dedupe import Seen
from hub.core.policy import ReleasePolicy
from hub.core.route import route
from hub.core.validate import Invalid, Valid, validate
from hub.demo.scenario import BASE_TIME, envelope, updated
from schemas.common import Side

POLICY = ReleasePolicy()
NOTHING = Known(decided={}, state={}, owners={})
NOW = datetime(2026, 7, 1, tzinfo=UTC)  # a month after the scenario's items were made: none is from the future


def item(kind: str = "assessment", origin: str = "EU", seed: int = 1, **kw: Any) -> dict[str, Any]:
    return envelope(random.Random(seed), kind, origin, BASE_TIME, **kw)


def raw(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc).encode()


def checked(doc: dict[str, Any]) -> Valid:
    c = validate(raw(doc))
    assert isinstance(c, Valid), c
    return c


def decided(*docs: dict[str, Any] | bytes, known: Known = NOTHING, sids: list[str] | None = None):
    raws = [d if isinstance(d, bytes) else raw(d) for d in docs]
    batch = [Submitted(sid, r) for sid, r in zip(sids or [f"s{i}" for i in range(len(raws))], raws, strict=True)]
    return decide_all(batch, [validate(r) for r in raws], known, POLICY, NOW)


# decide_one


def test_an_invalid_item_is_rejected_with_its_field_problem_and_readable_hint():
    doc = item()
    doc["markings"]["tlp"] = "PURPLE"
    c = validate(raw(doc))
    assert isinstance(c, Invalid)
    o = decide_one("s", c, None, None, POLICY, NOW)
    assert (o.decision, o.rule, o.envelope) == (Decision.REJECTED, "invalid", None)
    assert o.reason == c.reason
    assert o.reason.startswith("field `markings.tlp`: ")
    assert (o.kind, o.area, o.direction) == ("assessment", "hybrid_threats", "EU->NATO")


@pytest.mark.parametrize("kind", ["assessment", "stratcom_note", "misp_event"])
def test_a_new_releasable_item_is_delivered_with_machine_tags(kind):
    c = checked(item(kind, "NATO"))
    o = decide_one("s", c, None, None, POLICY, NOW)
    assert (o.decision, o.rule, o.direction) == (Decision.DELIVERED, "new", "NATO->EU")
    assert 'hub:origin="NATO"' in o.tags
    assert o.content_hash == released(c.envelope, c.content_hash, POLICY)[1]  # what crosses, as MISP shapes it
    assert (o.content_hash == c.content_hash) is (kind != "misp_event")  # a MISP event's distribution steps down


def test_tlp_red_is_withheld_by_its_rule():
    o = decide_one("s", checked(item(tlp="RED")), None, None, POLICY, NOW)
    assert (o.decision, o.rule, o.tags) == (Decision.WITHHELD, "tlp-red", ())


def test_prior_state_gives_duplicate_update_and_echo():
    c = checked(item())
    v = c.envelope.version
    same = Seen(v, c.content_hash, Side.EU, delivered=True)
    older = Seen(v - timedelta(days=1), "0" * 64, Side.EU, delivered=True)
    echoed = Seen(v, "0" * 64, Side.NATO, delivered=True)
    assert decide_one("s", c, same, None, POLICY, NOW).rule == "same-version"
    assert decide_one("s", c, same, None, POLICY, NOW).decision is Decision.DUPLICATE
    up = decide_one("s", c, older, None, POLICY, NOW)
    assert (up.decision, up.rule) == (Decision.UPDATED, "newer-version")
    assert decide_one("s", c, echoed, None, POLICY, NOW).rule == "echo"
    unsent = Seen(v - timedelta(days=1), "0" * 64, Side.EU, delivered=False)
    assert decide_one("s", c, unsent, None, POLICY, NOW).decision is Decision.DELIVERED  # nothing crossed before


def test_same_content_owned_by_another_key_is_a_duplicate():
    c = checked(item())
    o = decide_one("s", c, None, "assessment:someone-else", POLICY, NOW)
    assert (o.decision, o.rule, o.reason) == (
        Decision.DUPLICATE,
        "same-content",
        "same content as assessment:someone-else",
    )
    assert decide_one("s", c, None, c.envelope.key, POLICY, NOW).decision is Decision.DELIVERED  # its own hash


# next_state


def test_next_state_after_each_decision():
    c = checked(item())
    delivered = decide_one("s", c, None, None, POLICY, NOW)
    owner = "EU:EU Hybrid Fusion Cell"  # unsigned (no key): the claimed side and originator own it
    held = tokens(c.envelope)  # what the counterpart now holds of this version
    assert next_state(delivered, None) == Seen(c.envelope.version, c.content_hash, Side.EU, True, owner, held)
    withheld = decide_one("s", checked(item(tlp="RED")), None, None, POLICY, NOW)
    assert next_state(withheld, None) is not None
    assert next_state(withheld, None).delivered is False  # type: ignore[union-attr]
    prior = Seen(c.envelope.version - timedelta(days=1), "0" * 64, Side.EU, True)
    assert next_state(withheld, prior).delivered is True  # type: ignore[union-attr]  # the counterpart still holds it
    duplicate = decide_one("s", c, next_state(delivered, None), None, POLICY, NOW)
    assert next_state(duplicate, None) is None
    bad = validate(b"{")
    assert isinstance(bad, Invalid)
    assert next_state(decide_one("s", bad, None, None, POLICY, NOW), None) is None


# decide_all


def test_a_batch_is_decided_in_order_with_state_carried_between_its_items():
    first = item()
    newer = updated(first, BASE_TIME + timedelta(hours=1))
    d = decided(first, first, newer)
    assert [(o.decision, o.rule) for o in d.fresh] == [
        (Decision.DELIVERED, "new"),
        (Decision.DUPLICATE, "same-version"),
        (Decision.UPDATED, "newer-version"),
    ]
    key = checked(first).envelope.key
    latest = checked(newer)
    owner = "EU:EU Hybrid Fusion Cell"
    held = tokens(latest.envelope) | {received(latest.content_hash)}  # its parts, and the copy as received
    assert d.changed == {key: Seen(latest.envelope.version, latest.content_hash, Side.EU, True, owner, held)}


def test_a_submission_id_is_decided_once_whatever_repeats_it():
    a, b = item(seed=1), item(seed=2)
    d = decided(a, a, b, sids=["x", "x", "y"])
    assert [o.submission_id for o in d.fresh] == ["x", "y"]
    first = decided(a, sids=["x"]).fresh[0]
    rec = Recorded("x", first.decision.value, first.reason, first.rule, first.content_hash, first.message_digest)
    again = decided(a, b, known=Known({"x": rec}, {}, {}), sids=["x", "y"])
    assert [o.submission_id for o in again.fresh] == ["y"]  # decided in an earlier run: not decided again


def test_a_withheld_copy_never_blocks_a_later_releasable_version():
    red = item(tlp="RED")
    green = updated(red, BASE_TIME + timedelta(hours=1))
    green["markings"]["tlp"] = "GREEN"
    d = decided(red, green)
    assert [(o.decision, o.rule) for o in d.fresh] == [
        (Decision.WITHHELD, "tlp-red"),
        (Decision.DELIVERED, "newer-version"),
    ]


def test_same_content_under_a_new_id_in_the_same_batch_is_a_duplicate():
    a = item(seed=1)
    copy = json.loads(json.dumps(a))
    copy["source_id"] = item(seed=2)["source_id"]
    d = decided(a, copy)
    assert [o.rule for o in d.fresh] == ["new", "same-content"]


def test_known_state_decides_and_is_not_changed_in_place():
    a = item()
    c = checked(a)
    state = {c.envelope.key: Seen(c.envelope.version, c.content_hash, Side.EU, True)}
    known = Known({}, state, {c.content_hash: c.envelope.key})
    d = decided(a, updated(a, BASE_TIME + timedelta(days=1)), known=known)
    assert [o.decision for o in d.fresh] == [Decision.DUPLICATE, Decision.UPDATED]
    assert state[c.envelope.key].version == c.envelope.version  # the snapshot is read, never written


def test_bad_input_among_good_is_rejected_and_the_rest_decided():
    d = decided(item(seed=1), b"\xff", b"[]", item(seed=2))
    assert [o.decision for o in d.fresh] == [
        Decision.DELIVERED,
        Decision.REJECTED,
        Decision.REJECTED,
        Decision.DELIVERED,
    ]
    assert d.fresh[1].reason == "not valid UTF-8 at byte 0"


# replayed_outcome


@pytest.mark.parametrize("kind", ["assessment", "stratcom_note", "misp_event"])
def test_a_replayed_delivery_sends_the_same_bytes_as_the_first_time(kind):
    doc = item(kind)
    c = checked(doc)
    first = decide_one("s", c, None, None, POLICY, NOW)
    rec = Recorded("s", first.decision.value, first.reason, first.rule, first.content_hash)
    again = replayed_outcome(rec, c, POLICY, raw(doc))
    assert (again.decision, again.rule, again.reason, again.tags) == (
        first.decision,
        first.rule,
        first.reason,
        first.tags,
    )
    record = {"seq": 7}
    assert route(again, 7, record, raw(doc)) == route(first, 7, record, raw(doc))


def test_a_replayed_misp_event_is_shaped_again_by_the_policy():
    doc = item("misp_event")
    doc["payload"]["Event"]["Attribute"][0]["Tag"] = [{"name": "tlp:red"}]  # stripped on the way out
    c = checked(doc)
    first = decide_one("s", c, None, None, POLICY, NOW)
    assert first.decision is Decision.DELIVERED
    assert "stripped" in first.reason
    rec = Recorded("s", "delivered", first.reason, first.rule, first.content_hash)
    assert replayed_outcome(rec, c, POLICY, raw(doc)).envelope == first.envelope


def test_a_replayed_rejection_has_no_envelope():
    bad = validate(b"[1]")
    rec = Recorded("s", "rejected", "not an object", "invalid", None)
    o = replayed_outcome(rec, bad, POLICY, b"[1]")
    assert (o.decision, o.envelope, o.tags, o.crosses) == (Decision.REJECTED, None, (), False)
