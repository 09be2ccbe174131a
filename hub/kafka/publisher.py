"""Publishing submissions to `hub.submitted`: keyed by item, stamped with a submission id, acknowledged.

Used by `hub publish`, the demo, the connectors and the tests.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError, MessageSizeTooLargeError

from hub.core.admit import SID_MAX, is_safe_sid
from hub.core.route import SID_HEADER, SUBMITTED
from hub.core.signing import SignsSubmissions
from hub.errors import BrokerError, InputError, Oversized
from hub.kafka.config import PUBLISHER_LINGER_MS, producer_kwargs
from hub.kafka.errors import describe
from hub.kafka.topics import ensure_topics
from hub.settings import KafkaSettings

RETRY_FIRST_S = 0.5  # first wait after a failed send; doubles on each failure
RETRY_MAX_S = 8.0  # longest single wait, so a restored broker is noticed within seconds
RETRY_FOR_S = 120.0  # total retry budget: outlasts a broker restart or a short network cut
log = logging.getLogger("hub.kafka.publisher")


def item_key(raw: bytes) -> bytes | None:
    """`kind:source_id` of a submission, so every version of an item lands on one partition."""
    try:
        doc = json.loads(raw)
        kind = doc["kind"]
        sid = doc.get("source_id")
        if sid is None and kind == "misp_event":
            payload = doc["payload"]
            sid = payload.get("Event", payload)["uuid"]
        return f"{kind}:{sid}".encode() if isinstance(kind, str) and sid else None
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):  # any bad input: no key
        return None  # (UnicodeEncodeError, for a lone surrogate, is a ValueError)


class Publisher:
    """An acknowledged, optionally signing producer to `hub.submitted`; use as an async context manager.

    Sends that fail (the broker unreachable, a leader moving) are retried with exponential backoff
    for up to `retry_for_s`, resending only what was not acknowledged, under the same submission
    ids: a copy the broker did take is then decided once by the hub, by its id.
    """

    def __init__(
        self,
        kafka: KafkaSettings,
        bootstrap: str,
        signer: SignsSubmissions | None = None,
        retry_for_s: float = RETRY_FOR_S,
    ) -> None:
        self.kafka = kafka
        self.bootstrap = bootstrap
        self.signer = signer
        self.retry_for_s = retry_for_s
        self.retries = 0  # how many times a send or the start-up was retried, for tests and logs
        self.producer = AIOKafkaProducer(**producer_kwargs(kafka, bootstrap, PUBLISHER_LINGER_MS))

    async def __aenter__(self) -> Publisher:
        await self._with_retry(lambda: ensure_topics(self.kafka, self.bootstrap), f"Kafka at {self.bootstrap}")
        await self._with_retry(self.producer.start, f"Kafka at {self.bootstrap}")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.producer.stop()

    async def _with_retry(self, op: Callable[[], Awaitable[Any]], what: str) -> None:
        backoff = Backoff(self.retry_for_s)
        while True:
            try:
                await op()
                return
            except (KafkaError, BrokerError) as exc:
                await self._wait(backoff, f"{what}: {exc if isinstance(exc, BrokerError) else describe(exc)}")

    async def _wait(self, backoff: Backoff, problem: str) -> None:
        delay = backoff.next_delay()
        if delay is None:
            raise BrokerError(f"{problem}; gave up after {self.retry_for_s:.0f} s of retries")
        self.retries += 1
        log.warning("%s; retrying in %.1f s", problem, delay)
        await asyncio.sleep(delay)

    def _headers(self, raw: bytes, sid: str) -> list[tuple[str, bytes]]:
        signed = self.signer.headers(raw) if self.signer is not None else []
        return [(SID_HEADER, sid.encode()), *signed]

    async def publish(self, items: Sequence[bytes], sids: Sequence[str] | None = None) -> list[str]:
        """Send `items` and wait until the broker acknowledged all; returns their submission ids.

        A message the broker refuses as too large is not retried (it never will fit): once every
        other message was acknowledged, Oversized names the indexes of those refused.
        """
        ids = list(sids) if sids is not None else [str(uuid.uuid4()) for _ in items]
        if len(ids) != len(items):
            raise ValueError(f"{len(items)} items but {len(ids)} submission ids")
        unsafe = next((sid for sid in ids if not is_safe_sid(sid.encode())), None)
        if unsafe is not None:  # the hub would refuse it (invalid-sid): say so before sending anything
            raise InputError(f"submission id {unsafe[:40]!r}: use 1 to {SID_MAX} of A-Z a-z 0-9 . _ -")
        messages = [(raw, item_key(raw), self._headers(raw, sid)) for raw, sid in zip(items, ids, strict=True)]
        pending = list(range(len(messages)))
        oversized: list[int] = []
        backoff = Backoff(self.retry_for_s)
        while pending:
            pending, problem = await self._send(messages, pending, oversized)
            if pending:
                why = describe(problem) if problem is not None else "not acknowledged"
                await self._wait(backoff, f"publishing {len(pending)} to {SUBMITTED} failed: {why}")
        if oversized:
            refused = sorted(oversized)
            raise Oversized(f"{len(refused)} of {len(items)} messages are larger than the broker accepts", refused)
        return ids

    async def _send(
        self,
        messages: list[tuple[bytes, bytes | None, list[tuple[str, bytes]]]],
        indexes: list[int],
        oversized: list[int],
    ) -> tuple[list[int], KafkaError | None]:
        """Send the messages at `indexes`; returns those not acknowledged and the last error; adds to `oversized`."""
        futures: list[tuple[int, asyncio.Future[Any]]] = []
        failed: list[int] = []
        problem: KafkaError | None = None
        for n, i in enumerate(indexes):
            raw, key, headers = messages[i]
            try:
                futures.append((i, await self.producer.send(SUBMITTED, raw, key=key, headers=headers)))
            except MessageSizeTooLargeError:
                oversized.append(i)
            except KafkaError as exc:
                failed, problem = indexes[n:], exc
                break
        results = await asyncio.gather(*(f for _, f in futures), return_exceptions=True)
        for (i, _), result in zip(futures, results, strict=True):
            if isinstance(result, MessageSizeTooLargeError):
                oversized.append(i)
            elif isinstance(result, KafkaError):
                failed.append(i)
                problem = result
            elif isinstance(result, BaseException):
                raise result
        return sorted(failed), problem


class Backoff:
    """Exponential backoff delays within a total time budget."""

    def __init__(self, budget_s: float) -> None:
        self.deadline = time.monotonic() + budget_s
        self.delay = RETRY_FIRST_S

    def next_delay(self) -> float | None:
        """The next wait, or None once the budget is spent."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            return None
        delay, self.delay = min(self.delay, left), min(self.delay * 2, RETRY_MAX_S)
        return delay
