"""The fetch guard on a real broker: a consumer's own fetches are checked, refused batches come out as Refused."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener

from hub.core.decide import Submitted, admit_all
from hub.core.validate import Invalid
from hub.kafka.guard import GuardedConsumer, Refused

MIB = 1024 * 1024
CEILING = 16 * MIB


async def produce(bootstrap: str, values: list[bytes]) -> None:
    """Each value in its own zstd batch, as any producer may send it (up to 200 MiB uncompressed)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, compression_type="zstd", max_request_size=200 * MIB)
    await producer.start()
    try:
        for v in values:
            await (await producer.send("t", v, partition=0, headers=[("hub-sid", v[:4])]))
    finally:
        await producer.stop()


class Quiet(ConsumerRebalanceListener):
    async def on_partitions_revoked(self, revoked):
        pass

    async def on_partitions_assigned(self, assigned):
        pass


async def drain(consumer, want: int) -> list:
    got: list = []
    for _ in range(100):
        for records in (await consumer.getmany(timeout_ms=200, max_records=100)).values():
            got += records
        if len(got) >= want:
            break
    return got


@pytest.mark.broker
async def test_a_bomb_comes_out_refused_and_other_consumers_are_untouched(broker):
    bomb = b"bomb" + b"\x00" * (100 * MIB)
    await produce(broker.bootstrap, [b"good-1", bomb, b"good-2"])
    raw = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap, group_id="g1", auto_offset_reset="earliest")
    guarded = GuardedConsumer(raw, CEILING)
    guarded.subscribe(["t"], listener=Quiet())
    await guarded.start()
    plain = AIOKafkaConsumer(
        "t", bootstrap_servers=broker.bootstrap, group_id=None, auto_offset_reset="earliest", fetch_max_bytes=200 * MIB
    )
    await plain.start()
    try:
        got = await drain(guarded, 3)
        assert [(r.offset, r.value) for r in got if not isinstance(r, Refused)] == [(0, b"good-1"), (2, b"good-2")]
        [refused] = [r for r in got if isinstance(r, Refused)]
        assert (refused.offset, refused.refused[0]) == (1, "too-large")
        assert refused.refused[1].endswith("a decompression bomb")  # 100 MiB of zeros: refused by its ratio
        assert (refused.value, refused.headers) == (None, ())
        unguarded = await drain(plain, 3)
        assert [len(r.value) for r in unguarded] == [6, len(bomb), 6]  # the guard is on one consumer only
    finally:
        await asyncio.gather(guarded.stop(), plain.stop())


def test_a_refused_submission_is_rejected_for_that_alone():
    batch = [
        Submitted.of([], 0, 1, None, ("too-large", "record batch refused: zstd data inflates beyond 1 bytes")),
        Submitted.of([("hub-sid", b"x")], 0, 2, b"{}"),
    ]
    first, second = admit_all(batch, None)
    assert first == Invalid("", "record batch refused: zstd data inflates beyond 1 bytes", rule="too-large")
    assert isinstance(second, Invalid)
    assert second.rule == "invalid"
    assert batch[0].submission_id.startswith("raw:")
    assert batch[0].submission_id.endswith(":0:1")
