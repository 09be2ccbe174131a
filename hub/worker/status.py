"""What one connector has done and how it is failing: one small object per connector, for logs and metrics.

A connector's loops write its `ConnectorHealth` (`connectors/`); the worker's metrics read it at
each scrape. It lives in the worker's layer so that the connectors (above) can write it and the
metrics (here) can read it. Times are Unix seconds (`time.time()`), exported as they are.

    health = ConnectorHealth("misp-rest-eu-1a2b3c4d5e", "EU", "both")
    health.succeeded()
    health.failed("MISP at https://misp.example/ answered 500")
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol


@dataclass
class ConnectorHealth:
    """The facts of one connector: progress, last success, failures, what crossed and what was refused."""

    name: str  # `misp-rest-eu-…`, as in the logs
    side: str  # EU or NATO
    role: str  # source, sink or both
    watermark: int | None = None  # the source's low mark: peer timestamps below it are not asked for again
    last_success: float | None = None  # when a pass or a batch of deliveries last completed
    last_failure: float | None = None
    last_error: str | None = None  # the last failure's cause, one line
    errors: int = 0  # failures since start (each one logged once)
    failing: int = 0  # failures since the last success: 0 when healthy
    submitted: int = 0  # items the source submitted to the hub
    applied: int = 0  # deliveries the sink applied (added, updated or already held)
    refused: int = 0  # items recorded as refused (by the destination, or unsendable by the source)
    skipped: int = 0  # items the last pass could not read, asked for again on the next
    skipped_names: tuple[str, ...] = ()  # those items named (a feed's file, with why), for a one-shot command

    def succeeded(self) -> None:
        """A pass or a batch completed."""
        self.last_success = time.time()
        self.failing = 0

    def failed(self, cause: str) -> None:
        """A failure, already logged."""
        self.last_failure = time.time()
        self.last_error = cause
        self.errors += 1
        self.failing += 1


class RunsConnector(Protocol):
    """A connector the worker runs as a task: its loops, and the health it keeps."""

    health: ConnectorHealth

    async def run(self) -> None:
        """Run until cancelled."""
        ...
