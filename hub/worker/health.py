"""The worker's health endpoints, served from its own event loop: `/healthz`, `/readyz`, `/metrics`.

- `/healthz`: 200 while the worker's event loop answers (liveness: restart the worker if not).
- `/readyz`: 200 once the group gave this worker its partitions (an empty share counts: the member
  stands by), the warm-up is done, and Kafka and the ledger answer; else 503. The body is JSON:
  `{"ready": …, "partitions": […], "problems": […]}`. Checks of Kafka and the ledger are cached
  for `CHECK_CACHE_S`, so frequent probes cost at most one metadata request and one `SELECT 1`.
- `/metrics`: the worker's Prometheus metrics (`hub.worker.metrics`), in the text format.

aiohttp (which Faust already ships) serves them as a service of the worker, started before the
group join so that `/readyz` answers 503 while the worker is not ready yet.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web
from mode import Service
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from hub.errors import ConfigError

log = logging.getLogger("hub.worker")
CHECK_CACHE_S = 1.0  # a probe every second or faster (an orchestrator, a curious person) reuses the last answer
Check = Callable[[], Awaitable[str | None]]  # None when the dependency answers, else why not


class Readiness:
    """What `/readyz` says: partitions assigned, warm-up done, Kafka and the ledger answering."""

    def __init__(self, broker: Check, ledger: Check) -> None:
        self.checks = {"broker": broker, "ledger": ledger}
        self.partitions: list[int] | None = None  # None until the group assigned this worker its share
        self.warm = False
        self._last: tuple[float, list[str]] | None = None

    async def report(self) -> tuple[bool, dict[str, Any]]:
        """(ready, the JSON body of `/readyz`)."""
        problems: list[str] = []
        if self.partitions is None:
            problems.append("waiting for partitions of hub.submitted")
        elif not self.warm:
            problems.append("warming up")
        else:
            problems = await self._dependencies()
        return not problems, {"ready": not problems, "partitions": self.partitions, "problems": problems}

    async def _dependencies(self) -> list[str]:
        now = time.monotonic()
        if self._last is not None and now - self._last[0] < CHECK_CACHE_S:
            return self._last[1]
        answers = await asyncio.gather(*(check() for check in self.checks.values()))
        problems = [f"{name}: {answer}" for name, answer in zip(self.checks, answers, strict=True) if answer]
        self._last = (now, problems)
        return problems


class HealthService(Service):
    """Serves `/healthz`, `/readyz` and `/metrics` on `host:port` (port 0: a free one, logged)."""

    def __init__(
        self,
        host: str,
        port: int,
        readiness: Readiness,
        registry: CollectorRegistry,
        closing: Sequence[Callable[[], Awaitable[None]]] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        try:  # bound now, before the worker starts: a port in use is one clear line, not a crash later
            self.socket = socket.create_server((host, port))
        except OSError as exc:
            raise ConfigError(f"setting `health.port`: cannot listen on {host}:{port}: {exc.strerror}") from exc
        self.host, self.port = host, int(self.socket.getsockname()[1])
        self.readiness = readiness
        self.registry = registry
        self.closing = closing  # what the checks opened (the broker probe's connection)
        self._runner: web.AppRunner | None = None

    async def on_start(self) -> None:
        """Listen, and log the address."""
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)  # a scrape every few seconds is not worth a log line
        await self._runner.setup()
        await web.SockSite(self._runner, self.socket).start()
        log.info("health: http://%s:%d (/healthz, /readyz, /metrics)", self.host, self.port)

    async def on_stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
        for close in self.closing:
            await close()

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"alive": True})

    async def _readyz(self, request: web.Request) -> web.Response:
        ready, body = await self.readiness.report()
        return web.json_response(body, status=200 if ready else 503)

    async def _metrics(self, request: web.Request) -> web.Response:
        body = generate_latest(self.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
