"""The two loops of a connector: source -> `hub.submitted`, and `<side>.inbox` -> sink.

A source's progress is saved only after the broker acknowledged its submissions; a sink's offsets
are committed only after its deliveries were applied and flushed. Both are at least once, and
both ends are idempotent (the hub's dedupe, MISP's strictly-newer rule), so nothing is lost and
nothing is applied twice.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from connectors import Applied, Change, Sink, Source
from connectors.progress import Progress
from hub.core.route import inbox
from hub.kafka.config import consumer_kwargs
from hub.kafka.errors import broker_error
from hub.kafka.publisher import Publisher
from hub.settings import KafkaSettings

log = logging.getLogger("hub.misp")
BATCH_EVENTS = 200  # submissions per acknowledged publish: one round trip per 200 events
BATCH_BYTES = 32 * 1024 * 1024  # ... or fewer, so a run of huge events does not pile up in memory
FETCH_RECORDS = 100  # deliveries applied between two offset commits
IDLE_POLL_MS = 500  # how long a sink waits for deliveries before checking whether it is caught up


async def pull(source: Source, publisher: Publisher, progress: Progress | None = None) -> int:
    """Submit every change of `source`; returns how many were submitted."""
    pending: list[Change] = []
    size = submitted = 0
    async for change in source.changes():
        pending.append(change)
        size += len(change.item)
        if len(pending) >= BATCH_EVENTS or size >= BATCH_BYTES:
            submitted += await _submit(source, publisher, pending)
            pending, size = [], 0
            if progress is not None:
                progress.update(submitted, getattr(source, "pending", None))
    if pending:
        submitted += await _submit(source, publisher, pending)
    if progress is not None:
        progress.update(submitted, getattr(source, "pending", None), force=True)
    return submitted


async def _submit(source: Source, publisher: Publisher, changes: Sequence[Change]) -> int:
    await publisher.publish([c.item for c in changes])
    source.done(changes)
    return len(changes)


def inbox_consumer(kafka: KafkaSettings, bootstrap: str, side: str, group: str) -> AIOKafkaConsumer:
    """A consumer of `<side>.inbox` in `group`, committing by hand after applying."""
    return AIOKafkaConsumer(inbox(side), **consumer_kwargs(kafka, bootstrap, group))


async def _caught_up(consumer: AIOKafkaConsumer) -> bool:
    assigned: set[TopicPartition] = consumer.assignment()
    if not assigned:
        return False
    ends = await consumer.end_offsets(list(assigned))
    for tp in assigned:
        if await consumer.position(tp) < ends[tp]:
            return False
    return True


async def _apply(sink: Sink, value: bytes | None) -> Applied:
    try:
        doc: Any = json.loads(value or b"")
    except ValueError:
        log.warning("skipped an inbox message that is not JSON")
        return Applied.SKIPPED
    return await sink.apply(doc) if isinstance(doc, dict) else Applied.SKIPPED


async def deliver(
    sink: Sink,
    consumer: AIOKafkaConsumer,
    once: bool = False,
    progress: Progress | None = None,
    on_round: Callable[[], None] | None = None,
) -> Counter[str]:
    """Apply the deliveries of `consumer` to `sink`; with `once`, stop when caught up.

    `on_round` is called after each round that applied and committed deliveries, or found none.
    """
    counts: Counter[str] = Counter()
    try:
        await consumer.start()
        while True:
            batches = await consumer.getmany(timeout_ms=IDLE_POLL_MS, max_records=FETCH_RECORDS)
            records = [r for rs in batches.values() for r in rs]
            for record in records:
                counts[await _apply(sink, record.value)] += 1
            if records:
                await sink.flush()
                await consumer.commit()
                if progress is not None:
                    progress.update(sum(counts.values()))
            elif once and await _caught_up(consumer):
                break
            if on_round is not None:
                on_round()
    except KafkaError as exc:
        raise broker_error(f"reading {inbox(sink.side.value)}", exc) from exc
    finally:
        await consumer.stop()
    if progress is not None:
        progress.update(sum(counts.values()), force=True)
    return counts
