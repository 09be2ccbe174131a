"""Helpers of the MISP sync tests: feed directories, connector runs against a test broker, the ledger."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

from connectors.misp.client import MispClient
from connectors.misp.envelope import ORGANISATIONS
from connectors.misp.feed import FeedDir, manifest_entry
from connectors.misp.feed_sink import FeedSink
from connectors.misp.feed_source import FeedSource
from connectors.misp.rest_sink import RestSink
from connectors.misp.rest_source import RestSource
from connectors.misp.service import run_sink, run_source
from connectors.misp.watermark import Watermark
from hub.config.keystore import write_private_key
from hub.core.misp_release import stamp
from hub.ledger import Ledger
from hub.settings import KafkaSettings, Settings, load_settings
from schemas.common import Side
from tests.conftest import TEST_KEYS, read_topic


def hub_settings(bootstrap: str, tmp_path: Path, side: Side) -> Settings:
    """Settings for one side's connectors run inside the test: the test's broker, that side's test key, and the
    keyring the test's worker uses (`keyring_file`), which holds the hub key its sinks check deliveries against."""
    key = tmp_path / "keys" / f"{side.value}.pem"
    if not key.exists():
        key.parent.mkdir(parents=True, exist_ok=True)
        write_private_key(TEST_KEYS[(side.value, ORGANISATIONS[side])], key)
    kafka = KafkaSettings(bootstrap=bootstrap, partitions=4, session_timeout_s=2)
    signing = {"key_file": key, "keyring": tmp_path / "keyring.json"}
    return load_settings(kafka=kafka, data_dir=tmp_path / "connectors", signing=signing)


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


async def pull_feed(settings: Settings, directory: Path, side: Side) -> int:
    """One feed-import pass; returns the submissions."""
    source = FeedSource(directory, side, Watermark(settings.data_dir / f"feed-{side}-{directory.name}.json"))
    return await run_source(source, settings, _bootstrap(settings), 1.0, once=True)


async def pull_misp(settings: Settings, client: MispClient, side: Side) -> int:
    """One REST pull pass; returns the submissions."""
    source = RestSource(client, side, Watermark(settings.data_dir / f"rest-{side}-{client.url[-6:-1]}.json"))
    return await run_source(source, settings, _bootstrap(settings), 1.0, once=True)


async def export_feed(settings: Settings, directory: Path, side: Side) -> Counter[str]:
    """One feed-export pass, until caught up."""
    return await run_sink(FeedSink(directory, side), settings, _bootstrap(settings), f"feed-{directory.name}", True)


async def push_misp(settings: Settings, client: MispClient, side: Side) -> Counter[str]:
    """One push pass into a MISP, until caught up."""
    return await run_sink(RestSink(client, side), settings, _bootstrap(settings), f"rest-{client.url[-6:-1]}", True)


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
