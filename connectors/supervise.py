"""Running a connector's loop so that whatever it meets stays inside it.

Any exception from a loop (a peer's answer no code expected, a bug, MemoryError) is logged once,
one line with the connector's name and the cause, counted in its `ConnectorHealth`, and the loop is
started again after a backoff with jitter that honours the peer's `Retry-After`. The worker and the
other connectors go on; only cancellation (the worker stopping) ends it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import TypeVar

from connectors.http import one_line
from connectors.retry import Backoff
from hub.errors import HubError
from hub.settings import ConnectorSettings
from hub.worker.status import ConnectorHealth

log = logging.getLogger("hub.connectors")
T = TypeVar("T")
FIRST_RETRY_S = 1.0  # a peer that failed once is asked again soon
MIN_BACKOFF_CAP_S = 5.0  # a connector polling every second still waits up to this long after failures
CAUSE_LIMIT = 500  # characters of a cause in the log line


def cause_of(exc: BaseException) -> str:
    """One line saying what went wrong: the hub's own message, or the foreign error's type and text."""
    text = str(exc) if isinstance(exc, HubError) else f"{type(exc).__name__}: {exc}".removesuffix(": ")
    line = one_line(text, CAUSE_LIMIT + 1) or type(exc).__name__
    return line if len(line) <= CAUSE_LIMIT else line[: CAUSE_LIMIT - 1] + "…"


async def supervise(what: str, run: Callable[[], Awaitable[None]], health: ConnectorHealth, cap_s: float) -> None:
    """Run `run()` until it returns or is cancelled, starting it again after any failure (`cap_s`: longest wait)."""
    backoff = Backoff(FIRST_RETRY_S, max(cap_s, FIRST_RETRY_S))
    while True:
        started = time.monotonic()
        try:
            await run()
            return
        except Exception as exc:  # whatever a peer causes must not reach the worker
            if time.monotonic() - started > backoff.cap_s:
                backoff.reset()  # it ran well for a while before this failure: start the backoff again
            cause = cause_of(exc)
            health.failed(cause)
            delay = backoff.next_delay(getattr(exc, "retry_after", None))
            log.error("connector %s: %s; retrying in %.1f s", what, cause, delay)
            log.debug("connector %s failed", what, exc_info=exc)  # the traceback, for a developer, on -v
        # Waiting outside the handler: the traceback, and whatever large answer its frames hold, is freed.
        await asyncio.sleep(delay)


def backoff_cap(cfg: ConnectorSettings) -> float:
    """The longest wait between restarts of a connector's loop: its interval, and never under a floor."""
    return max(cfg.interval_s, MIN_BACKOFF_CAP_S)


Loop = Callable[[bool, ConnectorHealth], Awaitable[object]]  # (once, health): one pass, or until cancelled


class SupervisedConnector:
    """One configured connector run by `hub up`: its inbound and outbound loops, supervised apart, one `health`.

    A failing inbound loop (a source, a drop directory) never stops the outbound one (a sink, an
    inbox directory), and the other way round; both write their facts into the same health.
    """

    def __init__(
        self, name: str, cfg: ConnectorSettings, inbound: Loop, outbound: Loop | None, labels: tuple[str, str]
    ) -> None:
        self.name = name
        self.cfg = cfg
        self.health = ConnectorHealth(name, cfg.side, cfg.role)
        self._loops = ((inbound, labels[0], ("source", "both")), (outbound, labels[1], ("sink", "both")))

    async def run(self) -> None:
        """Run the loops the connector's role asks for (a source only has one), each supervised, until cancelled."""
        log.info("connector %s (%s) started", self.name, self.cfg.role)
        runs = [
            self._supervised(loop, label)
            for loop, label, roles in self._loops
            if loop is not None and self.cfg.role in roles
        ]
        await asyncio.gather(*runs)

    async def _supervised(self, loop: Loop, label: str) -> None:
        async def forever() -> None:
            await loop(False, self.health)

        await supervise(f"{self.name} {label}", forever, self.health, backoff_cap(self.cfg))


def run_command(
    what: str, loop: Callable[[bool], Coroutine[object, object, T]], health: ConnectorHealth, cap_s: float, once: bool
) -> T | None:
    """A CLI command's loop: one pass with `once` (its result), else supervised until interrupted (None)."""
    if once:
        return asyncio.run(loop(True))

    async def forever() -> None:
        await loop(False)

    asyncio.run(supervise(what, forever, health, cap_s))
    return None
