"""What a running connector last did, kept in one small object per connector for `/metrics` to read.

A connector's loops update its `ConnectorStatus` (`succeeded` after a pull whose submissions the
broker acknowledged or a batch of deliveries applied, `failed` when its peer or directory failed);
the worker's metrics read it at each scrape. It lives in the worker's layer so that `connectors/`
(above) can write it and the worker's metrics (here) can read it.

    status = ConnectorStatus("misp-rest-eu-1a2b3c4d5e", "EU", "both")
    status.succeeded(watermark=1780000000.0)
    status.failed(ConnectorError("MISP at https://misp.example/ answered 500"))
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass
class ConnectorStatus:
    """One connector's watermark, last success and errors (Unix times, for Prometheus)."""

    name: str
    side: str
    role: str
    watermark: float | None = None  # the source's saved progress (a MISP timestamp), None before the first pull
    last_success: float | None = None
    errors: int = 0
    last_error: str = ""

    def succeeded(self, watermark: float | None = None) -> None:
        """Record a successful round, and the source's watermark after it when it has one."""
        self.last_success = time.time()
        if watermark is not None:
            self.watermark = watermark

    def failed(self, error: BaseException | str) -> None:
        """Record a failed round."""
        self.errors += 1
        self.last_error = str(error)
