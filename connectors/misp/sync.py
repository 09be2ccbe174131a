"""The two loops of a connector: source -> `hub.submitted`, and `<side>.inbox` -> sink.

A source's progress is saved only after the broker acknowledged its submissions; a sink's offsets
are committed only after its deliveries were applied (or recorded as refused) and flushed. Both
are at least once, and both ends are idempotent (the hub's dedupe, MISP's strictly-newer rule), so
nothing is lost and nothing is applied twice.

A sink applies only what the hub signed for its side (`connectors.inbox.InboxGate`); any other
inbox message is refused, recorded and counted. One item never blocks the others: a delivery the
destination refuses, or that is not a hub envelope at all, is recorded with its reason
(`RefusalLog`) and the sink goes on with the next; when applying one fails otherwise, the sink asks
the peer whether it works at all (`Sink.check`): if it does, the failure belongs to that delivery
and it is refused too; if not, the loop fails and its supervisor retries it later from the last
commit. A source's event that cannot be submitted (too large, not representable) is recorded and
passed the same way.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from connectors import Applied, Change, Sink, Source, Unsent
from connectors.inbox import InboxGate
from connectors.inbox import Refused as NotDelivered
from connectors.misp.envelope import event_of, event_uuid
from connectors.progress import Progress
from connectors.refusals import RefusalLog
from connectors.supervise import cause_of
from hub.core.route import SID_HEADER, inbox
from hub.errors import Oversized, PeerUnavailable, Refused
from hub.kafka.config import consumer_kwargs
from hub.kafka.errors import broker_error
from hub.kafka.publisher import Publisher
from hub.settings import KafkaSettings, Settings
from hub.worker.status import ConnectorHealth

log = logging.getLogger("hub.misp")
BATCH_EVENTS = 200  # submissions per acknowledged publish: one round trip per 200 events
BATCH_BYTES = 32 * 1024 * 1024  # ... or fewer, so a run of huge events does not pile up in memory
FETCH_RECORDS = 100  # deliveries applied between two offset commits
IDLE_POLL_MS = 500  # how long a sink waits for deliveries before checking whether it is caught up
APPLIED = (Applied.ADDED, Applied.UPDATED, Applied.UNCHANGED)


async def pull(
    source: Source,
    publisher: Publisher,
    refusals: RefusalLog,
    health: ConnectorHealth,
    progress: Progress | None = None,
) -> int:
    """Submit every change of `source`, recording what cannot be sent; returns how many were submitted."""
    pending: list[Change] = []
    size = submitted = 0
    async for item in source.changes():
        if isinstance(item, Unsent):
            await refusals.record("source", item.reason, item.key, str(item.version))
            health.refused += 1
            source.done([item])
            continue
        pending.append(item)
        size += len(item.item)
        if len(pending) >= BATCH_EVENTS or size >= BATCH_BYTES:
            submitted += await _submit(source, publisher, pending, refusals, health)
            pending, size = [], 0
            if progress is not None:
                progress.update(submitted, getattr(source, "pending", None))
    if pending:
        submitted += await _submit(source, publisher, pending, refusals, health)
    source.passed()
    if progress is not None:
        progress.update(submitted, getattr(source, "pending", None), force=True)
    return submitted


async def _submit(
    source: Source, publisher: Publisher, changes: Sequence[Change], refusals: RefusalLog, health: ConnectorHealth
) -> int:
    """Publish `changes`; those the broker refuses as too large are recorded and passed, never retried."""
    too_large: list[int] = []
    try:
        await publisher.publish([c.item for c in changes])
    except Oversized as exc:
        too_large = exc.indexes
    for i in too_large:
        change = changes[i]
        reason = f"event {change.key} ({len(change.item):,} bytes) is larger than the broker accepts"
        await refusals.record("source", reason, change.key, str(change.version))
    source.done(changes)
    health.refused += len(too_large)
    health.submitted += len(changes) - len(too_large)
    return len(changes) - len(too_large)


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


def _envelope(value: bytes | None) -> dict[str, Any]:
    """A delivery's value as a JSON object; Refused naming what it is instead."""
    try:
        doc: Any = json.loads(value or b"")
    except (ValueError, RecursionError) as exc:
        raise Refused("the delivery is not a JSON document, so not a hub envelope") from exc
    if not isinstance(doc, dict):
        raise Refused(f"the delivery is a JSON {type(doc).__name__}, not a hub envelope")
    return doc


async def _apply(sink: Sink, record: Any, gate: InboxGate) -> Applied:
    """Apply one inbox record (an aiokafka ConsumerRecord) to `sink`: the one place a delivery is taken in.

    Only what the hub signed for this side passes the gate; anything else is Refused, never applied.
    """
    doc = gate.open(record.value, record.headers)
    if isinstance(doc, NotDelivered):
        raise Refused(f"not a delivery of the hub: {doc.reason}")
    return await sink.apply(doc)


async def _deliver_one(
    sink: Sink, record: Any, gate: InboxGate, refusals: RefusalLog, health: ConnectorHealth
) -> Applied:
    """Apply one delivery, or record why it cannot be; raises only when the peer itself is down."""
    try:
        applied = await _apply(sink, record, gate)
    except Refused as exc:
        reason = str(exc)
    except Exception as exc:  # the peer failed on this one, or fails on everything: the probe tells
        try:
            await sink.check()
        except Exception:
            raise exc from None
        reason = cause_of(exc) + (" (the peer answers otherwise)" if isinstance(exc, PeerUnavailable) else "")
    else:
        health.applied += applied in APPLIED
        return applied
    await refusals.record("sink", reason, **_identity(record))
    health.refused += 1
    return Applied.REFUSED


def _identity(record: Any) -> dict[str, str | None]:
    """What a refused delivery was: the event's uuid and version if readable, the hub's submission id, its place."""
    sid = next((v for k, v in record.headers or () if k == SID_HEADER), None)
    found: dict[str, str | None] = {
        "submission_id": sid.decode("utf-8", "replace")[:200] if isinstance(sid, bytes) else None,
        "location": f"{record.topic}/{record.partition}@{record.offset}",
    }
    try:
        doc = _envelope(record.value)
    except Refused:
        return found
    event = event_of(doc)
    found["item"] = event_uuid(event.get("uuid")) if event is not None else str(doc.get("source_id") or "") or None
    found["version"] = str(event.get("timestamp")) if event is not None else str(doc.get("version") or "") or None
    return found


async def deliver(
    sink: Sink,
    consumer: AIOKafkaConsumer,
    gate: InboxGate,
    refusals: RefusalLog,
    health: ConnectorHealth,
    once: bool = False,
    progress: Progress | None = None,
) -> Counter[str]:
    """Apply the hub-signed deliveries of `consumer` to `sink` (`gate` refuses the rest); `once`: until caught up."""
    counts: Counter[str] = Counter()
    try:
        await consumer.start()
        while True:
            batches = await consumer.getmany(timeout_ms=IDLE_POLL_MS, max_records=FETCH_RECORDS)
            records = [r for rs in batches.values() for r in rs]
            done: dict[TopicPartition, int] = {}
            try:
                for record in records:
                    counts[await _deliver_one(sink, record, gate, refusals, health)] += 1
                    done[TopicPartition(record.topic, record.partition)] = record.offset + 1
            finally:
                if done:  # what was applied or recorded stays done, even when the next one failed
                    await sink.flush()
                    await consumer.commit(done)
            health.succeeded()
            if records and progress is not None:
                progress.update(sum(counts.values()))
            if not records and once and await _caught_up(consumer):
                break
    except KafkaError as exc:
        raise broker_error(f"reading {inbox(sink.side.value)}", exc) from exc
    finally:
        await consumer.stop()
    if progress is not None:
        progress.update(sum(counts.values()), force=True)
    return counts


async def deliver_inbox(
    sink: Sink,
    name: str,
    settings: Settings,
    bootstrap: str,
    once: bool,
    health: ConnectorHealth,
    progress: Progress | None = None,
) -> Counter[str]:
    """Apply the side's hub-signed deliveries to `sink` as consumer group `<app>.<name>`; closes the sink."""
    refusals = RefusalLog(settings.ledger, name, sink.side.value)
    consumer = inbox_consumer(settings.kafka, bootstrap, sink.side.value, f"{settings.app_id}.{name}")
    try:
        return await deliver(sink, consumer, InboxGate(settings.keyring, sink.side), refusals, health, once, progress)
    finally:
        await sink.close()
        refusals.close()
