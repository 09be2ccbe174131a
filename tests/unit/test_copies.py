"""Copies of one version (MISP #4975): the content decides, whatever the order; a withheld copy blocks nothing.

Pure: `decide_all` over generated envelopes, the dedupe state carried from one submission to the
next as the ledger would carry it, and a model of the receiving side (the sinks replace on a newer
version and add parts by UUID at the same version).
"""

from __future__ import annotations

import copy
import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.core.copies import parts, tokens
from hub.core.decide import Known, Submitted, decide_all
from hub.core.decision import Decision, Outcome
from hub.core.dedupe import Seen
from hub.core.policy import ReleasePolicy
from hub.core.validate import validate
from hub.demo.scenario import BASE_TIME, envelope
from schemas.envelope import MispEventEnvelope

POLICY = ReleasePolicy()
NOW = datetime(2026, 7, 1, tzinfo=UTC)
EVENT = "07d4bedc-5143-4193-a6c3-f3391a2b8f1f"
POOL = [str(uuid.UUID(int=i + 1)) for i in range(6)]  # the attribute UUIDs copies draw from
RED = str(uuid.UUID(int=99))  # an attribute marked TLP:RED: stripped from every copy that holds it


def event(parts: list[str], *, stamp: int = 0, tlp: bool = True, info: str = "x") -> dict[str, Any]:
    """A MISP event envelope of `EVENT` at BASE_TIME + `stamp` hours with attributes `parts`."""
    doc = envelope(random.Random(1), "misp_event", "EU", BASE_TIME)
    body = doc["payload"]["Event"]
    body["uuid"], body["info"] = EVENT, info
    body["timestamp"] = str(int((BASE_TIME + timedelta(hours=stamp)).timestamp()))
    template = body["Attribute"][0]
    body["Attribute"] = []
    for n, part in enumerate(parts):
        attr = {**copy.deepcopy(template), "uuid": part, "value": f"203.0.113.{n + 1}"}
        if part == RED:
            attr["Tag"] = [{"name": "tlp:red"}]
        body["Attribute"].append(attr)
    if not tlp:
        doc["markings"].pop("tlp", None)
        body["Tag"] = []
    return doc


def run(docs: list[dict[str, Any]], state: dict[str, Seen] | None = None) -> tuple[list[Outcome], dict[str, Seen]]:
    """Decide `docs` one submission (one batch) at a time, the state carried between them."""
    state = dict(state or {})
    outcomes = []
    for n, doc in enumerate(docs):
        value = json.dumps(doc).encode()
        d = decide_all([Submitted(f"s{n}-{uuid.uuid4()}", value)], [validate(value)], Known({}, state, {}), POLICY, NOW)
        state.update(d.changed)
        outcomes += d.fresh
    return outcomes, state


def receive(outcomes: list[Outcome]) -> tuple[datetime | None, set[str]]:
    """What the receiving side ends with: (version, attribute UUIDs), as the sinks apply deliveries."""
    version: datetime | None = None
    held: set[str] = set()
    for o in outcomes:
        if not o.crosses:
            continue
        assert isinstance(o.envelope, MispEventEnvelope)
        parts = {a["uuid"] for a in o.envelope.payload.Event["Attribute"]}
        if version is None or o.envelope.version > version:
            version, held = o.envelope.version, parts
        elif o.envelope.version == version:
            held |= parts
    return version, held


def test_light_then_heavy_and_heavy_then_light_both_end_with_the_heavy_copy():
    light, heavy = event(POOL[:1]), event(POOL)
    first, _ = run([light, heavy])
    assert [(o.decision, o.rule) for o in first] == [(Decision.DELIVERED, "new"), (Decision.UPDATED, "fuller-copy")]
    second, _ = run([heavy, light])
    assert [(o.decision, o.rule) for o in second] == [
        (Decision.DELIVERED, "new"),
        (Decision.DUPLICATE, "filtered-copy"),
    ]
    assert receive(first)[1] == receive(second)[1] == set(POOL)
    assert "adds 5 attribute/object UUID(s)" in first[1].reason


def test_an_equal_copy_is_a_filtered_copy_and_the_very_copy_that_crossed_a_same_version_duplicate():
    outcomes, _ = run([event(POOL[:3]), event(POOL[:3], info="other title"), event(POOL[:3])])
    assert [(o.decision, o.rule) for o in outcomes][1:] == [
        (Decision.DUPLICATE, "filtered-copy"),
        (Decision.DUPLICATE, "same-version"),
    ]


def test_a_diverging_copy_crosses_and_the_counterpart_ends_with_the_union():
    outcomes, state = run([event(POOL[:3]), event(POOL[2:])])
    assert (outcomes[1].decision, outcomes[1].rule) == (Decision.UPDATED, "diverging-copy")
    assert "adds 3 attribute/object UUID(s) and lacks 2" in outcomes[1].reason
    assert receive(outcomes)[1] == set(POOL)
    assert parts(state[f"misp_event:{EVENT}"].held) == frozenset({EVENT, *POOL})
    again, _ = run([event(POOL[1:4])], state)  # a subset of the union now
    assert (again[0].decision, again[0].rule) == (Decision.DUPLICATE, "filtered-copy")


def test_a_copy_withheld_for_no_tlp_does_not_block_a_later_tlp_green_copy_of_the_same_version():
    outcomes, state = run([event(POOL, tlp=False), event(POOL)])
    assert [(o.decision, o.rule) for o in outcomes] == [(Decision.WITHHELD, "no-tlp"), (Decision.DELIVERED, "new")]
    assert parts(state[f"misp_event:{EVENT}"].held) == frozenset({EVENT, *POOL})


def test_a_withheld_fuller_copy_leaves_what_the_counterpart_holds():
    outcomes, state = run([event(POOL[:2]), event(POOL, tlp=False), event(POOL[:4])])
    assert [o.rule for o in outcomes] == ["new", "no-tlp", "fuller-copy"]
    assert receive(outcomes)[1] == set(POOL[:4])


def test_stripped_parts_do_not_make_a_copy_fuller():
    outcomes, _ = run([event(POOL[:2]), event([*POOL[:2], RED])])
    assert (outcomes[1].decision, outcomes[1].rule) == (Decision.DUPLICATE, "same-version")  # released: the same
    outcomes, _ = run([event(POOL[:3]), event([*POOL[:2], RED])])
    assert (outcomes[1].decision, outcomes[1].rule) == (Decision.DUPLICATE, "filtered-copy")


def test_a_copy_from_another_organisation_cannot_add_parts():
    first, state = run([event(POOL[:1])])
    other = event(POOL)
    other["originator"] = "Another CERT"
    outcomes, _ = run([other], state)
    assert (outcomes[0].decision, outcomes[0].rule) == (Decision.DUPLICATE, "same-version")


def test_notes_copies_of_one_version_keep_the_larger_whatever_the_order():
    small = envelope(random.Random(3), "stratcom_note", "EU", BASE_TIME)
    large = copy.deepcopy(small)
    large["payload"]["narratives"].append("A second narrative the filtered copy left out")
    a, _ = run([small, large])
    b, _ = run([large, small])
    assert [o.rule for o in a] == ["new", "fuller-copy"]
    assert [o.rule for o in b] == ["new", "filtered-copy"]
    assert a[1].envelope is not None
    assert b[0].envelope is not None
    assert tokens(a[1].envelope) == tokens(b[0].envelope)


COPY = st.tuples(
    st.integers(0, 1),  # version: BASE_TIME or an hour later
    st.sets(st.sampled_from([*POOL, RED]), min_size=0, max_size=7),  # its attributes
    st.booleans(),  # marked TLP:GREEN (else no TLP: withheld)
)


@settings(max_examples=60, deadline=None)
@given(st.lists(COPY, min_size=1, max_size=6), st.randoms(use_true_random=False))
def test_the_receiving_side_ends_with_the_fullest_releasable_version_whatever_the_order(copies, rng):
    # A withheld newer version ends its older versions' copies (they are older); so the top version
    # has a releasable copy here, as it has whenever the owner's newest edit may cross.
    top = max(v for v, _, _ in copies)
    copies = [*copies, (top, set(), True)]
    docs = [event(sorted(parts), stamp=v, tlp=tlp) for v, parts, tlp in copies]
    shuffled = docs[:]
    rng.shuffle(shuffled)
    want = set().union(*(parts - {RED} for v, parts, tlp in copies if v == top and tlp))
    for order in (docs, shuffled):
        version, held = receive(run(order)[0])
        assert version == BASE_TIME + timedelta(hours=top)
        assert held == want


def test_the_merged_copy_coming_back_from_the_other_side_is_an_echo_not_a_refusal():
    _, state = run([event(POOL[:2]), event(POOL[:5])])
    back = event(POOL[:5])  # the NATO MISP stamped the merge a second newer; its pull sends it back
    back["payload"]["Event"]["timestamp"] = str(int(back["payload"]["Event"]["timestamp"]) + 1)
    back["origin"], back["originator"] = "NATO", "NCIRC"
    outcomes, _ = run([back], state)
    assert (outcomes[0].decision, outcomes[0].rule) == (Decision.DUPLICATE, "echo")
    more = event(POOL)  # with a part the hub never delivered: still not theirs to change
    more["payload"]["Event"]["timestamp"] = back["payload"]["Event"]["timestamp"]
    more["origin"], more["originator"] = "NATO", "NCIRC"
    outcomes, _ = run([more], state)
    assert (outcomes[0].decision, outcomes[0].rule) == (Decision.REJECTED, "not-owner")
