"""Files connectors built from the settings, and the loops that run them (`hub up`, `hub files ...`).

A configured files connector is a `SupervisedConnector` (`connectors.supervise`): its drop loop and
its inbox loop each run supervised, apart, and write their facts into its one `ConnectorHealth`.
Only one process works on a drop directory at a time (its lock); another `hub up` configured with
the same directory stands by and takes over when the first one stops or dies.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import Counter
from pathlib import Path

from connectors import make_publisher
from connectors.files.drop import DropDir
from connectors.files.inbox_dir import InboxDir
from connectors.files.ready import Settle
from connectors.files.source import DropSource, Tally
from connectors.misp.sync import deliver_inbox
from connectors.progress import Progress
from connectors.refusals import RefusalLog
from connectors.supervise import SupervisedConnector
from hub.config.keystore import publisher_signer
from hub.core.validate import ItemLimits
from hub.errors import ConfigError, ConnectorError
from hub.files import MIB
from hub.settings import ConnectorSettings, Settings
from hub.worker.status import ConnectorHealth
from schemas.common import Side

log = logging.getLogger("hub.files")
ONCE_WAIT_S = 30.0  # a one-off run waits this long (past the settle time) for files still being written


def _digest(*paths: Path | None) -> str:
    where = "\0".join(str(Path(str(p)).resolve()) if p is not None else "" for p in paths)
    return hashlib.sha256(where.encode()).hexdigest()[:10]


def drop_name(cfg: ConnectorSettings) -> str:
    """The drop directory's stable name in logs and refusals: `files-drop-eu-<digest of its path>`."""
    return f"files-drop-{cfg.side.lower()}-{_digest(cfg.drop_dir)}"


def inbox_name(cfg: ConnectorSettings) -> str:
    """The inbox directory's stable name, also its consumer group's: `files-inbox-eu-<digest of its path>`."""
    return f"files-inbox-{cfg.side.lower()}-{_digest(cfg.inbox_dir)}"


def connector_name(cfg: ConnectorSettings) -> str:
    """The connector's name in logs and metrics."""
    if cfg.role == "source":
        return drop_name(cfg)
    if cfg.role == "sink":
        return inbox_name(cfg)
    return f"files-{cfg.side.lower()}-{_digest(cfg.drop_dir, cfg.inbox_dir)}"


def drop_dir(cfg: ConnectorSettings) -> DropDir:
    """The drop directory of `cfg`, with its settle time and file size cap."""
    return DropDir(Path(str(cfg.drop_dir)), Settle(cfg.settle_s), cfg.max_file_mib * MIB)


async def run_drop(
    cfg: ConnectorSettings,
    settings: Settings,
    bootstrap: str,
    once: bool,
    health: ConnectorHealth,
    progress: Progress | None = None,
) -> Tally:
    """Submit the drop directory's files every `interval_s` (or in one run, `once`); returns the totals."""
    drop = drop_dir(cfg)
    await asyncio.to_thread(drop.open)
    refusals = RefusalLog(settings.ledger, drop_name(cfg), cfg.side)
    limits = ItemLimits(settings.limits.misp_attributes, settings.limits.misp_objects)
    tally = Tally()
    try:
        async with make_publisher(settings, bootstrap) as publisher:
            source = DropSource(drop, Side(cfg.side), limits, publisher, refusals, health)
            await _locked(drop, cfg, once)
            deadline = time.monotonic() + cfg.settle_s + ONCE_WAIT_S
            while True:
                await source.run_pass(tally, progress)
                health.succeeded()
                if once and (not tally.waiting or time.monotonic() > deadline):
                    return tally
                await asyncio.sleep(min(cfg.interval_s, 0.25) if once else cfg.interval_s)
    finally:
        drop.unlock()
        refusals.close()


async def _locked(drop: DropDir, cfg: ConnectorSettings, once: bool) -> None:
    """Return once this process holds the drop directory's lock; a one-off run fails instead of waiting."""
    said = False
    while not await asyncio.to_thread(drop.lock):
        if once:
            raise ConnectorError(f"drop directory {drop.path} is being worked on by another hub process")
        if not said:
            log.info("connector %s: %s is worked on by another process; standing by", drop_name(cfg), drop.path)
            said = True
        await asyncio.sleep(cfg.interval_s)
    if said:
        log.info("connector %s: took over %s", drop_name(cfg), drop.path)


async def run_inbox(
    cfg: ConnectorSettings,
    settings: Settings,
    bootstrap: str,
    once: bool,
    health: ConnectorHealth,
    progress: Progress | None = None,
) -> Counter[str]:
    """Write the side's hub-signed deliveries into the inbox directory (until caught up with `once`)."""
    sink = InboxDir(Path(str(cfg.inbox_dir)), Side(cfg.side), cfg.inbox_format)
    return await deliver_inbox(sink, inbox_name(cfg), settings, bootstrap, once, health, progress)


def files_connector(cfg: ConnectorSettings, settings: Settings, bootstrap: str) -> SupervisedConnector:
    """One configured files connector run by `hub up`: its drop and inbox loops, supervised apart."""

    async def drop(once: bool, health: ConnectorHealth) -> Tally:
        return await run_drop(cfg, settings, bootstrap, once, health)

    async def inbox(once: bool, health: ConnectorHealth) -> Counter[str]:
        return await run_inbox(cfg, settings, bootstrap, once, health)

    return SupervisedConnector(connector_name(cfg), cfg, drop, inbox, ("drop", "inbox"))


def check_files_connectors(settings: Settings) -> None:
    """ConfigError (one line) for a files connector that can never work, before anything starts.

    A drop directory needs a signing key when the hub requires signatures; every directory must be
    one this process can make and write; no inbox directory may be a drop directory (deliveries
    would be submitted back).
    """
    files = [cfg for cfg in settings.connectors if cfg.type == "files"]
    if any(cfg.role in ("source", "both") for cfg in files):
        publisher_signer(settings)
    drops = {Path(str(c.drop_dir)).resolve() for c in files if c.role in ("source", "both")}
    for cfg in files:
        try:
            if cfg.role in ("source", "both"):
                drop_dir(cfg).open()
            if cfg.role in ("sink", "both"):
                InboxDir(Path(str(cfg.inbox_dir)), Side(cfg.side), cfg.inbox_format)
        except ConnectorError as exc:
            raise ConfigError(str(exc)) from exc
        if cfg.role in ("sink", "both") and Path(str(cfg.inbox_dir)).resolve() in drops:
            raise ConfigError(f"inbox directory {cfg.inbox_dir} is also a drop directory: deliveries would come back")


def files_connectors(settings: Settings, bootstrap: str) -> list[SupervisedConnector]:
    """One connector per configured files connector, for the worker to run (`hub up`); checked first."""
    check_files_connectors(settings)
    return [files_connector(cfg, settings, bootstrap) for cfg in settings.connectors if cfg.type == "files"]
