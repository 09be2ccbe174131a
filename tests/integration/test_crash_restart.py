"""SIGKILL the worker mid-run and restart it: the same exact counts, nothing lost, nothing twice."""

from __future__ import annotations

import asyncio

import pytest

from hub.demo.scenario import mixed
from hub.ledger import Ledger
from tests.conftest import THOUSAND_MIXED, assert_exact_counts, publish, read_topic

pytestmark = pytest.mark.broker


async def test_sigkill_mid_run_and_restart_gives_the_same_numbers(broker, ledger_url, start_worker):
    sc = mixed(total=1000, duplicates=100, updates=50, red=30, malformed_n=20, seed=74)
    worker = start_worker(HUB_PIPELINE__BATCH_SIZE="50")  # small batches so the kill lands mid-run
    sids = await publish(broker.bootstrap, sc.items)
    ledger = Ledger(ledger_url)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while ledger.size() < 200 and loop.time() < deadline:
        await asyncio.sleep(0.02)
    killed_at = ledger.size()
    worker.kill()
    assert 0 < killed_at < 1000, "the kill must land mid-run"
    start_worker()
    deadline = loop.time() + 90
    while ledger.size() < 1000 and loop.time() < deadline:
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)  # let a wrongly replayed batch show up, if any
    assert ledger.size() == 1000
    assert_exact_counts(ledger, THOUSAND_MIXED)
    assert sorted(r.submission_id for r in ledger.records()) == sorted(sids)
    delivered = {r.submission_id for r in ledger.records() if r.decision in ("delivered", "updated")}
    seen: set[str] = set()
    for topic in ("nato.inbox", "eu.inbox"):
        for rec in await read_topic(broker.bootstrap, topic, 850, timeout=5):
            seen.add(dict(rec.headers)["hub-sid"].decode())
    assert seen == delivered  # every delivered item reached its inbox at least once, nothing else did
    ledger.close()
