"""The whole pipeline on the real embedded broker: counts, inboxes, the rejected topic, the ledger."""

from __future__ import annotations

import json

import pytest

from hub.demo.scenario import mixed
from hub.ledger import Ledger
from hub.report.counts import totals
from tests.conftest import THOUSAND_MIXED, assert_exact_counts, publish, read_topic, values

pytestmark = pytest.mark.broker


async def wait_decisions(ledger_url: str, n: int, timeout: float = 60.0) -> Ledger:
    import asyncio

    ledger = Ledger(ledger_url)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while ledger.size() < n and loop.time() < deadline:
        await asyncio.sleep(0.1)
    return ledger


async def test_thousand_mixed_submissions_give_exact_counts(broker, ledger_url, start_worker):
    sc = mixed(total=1000, duplicates=100, updates=50, red=30, malformed_n=20)
    worker = start_worker()
    assert "engine: batch" in worker.log_path.read_text()
    await publish(broker.bootstrap, sc.items)
    ledger = await wait_decisions(ledger_url, 1000)
    assert_exact_counts(ledger, THOUSAND_MIXED)
    assert ledger.size() == 1000

    crossing = {
        d: sum(r[5] for r in ledger.counts() if r[3] == d and r[4] in ("delivered", "updated"))
        for d in ("EU->NATO", "NATO->EU")
    }
    assert sum(crossing.values()) == 850
    to_nato = values(await read_topic(broker.bootstrap, "nato.inbox", crossing["EU->NATO"]))
    to_eu = values(await read_topic(broker.bootstrap, "eu.inbox", crossing["NATO->EU"]))
    assert (len(to_nato), len(to_eu)) == (crossing["EU->NATO"], crossing["NATO->EU"])
    assert all(v["origin"] == "EU" for v in to_nato)
    assert all(v["origin"] == "NATO" for v in to_eu)
    assert not [v for v in to_nato + to_eu if v["markings"]["tlp"] == "RED"]
    rejected = values(await read_topic(broker.bootstrap, "hub.rejected", 20))
    assert len(rejected) == 20
    assert all(r["reason"] for r in rejected)
    ledger.close()


async def test_unreleasable_items_never_reach_the_other_inbox(broker, ledger_url, start_worker):
    sc = mixed(total=60, duplicates=0, updates=0, red=10, malformed_n=0, unreleasable=20)
    start_worker()
    await publish(broker.bootstrap, sc.items)
    ledger = await wait_decisions(ledger_url, 60)
    assert totals(ledger.counts())["withheld"] == 30
    delivered = values(await read_topic(broker.bootstrap, "nato.inbox", 15)) + values(
        await read_topic(broker.bootstrap, "eu.inbox", 15)
    )
    assert len(delivered) == 30
    for item in delivered:
        rel = item["markings"]["releasable_to"]
        assert item["markings"]["tlp"] != "RED"
        assert rel is None, json.dumps(item)[:200]
    ledger.close()


async def test_null_value_and_null_headers_are_rejected_and_the_worker_goes_on(broker, ledger_url, start_worker):
    from aiokafka import AIOKafkaProducer

    worker = start_worker()
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
    await producer.start()
    try:
        null_headers = [("hub-sid", b"null-1"), ("hub-key", None), ("hub-sig", None)]
        await producer.send_and_wait("hub.submitted", None, key=b"k", headers=null_headers)  # a tombstone
    finally:
        await producer.stop()
    good = mixed(total=1, duplicates=0, updates=0, red=0, malformed_n=0).items
    [sid] = await publish(broker.bootstrap, good)
    ledger = await wait_decisions(ledger_url, 2)
    decided = {r.submission_id: (r.decision, r.rule) for r in ledger.records()}
    assert decided == {"null-1": ("rejected", "unknown-key"), sid: ("delivered", "new")}
    assert worker.proc is not None
    assert worker.proc.poll() is None
    ledger.close()
