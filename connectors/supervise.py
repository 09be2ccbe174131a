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
from collections.abc import Awaitable, Callable

from connectors.http import one_line
from connectors.retry import Backoff
from hub.errors import HubError
from hub.worker.status import ConnectorHealth

log = logging.getLogger("hub.connectors")
FIRST_RETRY_S = 1.0  # a peer that failed once is asked again soon
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
