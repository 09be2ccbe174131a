"""A MISP feed connector SIGKILLed mid-sync resumes from its watermark: nothing lost, little resent.

`hub misp feed-import` saves its watermark only after the broker acknowledged a batch, so a kill
re-submits at most the batch in flight; the hub's dedupe turns those into duplicates, never into
second deliveries.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from connectors.misp.envelope import ORGANISATIONS
from connectors.misp.sync import BATCH_EVENTS
from hub.config.keystore import write_private_key
from hub.demo.scenario import BASE_TIME, misp_event
from hub.ledger import Ledger
from hub.report.counts import totals
from schemas.common import Side
from tests.conftest import TEST_KEYS
from tests.connectors.helpers import write_feed

pytestmark = [pytest.mark.broker, pytest.mark.slow]

EVENTS = 3000  # enough for the import to take a few seconds, so the kill lands mid-sync
KILL_AFTER = 2 * BATCH_EVENTS  # watermark entries saved before the kill


def watermarked(data_dir: Path) -> int:
    """Events in the feed connector's saved watermark (0 before its first save)."""
    for path in (data_dir / "connectors").glob("misp-feed-eu-*.db"):
        try:
            with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)) as db:
                return int(db.execute("SELECT COUNT(*) FROM versions").fetchone()[0])
        except sqlite3.Error:
            return 0  # created but not set up yet: look again
    return 0


async def test_feed_import_killed_mid_sync_resumes_from_its_watermark(
    broker, ledger_url, start_worker, worker_env, tmp_path
):
    rng = random.Random(41)
    events = [misp_event(rng, "CERT-EU", 1, BASE_TIME + timedelta(minutes=i))["Event"] for i in range(EVENTS)]
    feed = tmp_path / "eu-feed"
    write_feed(feed, events, now=int(BASE_TIME.timestamp()))
    key = tmp_path / "eu.pem"
    write_private_key(TEST_KEYS[("EU", ORGANISATIONS[Side.EU])], key)
    data = tmp_path / "connector"
    env = {**os.environ, **worker_env, "HUB_DATA_DIR": str(data), "HUB_SIGNING__KEY_FILE": str(key)}
    cmd = [sys.executable, "-m", "hub", "misp", "feed-import", str(feed), "--side", "eu", "--once"]
    await asyncio.to_thread(start_worker)

    first = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 120
    while watermarked(data) < KILL_AFTER and first.poll() is None and loop.time() < deadline:
        await asyncio.sleep(0.005)
    assert first.poll() is None, "the import finished before the kill: raise EVENTS"
    first.kill()
    first.wait()
    saved = watermarked(data)
    assert KILL_AFTER <= saved < EVENTS

    second = await asyncio.to_thread(subprocess.run, cmd, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    resubmitted = int(second.stdout.split()[1])
    assert resubmitted == EVENTS - saved  # it resumed from the watermark, not from the start
    assert watermarked(data) == EVENTS

    ledger = Ledger(ledger_url)
    while ledger.size() < EVENTS and loop.time() < deadline:
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)
    counted = totals(ledger.counts())
    assert counted["delivered"] == EVENTS  # every event crossed exactly once
    assert counted["duplicate"] <= BATCH_EVENTS  # at most the batch in flight was sent again
    assert ledger.size() - EVENTS == counted["duplicate"]  # anything sent twice was absorbed as a duplicate
    delivered = {r.source_id for r in ledger.records() if r.decision == "delivered"}
    assert delivered == {e["uuid"] for e in events}
    assert ledger.counts() == ledger.recount()
    print(
        f"\nconnector crash: killed with {saved} of {EVENTS} events watermarked; {resubmitted} submitted on resume; "
        f"{counted['duplicate']} in-flight events re-sent and absorbed as duplicates"
    )
    ledger.close()
