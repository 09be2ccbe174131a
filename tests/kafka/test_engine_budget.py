"""The engine's batches end at the decompressed-bytes budget: 5 MiB items under a 8 MiB budget go two by two."""

from __future__ import annotations

import asyncio
import random

import pytest
from aiokafka import AIOKafkaProducer

from hub.core.decide import Submitted
from hub.core.route import SUBMITTED, Output
from hub.kafka.topics import ensure_topics
from hub.settings import KafkaSettings, load_settings
from hub.worker.engine import BatchEngine

MIB = 1024 * 1024
pytestmark = pytest.mark.broker


async def test_batches_end_at_the_budget(broker, tmp_path):
    settings = load_settings(
        data_dir=tmp_path, kafka={"bootstrap": broker.bootstrap, "partitions": 1}, limits={"batch_bytes": 8 * MIB}
    )
    await ensure_topics(KafkaSettings(bootstrap=broker.bootstrap, partitions=1), broker.bootstrap)
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, compression_type="zstd", max_request_size=64 * MIB)
    await producer.start()
    for i in range(10):
        value = random.Random(i).randbytes(MIB // 2) * 10  # 5 MiB, ~10x smaller on the wire: not a bomb
        await (await producer.send(SUBMITTED, value, partition=0))
    for i in range(30):
        await (await producer.send(SUBMITTED, b"small-%d" % i, partition=0))
    await producer.stop()
    seen: list[list[int]] = []
    done = asyncio.Event()

    async def decide(batch: list[Submitted]) -> list[Output]:
        seen.append([len(s.value) for s in batch])
        if sum(len(b) for b in seen) == 40:
            done.set()
        return []

    engine = BatchEngine(decide, settings, broker.bootstrap)
    await engine.start()
    try:
        await asyncio.wait_for(done.wait(), 60)
    finally:
        await engine.stop()
    big = [b for b in seen if any(n == 5 * MIB for n in b)]
    assert [len(b) for b in big[:5]] == [2, 2, 2, 2, 2]  # 5 MiB, then 10 MiB >= 8 MiB: the batch ends
    assert all(sum(b) < 8 * MIB + 5 * MIB for b in seen)  # never more than the budget plus one record
    assert sum(len(b) for b in seen) == 40
