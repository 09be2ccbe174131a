"""Waiting before a retry: exponential backoff with jitter, and the peer's own `Retry-After`.

The jitter (a uniform wait between half the exponential bound and all of it) keeps connectors that
failed together, on several workers, from retrying in step, without ever retrying at once. A
`Retry-After` from the peer is a floor.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

MAX_RETRY_AFTER_S = 3600.0  # a peer asking for more than an hour is asked again after one
_jitter = random.SystemRandom()  # seeded apart in every process: workers started together still spread out


class Backoff:
    """Exponential delays with jitter: the nth wait is uniform in [b/2, b], b = min(cap, first * 2**n)."""

    def __init__(self, first_s: float, cap_s: float) -> None:
        self.first_s = first_s
        self.cap_s = cap_s
        self.failures = 0

    def next_delay(self, floor_s: float | None = None) -> float:
        """The next wait; never less than `floor_s` (a peer's Retry-After)."""
        bound = min(self.cap_s, self.first_s * 2**self.failures)
        self.failures += 1
        return max(_jitter.uniform(bound / 2, bound), min(floor_s or 0.0, MAX_RETRY_AFTER_S))

    def reset(self) -> None:
        """Start again from the first delay (after a success)."""
        self.failures = 0


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds asked for by a `Retry-After` header (seconds or an HTTP date), bounded; None if absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return min(float(text[:7]), MAX_RETRY_AFTER_S)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    wait = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(wait, 0.0), MAX_RETRY_AFTER_S)
