"""A connector's loop under supervision: any failure logged once with its name and cause, counted, retried
with a backoff that honours Retry-After; the other loops go on; cancellation ends it."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta

import pytest

from connectors.retry import MAX_RETRY_AFTER_S, Backoff, retry_after
from connectors.supervise import supervise
from hub.errors import PeerUnavailable
from hub.worker.status import ConnectorHealth


async def test_any_failure_is_logged_once_counted_and_retried_while_other_loops_go_on(caplog, monkeypatch):
    monkeypatch.setattr("connectors.supervise.FIRST_RETRY_S", 0.01)
    health = ConnectorHealth("misp-rest-eu-x", "EU", "both")
    failures = [KeyError("uuid"), MemoryError(), ValueError("1e999"), OverflowError("int too large")]
    ran = 0

    async def flaky() -> None:
        nonlocal ran
        ran += 1
        if failures:
            raise failures.pop(0)

    ticks = 0

    async def other() -> None:
        nonlocal ticks
        while ticks < 1000:
            ticks += 1
            await asyncio.sleep(0)

    with caplog.at_level(logging.DEBUG, logger="hub.connectors"):
        await asyncio.wait_for(asyncio.gather(supervise("misp-rest-eu-x source", flaky, health, 0.05), other()), 5)
    assert ran == 5
    assert (health.errors, health.last_error) == (4, "OverflowError: int too large")
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert [e.split("; retrying in ")[0] for e in errors] == [
        "connector misp-rest-eu-x source: KeyError: 'uuid'",
        "connector misp-rest-eu-x source: MemoryError",
        "connector misp-rest-eu-x source: ValueError: 1e999",
        "connector misp-rest-eu-x source: OverflowError: int too large",
    ]
    assert ticks == 1000  # the other loop ran to its end meanwhile
    assert sum("Traceback" in r.getMessage() for r in caplog.records) == 0


async def test_retry_after_is_a_floor_on_the_wait():
    health = ConnectorHealth("c", "EU", "source")
    calls: list[float] = []

    async def busy() -> None:
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise PeerUnavailable("http://m/events/index answered HTTP 429", retry_after=1.5)

    await asyncio.wait_for(supervise("c source", busy, health, cap_s=0.1), 10)
    assert calls[1] - calls[0] >= 1.5


async def test_cancelling_ends_it():
    health = ConnectorHealth("c", "EU", "source")

    async def forever() -> None:
        await asyncio.sleep(3600)

    task = asyncio.create_task(supervise("c source", forever, health, 1))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert health.errors == 0


def test_backoff_doubles_within_its_cap_with_jitter():
    backoff = Backoff(1.0, 8.0)
    delays = [backoff.next_delay() for _ in range(6)]
    bounds = [1, 2, 4, 8, 8, 8]
    assert all(b / 2 <= d <= b for d, b in zip(delays, bounds, strict=True))
    backoff.reset()
    assert backoff.next_delay() <= 1.0
    assert backoff.next_delay(30.0) == 30.0


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("120", 120.0), (" 5 ", 5.0), ("99999999", MAX_RETRY_AFTER_S), ("soon", None), (None, None), ("-1", None)],
)
def test_retry_after_in_seconds(header, seconds):
    assert retry_after(header) == seconds


def test_retry_after_as_an_http_date():
    now = datetime(2026, 12, 1, 10, 0, 0, tzinfo=UTC)
    assert retry_after("Tue, 01 Dec 2026 10:00:30 GMT", now) == 30.0
    assert retry_after("Tue, 01 Dec 2026 09:00:00 GMT", now) == 0.0  # in the past: at once
    assert retry_after((now + timedelta(days=2)).strftime("%a, %d %b %Y %H:%M:%S GMT"), now) == MAX_RETRY_AFTER_S
