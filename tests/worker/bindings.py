"""The two bindings of the engine's contract tests: the in-memory pair and the embedded broker.

Each binding gives the engine its `Clients`, puts submissions on `hub.submitted`, reads outputs,
and can fail or hold acknowledgements; both log acknowledgements and commits in one ordered list
(`events`) so a test can check that no offset was committed before its batch's outputs were
acknowledged. The memory pair does this natively (`MemoryKafka`); on the broker a thin layer over
aiokafka's real clients does it (the real messages are written; a "failed" acknowledgement is one
the broker gave but the engine is told was lost, so the re-sent copy is a real duplicate).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaTimeoutError

from hub.core.route import SID_HEADER, SUBMITTED
from hub.kafka.topics import ensure_topics
from hub.settings import KafkaSettings, PipelineSettings, Settings
from hub.worker.clients import Clients, Consumer, KafkaClients, Producer
from hub.worker.memory import MemoryKafka
from tests.conftest import read_topic

OUT = "engine.out"  # the topic the tests' decide sends to
PARTITIONS = 2


def engine_settings(bootstrap: str | None, batch_size: int) -> Settings:
    """Settings for an engine under test: its own group, small batches, a quick session."""
    return Settings(
        app_id=f"engine-{uuid.uuid4().hex[:8]}",
        kafka=KafkaSettings(bootstrap=bootstrap, partitions=PARTITIONS, session_timeout_s=2),
        pipeline=PipelineSettings(batch_size=batch_size, batch_within_s=0.02),
    )


class Binding:
    """What the contract tests need of a Kafka: clients, submissions, outputs, acknowledgements, commits."""

    name = "?"
    bootstrap = "memory:9092"  # a host:port in form, never dialled: the in-memory pair has no network
    rebalance_s = 0.5  # a rebalance that nobody holds up is over by then
    events: list[tuple[str, Any]]

    def clients(self, settings: Settings) -> Clients:
        raise NotImplementedError

    async def submit(self, values: list[bytes], partition: int) -> None:
        raise NotImplementedError

    async def outputs(self, expect: int) -> list[bytes]:
        raise NotImplementedError

    def fail_acks(self, n: int) -> None:
        raise NotImplementedError

    def hold_acks(self, matches: Callable[[str, bytes], bool]) -> Any:
        raise NotImplementedError

    async def close(self) -> None:
        """Let background work finish."""

    def release_holds(self) -> None:
        """Release every hold, so engines waiting on acknowledgements can stop."""
        for hold in self.holds:
            hold.release()

    def commits(self, group: str) -> list[dict[int, int]]:
        """The offsets of `hub.submitted` committed by `group`, call by call."""
        return [
            {tp.partition: o for tp, o in offsets.items()}
            for kind, (g, offsets) in self.events
            if kind == "commit" and g == group
        ]

    def committed(self, group: str) -> dict[int, int]:
        """The last committed offset of each partition of `hub.submitted` for `group`."""
        last: dict[int, int] = {}
        for offsets in self.commits(group):
            last.update(offsets)
        return last


class MemoryBinding(Binding):
    """The engine on `MemoryKafka`."""

    name = "memory"

    def __init__(self) -> None:
        self.kafka = MemoryKafka(partitions=PARTITIONS)
        self.events = self.kafka.events
        self.holds: list[Any] = []

    def clients(self, settings: Settings) -> Clients:
        return self.kafka.clients(f"{settings.app_id}.batch")

    async def submit(self, values: list[bytes], partition: int) -> None:
        for v in values:
            self.kafka.append(SUBMITTED, v, key=None, headers=[(SID_HEADER, v)], partition=partition)

    async def outputs(self, expect: int) -> list[bytes]:
        return [r.value for r in self.kafka.records(OUT)]

    def fail_acks(self, n: int) -> None:
        self.kafka.fail_acks(n)

    def hold_acks(self, matches: Callable[[str, bytes], bool]) -> Any:
        self.holds.append(self.kafka.hold_acks(matches))
        return self.holds[-1]

    async def close(self) -> None:
        await self.kafka.settled()


class _Hold:
    def __init__(self, matches: Callable[[str, bytes], bool]) -> None:
        self.matches = matches
        self.released = asyncio.Event()

    def release(self) -> None:
        self.released.set()


class BrokerBinding(Binding):
    """The engine on the embedded broker, through aiokafka's clients (wrapped only to log and steer acks)."""

    name = "broker"
    rebalance_s = 1.5  # Tansu makes a join wait half the session timeout (2 s here), and the rebalance timeout is 2 s

    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.events = []
        self._fail = 0
        self.holds: list[Any] = []

    async def setup(self) -> None:
        await ensure_topics(KafkaSettings(bootstrap=self.bootstrap, partitions=PARTITIONS), self.bootstrap)
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(OUT, PARTITIONS, 1)])
        finally:
            await admin.close()

    def clients(self, settings: Settings) -> Clients:
        return _LoggedClients(KafkaClients(settings, self.bootstrap), self, f"{settings.app_id}.batch")

    async def submit(self, values: list[bytes], partition: int) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap)
        await producer.start()
        try:
            acks = [await producer.send(SUBMITTED, v, partition=partition, headers=[(SID_HEADER, v)]) for v in values]
            await asyncio.gather(*acks)
        finally:
            await producer.stop()

    async def outputs(self, expect: int) -> list[bytes]:
        return [r.value for r in await read_topic(self.bootstrap, OUT, expect, timeout=10)]

    def fail_acks(self, n: int) -> None:
        self._fail += n

    def hold_acks(self, matches: Callable[[str, bytes], bool]) -> Any:
        hold = _Hold(matches)
        self.holds.append(hold)
        return hold

    async def acknowledged(self, topic: str, value: bytes, real: asyncio.Future[Any]) -> Any:
        """The engine's view of one acknowledgement: the broker's, then held or failed as the test asks."""
        result = await real
        for hold in self.holds:
            if hold.matches(topic, value):
                await hold.released.wait()
        if self._fail:
            self._fail -= 1
            raise KafkaTimeoutError()
        self.events.append(("ack", (topic, value)))
        return result


class _LoggedConsumer:
    def __init__(self, inner: Consumer, binding: BrokerBinding, group: str) -> None:
        self.inner, self.binding, self.group = inner, binding, group

    def subscribe(self, topics: Any, listener: ConsumerRebalanceListener) -> None:
        self.inner.subscribe(topics, listener=listener)

    async def start(self) -> None:
        await self.inner.start()

    async def stop(self) -> None:
        await self.inner.stop()

    async def getmany(self, *, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[Any]]:
        return await self.inner.getmany(timeout_ms=timeout_ms, max_records=max_records)

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        await self.inner.commit(offsets)
        self.binding.events.append(("commit", (self.group, dict(offsets))))

    def highwater(self, tp: TopicPartition) -> int | None:
        return self.inner.highwater(tp)


class _LoggedProducer:
    def __init__(self, inner: Producer, binding: BrokerBinding) -> None:
        self.inner, self.binding = inner, binding

    async def start(self) -> None:
        await self.inner.start()

    async def stop(self) -> None:
        await self.inner.stop()

    async def send(
        self, topic: str, value: bytes, *, key: bytes | None = None, headers: list[tuple[str, bytes]] | None = None
    ) -> asyncio.Future[Any]:
        real = await self.inner.send(topic, value, key=key, headers=headers)
        return asyncio.ensure_future(self.binding.acknowledged(topic, value, real))


class _LoggedClients:
    def __init__(self, inner: KafkaClients, binding: BrokerBinding, group: str) -> None:
        self.inner, self.binding, self.group = inner, binding, group

    def consumer(self) -> Consumer:
        return _LoggedConsumer(self.inner.consumer(), self.binding, self.group)

    def producer(self) -> Producer:
        return _LoggedProducer(self.inner.producer(), self.binding)
