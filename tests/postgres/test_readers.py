"""Readers never stall the workers on PostgreSQL (issue 17, point 11).

With an auditor's read transaction held open on the ledger, `hub counts` (the real command, which
opens the ledger) and a worker's batch (the ledger transaction `decide_batch`) stay within 2x of
the same run without it. Every reader path (counts, report, audit verify, audit list, refusals,
the dashboard's endpoints), left with its transaction open, holds nothing but ACCESS SHARE locks,
no advisory lock, and a worker's batch goes through meanwhile. Opening a ledger one migration
behind, with the auditor's transaction open, applies the migration without waiting for it.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime

import psycopg
import pytest

from hub.audit.listing import filters, listed
from hub.audit.verify import verify
from hub.core.decide import Submitted
from hub.core.policy import ReleasePolicy
from hub.dashboard import api
from hub.demo.scenario import mixed
from hub.errors import LedgerError
from hub.ledger import Ledger
from hub.ledger.refusals import Refusal, record, refusals
from hub.report import build, resolve
from hub.worker.batch import decide_batch
from tests.audit.ledgers import as_one_chain

pytestmark = pytest.mark.postgres
NOW = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)
TODAY = date(2026, 6, 20)
BATCH = 100  # submissions per measured batch
RUNS = 3  # median of three: one slow run of a loaded machine does not decide


class Items:
    """Fresh scenario items, BATCH at a time, with unique submission ids."""

    def __init__(self) -> None:
        self.items = mixed(total=3000, duplicates=0, updates=0, red=0, malformed_n=0, attributes=2).items
        self.next = 0

    def batch(self) -> list[Submitted]:
        start, self.next = self.next, self.next + BATCH
        return [Submitted(f"s{i}", self.items[i]) for i in range(start, self.next)]


def batch_seconds(worker: Ledger, items: Items) -> float:
    start = time.monotonic()
    decide_batch(worker, items.batch(), ReleasePolicy(), NOW)
    return time.monotonic() - start


def counts_seconds(pg_url: str) -> float:
    env = {**os.environ, "HUB_LEDGER_URL": pg_url}
    start = time.monotonic()
    subprocess.run([sys.executable, "-m", "hub", "counts"], env=env, check=True, capture_output=True, timeout=60)
    return time.monotonic() - start


def median(measure) -> float:
    return statistics.median(measure() for _ in range(RUNS))


def auditor_reading(pg_url: str) -> psycopg.Connection:
    """An auditor's long query: a read transaction over every ledger table, left open."""
    conn = psycopg.connect(pg_url)
    for table in ("ledger", "items", "counts", "refusals", "ledger_schema"):
        conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()  # noqa: S608 - constant names
    return conn


@pytest.fixture
def worker(pg_url):
    ledger = Ledger(pg_url)
    items = Items()
    for _ in range(5):
        decide_batch(ledger, items.batch(), ReleasePolicy(), NOW)  # 500 records to read
    record(ledger, Refusal.of(connector="c", side="NATO", role="sink", item=None, version=None,
                              submission_id="s1", location="nato.inbox/0@0", reason="blocked"))  # fmt: skip
    yield ledger, items
    ledger.close()


def test_an_open_read_transaction_does_not_slow_counts_or_a_batch(pg_url, worker):
    ledger, items = worker
    counts_free, batch_free = median(lambda: counts_seconds(pg_url)), median(lambda: batch_seconds(ledger, items))
    auditor = auditor_reading(pg_url)
    try:
        counts_held, batch_held = median(lambda: counts_seconds(pg_url)), median(lambda: batch_seconds(ledger, items))
        assert auditor.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS  # still open throughout
    finally:
        auditor.close()
    print(
        f"\nhub counts {counts_free:.2f} s -> {counts_held:.2f} s with a read transaction open; "
        f"a {BATCH}-item batch {batch_free * 1000:.0f} ms -> {batch_held * 1000:.0f} ms"
    )
    assert counts_held <= 2 * counts_free
    assert batch_held <= 2 * batch_free


# Every transaction holds locks on its own ids (virtualxid, transactionid): those make nobody wait.
LOCKS_HELD = "SELECT locktype, mode FROM pg_locks WHERE pid = %s AND locktype NOT IN ('virtualxid', 'transactionid')"
READERS = {
    "counts": lambda led: (led.counts(), led.recount()),
    "report": lambda led: build(led, resolve("2026-06-01", "2026-06-30", TODAY), TODAY),
    "audit verify": lambda led: verify(led),
    "audit list": lambda led: list(listed(led, filters({}, None, None))),
    "audit refusals": lambda led: list(refusals(led)),
    "dashboard summary": lambda led: api.summary(led, {}, TODAY),
    "dashboard records": lambda led: api.records(led, {}, TODAY),
    "dashboard series": lambda led: api.series(led, {}, TODAY),
}


@pytest.mark.parametrize("reader", list(READERS))
def test_no_reader_holds_a_lock_a_worker_waits_for(pg_url, worker, reader):
    ledger, items = worker
    free = median(lambda: batch_seconds(ledger, items))
    opened = Ledger(pg_url)  # as the command or the dashboard opens it
    try:
        READERS[reader](opened)  # and then leaves its transaction open, the worst a reader can do
        with psycopg.connect(pg_url, autocommit=True) as admin:
            held = admin.execute(LOCKS_HELD, (opened.conn.info.backend_pid,)).fetchall()
        assert {mode for _, mode in held} <= {"AccessShareLock"}, held
        assert all(kind != "advisory" for kind, _ in held)
        during = median(lambda: batch_seconds(ledger, items))
    finally:
        opened.close()
    assert during <= 2 * free, f"{reader}: {free * 1000:.0f} ms -> {during * 1000:.0f} ms"


def test_a_migration_that_alters_the_ledger_waits_for_readers_then_says_why(pg_url, worker, monkeypatch):
    """A ledger one version behind (one chain) is brought up once its readers are gone, not before.

    The partitioned chain adds two columns to `ledger`: PostgreSQL lets that wait for every open
    reader of the table. The upgrade gives up after the lock timeout with a reason a person can act
    on, rather than hold every worker behind it; once the auditor is gone it applies. (Migrations
    that only create a table, as the refusals did, do not wait.)
    """
    as_one_chain(pg_url)
    monkeypatch.setattr("hub.ledger.schema.MIGRATION_LOCK_TIMEOUT_S", 1)
    auditor = psycopg.connect(pg_url)
    for table in ("ledger", "items", "counts", "ledger_schema"):
        auditor.execute(f"SELECT COUNT(*) FROM {table}").fetchone()  # noqa: S608 - constant names
    try:
        start = time.monotonic()
        with pytest.raises(LedgerError, match=r"open transactions on it \(an auditor's reads\?\) held their locks"):
            Ledger(pg_url).close()
        assert time.monotonic() - start < 5.0
    finally:
        auditor.close()
    upgraded = Ledger(pg_url)
    try:
        assert upgraded.heads() == [(0, 500, upgraded.head()[1])]  # the old records are chain 0
        assert verify(upgraded).records == 500
    finally:
        upgraded.close()
