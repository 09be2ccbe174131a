"""An in-memory Kafka for the engine: partitions, consumer groups with rebalances, commits, acknowledgements.

`MemoryKafka` keeps the contract the batch engine relies on from aiokafka (`hub.worker.clients`),
so the engine's tests run in-process, bound to this pair and to the embedded broker alike:
- a record is on a partition chosen by its key (or in turn without one), at the next offset;
- a consumer group shares the partitions; a member joining or leaving rebalances it: every member's
  listener hears `on_partitions_revoked` (awaited, so a batch in flight can finish and commit), then
  the new assignment with `on_partitions_assigned`; positions restart from the committed offsets;
- `getmany` returns up to `max_records` from the assigned partitions, waiting up to `timeout_ms`;
- `commit` fails with aiokafka's `CommitFailedError` for a partition the member no longer owns;
- `send` returns the future of the acknowledgement; `fail_acks` makes the next ones fail (the
  record is then not written) and `hold_acks` delays chosen ones until released.

    kafka = MemoryKafka(partitions=4)
    engine = BatchEngine(decide, settings, "memory", clients=kafka.clients("exchange-hub.batch"))
    kafka.append("hub.submitted", b"{...}", key=b"k")
"""

from __future__ import annotations

import asyncio
import itertools
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError, KafkaTimeoutError

from hub.worker.clients import Consumer, Producer


@dataclass(frozen=True)
class MemoryRecord:
    """One record as a consumer reads it (the attributes the engine uses of aiokafka's `ConsumerRecord`)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()


@dataclass
class _Hold:
    """Acknowledgements held back: those of records `matches` accepts, until `release`."""

    matches: Callable[[str, bytes], bool]
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def release(self) -> None:
        """Let the held acknowledgements (and those still to come) resolve."""
        self.released.set()


class MemoryKafka:
    """Topics of partitions, committed offsets and groups, in memory; `events` logs acks and commits in order."""

    def __init__(self, partitions: int = 4) -> None:
        self.partitions = partitions
        self.logs: dict[str, list[list[MemoryRecord]]] = {}
        self.committed: dict[tuple[str, TopicPartition], int] = {}  # (group, partition) -> next offset to read
        self.events: list[tuple[str, Any]] = []  # ("ack", (topic, value)) and ("commit", (group, offsets))
        self.groups: dict[str, list[MemoryConsumer]] = {}
        self._rebalancing: dict[str, asyncio.Task[None]] = {}
        self._fail: list[KafkaError] = []
        self._holds: list[_Hold] = []
        self._arrived = asyncio.Event()
        self._turn = itertools.count()

    def clients(self, group: str) -> MemoryClients:
        """The engine's `Clients`: a consumer of `hub.submitted` in `group` and a producer."""
        return MemoryClients(self, group)

    def append(
        self,
        topic: str,
        value: bytes,
        key: bytes | None = None,
        headers: Sequence[tuple[str, bytes]] = (),
        partition: int | None = None,
    ) -> MemoryRecord:
        """Write one record at the end of `partition`, else its key's, else the next in turn; wakes consumers."""
        parts = self.logs.setdefault(topic, [[] for _ in range(self.partitions)])
        p = partition if partition is not None else zlib.crc32(key) % len(parts) if key is not None else -1
        p = p if p >= 0 else next(self._turn) % len(parts)
        record = MemoryRecord(topic, p, len(parts[p]), key, value, tuple(headers))
        parts[p].append(record)
        self._arrived.set()
        self._arrived = asyncio.Event()
        return record

    def records(self, topic: str) -> list[MemoryRecord]:
        """Every record of `topic`, partition by partition."""
        return [r for part in self.logs.get(topic, []) for r in part]

    def end(self, tp: TopicPartition) -> int:
        """The next offset of a partition (its high watermark)."""
        parts = self.logs.get(tp.topic, [])
        return len(parts[tp.partition]) if tp.partition < len(parts) else 0

    async def settled(self) -> None:
        """Wait until the rebalances under way have run."""
        await asyncio.gather(*self._rebalancing.values())

    def fail_acks(self, n: int, error: KafkaError | None = None) -> None:
        """Fail the next `n` acknowledgements (a produce request timing out); those records are not written."""
        self._fail += [error or KafkaTimeoutError() for _ in range(n)]

    def hold_acks(self, matches: Callable[[str, bytes], bool]) -> _Hold:
        """Hold back the acknowledgements of records `matches(topic, value)` accepts until the hold is released."""
        hold = _Hold(matches)
        self._holds.append(hold)
        return hold

    async def _acknowledge(
        self,
        topic: str,
        value: bytes,
        key: bytes | None,
        headers: Sequence[tuple[str, bytes]],
        ack: asyncio.Future[Any],
    ) -> None:
        for hold in self._holds:
            if hold.matches(topic, value):
                await hold.released.wait()
        if self._fail:
            ack.set_exception(self._fail.pop(0))
            return
        record = self.append(topic, value, key, headers)
        self.events.append(("ack", (topic, value)))
        ack.set_result(record)

    def _join(self, group: str, member: MemoryConsumer | None, leaving: MemoryConsumer | None = None) -> None:
        """Change a group's members and rebalance it, after any rebalance still running."""
        previous = self._rebalancing.get(group)
        self._rebalancing[group] = asyncio.ensure_future(self._rebalance(group, member, leaving, previous))

    async def _rebalance(
        self,
        group: str,
        joining: MemoryConsumer | None,
        leaving: MemoryConsumer | None,
        previous: asyncio.Task[None] | None,
    ) -> None:
        if previous is not None:
            await previous
        members = self.groups.setdefault(group, [])
        for m in members:
            m.rebalancing = True
        await asyncio.gather(*(m.revoke() for m in members))  # every member lets go before anyone is given more
        if joining is not None:
            members.append(joining)
        if leaving is not None and leaving in members:
            members.remove(leaving)
        owned: dict[int, list[TopicPartition]] = {id(m): [] for m in members}
        topics = sorted({t for m in members for t in m.topics})
        tps = [
            TopicPartition(t, p)
            for t in topics
            for p in range(len(self.logs.setdefault(t, [[] for _ in range(self.partitions)])))
        ]
        for i, tp in enumerate(tps):
            owned[id(members[i % len(members)])].append(tp)
        await asyncio.gather(*(m.assign(owned[id(m)]) for m in members))

    def _commit(self, group: str, member: MemoryConsumer, offsets: dict[TopicPartition, int]) -> None:
        if any(tp not in member.assigned for tp in offsets):  # owned until its revocation has run
            raise CommitFailedError("the group rebalanced: these partitions belong to another member now")
        for tp, offset in offsets.items():
            self.committed[(group, tp)] = offset
        self.events.append(("commit", (group, dict(offsets))))


class MemoryConsumer:
    """A group member of `MemoryKafka` with the `Consumer` contract."""

    def __init__(self, kafka: MemoryKafka, group: str) -> None:
        self.kafka = kafka
        self.group = group
        self.topics: list[str] = []
        self.listener: ConsumerRebalanceListener | None = None
        self.assigned: list[TopicPartition] = []
        self.positions: dict[TopicPartition, int] = {}
        self.rebalancing = True  # until the first assignment

    def subscribe(self, topics: Sequence[str], listener: ConsumerRebalanceListener) -> None:
        """Name the topics and the listener; the group is joined by `start`."""
        self.topics, self.listener = list(topics), listener

    async def start(self) -> None:
        """Join the group (the rebalance runs in the background, as aiokafka's does)."""
        self.kafka._join(self.group, self)

    async def stop(self) -> None:
        """Leave the group; the others rebalance."""
        self.kafka._join(self.group, None, leaving=self)

    async def revoke(self) -> None:
        """Hear that the assigned partitions go, and wait for the listener (the batch in flight commits)."""
        try:
            if self.listener is not None and self.assigned:
                await self.listener.on_partitions_revoked(set(self.assigned))
        finally:
            self.assigned, self.positions = [], {}

    async def assign(self, partitions: list[TopicPartition]) -> None:
        """Take `partitions` from their committed offsets (the earliest when none) and tell the listener."""
        self.assigned = partitions
        self.positions = {tp: self.kafka.committed.get((self.group, tp), 0) for tp in partitions}
        self.rebalancing = False
        if self.listener is not None:
            await self.listener.on_partitions_assigned(set(partitions))

    async def getmany(self, *, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[Any]]:
        """Up to `max_records` records from the assigned partitions, waiting up to `timeout_ms` for some."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_ms / 1000
        while True:
            got = {} if self.rebalancing else self._take(max_records)
            left = deadline - loop.time()
            if got or left <= 0:
                return got
            try:
                await asyncio.wait_for(self.kafka._arrived.wait(), min(left, 0.01))
            except TimeoutError:
                pass  # a rebalance may have ended: look again

    def _take(self, max_records: int) -> dict[TopicPartition, list[Any]]:
        got: dict[TopicPartition, list[Any]] = {}
        for tp in self.assigned:
            log = self.kafka.logs.get(tp.topic, [])
            start = self.positions[tp]
            records = log[tp.partition][start : start + max_records - sum(map(len, got.values()))] if log else []
            if records:
                got[tp] = list(records)
                self.positions[tp] = start + len(records)
        return got

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        """Commit the next offsets to read; CommitFailedError for partitions this member does not own."""
        self.kafka._commit(self.group, self, offsets)

    def highwater(self, tp: TopicPartition) -> int | None:
        """The partition's end offset."""
        return self.kafka.end(tp)


class MemoryProducer:
    """A producer of `MemoryKafka` with the `Producer` contract."""

    def __init__(self, kafka: MemoryKafka) -> None:
        self.kafka = kafka
        self._pending: set[asyncio.Future[Any]] = set()

    async def start(self) -> None:
        """Nothing to connect."""

    async def stop(self) -> None:
        """Wait for the acknowledgements still pending (a flush)."""
        await asyncio.gather(*self._pending, return_exceptions=True)

    async def send(
        self, topic: str, value: bytes, *, key: bytes | None = None, headers: list[tuple[str, bytes]] | None = None
    ) -> asyncio.Future[Any]:
        """Queue one record; the future resolves with it once written, or fails as `fail_acks` says."""
        ack: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        task = asyncio.ensure_future(self.kafka._acknowledge(topic, value, key, headers or [], ack))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return ack


class MemoryClients:
    """`Clients` over `MemoryKafka`: a consumer in `group` and a producer."""

    def __init__(self, kafka: MemoryKafka, group: str) -> None:
        self.kafka = kafka
        self.group = group

    def consumer(self) -> Consumer:
        """A new member of `group`."""
        return MemoryConsumer(self.kafka, self.group)

    def producer(self) -> Producer:
        """A producer."""
        return MemoryProducer(self.kafka)
