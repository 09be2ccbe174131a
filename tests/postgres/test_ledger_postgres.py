"""The production ledger backend on the local PostgreSQL server."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import psycopg
import pytest

from hub.core.decide import Submitted
from hub.core.policy import ReleasePolicy
from hub.demo.scenario import mixed
from hub.ledger import Ledger
from hub.ledger.schema import ADVISORY_LOCK, MIGRATIONS
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


def test_opening_a_current_ledger_takes_no_lock_and_changes_no_schema(pg_url):
    """A worker's batch lock and an auditor's open read transaction do not delay opening the ledger."""
    Ledger(pg_url).close()  # the first open sets the schema up
    with psycopg.connect(pg_url) as writer, psycopg.connect(pg_url) as auditor:
        writer.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK,))  # a batch in flight
        auditor.execute("SELECT COUNT(*) FROM ledger").fetchone()  # a long read transaction, left open
        start = time.monotonic()
        ledger = Ledger(pg_url)
        ledger.counts()
        ledger.close()
        assert time.monotonic() - start < 2.0
        version = auditor.execute("SELECT version FROM ledger_schema").fetchone()
        assert version == (len(MIGRATIONS),)


def test_a_disabled_guard_is_restored_on_open_with_a_warning(pg_url, caplog):
    Ledger(pg_url).close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE ledger DISABLE TRIGGER ledger_append_only")
    with caplog.at_level("WARNING", logger="hub.ledger"):
        Ledger(pg_url).close()
    assert "append-only guard was missing or disabled" in caplog.text
    with psycopg.connect(pg_url) as conn:
        state = conn.execute("SELECT tgenabled FROM pg_trigger WHERE tgname = 'ledger_append_only'").fetchall()
    assert state == [("O",)]  # enabled again
