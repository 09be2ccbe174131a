"""A real `hub up`: `/readyz` turns ready only with its partitions, `/metrics` equals `hub counts`."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time

import pytest

from hub.demo.scenario import mixed
from hub.ledger import Ledger
from hub.report.counts import totals
from hub.worker.supervise import WorkerProcess
from tests.conftest import publish
from tests.worker.ops import counted, decisions, free_port, get, readyz, samples

pytestmark = [pytest.mark.broker, pytest.mark.e2e]

TOTAL = 5000  # the figure
ROUNDS = 5  # checkpoints during the run at which the scrape must equal `hub counts`
WAIT_S = 120.0  # 5,000 signed items take ~5 s on 2 cores; generous for a loaded machine


def hub_counts(env: dict[str, str]) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "hub", "counts", "--json"], env={**os.environ, **env}, capture_output=True, check=True
    )
    return json.loads(done.stdout)


async def settled(ledger: Ledger, size: int, port: int) -> None:
    """Wait until the ledger holds `size` decisions and this worker's counters caught up with them."""
    deadline = time.monotonic() + WAIT_S
    while ledger.size() < size or sum(decisions(port).values()) < size:
        assert time.monotonic() < deadline, f"{ledger.size()} of {size} decided"
        await asyncio.sleep(0.1)


async def test_readyz_waits_for_partitions_and_metrics_equal_hub_counts_through_5000(worker_env, broker, tmp_path):
    port = free_port()
    env = {**worker_env, "HUB_HEALTH__PORT": str(port), "HUB_PIPELINE__BATCH_SIZE": "200"}
    worker = WorkerProcess(env, tmp_path / "worker.log").start()
    try:
        answers = []
        while not worker._ready.is_set():  # poll /readyz from the moment it listens until the ready line
            answers.append(readyz(port))
            assert worker.proc is not None
            assert worker.proc.poll() is None, (tmp_path / "worker.log").read_text()
            await asyncio.sleep(0.02)
        early = [body for status, body in answers if status]
        assert early, "the health endpoint must answer before the worker is ready"
        assert early[0] == {"ready": False, "partitions": None, "problems": ["waiting for partitions of hub.submitted"]}
        assert all(body["partitions"] == [0, 1, 2, 3] for status, body in answers if status == 200)
        status, body = readyz(port)
        assert (status, body) == (200, {"ready": True, "partitions": [0, 1, 2, 3], "problems": []})
        assert get(port, "/healthz") == (200, '{"alive": true}')

        sc = mixed(total=TOTAL, duplicates=500, updates=250, red=150, unreleasable=100, malformed_n=100, seed=16)
        ledger = Ledger(worker_env["HUB_LEDGER_URL"])
        chunk = TOTAL // ROUNDS
        for n in range(ROUNDS):  # the run, in five parts: at each checkpoint the scrape equals `hub counts`
            await publish(broker.bootstrap, sc.items[n * chunk : (n + 1) * chunk])
            await settled(ledger, (n + 1) * chunk, port)
            assert decisions(port) == counted(hub_counts(worker_env)), f"checkpoint {n + 1}"
        assert totals(ledger.counts()) == sc.expected
        ledger.close()

        metrics = samples(port)
        rejected = sum(v for _, v in metrics["hub_rejected_total"])
        assert rejected == sc.expected["rejected"]
        assert {labels["rule"] for labels, _ in metrics["hub_rejected_total"]} == {"invalid"}
        assert metrics["hub_replayed_total"] == [({}, 0.0)]
        batches = dict((labels.get("le"), v) for labels, v in metrics["hub_batch_seconds_bucket"])
        assert batches["+Inf"] >= TOTAL / 200
        ledger_batches = metrics["hub_ledger_append_seconds_count"][0][1]
        assert ledger_batches == batches["+Inf"]  # one ledger transaction per batch
        lag = {labels["partition"]: v for labels, v in metrics["hub_consumer_lag"]}
        assert set(lag) <= {"0", "1", "2", "3"}
        assert lag
        assert all(v == 0 for v in lag.values())  # caught up
    finally:
        worker.stop()
