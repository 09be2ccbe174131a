"""Running the hub: the broker in force (embedded or configured) and the worker around it, until a signal.

On SIGTERM (what every orchestrator sends) or SIGINT the worker finishes the batch in flight,
commits its offsets, stops its connectors and exits 0. If that takes longer than
`shutdown_grace_s` (default 10 s) it logs an error and exits 1 at once: nothing is lost (offsets
not committed are replayed by the next owner, the ledger keeps the replay from being recounted),
but the orchestrator learns that the stop was not clean.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from hub.core.route import DECISIONS, REJECTED, inbox
from hub.kafka.broker import EmbeddedBroker
from hub.kafka.topics import ensure_topics, message_limits
from hub.redact import redact
from hub.settings import Settings
from hub.worker.status import RunsConnector

if TYPE_CHECKING:
    pass

log = logging.getLogger("hub")
OUTPUT_TOPICS = (inbox("EU"), inbox("NATO"), REJECTED, DECISIONS)
EXIT_OVERDUE = 1  # the stop took longer than the grace: a failure, so the orchestrator notices


@contextlib.contextmanager
def kafka_bootstrap(settings: Settings) -> Iterator[str]:
    """The configured Kafka, or an embedded broker started for the duration of the block."""
    if not settings.kafka.embedded:
        assert settings.kafka.bootstrap is not None  # noqa: S101 - implied by `embedded`
        log.info("broker: Kafka at %s", settings.kafka.bootstrap)
        yield settings.kafka.bootstrap
        return
    with EmbeddedBroker(log_level=settings.broker_log) as broker:
        log.info("broker: embedded Tansu at %s (memory storage)", broker.bootstrap)
        yield broker.bootstrap


def run_worker(
    settings: Settings,
    on_broker: Callable[[str | None], None] = lambda _: None,
    connectors: Callable[[str], Sequence[RunsConnector]] = lambda _: (),
) -> None:
    """`hub up`: the broker if needed, the topics, and the Faust worker until a signal stops it.

    `on_broker` is told the embedded broker's address once it answers, and None when it stops;
    `connectors` gives, for the broker's address, the connectors the worker runs as tasks (their
    health goes to the metrics).
    """
    from hub.worker.app import HubWorker

    with kafka_bootstrap(settings) as bootstrap:
        if settings.kafka.embedded:
            on_broker(bootstrap)
        asyncio.run(ensure_topics(settings.kafka, bootstrap))
        topic_bytes = asyncio.run(message_limits(settings.kafka, bootstrap, OUTPUT_TOPICS))
        hub = HubWorker(settings, bootstrap, connectors(bootstrap), topic_bytes)
        log.info("ledger: %s", redact(settings.ledger))
        worker = _worker_class()(
            hub.app,
            loglevel=settings.log_level,
            quiet=True,
            redirect_stdouts=False,
            override_logging=False,  # the CLI's logging (text or JSON, secrets masked) stays in force
        )
        worker.grace_s = settings.shutdown_grace_s
        worker.spinner = None  # its terminal escapes would land in the log (and break JSON lines)
        try:
            worker.execute_from_commandline()
        except SystemExit as exc:
            if exc.code not in (0, None):
                raise
        finally:
            worker.disarm()
            hub.close()
            if settings.kafka.embedded:
                on_broker(None)


def _worker_class() -> Any:
    """Faust's worker with a grace period on SIGTERM and SIGINT (Faust is imported only to run a worker)."""
    import faust

    class GracefulWorker(faust.Worker):
        """Stops as Faust does on a signal, and exits EXIT_OVERDUE if the stop outlasts `grace_s`."""

        grace_s = 10.0
        _watchdog: threading.Timer | None = None

        def _on_sigterm(self) -> None:  # Faust's handler; the stop itself stays Faust's
            self._arm("SIGTERM")
            super()._on_sigterm()

        def _on_sigint(self) -> None:
            self._arm("SIGINT")
            super()._on_sigint()

        def _arm(self, signal_name: str) -> None:
            if self._watchdog is not None:
                return  # a second signal: the first one's grace still runs
            log.info("%s: finishing the batch in flight, then stopping (grace %.0f s)", signal_name, self.grace_s)
            self._watchdog = threading.Timer(self.grace_s, _overdue, args=(self.grace_s,))
            self._watchdog.daemon = True
            self._watchdog.start()

        def disarm(self) -> None:
            """The worker stopped in time."""
            if self._watchdog is not None:
                self._watchdog.cancel()

    return GracefulWorker


def _overdue(grace_s: float) -> None:
    """The stop outlasted its grace: say so and exit at once (the next owner replays what was not committed)."""
    log.error("the worker did not stop within %.0f s of the signal; exiting now (uncommitted batches replay)", grace_s)
    logging.shutdown()
    os._exit(EXIT_OVERDUE)
