"""MISP connectors built from the settings, and the loops that run them (`hub up`, `hub misp ...`)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

from connectors import Sink, Source, make_publisher
from connectors.misp.client import MispClient
from connectors.misp.feed_sink import FeedSink
from connectors.misp.feed_source import FeedSource
from connectors.misp.rest_sink import RestSink
from connectors.misp.rest_source import RestSource
from connectors.misp.sync import deliver, inbox_consumer, pull
from connectors.misp.watermark import Watermark
from connectors.progress import Progress
from hub.config.keystore import publisher_signer
from hub.errors import HubError
from hub.settings import ConnectorSettings, Settings
from hub.worker.status import ConnectorStatus
from schemas.common import Side

log = logging.getLogger("hub.misp")


def peer_id(cfg: ConnectorSettings) -> str:
    """A short stable name for the connector's peer: type, side and a digest of its URL or directory."""
    where = cfg.url if cfg.type == "rest" else str(Path(str(cfg.dir)).resolve())
    digest = hashlib.sha256(str(where).encode()).hexdigest()[:10]
    return f"misp-{cfg.type}-{cfg.side.lower()}-{digest}"


def client_for(cfg: ConnectorSettings) -> MispClient:
    """The PyMISP client of a rest connector."""
    assert cfg.url is not None  # noqa: S101 - checked by ConnectorSettings
    assert cfg.key is not None  # noqa: S101 - checked by ConnectorSettings
    return MispClient(cfg.url, cfg.key.get_secret_value(), verify_tls=cfg.verify_tls)


def build_source(cfg: ConnectorSettings, settings: Settings) -> FeedSource | RestSource:
    """The source of `cfg`, with its watermark under the data directory."""
    watermark = Watermark(settings.data_dir / "connectors" / f"{peer_id(cfg)}.json")
    if cfg.type == "rest":
        return RestSource(client_for(cfg), Side(cfg.side), watermark)
    return FeedSource(Path(str(cfg.dir)), Side(cfg.side), watermark, cfg.distribution)


def build_sink(cfg: ConnectorSettings) -> FeedSink | RestSink:
    """The sink of `cfg`."""
    if cfg.type == "rest":
        return RestSink(client_for(cfg), Side(cfg.side))
    return FeedSink(Path(str(cfg.dir)), Side(cfg.side))


async def run_source(
    source: Source,
    settings: Settings,
    bootstrap: str,
    interval_s: float,
    once: bool,
    progress: Progress | None = None,
    status: ConnectorStatus | None = None,
) -> int:
    """Pull `source` into the hub every `interval_s`, or once; returns the submissions of the last pull."""
    async with make_publisher(settings, bootstrap) as publisher:
        while True:
            submitted = await pull(source, publisher, progress)
            if status is not None:
                status.succeeded(_watermark(source))
            if submitted:
                log.info("%s: submitted %d MISP events", source.side, submitted)
            if once:
                return submitted
            await asyncio.sleep(interval_s)


async def run_sink(
    sink: Sink,
    settings: Settings,
    bootstrap: str,
    group: str,
    once: bool,
    progress: Progress | None = None,
    status: ConnectorStatus | None = None,
) -> Counter[str]:
    """Apply the side's deliveries to `sink`, until caught up with `once`, else until cancelled."""
    consumer = inbox_consumer(settings.kafka, bootstrap, sink.side.value, f"{settings.app_id}.{group}")
    on_round = status.succeeded if status is not None else None
    return await deliver(sink, consumer, once, progress, on_round)


def _watermark(source: Source) -> float | None:
    """The source's saved progress (a MISP timestamp), when it keeps one."""
    watermark = getattr(source, "watermark", None)
    return float(watermark.since) if isinstance(watermark, Watermark) else None


async def run_connector(cfg: ConnectorSettings, settings: Settings, bootstrap: str, status: ConnectorStatus) -> None:
    """Run one configured connector until cancelled; a failing peer is retried every `interval_s`."""
    name = peer_id(cfg)
    while True:
        try:
            async with asyncio.TaskGroup() as group:  # one loop failing stops the other, then both restart
                if cfg.role in ("source", "both"):
                    source = build_source(cfg, settings)
                    group.create_task(
                        run_source(source, settings, bootstrap, cfg.interval_s, once=False, status=status)
                    )
                if cfg.role in ("sink", "both"):
                    group.create_task(run_sink(build_sink(cfg), settings, bootstrap, name, once=False, status=status))
        except* (HubError, OSError) as failed:  # a peer or a directory failing must not stop the worker
            status.failed(failed.exceptions[0])
            log.error("connector %s: %s; retrying in %.0f s", name, failed.exceptions[0], cfg.interval_s)
        await asyncio.sleep(cfg.interval_s)


def _task(
    cfg: ConnectorSettings, settings: Settings, bootstrap: str, status: ConnectorStatus
) -> Callable[[], Awaitable[None]]:
    async def task() -> None:  # no parameter: Faust passes the app to tasks that take one
        log.info("connector %s (%s) started", peer_id(cfg), cfg.role)
        await run_connector(cfg, settings, bootstrap, status)

    return task


def connector_statuses(settings: Settings) -> list[ConnectorStatus]:
    """One status per configured connector, in the order of `connector_tasks`, for the worker's metrics."""
    return [ConnectorStatus(peer_id(cfg), cfg.side, cfg.role) for cfg in settings.connectors]


def connector_tasks(
    settings: Settings, bootstrap: str, statuses: list[ConnectorStatus] | None = None
) -> list[Callable[[], Awaitable[None]]]:
    """One task per configured connector, for the worker to run (`hub up`), each updating its status.

    A source needs a signing key when the hub requires signatures: without one `hub up` refuses to
    start (ConfigError, one line) rather than run a connector that can never publish.
    """
    if any(cfg.role in ("source", "both") for cfg in settings.connectors):
        publisher_signer(settings)
    statuses = statuses if statuses is not None else connector_statuses(settings)
    return [_task(cfg, settings, bootstrap, st) for cfg, st in zip(settings.connectors, statuses, strict=True)]
