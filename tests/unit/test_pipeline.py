"""The batch core on a SQLite ledger: one decision per submission, replays not re-counted."""

from __future__ import annotations

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


def test_rejected_output_carries_the_item_and_reason(ledger):
    done = decide_batch(ledger, [Submitted("bad", b"\xff{")], ReleasePolicy(), NOW)
    outs = route(done[0].outcome, done[0].record.seq, done[0].record.as_json(), b"\xff{")
    body = json.loads(next(o for o in outs if o.topic == "hub.rejected").value)
    assert body["reason"] == "not valid UTF-8 at byte 0"
    assert body["item_base64"] == "/3s="


def test_ledger_is_append_only(ledger):
    import sqlite3

    run(ledger, mixed(total=10, duplicates=0, updates=0, red=0, malformed_n=0).items)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        ledger.conn.execute("UPDATE ledger SET decision='withheld' WHERE seq=1")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        ledger.conn.execute("DELETE FROM ledger WHERE seq=1")
