"""The engine's seam to Kafka: the consumer and producer it needs, as protocols, and aiokafka's pair.

The batch engine touches Kafka only through `Consumer` and `Producer`. `KafkaClients` builds
aiokafka's clients from the settings (`hub.kafka.config`); tests bind the same engine to an
in-memory pair that keeps the same contract (`hub.worker.memory`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition

from hub.kafka.config import BATCH_CEILING, ENGINE_LINGER_MS, FETCH_MAX_WAIT_MS, consumer_kwargs, producer_kwargs
from hub.kafka.guard import GuardedConsumer
from hub.settings import Settings


class Consumer(Protocol):
    """A group consumer that commits by hand (aiokafka's `AIOKafkaConsumer` is one)."""

    def subscribe(self, topics: Sequence[str], listener: ConsumerRebalanceListener) -> None:
        """Join the group for `topics`; `listener` hears of revoked and assigned partitions."""
        ...

    async def start(self) -> None:
        """Connect."""
        ...

    async def stop(self) -> None:
        """Leave the group and disconnect."""
        ...

    async def getmany(self, *, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[Any]]:
        """Up to `max_records` records per call, by partition; records have headers, partition, offset, value."""
        ...

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        """Commit the next offsets to read."""
        ...

    def highwater(self, tp: TopicPartition) -> int | None:
        """The partition's end offset as last fetched, None before any fetch (for the lag)."""
        ...


class Producer(Protocol):
    """A producer whose `send` queues a message and returns the future of its acknowledgement."""

    async def start(self) -> None:
        """Connect."""
        ...

    async def stop(self) -> None:
        """Flush and disconnect."""
        ...

    async def send(
        self, topic: str, value: bytes, *, key: bytes | None = None, headers: list[tuple[str, bytes]] | None = None
    ) -> asyncio.Future[Any]:
        """Queue one message; the returned future resolves when the broker acknowledged it."""
        ...


class Clients(Protocol):
    """Makes the engine's consumer and producer."""

    def consumer(self) -> Consumer:
        """A consumer of `hub.submitted` in the engine's group."""
        ...

    def producer(self) -> Producer:
        """The producer of the engine's outputs."""
        ...


class KafkaClients:
    """aiokafka's consumer and producer, configured from the settings."""

    def __init__(self, settings: Settings, bootstrap: str) -> None:
        self.settings = settings
        self.bootstrap = bootstrap

    def consumer(self) -> Consumer:
        """aiokafka's consumer in group `<app_id>.batch`, reading up to a batch per call, its fetches guarded."""
        s = self.settings
        kwargs = consumer_kwargs(s.kafka, self.bootstrap, f"{s.app_id}.batch")
        consumer = AIOKafkaConsumer(
            **kwargs,
            client_id=f"{s.app_id}-batch",
            max_poll_records=s.pipeline.batch_size,
            fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
        )
        return GuardedConsumer(consumer, BATCH_CEILING)  # no fetched batch inflates past the ceiling

    def producer(self) -> Producer:
        """aiokafka's producer for outputs: acks from all replicas, zstd, no linger."""
        kwargs = producer_kwargs(self.settings.kafka, self.bootstrap, ENGINE_LINGER_MS)
        producer: Producer = AIOKafkaProducer(**kwargs, client_id=f"{self.settings.app_id}-batch")
        return producer
