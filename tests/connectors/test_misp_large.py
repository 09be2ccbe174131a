"""A 100,000-attribute event crosses whole through connectors that `hub up` runs from its config."""

from __future__ import annotations

import asyncio
import json
import random
import time
from datetime import UTC, datetime

import pytest

from hub.demo.scenario import misp_event
from schemas.common import Side
from tests.connectors.helpers import hub_settings, write_feed

pytestmark = [pytest.mark.broker, pytest.mark.e2e, pytest.mark.slow]
ATTRIBUTES = 100_000
PEAK_LIMIT_KB = 1024 * 1024  # the hub worker must stay under 1 GiB resident at its peak


def peak_rss_kb(pid: int) -> int:
    """VmHWM of a process: its peak resident set, in kB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


async def test_hundred_thousand_attribute_event_delivered_intact(broker, start_worker, misp_servers, tmp_path):
    nato = misp_servers()
    key_file = hub_settings(broker.bootstrap, tmp_path, Side.EU).signing.key_file
    event = misp_event(random.Random(7), "CERT-EU", ATTRIBUTES, datetime(2026, 6, 1, 8, tzinfo=UTC))["Event"]
    eu_feed = tmp_path / "eu-feed"
    write_feed(eu_feed, [event])
    assert (eu_feed / f"{event['uuid']}.json").stat().st_size > 20_000_000
    connectors = [
        {"type": "feed", "side": "EU", "role": "source", "dir": str(eu_feed), "interval_s": 1},
        {"type": "rest", "side": "NATO", "role": "sink", "url": nato.url, "key": nato.key, "interval_s": 1}
        | {"allow_http": True},
    ]
    worker = start_worker(HUB_CONNECTORS=json.dumps(connectors), HUB_SIGNING__KEY_FILE=str(key_file))
    deadline = time.monotonic() + 240
    while event["uuid"] not in nato.state.events and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    held = nato.state.events.get(event["uuid"])
    assert held is not None, (tmp_path / "worker-0.log").read_text()[-2000:]
    assert len(held["Attribute"]) == ATTRIBUTES
    assert [(a["uuid"], a["value"]) for a in held["Attribute"]] == [(a["uuid"], a["value"]) for a in event["Attribute"]]
    assert held["distribution"] == "0"  # community only, downgraded on its hop as MISP does
    peak = peak_rss_kb(worker.proc.pid)
    print(f"\nworker peak RSS (VmHWM) for a {ATTRIBUTES}-attribute event: {peak / 1024:.0f} MiB")
    assert peak < PEAK_LIMIT_KB
