"""The production ledger backend on the local PostgreSQL server."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest

from hub.core.decide import Submitted
from hub.core.policy import ReleasePolicy
from hub.demo.scenario import mixed
from hub.ledger import Ledger
from hub.report.counts import totals
from hub.worker.batch import decide_batch

pytestmark = pytest.mark.postgres
NOW = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)


def test_scenario_on_postgres_gives_exact_counts_and_a_valid_chain(pg_url):
    sc = mixed()
    ledger = Ledger(pg_url)
    for i in range(0, 1000, 250):
        decide_batch(ledger, [Submitted(f"s{j}", sc.items[j]) for j in range(i, i + 250)], ReleasePolicy(), NOW)
    assert totals(ledger.counts()) == sc.expected
    assert ledger.counts() == ledger.recount()
    records = list(ledger.records(batch=300))
    assert [r.seq for r in records] == list(range(1, 1001))
    assert all(r.hash == r.expected_hash() for r in records)
    again = decide_batch(ledger, [Submitted("s5", sc.items[5])], ReleasePolicy(), NOW)
    assert again[0].replayed
    assert ledger.size() == 1000
    ledger.close()


def test_two_workers_share_one_chain(pg_url):
    sc = mixed(total=200, duplicates=0, updates=0, red=0, malformed_n=0)
    a, b = Ledger(pg_url), Ledger(pg_url)
    for i in range(0, 200, 20):
        led = a if (i // 20) % 2 else b
        decide_batch(led, [Submitted(f"s{j}", sc.items[j]) for j in range(i, i + 20)], ReleasePolicy(), NOW)
    records = list(a.records())
    assert all(y.prev_hash == x.hash for x, y in zip(records, records[1:], strict=False))
    assert totals(a.counts())["delivered"] == 200
    a.close()
    b.close()


def test_postgres_ledger_is_append_only(pg_url):
    ledger = Ledger(pg_url)
    decide_batch(
        ledger,
        [Submitted("s0", mixed(total=10, duplicates=0, updates=0, red=0, malformed_n=0).items[0])],
        ReleasePolicy(),
        NOW,
    )
    ledger.close()
    with psycopg.connect(pg_url) as conn, pytest.raises(psycopg.errors.RaiseException, match="append-only"):
        conn.execute("DELETE FROM ledger")
