"""Sealed replays on a SQLite ledger: a submission id answers for one message, and only that one is replayed."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

import pytest

from hub.config.keystore import load_keyring
from hub.core.admit import SID_MAX, Submitted, message_digest
from hub.core.policy import ReleasePolicy
from hub.core.replay import reuse_id
from hub.core.route import route
from hub.core.signing import Trust
from hub.demo.scenario import BASE_TIME, envelope
from hub.ledger import Ledger
from hub.worker.batch import decide_batch
from tests.conftest import TEST_SIGNERS, write_test_keyring

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def ledger(ledger_url):
    led = Ledger(ledger_url)
    yield led
    led.close()


@pytest.fixture
def trust(tmp_path):
    return Trust(load_keyring(write_test_keyring(tmp_path / "keyring.json")), required=True)


def signed(sid: str, doc: dict) -> Submitted:
    raw = json.dumps(doc).encode()
    return Submitted(sid, raw, tuple(TEST_SIGNERS.headers(raw)))


def item(seed: int = 1, **markings) -> dict:
    doc = envelope(random.Random(seed), "assessment", "EU", BASE_TIME)
    doc["markings"] = {"tlp": "GREEN", **markings}
    return doc


def decide(ledger, trust, *items):
    return decide_batch(ledger, list(items), ReleasePolicy(), NOW, trust)


def test_the_same_bytes_under_a_decided_id_are_a_replay_and_count_nothing(ledger, trust):
    first = decide(ledger, trust, signed("a", item()))
    again = decide(ledger, trust, signed("a", item()))
    assert [(p.outcome.decision.value, p.replayed) for p in first + again] == [
        ("delivered", False),
        ("delivered", True),
    ]
    assert again[0].record == first[0].record
    assert ledger.size() == 1


def test_other_bytes_under_a_decided_id_are_rejected_as_sid_reuse_and_recorded(ledger, trust):
    decide(ledger, trust, signed("a", item()))
    red = item(2, classification="EU SECRET", releasable_to=["EU"], tlp="RED")
    unsigned = Submitted("a", json.dumps(red).encode())  # unsigned, TLP:RED: what issue 10 saw cross
    forged = Submitted("a", json.dumps(item(3)).encode(), tuple(TEST_SIGNERS.headers(json.dumps(item(4)).encode())))
    resigned = signed("a", item(5))  # a genuine publisher's new item, under an id it has used already
    done = decide(ledger, trust, unsigned, forged, resigned)
    assert [(p.outcome.decision.value, p.outcome.rule, p.replayed) for p in done] == [
        ("rejected", "sid-reuse", False)
    ] * 3
    assert [p.record.submission_id for p in done] == [
        reuse_id("a", message_digest(i)) for i in (unsigned, forged, resigned)
    ]
    assert all(p.outcome.envelope is None for p in done)  # nothing of the new bytes is routed
    for p, i in zip(done, (unsigned, forged, resigned), strict=True):
        topics = {o.topic for o in route(p.outcome, p.record.seq, p.record.as_json(), i.value)}
        assert topics == {"hub.decisions", "hub.rejected"}
    assert ledger.size() == 4
    # A replay of the reusing message (a crash) is recognised by its own record, not counted again.
    again = decide(ledger, trust, unsigned)
    assert (again[0].replayed, again[0].outcome.rule, again[0].record.seq) == (True, "sid-reuse", done[0].record.seq)
    assert ledger.size() == 4
    assert ledger.counts() == ledger.recount()


def test_other_signature_headers_are_other_bytes(ledger, trust):
    raw = json.dumps(item()).encode()
    decide(ledger, trust, Submitted("a", raw, tuple(TEST_SIGNERS.headers(raw))))
    done = decide(ledger, trust, Submitted("a", raw))  # the same value, without its signature
    assert done[0].outcome.rule == "sid-reuse"


def test_a_reuse_inside_one_batch_is_caught_too(ledger, trust):
    done = decide(ledger, trust, signed("a", item()), signed("a", item()), signed("a", item(7)))
    assert [(p.outcome.rule, p.replayed) for p in done] == [("new", False), ("new", True), ("sid-reuse", False)]
    assert ledger.size() == 2


def test_every_record_holds_its_seal_and_its_submitter(ledger, trust):
    msg = signed("a", item())
    rec = decide(ledger, trust, msg)[0].record
    assert rec.message_digest == message_digest(msg)
    assert rec.submitter == "EU:EU Hybrid Fusion Cell"
    assert rec.hash == rec.expected_hash()
    public = json.loads(route(decide(ledger, trust, msg)[0].outcome, 1, rec.as_json(), msg.value)[0].value)
    assert "message_digest" not in public
    assert public["submitter"] == "EU:EU Hybrid Fusion Cell"


@pytest.mark.parametrize(
    ("given", "safe"),
    [(b"3f0e9a52-1c1d-4e43-9c1f-2b2b3c4d5e6f", True), (b"s1", True), (b"a" * SID_MAX, True),
     (b"a" * (SID_MAX + 1), False), (b"raw:abc:0:1", False), (b"reuse:00:x", False), (b"a b", False),
     (b"-a", False), (b"\xff", False), ("é".encode(), False), (b"a\x00", False), (b"a\n", False)],
)  # fmt: skip
def test_hub_sid_is_held_to_a_safe_alphabet_and_length(given, safe, ledger, trust):
    raw = json.dumps(item()).encode()
    msg = Submitted.of([("hub-sid", given), *TEST_SIGNERS.headers(raw)], 2, 41, raw)
    done = decide(ledger, trust, msg)[0]
    if safe:
        assert (msg.submission_id, done.outcome.rule) == (given.decode(), "new")
    else:
        assert msg.submission_id.startswith("raw:")
        assert msg.submission_id.endswith(":2:41")
        assert done.outcome.rule == "invalid-sid"
        assert "header `hub-sid`" in done.outcome.reason
