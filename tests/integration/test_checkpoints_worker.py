"""The real worker signs checkpoints every N records and after T seconds, to the file and hub.checkpoints."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest

from hub.config.keystore import load_keyring
from hub.ledger import Ledger
from hub.ledger.checkpoints import parse, read
from tests.conftest import publish, read_topic

pytestmark = pytest.mark.broker


async def wait_for(ledger: Ledger, n: int, timeout: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while ledger.size() < n and loop.time() < deadline:
        await asyncio.sleep(0.1)


async def test_the_worker_signs_checkpoints_that_verify(
    broker, ledger_url, start_worker, worker_env, keyring_file, tmp_path
):
    from hub.demo.scenario import mixed

    start_worker(HUB_CHECKPOINTS__EVERY="10", HUB_CHECKPOINTS__INTERVAL_S="1")
    items = mixed(total=25, duplicates=0, updates=0, red=0, malformed_n=0, seed=3).items
    await publish(broker.bootstrap, items)
    ledger = Ledger(ledger_url)
    await wait_for(ledger, 25)
    await asyncio.sleep(2.5)  # the idle timer signs the head of the last batch
    path = tmp_path / "data" / "checkpoints.jsonl"
    found = read(path)
    assert found, "no checkpoint written"
    assert found[-1].seq == 25  # the head, signed once no batch came for interval_s
    assert all(b.seq > a.seq for a, b in zip(found, found[1:], strict=False))
    ring = load_keyring(keyring_file)
    assert all(c.problem(ring) is None for c in found)
    heads = {r.seq: r.hash for r in ledger.records()}
    assert all(heads[c.seq] == c.hash for c in found)
    on_topic = [parse(r.value, f"hub.checkpoints:{r.offset}") for r in await read_topic(broker.bootstrap,
                "hub.checkpoints", len(found), timeout=10)]  # fmt: skip
    assert [(c.seq, c.hash, c.sig) for c in on_topic] == [(c.seq, c.hash, c.sig) for c in found]
    env = {**os.environ, **worker_env}
    run = subprocess.run([sys.executable, "-m", "hub", "audit", "verify"], env=env, capture_output=True, text=True,
                         timeout=60, check=False)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert f"{len(found)} checkpoints signed by the hub hold (the last: seq 25" in run.stdout
    both = subprocess.run([sys.executable, "-m", "hub", "audit", "verify", "--topic"], env=env, capture_output=True,
                          text=True, timeout=60, check=False)  # fmt: skip
    assert both.returncode == 0, both.stderr
    assert f"{2 * len(found)} checkpoints signed by the hub hold" in both.stdout  # the file's and the topic's
    ledger.close()
