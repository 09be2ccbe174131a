"""Running the hub: the broker in force (embedded or configured) and the worker around it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from hub.core.route import DECISIONS, REJECTED, inbox
from hub.kafka.broker import EmbeddedBroker
from hub.kafka.topics import ensure_topics, message_limits
from hub.redact import redact
from hub.settings import Settings

if TYPE_CHECKING:
    from hub.worker.app import Task

log = logging.getLogger("hub")
OUTPUT_TOPICS = (inbox("EU"), inbox("NATO"), REJECTED, DECISIONS)


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
    tasks: Callable[[str], Sequence[Task]] = lambda _: (),
) -> None:
    """`hub up`: the broker if needed, the topics, and the Faust worker until stopped.

    `on_broker` is told the embedded broker's address once it answers, and None when it stops;
    `tasks` gives, for the broker's address, the extra tasks the worker runs (the connectors).
    """
    import faust

    from hub.worker.app import HubWorker

    with kafka_bootstrap(settings) as bootstrap:
        if settings.kafka.embedded:
            on_broker(bootstrap)
        asyncio.run(ensure_topics(settings.kafka, bootstrap))
        topic_bytes = asyncio.run(message_limits(settings.kafka, bootstrap, OUTPUT_TOPICS))
        hub = HubWorker(settings, bootstrap, tasks(bootstrap), topic_bytes)
        log.info("ledger: %s", redact(settings.ledger))
        worker = faust.Worker(hub.app, loglevel=settings.log_level, quiet=True, redirect_stdouts=False)
        try:
            worker.execute_from_commandline()
        except SystemExit as exc:
            if exc.code not in (0, None):
                raise
        finally:
            hub.close()
            if settings.kafka.embedded:
                on_broker(None)
