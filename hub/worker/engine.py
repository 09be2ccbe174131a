"""The batch engine: `hub.submitted` read in batches, decided, sent, then committed.

Faust's agent machinery costs ~140 µs per event on this machine class (a Faust agent that only
reads tops out near 7,000 messages/s, a bare aiokafka consumer passes 100,000/s). The hub decides
whole batches anyway, so this engine skips the per-event layer: one `getmany` gives a batch, the
`decide` coroutine it is given decides and records it, its outputs are produced, and once every
one is acknowledged the batch's offsets may be committed (in batch order, every 0.5 s at most; the
next batch is decided meanwhile). A crash replays the batches of the last ~0.5 s; a rebalance
waits for them to commit. The ledger's unique submission ids keep a replay from being counted
twice.

Invariant: an offset is committed only after its batch's decisions are in the ledger (`decide`
returned) and the broker acknowledged every one of its outputs.

Outputs are bounded: each is sized before it is queued (`OutputLimits`); one that is too large, or
that the broker refuses for its size, is replaced by a bounded fallback (what must survive, with
the size and SHA-256 of the rest) instead of crashing the engine on every replay. Deliveries are
sized before the ledger records them (`hub.core.decide.sized`), so an inbox refusal can only come
from a topic limit lowered while the worker runs: it is retried, loudly, never skipped.

It reaches Kafka only through the `Consumer` and `Producer` protocols (`hub.worker.clients`):
aiokafka's clients in production, an in-memory pair in tests. It runs as a service the Faust app
depends on, in its own consumer group `<app_id>.batch`.

    engine = BatchEngine(decide, settings, bootstrap, on_assigned=lambda partitions: None)
    await engine.start()  # reads, decides, sends and commits until stopped
    await engine.stop()  # the batches in flight finish and commit first
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import (
    CommitFailedError,
    IllegalStateError,
    KafkaError,
    MessageSizeTooLargeError,
    RecordTooLargeError,
)
from mode import Service

from hub.core.decide import Submitted
from hub.core.route import SUBMITTED, Output, fallback
from hub.core.sizes import OutputLimits
from hub.errors import LedgerError
from hub.kafka.config import COMMIT_INTERVAL_S
from hub.kafka.errors import describe
from hub.kafka.publisher import Backoff
from hub.settings import Settings
from hub.worker.clients import Clients, Consumer, KafkaClients, Producer

log = logging.getLogger("hub.worker")
STILL_FAILING_S = 300.0  # after this long, each retry is logged as an error, not a warning
Decide = Callable[[list[Submitted]], Awaitable[list[Output]]]
OnAssigned = Callable[[list[int]], None]
SIZE_ERRORS = (MessageSizeTooLargeError, RecordTooLargeError)  # the producer's or the broker's "too large"
OnBatch = Callable[[int, float], None]  # (records, seconds from the fetch to the last acknowledgement)


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka ships no type hints
    """Lets a rebalance wait for the batch in flight, and says when partitions arrive."""

    def __init__(self, engine: BatchEngine) -> None:
        self.engine = engine

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        async with self.engine.in_flight:  # the batches in flight finish and commit first
            await self.engine.settled()
            self.engine.positions.clear()

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self.engine.on_assigned(sorted(tp.partition for tp in assigned))


class BatchEngine(Service):
    """Consumes `hub.submitted` in batches: `decide` each, send its outputs, commit in batch order."""

    def __init__(
        self,
        decide: Decide,
        settings: Settings,
        bootstrap: str,
        on_assigned: OnAssigned = lambda _: None,
        clients: Clients | None = None,
        sizes: OutputLimits | None = None,
        on_batch: OnBatch = lambda records, seconds: None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.decide = decide
        self.sizes = sizes
        self.settings = settings
        self.on_assigned = on_assigned
        self.on_batch = on_batch
        self.positions: dict[TopicPartition, int] = {}  # next offset to read per partition, for the lag
        self.clients = clients or KafkaClients(settings, bootstrap)
        self.in_flight = asyncio.Lock()
        self.consumer: Consumer | None = None
        self.producer: Producer | None = None
        self._finishing: asyncio.Future[None] | None = None  # the last batch's acknowledgements and commit
        self._acked: dict[TopicPartition, int] = {}  # next offsets whose batches are recorded and acknowledged
        self._committed_at = time.monotonic()

    async def on_start(self) -> None:
        """Connect the producer and the consumer, then start the loop."""
        self.producer = self.clients.producer()
        self.consumer = self.clients.consumer()
        await self.producer.start()
        self.consumer.subscribe([SUBMITTED], listener=_Listener(self))
        await self.consumer.start()
        self.add_future(self._run())

    async def on_stop(self) -> None:
        """Let the batches in flight finish, then leave the group and flush."""
        async with self.in_flight:
            await self.settled()
            if self.consumer is not None:
                await self.consumer.stop()
            if self.producer is not None:
                await self.producer.stop()

    async def settled(self) -> None:
        """Wait until every batch decided so far is acknowledged and committed."""
        if self._finishing is not None:
            await self._finishing
        await self._commit()

    def lag(self) -> dict[int, int]:
        """Records of each partition read so far that are not read yet: its high watermark minus the position."""
        if self.consumer is None:
            return {}
        lag = {}
        for tp, position in list(self.positions.items()):
            high = self.consumer.highwater(tp)
            if high is not None:
                lag[tp.partition] = max(0, high - position)
        return lag

    async def _run(self) -> None:
        try:
            await self._consume()
        except Exception as exc:  # a bug, not bad input (that is rejected): stop the worker loudly, not silently
            log.exception("the batch engine failed")
            await self.crash(exc)

    async def _consume(self) -> None:
        within_ms = int(self.settings.pipeline.batch_within_s * 1000)
        while not self.should_stop:
            fetched = await self._fetch(within_ms)
            if fetched and not self.should_stop:
                async with self.in_flight:
                    if not self.should_stop:  # a stop began meanwhile: these are left, uncommitted, to the next owner
                        await self._process(fetched)
            elif self._acked and (self._finishing is None or self._finishing.done()):
                async with self.in_flight:  # idle: commit what the last batches left
                    await self._commit()

    async def _fetch(self, within_ms: int) -> dict[TopicPartition, list[Any]]:
        """One batch: up to `batch_size` records, ending once they hold `limits.batch_bytes` (decompressed).

        Records are taken one at a time, so a batch holds at most the budget plus one record, and
        aiokafka inflates at most one fetched record batch at a time (each within the guard's ceiling).
        """
        assert self.consumer is not None  # noqa: S101 - set in on_start
        most, budget = self.settings.pipeline.batch_size, self.settings.limits.batch_bytes
        fetched = await self.consumer.getmany(timeout_ms=within_ms, max_records=1)
        count, held = len(fetched), _held(fetched)
        while fetched and count < most and held < budget:
            more = await self.consumer.getmany(timeout_ms=0, max_records=1)
            if not more:
                break
            for tp, records in more.items():
                fetched.setdefault(tp, []).extend(records)
            count, held = count + 1, held + _held(more)
        return fetched

    async def _process(self, fetched: dict[TopicPartition, list[Any]]) -> None:
        """Decide and send one batch; its acknowledgements and commit finish while the next is decided."""
        began = time.monotonic()
        batch = [
            Submitted.of(r.headers, r.partition, r.offset, r.value, getattr(r, "refused", None))
            for rs in fetched.values()
            for r in rs
        ]
        outputs = await _retrying("the ledger", LedgerError, lambda: self.decide(batch))
        acks = await self._send(outputs)  # queued behind the previous batch's outputs: per-partition order holds
        offsets = {tp: records[-1].offset + 1 for tp, records in fetched.items()}
        self.positions.update(offsets)
        if self._finishing is not None and self._finishing.done():
            self._finishing.result()  # raises what the last batch's finish failed with
        done = self._finish(self._finishing, outputs, acks, offsets, (len(batch), began))
        self._finishing = asyncio.ensure_future(done)

    async def _finish(
        self,
        previous: asyncio.Future[None] | None,
        outputs: list[Output],
        acks: list[asyncio.Future[Any]],
        offsets: dict[TopicPartition, int],
        timing: tuple[int, float],
    ) -> None:
        """Wait for a batch's acknowledgements (re-sending what failed), then commit after the batch before it."""
        results = await asyncio.gather(*acks, return_exceptions=True)
        failed = [(o, r) for o, r in zip(outputs, results, strict=True) if isinstance(r, BaseException)]
        for _, error in failed:
            if not isinstance(error, KafkaError):
                raise error  # a bug, not the broker: the engine stops loudly
        if failed:
            log.warning("the broker failed %d output(s) (%s); sending them again", len(failed), describe(failed[0][1]))
            await _retrying("the broker", KafkaError, lambda: self._resend(failed))
        records, began = timing
        self.on_batch(records, time.monotonic() - began)
        if previous is not None:
            await previous  # offsets advance in batch order
        self._acked.update(offsets)
        if time.monotonic() - self._committed_at >= COMMIT_INTERVAL_S:
            await self._commit()

    async def _commit(self) -> None:
        """Commit the offsets of every batch recorded and acknowledged so far."""
        if not self._acked:
            return
        offsets, self._acked = self._acked, {}
        self._committed_at = time.monotonic()
        try:
            assert self.consumer is not None  # noqa: S101 - set in on_start
            await self.consumer.commit(offsets)
        except (CommitFailedError, IllegalStateError) as exc:  # the group moved on: replayed, not recounted
            log.warning("offsets not committed (%s): the new owner replays these batches", describe(exc))

    async def _send(self, outputs: list[Output]) -> list[asyncio.Future[Any]]:
        """Queue `outputs` on the producer; the futures of their acknowledgements."""
        return [await self._send_one(o) for o in outputs]

    async def _send_one(self, o: Output, refused: str | None = None) -> asyncio.Future[Any]:
        """Queue one output; one too large (or `refused` by the broker for its size) goes as its bounded fallback.

        An inbox delivery is never replaced: it was sized before it was recorded, and the ledger says
        it was delivered. If it cannot be sent, its future fails and the batch waits, retrying.
        """
        assert self.producer is not None  # noqa: S101 - set in on_start
        problem = refused or (self.sizes.problem(o) if self.sizes is not None else None)
        if problem is not None and not o.topic.endswith(".inbox"):
            log.warning(
                "%s: the output about %s is %s; sent a bounded summary instead", o.topic, o.submission_id, problem
            )
            o = fallback(o, problem)
        elif problem is not None:
            log.error(
                "%s refuses the delivery of %s (%s): raise its max.message.bytes", o.topic, o.submission_id, problem
            )
        try:
            return await self.producer.send(o.topic, o.value, key=o.key, headers=list(o.headers))
        except SIZE_ERRORS as exc:  # refused before sending: fails like an acknowledgement would
            failed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            failed.set_exception(exc)
            return failed

    async def publish(self, outputs: list[Output]) -> None:
        """Send outputs made outside a batch (a checkpoint), retrying until the broker acknowledged them."""

        async def attempt() -> None:
            await asyncio.gather(*await self._send(outputs))

        await _retrying("the broker", KafkaError, attempt)

    async def _resend(self, failed: list[tuple[Output, BaseException]]) -> None:
        """Send the failed outputs again; those refused for their size go as their fallback."""
        acks = []
        for o, error in failed:
            refused = f"refused by the broker ({describe(error)})" if isinstance(error, SIZE_ERRORS) else None
            acks.append(await self._send_one(o, refused))
        await asyncio.gather(*acks)


def _held(fetched: dict[TopicPartition, list[Any]]) -> int:
    """The bytes the fetched records hold: values and headers, as they are once decompressed."""
    return sum(
        len(r.value or b"") + len(r.key or b"") + sum(len(k) + len(v or b"") for k, v in r.headers)
        for records in fetched.values()
        for r in records
    )


async def _retrying(what: str, errors: type[Exception], attempt: Callable[[], Awaitable[Any]]) -> Any:
    """`attempt()` until it succeeds, with backoff while `what` raises `errors`; a batch is never skipped."""
    backoff, since = Backoff(math.inf), time.monotonic()  # no budget: the batch waits for the ledger or broker
    while True:
        try:
            return await attempt()
        except errors as exc:
            delay = backoff.next_delay() or 0.0  # never None without a budget
            failing = time.monotonic() - since
            level = logging.ERROR if failing > STILL_FAILING_S else logging.WARNING
            shown = describe(exc) if isinstance(exc, KafkaError) else exc
            log.log(level, "%s failed for %.0f s (%s); retrying the batch in %.1f s", what, failing, shown, delay)
            await asyncio.sleep(delay)
