"""Helpers of the MISP sync tests: feed directories, connector runs against a test broker, the ledger."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

from connectors.http import Limits, tls_context
from connectors.misp.client import MispClient
from connectors.misp.envelope import ORGANISATIONS
from connectors.misp.feed import FeedDir, manifest_entry
from connectors.misp.service import peer_id, run_sink, run_source
from hub.config.keystore import write_private_key
from hub.core.misp_release import stamp
from hub.ledger import Ledger
from hub.settings import ConnectorSettings, KafkaSettings, Settings, load_settings
from hub.worker.status import ConnectorHealth
from schemas.common import Side
from tests.conftest import TEST_KEYS, read_topic
from tests.connectors.misp_server import MispServer


def hub_settings(bootstrap: str, tmp_path: Path, side: Side) -> Settings:
    """Settings for one side's connectors run inside the test: the test's broker, that side's test key, and the
    keyring the test's worker uses (`keyring_file`), which holds the hub key its sinks check deliveries against."""
    key = tmp_path / "keys" / f"{side.value}.pem"
    if not key.exists():
        key.parent.mkdir(parents=True, exist_ok=True)
        write_private_key(TEST_KEYS[(side.value, ORGANISATIONS[side])], key)
    kafka = KafkaSettings(bootstrap=bootstrap, partitions=4, session_timeout_s=2)
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"  # the test's ledger: the connectors record refusals there
    signing = {"key_file": key, "keyring": tmp_path / "keyring.json"}
    return load_settings(kafka=kafka, data_dir=tmp_path / "connectors", signing=signing, ledger_url=ledger)


def write_feed(directory: Path, events: list[dict[str, Any]], now: int | None = None) -> None:
    """Publish `events` in a feed directory as a MISP would: stamped on save, files first, manifest last."""
    feed = FeedDir(directory)
    directory.mkdir(parents=True, exist_ok=True)
    manifest = feed.manifest()
    for event in events:
        stamp(event, now or int(time.time()))
        feed.write(event)
        manifest[str(event["uuid"])] = manifest_entry(event)
    feed.save_manifest(manifest)


def feed_config(directory: Path, side: Side, role: str) -> ConnectorSettings:
    """A feed connector on `directory`."""
    return ConnectorSettings(type="feed", side=side.value, role=role, dir=directory, interval_s=1)


def rest_config(server: MispServer, side: Side, role: str, **extra: Any) -> ConnectorSettings:
    """A rest connector on a loopback MISP server (plain HTTP, allowed; short deadlines for tests)."""
    fields = {"url": server.url, "key": server.key, "allow_http": server.url.startswith("http:"), "timeout_s": 30}
    return ConnectorSettings(type="rest", side=side.value, role=role, interval_s=1, **{**fields, **extra})


def misp_client(server: MispServer, **limits: Any) -> MispClient:
    """A client of a loopback MISP server."""
    return MispClient(server.url, server.key, tls_context(True, None, server.url), Limits(**limits))


async def pull_feed(settings: Settings, directory: Path, side: Side) -> int:
    """One feed-import pass; returns the submissions."""
    cfg = feed_config(directory, side, "source")
    return await run_source(cfg, settings, _bootstrap(settings), True, ConnectorHealth(peer_id(cfg), side, "source"))


async def pull_misp(settings: Settings, server: MispServer, side: Side) -> int:
    """One REST pull pass; returns the submissions."""
    cfg = rest_config(server, side, "source")
    return await run_source(cfg, settings, _bootstrap(settings), True, ConnectorHealth(peer_id(cfg), side, "source"))


async def export_feed(settings: Settings, directory: Path, side: Side) -> Counter[str]:
    """One feed-export pass, until caught up."""
    cfg = feed_config(directory, side, "sink")
    return await run_sink(cfg, settings, _bootstrap(settings), True, ConnectorHealth(peer_id(cfg), side, "sink"))


async def push_misp(settings: Settings, server: MispServer, side: Side) -> Counter[str]:
    """One push pass into a MISP, until caught up."""
    cfg = rest_config(server, side, "sink")
    return await run_sink(cfg, settings, _bootstrap(settings), True, ConnectorHealth(peer_id(cfg), side, "sink"))


def _bootstrap(settings: Settings) -> str:
    assert settings.kafka.bootstrap is not None
    return settings.kafka.bootstrap


async def decisions(ledger_url: str, n: int, timeout: float = 60.0) -> list[Any]:
    """The ledger's records once it holds `n` (or after `timeout`)."""
    ledger = Ledger(ledger_url)
    try:
        deadline = time.monotonic() + timeout
        while ledger.size() < n and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        return list(ledger.records(0))
    finally:
        ledger.close()


async def inbox_holds(bootstrap: str, side: str, n: int, timeout: float = 60.0) -> None:
    """Wait until `<side>.inbox` holds `n` deliveries."""
    got = await read_topic(bootstrap, f"{side.lower()}.inbox", n, timeout)
    assert len(got) >= n, f"{side.lower()}.inbox holds {len(got)} deliveries, expected {n}"
