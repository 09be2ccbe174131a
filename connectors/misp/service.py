"""MISP connectors built from the settings, and the loops that run them (`hub up`, `hub misp ...`).

A configured connector is a `SupervisedConnector` (`connectors.supervise`): its source loop and its
sink loop each run supervised, apart, so a failing source never stops the sink and the other way
round, and both write their facts into the connector's one `ConnectorHealth`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import Counter
from pathlib import Path

from connectors import make_publisher
from connectors.http import Limits, tls_context
from connectors.misp.client import MispClient
from connectors.misp.feed_sink import FeedSink
from connectors.misp.feed_source import FeedSource
from connectors.misp.rest_sink import RestSink
from connectors.misp.rest_source import RestSource
from connectors.misp.sync import deliver_inbox, pull
from connectors.misp.watermark import Watermark
from connectors.progress import Progress
from connectors.refusals import RefusalLog
from connectors.supervise import SupervisedConnector
from hub.config.keystore import publisher_signer
from hub.errors import ConfigError
from hub.files import KIB, MIB, read_text
from hub.settings import ConnectorSettings, Settings
from hub.worker.status import ConnectorHealth
from schemas.common import Side

log = logging.getLogger("hub.misp")
KEY_FILE_LIMIT = 4 * KIB  # a MISP API key is 40 characters


def peer_id(cfg: ConnectorSettings) -> str:
    """A short stable name for the connector's peer: type, side and a digest of its URL or directory."""
    where = cfg.url if cfg.type == "rest" else str(Path(str(cfg.dir)).resolve())
    digest = hashlib.sha256(str(where).encode()).hexdigest()[:10]
    return f"misp-{cfg.type}-{cfg.side.lower()}-{digest}"


def api_key(cfg: ConnectorSettings) -> str:
    """The connector's MISP API key: given in the settings, or read from its key file."""
    if cfg.key is not None:
        key = cfg.key.get_secret_value().strip()
    else:
        assert cfg.key_file is not None  # noqa: S101 - checked by ConnectorSettings
        key = read_text(cfg.key_file, KEY_FILE_LIMIT, "MISP key file").strip()
    if not key or any(not c.isprintable() or c.isspace() for c in key):
        raise ConfigError("the MISP API key is empty or holds spaces or control characters")
    return key


def client_for(cfg: ConnectorSettings) -> MispClient:
    """The MISP client of a rest connector: its key, TLS context and answer limits."""
    assert cfg.url is not None  # noqa: S101 - checked by ConnectorSettings
    limits = Limits(cfg.max_answer_mib * MIB, cfg.timeout_s)
    return MispClient(cfg.url, api_key(cfg), tls_context(cfg.verify_tls, cfg.ca_bundle, cfg.url), limits)


def build_source(cfg: ConnectorSettings, settings: Settings) -> FeedSource | RestSource:
    """The source of `cfg`, with its watermark under the data directory."""
    watermark = Watermark(settings.data_dir / "connectors" / f"{peer_id(cfg)}.db")
    if cfg.type == "rest":
        return RestSource(client_for(cfg), Side(cfg.side), watermark)
    return FeedSource(Path(str(cfg.dir)), Side(cfg.side), watermark, cfg.distribution)


def build_sink(cfg: ConnectorSettings) -> FeedSink | RestSink:
    """The sink of `cfg`."""
    if cfg.type == "rest":
        return RestSink(client_for(cfg), Side(cfg.side))
    return FeedSink(Path(str(cfg.dir)), Side(cfg.side))


async def run_source(
    cfg: ConnectorSettings,
    settings: Settings,
    bootstrap: str,
    once: bool,
    health: ConnectorHealth,
    progress: Progress | None = None,
) -> int:
    """Pull the peer of `cfg` into the hub every `interval_s`, or once; returns the submissions of the last pull."""
    refusals = RefusalLog(settings.ledger, peer_id(cfg), cfg.side)
    source = build_source(cfg, settings)
    try:
        async with make_publisher(settings, bootstrap) as publisher:
            while True:
                submitted = await pull(source, publisher, refusals, health, progress)
                health.watermark = source.watermark.since
                health.skipped = getattr(source, "broken", 0) + getattr(source, "failed", 0)
                health.skipped_names = tuple(getattr(source, "skipped", ()))
                health.succeeded()
                if submitted:
                    log.info("connector %s: submitted %d MISP events", peer_id(cfg), submitted)
                if once:
                    return submitted
                await asyncio.sleep(cfg.interval_s)
    finally:
        await source.close()
        refusals.close()


async def run_sink(
    cfg: ConnectorSettings,
    settings: Settings,
    bootstrap: str,
    once: bool,
    health: ConnectorHealth,
    progress: Progress | None = None,
) -> Counter[str]:
    """Apply the side's hub-signed deliveries to the peer of `cfg` (until caught up with `once`)."""
    return await deliver_inbox(build_sink(cfg), peer_id(cfg), settings, bootstrap, once, health, progress)


def connector(cfg: ConnectorSettings, settings: Settings, bootstrap: str) -> SupervisedConnector:
    """One configured MISP connector run by `hub up`: its source and sink loops, supervised apart."""

    async def source(once: bool, health: ConnectorHealth) -> int:
        return await run_source(cfg, settings, bootstrap, once, health)

    async def sink(once: bool, health: ConnectorHealth) -> Counter[str]:
        return await run_sink(cfg, settings, bootstrap, once, health)

    return SupervisedConnector(peer_id(cfg), cfg, source, sink, ("source", "sink"))


def check_connectors(settings: Settings) -> None:
    """ConfigError (one line) for a configured connector that can never work, before anything starts.

    A source needs a signing key when the hub requires signatures, and every rest connector its
    API key and a usable CA bundle: without them `hub up` refuses to start.
    """
    if any(cfg.role in ("source", "both") for cfg in settings.connectors):
        publisher_signer(settings)
    for cfg in settings.connectors:
        if cfg.type == "rest":
            api_key(cfg)
            tls_context(cfg.verify_tls, cfg.ca_bundle, str(cfg.url))


def connectors(settings: Settings, bootstrap: str) -> list[SupervisedConnector]:
    """One connector per configured connector, for the worker to run (`hub up`); checked first."""
    check_connectors(settings)
    return [connector(cfg, settings, bootstrap) for cfg in settings.connectors]
