"""MISP feed sync throughput: an EU feed directory through the hub into a NATO feed directory.

Starts the embedded broker and one `hub up` worker whose config runs two connectors (the EU feed
as a source, the NATO feed as a sink), publishes N realistic events (about 50 attributes each)
in the EU feed, and times until the NATO feed's manifest lists them all.

    python bench/misp_feed.py [--events 1000] [--attributes 50]
    python bench/misp_feed.py --events 40 --attributes 1000 --attributes-max 10000  # large real events

With `--attributes-max`, each event's attribute count is drawn (seeded) between the two bounds.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from connectors.misp.feed import MANIFEST, FeedDir, manifest_entry
from hub.config.keystore import new_key
from hub.demo.scenario import BASE_TIME, misp_event
from hub.kafka.broker import EmbeddedBroker
from hub.worker.supervise import WorkerProcess
from schemas.common import Side

TIMEOUT_S = 600  # gives up on a stuck run


def write_feed(directory: Path, events: int, attributes: int, most: int | None = None) -> tuple[int, int]:
    """Write `events` events of `attributes` (to `most`) attributes in a MISP feed directory; (bytes, attributes)."""
    rng = random.Random(2016)
    feed, manifest, size, total = FeedDir(directory), {}, 0, 0
    directory.mkdir(parents=True)
    for i in range(events):
        count = rng.randint(attributes, most) if most else attributes
        total += count
        body = misp_event(rng, "CERT-EU", count, BASE_TIME + timedelta(minutes=i))["Event"]
        body["distribution"] = "3"
        feed.write(body)
        manifest[body["uuid"]] = manifest_entry(body)
        size += (directory / f"{body['uuid']}.json").stat().st_size
    feed.save_manifest(manifest)
    return size, total


def listed(directory: Path) -> int:
    """How many events the feed's manifest lists."""
    try:
        return len(json.loads((directory / MANIFEST).read_bytes()))
    except (OSError, ValueError):
        return 0


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--attributes", type=int, default=50)
    parser.add_argument("--attributes-max", type=int, help="draw each event's attribute count up to this")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, EmbeddedBroker() as broker:
        root = Path(tmp)
        eu, nato = root / "eu-feed", root / "nato-feed"
        connectors = [
            {"type": "feed", "side": "EU", "role": "source", "dir": str(eu), "interval_s": 1},
            {"type": "feed", "side": "NATO", "role": "sink", "dir": str(nato), "interval_s": 1},
        ]
        keyring = root / "keyring.json"  # the EU source signs as CERT-EU; the hub requires signatures
        _, key_file = new_key(keyring, root / "keys", "CERT-EU", Side.EU)
        env = {
            "HUB_SIGNING__KEYRING": str(keyring),
            "HUB_SIGNING__KEY_FILE": str(key_file),
            "HUB_KAFKA__BOOTSTRAP": broker.bootstrap,
            "HUB_DATA_DIR": str(root / "data"),
            "HUB_KAFKA__SESSION_TIMEOUT_S": "2",
            "HUB_CONNECTORS": json.dumps(connectors),
        }
        worker = WorkerProcess(env, root / "worker.log").start()
        try:
            worker.wait_ready()
            start = time.perf_counter()
            size, attributes = write_feed(eu, args.events, args.attributes, args.attributes_max)
            written = time.perf_counter()
            while listed(nato) < args.events and time.perf_counter() - start < TIMEOUT_S:
                time.sleep(0.05)
            done = time.perf_counter()
        finally:
            worker.stop()
        got = listed(nato)
    sync_s = done - written
    print(f"events: {args.events}, {attributes} attributes in all, feed {size / 1e6:.1f} MB; load {os.getloadavg()}")
    print(f"EU feed written in {written - start:.2f} s")
    print(f"synced into the NATO feed: {got} events in {sync_s:.2f} s after the EU manifest was saved")
    print(f"throughput: {got / sync_s:.0f} events/s, {attributes * got / args.events / sync_s:.0f} attributes/s")
    return 0 if got == args.events else 1


if __name__ == "__main__":
    sys.exit(main())
