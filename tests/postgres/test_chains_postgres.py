"""Several writers on one PostgreSQL ledger: a lock per partition, no global lock, counts exact.

Two writers on different partitions append at the same time (neither waits for the other); two
on the same partition queue; many concurrent batches bumping the same count rows lose no update;
a message whose item key belongs to another partition makes its batch lock that one too.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest

from hub.audit.verify import verify
from hub.core.decide import Submitted
from hub.core.decision import Outcome
from hub.kafka.partitioner import home_partition
from hub.ledger import Ledger
from hub.worker.batch import locked
from tests.audit.ledgers import outcome, write

pytestmark = pytest.mark.postgres
AT = datetime(2026, 6, 3, 12, tzinfo=UTC)
HELD_S = 3.0  # how long the first writer keeps its transaction open
WRITERS = 4  # concurrent writers, one partition each
BATCHES = 25  # batches per writer
PER_BATCH = 20  # records per batch


def append(ledger: Ledger, chain: int, outcomes: list[Outcome]) -> None:
    ledger.append(outcomes, {}, AT, {o.submission_id: chain for o in outcomes})


def hold(url: str, chain: int, started: threading.Event, release: threading.Event) -> None:
    """A writer whose batch on `chain` stays open until `release`."""
    ledger = Ledger(url)
    try:
        with ledger.transaction((chain,)):
            append(ledger, chain, [outcome(decision="rejected")])
            started.set()
            release.wait(HELD_S)
    finally:
        ledger.close()


def test_writers_on_other_partitions_do_not_wait_those_on_the_same_do(pg_url):
    started, release = threading.Event(), threading.Event()
    first = threading.Thread(target=hold, args=(pg_url, 0, started, release))
    first.start()
    assert started.wait(10)
    other = Ledger(pg_url)
    try:
        began = time.monotonic()
        with other.transaction((1,)):
            append(other, 1, [outcome(decision="rejected")])
        assert time.monotonic() - began < HELD_S / 3, "a writer on partition 1 waited for partition 0"
        assert other.locks.wait_s < HELD_S / 3

        done = threading.Event()

        def same() -> None:
            with other.transaction((0,)):
                append(other, 0, [outcome(decision="rejected")])
            done.set()

        queued = threading.Thread(target=same)
        queued.start()
        assert not done.wait(0.5), "two writers on partition 0 ran at once"
        release.set()
        assert done.wait(10)
        queued.join()
    finally:
        release.set()
        first.join()
        other.close()
    ledger = Ledger(pg_url)
    try:
        assert [(c, n) for c, n, _ in ledger.heads()] == [(0, 2), (1, 1)]
        assert verify(ledger).records == 3
    finally:
        ledger.close()


def test_concurrent_batches_on_all_partitions_keep_the_counts_exact(pg_url):
    errors: list[BaseException] = []

    def writer(chain: int) -> None:
        ledger = Ledger(pg_url)
        try:
            for _ in range(BATCHES):  # every batch bumps the same count rows as every other writer's
                batch = [outcome(origin="EU") for _ in range(PER_BATCH)] + [outcome(decision="rejected")]
                write(ledger, "2026-06-03", *batch, chain=chain)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            ledger.close()

    threads = [threading.Thread(target=writer, args=(c,)) for c in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    ledger = Ledger(pg_url)
    try:
        total = WRITERS * BATCHES * (PER_BATCH + 1)
        assert ledger.counts() == ledger.recount()
        assert sum(row[5] for row in ledger.counts()) == total
        assert ledger.size() == total == len({r.seq for r in ledger.records()})
        assert [(c, n) for c, n, _ in ledger.heads()] == [(c, BATCHES * (PER_BATCH + 1)) for c in range(WRITERS)]
        assert verify(ledger).chains == WRITERS
    finally:
        ledger.close()


def test_a_key_from_another_partition_locks_its_home_partition_too(pg_url, ledger_url):
    key = "assessment:5b0b3c3e-5c3a-4b7e-9f7e-0b9c4c1a2d3e"
    home = home_partition(key, 4)
    elsewhere = (home + 1) % 4
    batch = [Submitted("s1", b"{}", partition=elsewhere)]
    shared, single = Ledger(pg_url), Ledger(ledger_url)
    try:
        assert locked(shared, batch, [key], 4) == {elsewhere, home}
        assert locked(shared, batch, [key], None) == {elsewhere}
        assert locked(single, batch, [key], 4) == {elsewhere}  # SQLite: one writer at a time anyway
        at_home = [Submitted("s2", b"{}", partition=home)]
        assert locked(shared, at_home, [key], 4) == {home}  # keyed by item, as the publisher does: nothing more
    finally:
        shared.close()
        single.close()
