"""Hostile load through the real worker: decompression bombs, a poison output, a huge event; the hub goes on.

Each test runs `hub up` as a child process on the embedded broker and checks what an operator would:
the worker never stops, every hostile message is rejected with a reason, the good items behind them
reach their inbox, and afterwards every `delivered` record has its inbox message and the reverse.
"""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime

import pytest

from hub.demo.scenario import BASE_TIME, envelope, misp_event, mixed
from hub.kafka.publisher import Publisher
from hub.ledger import Ledger
from hub.settings import KafkaSettings
from tests.conftest import publish, read_topic
from tests.faults.hostile import HeaderTable
from tests.load.agreement import assert_ledger_and_inboxes_agree

pytestmark = [pytest.mark.broker, pytest.mark.slow]
MIB = 1024 * 1024
BOMBS = 48  # the figure: 48 messages, ~93 KB on the wire, took the worker to 3.6 GB
BOMB_BYTES = 60 * MIB
PEAK_LIMIT_KB = 1024 * 1024  # the worker stays under 1 GiB resident at its peak


def peak_rss_kb(pid: int) -> int:
    """VmHWM of a process: its peak resident set, in kB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


async def wait_for(ledger: Ledger, n: int, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while ledger.size() < n and loop.time() < deadline:
        await asyncio.sleep(0.2)


async def publish_unsigned(bootstrap: str, good: list[bytes], hostile: list[bytes]) -> tuple[list[str], list[str]]:
    """Publish the hostile items unsigned (zstd, as any producer may) and the good ones signed; their sids."""
    table = HeaderTable()
    for raw in hostile:
        table.fixed[raw] = []
    async with Publisher(KafkaSettings(bootstrap=bootstrap, partitions=4), bootstrap, signer=table) as pub:
        bad_sids = await pub.publish(hostile)
        good_sids = await pub.publish(good)
    return bad_sids, good_sids


async def test_decompression_bombs_are_rejected_within_a_gibibyte(broker, ledger_url, start_worker, tmp_path):
    worker = start_worker()
    bomb = b"A" * BOMB_BYTES  # ~2 KB on the wire with zstd
    good = mixed(total=24, duplicates=0, updates=0, red=0, malformed_n=0, seed=11).items
    hostile = [bomb] * BOMBS
    warm = await publish(broker.bootstrap, good[:4])  # the worker is warm before the bombs arrive
    bad_sids, good_sids = await publish_unsigned(broker.bootstrap, good[4:], hostile)
    ledger = Ledger(ledger_url)
    await wait_for(ledger, len(good) + BOMBS, timeout=120)

    assert worker.proc is not None
    assert worker.proc.poll() is None, "the worker stopped"
    peak = peak_rss_kb(worker.proc.pid)
    print(f"\nworker peak RSS (VmHWM) with {BOMBS} bombs of {BOMB_BYTES // MIB} MiB: {peak / 1024:.0f} MiB")
    assert peak <= PEAK_LIMIT_KB
    records = {r.submission_id: r for r in ledger.records()}
    assert len(records) == len(good) + BOMBS
    # Refused unread by the fetch guard (they inflate 30,000-fold): no header was read, so their
    # submission ids are derived from where they were (`raw:topic:partition:offset`).
    bombs = [r for s, r in records.items() if s not in set(warm + good_sids)]
    assert len(bombs) == BOMBS
    assert {(r.decision, r.rule) for r in bombs} == {("rejected", "too-large")}
    assert all("a decompression bomb" in r.reason for r in bombs)
    assert {records[s].decision for s in warm + good_sids} == {"delivered"}
    assert await assert_ledger_and_inboxes_agree(broker.bootstrap, ledger) == {
        s for s, r in records.items() if r.decision == "delivered"
    }
    rejected = await read_topic(broker.bootstrap, "hub.rejected", BOMBS + len(good), timeout=10)
    assert {dict(r.headers)["hub-sid"].decode() for r in rejected} == {r.submission_id for r in bombs}
    assert len(bad_sids) == BOMBS
    assert "Traceback" not in (tmp_path / "worker-0.log").read_text(errors="replace")
    ledger.close()


def huge_event() -> bytes:
    """A genuine MISP event of ~58 MiB (270,000 attributes), under the 64 MiB a submission may be."""
    doc = envelope(random.Random(2), "misp_event", "EU", BASE_TIME, attributes=1)
    doc["payload"] = misp_event(random.Random(1), "CERT-EU", 270_000, datetime(2026, 6, 1, tzinfo=UTC))
    raw = json.dumps(doc).encode()
    assert 58 * MIB <= len(raw) < 64 * MIB
    return raw


async def test_a_poison_output_and_a_huge_event_do_not_stop_the_hub(broker, ledger_url, start_worker, tmp_path):
    worker = start_worker()
    # JSON-escaped, ~75 MB: beyond what a message may be; random, so not refused unread as a bomb
    control = bytes(random.Random(3).choices(range(1, 32), k=12 * MIB))
    good = mixed(total=3, duplicates=0, updates=0, red=0, malformed_n=0, seed=12).items
    first = await publish(broker.bootstrap, good[:1])
    bad_sids, _ = await publish_unsigned(broker.bootstrap, [], [control, huge_event()])
    after = await publish(broker.bootstrap, good[1:])
    ledger = Ledger(ledger_url)
    await wait_for(ledger, 5, timeout=150)

    assert worker.proc is not None
    assert worker.proc.poll() is None, "the worker stopped"
    records = {r.submission_id: r for r in ledger.records()}
    assert [records[s].decision for s in bad_sids] == ["rejected", "rejected"]
    assert [records[s].decision for s in first + after] == ["delivered"] * 3
    assert await assert_ledger_and_inboxes_agree(broker.bootstrap, ledger) == set(first + after)
    rejected = {json.loads(r.value)["submission_id"]: r for r in await read_topic(broker.bootstrap, "hub.rejected", 2)}
    assert set(rejected) == set(bad_sids)
    for sid in bad_sids:
        body = json.loads(rejected[sid].value)
        assert body["reason"] == records[sid].reason
        assert len(rejected[sid].value) <= 64 * MIB + 1024 * 1024
    log = (tmp_path / "worker-0.log").read_text(errors="replace")
    assert "Traceback" not in log
    ledger.close()
