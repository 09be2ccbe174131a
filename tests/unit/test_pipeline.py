"""The batch core on a SQLite ledger: one decision per submission, replays not re-counted."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime

import pytest

from hub.core.decide import Submitted
from hub.core.policy import ReleasePolicy
from hub.core.route import route
from hub.demo.scenario import mixed
from hub.ledger import Ledger
from hub.worker.batch import decide_batch
from tests.conftest import THOUSAND_MIXED, assert_exact_counts

NOW = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)


@pytest.fixture
def ledger(ledger_url):
    led = Ledger(ledger_url)
    yield led
    led.close()


def run(ledger, items, start=0, batch=100):
    out = []
    for i in range(0, len(items), batch):
        chunk = [Submitted(f"s{start + j}", raw) for j, raw in enumerate(items[i : i + batch], start=i)]
        out += decide_batch(ledger, chunk, ReleasePolicy(), NOW)
    return out


def test_the_thousand_item_scenario_decides_exactly(ledger):
    sc = mixed()
    done = run(ledger, sc.items)
    assert [p.outcome.decision.value for p in done].count("delivered") == 800
    assert sc.expected == THOUSAND_MIXED
    assert_exact_counts(ledger, THOUSAND_MIXED)


def test_replaying_a_batch_returns_recorded_decisions_and_counts_nothing(ledger):
    sc = mixed(total=100, duplicates=10, updates=5, red=5, malformed_n=5)
    first = run(ledger, sc.items)
    before = ledger.counts()
    again = run(ledger, sc.items)
    assert ledger.counts() == before
    assert ledger.size() == 100
    assert all(p.replayed for p in again)
    assert [p.outcome.decision for p in again] == [p.outcome.decision for p in first]
    assert [p.record.seq for p in again] == [p.record.seq for p in first]


def test_same_submission_twice_in_one_batch_is_decided_once(ledger):
    raw = mixed(total=10, duplicates=0, updates=0, red=0, malformed_n=0).items[0]
    done = decide_batch(ledger, [Submitted("x", raw), Submitted("x", raw)], ReleasePolicy(), NOW)
    assert ledger.size() == 1
    assert [p.replayed for p in done] == [False, True]


def test_chain_links_every_record(ledger):
    run(ledger, mixed(total=60, duplicates=5, updates=5, red=5, malformed_n=5).items, batch=7)
    records = list(ledger.records())
    assert [r.seq for r in records] == list(range(1, 61))
    assert all(r.hash == r.expected_hash() for r in records)
    assert all(b.prev_hash == a.hash for a, b in zip(records, records[1:], strict=False))


def test_outputs_go_to_the_counterpart_inbox_with_machine_tags(ledger):
    sc = mixed(total=12, duplicates=0, updates=0, red=0, malformed_n=0)
    done = run(ledger, sc.items)
    for p, raw in zip(done, sc.items, strict=True):
        outs = {o.topic: o for o in route(p.outcome, p.record.seq, p.record.as_json(), raw)}
        origin = json.loads(raw)["origin"]
        inbox = "nato.inbox" if origin == "EU" else "eu.inbox"
        assert set(outs) == {"hub.decisions", inbox}
        delivered = json.loads(outs[inbox].value)
        assert 'hub:area="' + delivered["area"] + '"' in delivered["tags"]
        assert "tlp:green" in delivered["tags"]
        assert delivered["content_hash"] == p.outcome.content_hash


def test_rejected_output_of_a_closed_item_carries_no_content(ledger):
    bomb = bytes(range(32)) * (12 * 1024 * 1024 // 32)  # 12 MiB of control bytes: 75 MB once JSON-escaped
    done = decide_batch(ledger, [Submitted("bomb", bomb)], ReleasePolicy(), NOW)
    out = next(o for o in route(done[0].outcome, 1, done[0].record.as_json(), bomb) if o.topic == "hub.rejected")
    assert json.loads(out.value)["size"] == len(bomb)
    assert len(out.value) < 1024
    done = decide_batch(ledger, [Submitted("bad", b"\xff{")], ReleasePolicy(), NOW)
    outs = route(done[0].outcome, done[0].record.seq, done[0].record.as_json(), b"\xff{")
    body = json.loads(next(o for o in outs if o.topic == "hub.rejected").value)
    assert body == {
        "submission_id": "bad",
        "rule": "invalid",
        "reason": "the submission is invalid; the reason is in the hub's ledger (the item is not openly marked)",
        "seq": 2,
        "size": 2,
    }
    assert done[0].record.reason == "not valid UTF-8 at byte 0"  # the ledger keeps the full reason


def test_rejected_output_of_an_openly_marked_item_carries_a_bounded_excerpt(ledger):
    doc = json.loads(mixed(total=10, duplicates=0, updates=0, red=0, malformed_n=0).items[0])
    doc["proposals"] = [99]
    doc["payload"]["note"] = "\\" * 400_000  # backslashes: twice their size once JSON-escaped
    raw = json.dumps(doc).encode()
    done = decide_batch(ledger, [Submitted("bad", raw)], ReleasePolicy(), NOW)
    out = next(o for o in route(done[0].outcome, 1, done[0].record.as_json(), raw) if o.topic == "hub.rejected")
    body = json.loads(out.value)
    assert body["reason"].startswith("field `proposals.0`")
    assert body["sha256"] == hashlib.sha256(raw).hexdigest()
    assert body["size"] == len(raw)
    assert body["truncated"] is True
    assert len(out.value) <= 66 * 1024  # the excerpt and a few fields: never a JSON-escaped copy of the item
    shown = base64.b64decode(body["excerpt_base64"]) if "excerpt_base64" in body else body["excerpt"].encode()
    assert raw.startswith(shown)


def test_ledger_is_append_only(ledger):
    import sqlite3

    run(ledger, mixed(total=10, duplicates=0, updates=0, red=0, malformed_n=0).items)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        ledger.conn.execute("UPDATE ledger SET decision='withheld' WHERE seq=1")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        ledger.conn.execute("DELETE FROM ledger WHERE seq=1")


def test_the_decisions_topic_shows_no_hash_tags_or_digest_of_what_did_not_cross(ledger):
    sc = mixed(total=2, duplicates=0, updates=0, red=1, malformed_n=0)
    done = run(ledger, sc.items)
    public = {}
    for p, raw in zip(done, sc.items, strict=True):
        out = next(o for o in route(p.outcome, p.record.seq, p.record.as_json(), raw) if o.topic == "hub.decisions")
        public[p.record.decision] = json.loads(out.value)
    assert {k: (v["content_hash"], v["tags"]) for k, v in public.items()} == {
        "delivered": (done[0].record.content_hash, json.loads(done[0].record.tags)),
        "withheld": (None, []),
    }
    assert done[1].record.content_hash is not None  # the ledger keeps it; the shared topic does not
    assert all("message_digest" not in v for v in public.values())
