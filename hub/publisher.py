"""Publishing submissions to `hub.submitted`: keyed by item, stamped with a submission id, acknowledged.

Used by `hub publish`, the demo, the connectors and the tests.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from types import TracebackType

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from hub.errors import BrokerError
from hub.kafka import MAX_MESSAGE_BYTES, client_kwargs, ensure_topics
from hub.route import SID_HEADER, SUBMITTED
from hub.settings import KafkaSettings

LINGER_MS = 5  # batches sends of a burst together at no visible latency cost


def item_key(raw: bytes) -> bytes | None:
    """`kind:source_id` of a submission, so every version of an item lands on one partition."""
    try:
        doc = json.loads(raw)
        kind = doc["kind"]
        sid = doc.get("source_id")
        if sid is None and kind == "misp_event":
            payload = doc["payload"]
            sid = payload.get("Event", payload)["uuid"]
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return f"{kind}:{sid}".encode() if isinstance(kind, str) and sid else None


class Publisher:
    """An acknowledged producer to `hub.submitted`; use as an async context manager."""

    def __init__(self, kafka: KafkaSettings, bootstrap: str) -> None:
        self.kafka = kafka
        self.bootstrap = bootstrap
        self.producer = AIOKafkaProducer(
            **client_kwargs(kafka, bootstrap),
            acks="all",
            linger_ms=LINGER_MS,
            max_request_size=MAX_MESSAGE_BYTES,
            compression_type=None,
        )

    async def __aenter__(self) -> Publisher:
        await ensure_topics(self.kafka, self.bootstrap)
        try:
            await self.producer.start()
        except KafkaError as exc:
            raise BrokerError(f"cannot connect to Kafka at {self.bootstrap}: {exc}") from exc
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.producer.stop()

    async def publish(self, items: Sequence[bytes], sids: Sequence[str] | None = None) -> list[str]:
        """Send `items` and wait until the broker acknowledged all; returns their submission ids."""
        ids = list(sids) if sids is not None else [str(uuid.uuid4()) for _ in items]
        try:
            futures = [
                await self.producer.send(SUBMITTED, raw, key=item_key(raw), headers=[(SID_HEADER, sid.encode())])
                for raw, sid in zip(items, ids, strict=True)
            ]
            await asyncio.gather(*futures)
        except KafkaError as exc:
            raise BrokerError(f"publishing to {SUBMITTED} failed: {exc}") from exc
        return ids
