"""The delivery store: what the hub signed for a side, kept in the ledger's database through the real worker."""

from __future__ import annotations

import asyncio
import json
import random
import time
from datetime import UTC, datetime, timedelta

import pytest

from connectors.store import delivered
from hub.demo.scenario import BASE_TIME, envelope, updated
from hub.ledger import Ledger
from hub.ledger.deliveries import ObjectQuery, count, objects, put
from hub.ledger.refusals import refusals
from schemas.common import Side
from tests.conftest import publish
from tests.connectors.test_hostile_peer import publish_raw

pytestmark = [pytest.mark.broker, pytest.mark.e2e]
KINDS = ("assessment", "stratcom_note", "misp_event")


async def store_holds(ledger_url: str, side: str, n: int, timeout: float = 60.0) -> int:
    """Wait until the store keeps `n` deliveries for `side`; returns how many it keeps."""
    deadline = time.monotonic() + timeout
    led = Ledger(ledger_url)
    try:
        while (got := count(led, side)) < n and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        return got
    finally:
        led.close()


async def test_the_worker_keeps_what_it_delivered_and_refuses_what_it_did_not_sign(
    broker, ledger_url, start_worker, tmp_path
):
    start_worker()
    rng = random.Random(7)
    sent = [envelope(rng, kind, "EU", BASE_TIME) for kind in KINDS]
    sent.append(updated(sent[0], BASE_TIME + timedelta(hours=1)))
    await publish(broker.bootstrap, [json.dumps(i).encode() for i in sent])
    await publish_raw(broker.bootstrap, "nato.inbox", json.dumps(sent[1]).encode(), "forged-1")  # not signed by the hub
    assert await store_holds(ledger_url, "NATO", 4) == 4
    await asyncio.sleep(1.0)  # nothing else arrives
    led = Ledger(ledger_url)
    assert count(led, "NATO") == 4
    assert count(led, "EU") == 0
    reports = objects(led, ObjectQuery("NATO", types=("report",), versions=("all",)), 100)
    assert sorted(o.object["id"].split("--")[1] for o in reports) == sorted(
        [sent[0]["source_id"], sent[0]["source_id"], sent[1]["source_id"]]
    )
    assert not any(r.connector == "store-nato" for r in refusals(led))  # logged, not recorded: not a destination
    log = (tmp_path / "worker-0.log").read_text()
    assert "refused a message on nato.inbox (submission forged-1)" in log
    led.close()


def test_writes_are_idempotent_and_date_added_strictly_increases(ledger_url):
    led = Ledger(ledger_url)
    rng = random.Random(3)
    items = [delivered(Side.NATO, {**envelope(rng, "assessment", "EU", BASE_TIME), "content_hash": f"{i:064x}"})
             for i in range(5)]  # fmt: skip
    now = datetime.now(UTC)
    assert put(led, items, now) == 5
    assert put(led, items, now) == 0  # read again: nothing changes
    got = objects(led, ObjectQuery("NATO", versions=("all",)), 1000)
    assert len(got) == 7  # five reports; one identity and one marking definition, the same version for all
    added = [o.date_added for o in got]
    assert added == sorted(added)
    assert len(set(added)) == len(added)
    led.close()


@pytest.mark.postgres
def test_on_postgres_the_store_tokens_and_statuses_work_alike(pg_url):
    from hub.ledger.deliveries import deliveries
    from hub.ledger.statuses import StatusRecord, Submitted, load, save
    from hub.ledger.tokens import add, holder_of, revoke

    test_writes_are_idempotent_and_date_added_strictly_increases(pg_url)
    led = Ledger(pg_url)
    try:
        assert len(deliveries(led, "NATO")) == 5
        holder, token = add(led, "NCIRC", "NATO")
        assert holder_of(led, token) == holder
        assert revoke(led, holder.token_id)
        assert holder_of(led, token) is None
        status = StatusRecord(
            "s-1", "EU", "CERT-EU", "2026-12-01T00:00:00.000000Z", [Submitted("report--x", "v", "sid")], []
        )
        save(led, status)
        assert load(led, "s-1") == status
    finally:
        led.close()
