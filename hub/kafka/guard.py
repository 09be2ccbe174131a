"""A consumer whose fetches are checked before aiokafka reads them: no batch inflates beyond a ceiling.

aiokafka has no hook between receiving a fetch response and reading its batches, and it inflates a
compressed batch whole when it reads the first record (see `hub.kafka.inflate`). `FetchGuard`
wraps one consumer's client `send` (its own client, before the consumer starts: no other consumer
is touched) and passes every Fetch response's message sets through `hub.kafka.batches.guard`.
A refused batch reaches the consumer as one empty record; `GuardedConsumer.getmany` hands it on
as a `Refused` record carrying the reason, which the worker decides as a rejection.

Written against aiokafka 0.14 (pinned): `AIOKafkaConsumer._client` and the Fetch response's
`topics` field, `[(topic, [(partition, error, highwater, ..., message_set)])]`, as the Kafka
protocol defines it. `tests/kafka/test_guard.py` fails if either moves.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition

from hub.kafka.batches import guard

log = logging.getLogger("hub.kafka")
FETCH_API_KEY = 1  # the Kafka protocol's Fetch request
REMEMBERED = 10_000  # refusals kept until the engine reads their record; a refetch records them again


@dataclass(frozen=True)
class Refused:
    """The record standing for a refused batch: where it was and why; no key, value or headers."""

    topic: str
    partition: int
    offset: int
    refused: tuple[str, str]  # (rule, reason)
    headers: tuple[tuple[str, bytes], ...] = ()
    key: bytes | None = None
    value: bytes | None = None


class FetchGuard:
    """Checks the fetch responses of one consumer and remembers what it refused, by offset."""

    def __init__(self, ceiling: int) -> None:
        self.ceiling = ceiling
        self.refused: OrderedDict[tuple[str, int, int], tuple[str, str]] = OrderedDict()

    def install(self, consumer: AIOKafkaConsumer) -> None:
        """Check every fetch response `consumer` receives from now on (call before it starts)."""
        client = consumer._client
        send = client.send

        async def checked(node_id: int, request: Any, **kwargs: Any) -> Any:
            response = await send(node_id, request, **kwargs)
            if getattr(request, "API_KEY", None) == FETCH_API_KEY and response is not None:
                # Off the event loop: checking a response full of bombs takes a while, and the
                # consumer's heartbeats must go on meanwhile (a missed one costs a rebalance).
                for where, why in await asyncio.to_thread(self.rewrite, response):
                    self._remember(where, why)  # on the loop, where `take` reads them
            return response

        client.send = checked

    def rewrite(self, response: Any) -> list[tuple[tuple[str, int, int], tuple[str, str]]]:
        """Replace the response's message sets by their guarded form; the refusals, by (topic, partition, offset)."""
        topics = []
        refused = []
        for topic, partitions in response.topics:
            kept = []
            for partition in partitions:
                data = partition[-1]
                if data:
                    data, refusals = guard(data, self.ceiling)
                    for r in refusals:
                        log.warning("%s[%d] offset %d refused: %s", topic, partition[0], r.offset, r.reason)
                        refused.append(((topic, partition[0], r.offset), (r.rule, r.reason)))
                kept.append((*partition[:-1], data))
            topics.append((topic, kept))
        response.topics = topics
        return refused

    def _remember(self, where: tuple[str, int, int], why: tuple[str, str]) -> None:
        self.refused[where] = why
        self.refused.move_to_end(where)
        while len(self.refused) > REMEMBERED:
            self.refused.popitem(last=False)

    def take(self, record: Any) -> Any:
        """`record`, or its `Refused` stand-in when its batch was refused."""
        why = self.refused.pop((record.topic, record.partition, record.offset), None)
        if why is None:
            return record
        return Refused(record.topic, record.partition, record.offset, why)


class GuardedConsumer:
    """aiokafka's consumer with every fetch guarded; refused batches come out as `Refused` records."""

    def __init__(self, consumer: AIOKafkaConsumer, ceiling: int) -> None:
        self.consumer = consumer
        self.guard = FetchGuard(ceiling)
        self.guard.install(consumer)

    def subscribe(self, topics: Sequence[str], listener: ConsumerRebalanceListener) -> None:
        """Join the group for `topics`."""
        self.consumer.subscribe(list(topics), listener=listener)

    async def start(self) -> None:
        """Connect."""
        await self.consumer.start()

    async def stop(self) -> None:
        """Leave the group and disconnect."""
        await self.consumer.stop()

    async def getmany(self, *, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[Any]]:
        """Up to `max_records` records by partition, refused batches as `Refused` records."""
        fetched: dict[TopicPartition, list[Any]] = await self.consumer.getmany(
            timeout_ms=timeout_ms, max_records=max_records
        )
        if self.guard.refused:
            return {tp: [self.guard.take(r) for r in records] for tp, records in fetched.items()}
        return fetched

    def highwater(self, tp: TopicPartition) -> int | None:
        """The partition's end as the last fetch saw it, or None before one (for the consumer lag)."""
        value: int | None = self.consumer.highwater(tp)
        return value

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        """Commit the next offsets to read."""
        await self.consumer.commit(offsets)
