"""Hostile-load benchmark: good items' publish-to-inbox latency with and without decompression bombs among them.

    python bench/bombs.py [--pairs 100] [--bomb-mib 60] [--interval 0.5] [--json FILE]

One fresh Tansu broker and one `hub up` worker (signatures required). Two legs in the same run:
  (1) baseline: `pairs` good items (signed, mixed kinds), one every `interval` seconds;
  (2) hostile: the same number of new good items at the same pace, each preceded by an unsigned
      zstd bomb of `bomb-mib` MiB (~2 KB on the wire).
For the good items of each leg: p50, p99 and max milliseconds from the publisher handing the message
over to its arrival on the counterpart inbox; the ratio of the p99s (target: at most 2); the worker's
peak RSS; every bomb rejected. Figures go to stdout and to `--json FILE`; BENCHMARKS.md records them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from throughput import PARTITIONS, peak_rss_mib

from hub.core.signing import SignerSet
from hub.demo.scenario import mixed, register_scenario_keys
from hub.kafka.broker import EmbeddedBroker
from hub.kafka.publisher import Publisher
from hub.ledger import Ledger
from hub.settings import KafkaSettings
from hub.worker.supervise import WorkerProcess

MIB = 1024 * 1024


async def leg(
    bootstrap: str, signer: SignerSet, pairs: int, interval: float, bomb: bytes | None, seed: int
) -> list[float]:
    """Publish `pairs` good items (each after a bomb, if given) one per `interval`; good items' latencies in ms."""
    goods = mixed(total=pairs, duplicates=0, updates=0, red=0, malformed_n=0, seed=seed).items
    consumer = AIOKafkaConsumer("eu.inbox", "nato.inbox", bootstrap_servers=bootstrap, group_id=None,
                                auto_offset_reset="latest", fetch_max_wait_ms=5)  # fmt: skip
    await consumer.start()
    await asyncio.sleep(0.5)  # the consumer takes its position at the end of both inboxes
    sent: dict[str, float] = {}
    arrived: dict[str, float] = {}

    async def collect() -> None:
        while len(arrived) < pairs:
            for records in (await consumer.getmany(timeout_ms=100)).values():
                now = time.perf_counter()
                for r in records:
                    sid = dict(r.headers)["hub-sid"].decode()
                    if sid.endswith(tag):  # an earlier leg's last items may still be arriving
                        arrived.setdefault(sid, now)

    tag = f"{seed}-{time.time()}"
    task = asyncio.create_task(collect())
    attacker = None
    if bomb is not None:  # another process, as an attacker would be: its compressing does not stall this clock
        args = [str(bootstrap), str(pairs), str(interval), str(len(bomb) // MIB), tag]
        attacker = await asyncio.create_subprocess_exec(sys.executable, __file__, "--attack", *args)
        await asyncio.sleep(1.0)  # its producer is connected before the first good item
    async with Publisher(KafkaSettings(bootstrap=bootstrap, partitions=PARTITIONS), bootstrap) as pub:
        start = time.perf_counter()
        for i, raw in enumerate(goods):
            await asyncio.sleep(max(0.0, start + (i + 0.5) * interval - time.perf_counter()))
            sid = f"good-{i}-{tag}"
            sent[sid] = time.perf_counter()
            await pub.producer.send("hub.submitted", raw, headers=[("hub-sid", sid.encode()), *signer.headers(raw)])
        await pub.producer.flush()
    if attacker is not None:
        await asyncio.wait_for(attacker.wait(), 600)
    await asyncio.wait_for(task, 600)
    await consumer.stop()
    return sorted((arrived[s] - sent[s]) * 1000 for s in sent)


async def attack(bootstrap: str, count: int, interval: float, mib: int, tag: str) -> None:
    """The attacker: `count` unsigned zstd bombs of `mib` MiB, one every `interval` seconds."""
    bomb = b"A" * (mib * MIB)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, compression_type="zstd", max_request_size=len(bomb) + MIB)
    await producer.start()
    start = time.perf_counter()
    for i in range(count):
        await asyncio.sleep(max(0.0, start + i * interval - time.perf_counter()))
        await producer.send("hub.submitted", bomb, headers=[("hub-sid", f"bomb-{i}-{tag}".encode())])
    await producer.stop()


def figures(ms: list[float]) -> dict[str, float]:
    """p50, p99 and max of a leg's latencies."""
    return {"p50_ms": statistics.median(ms), "p99_ms": ms[max(0, int(len(ms) * 0.99) - 1)], "max_ms": ms[-1]}


def main() -> None:
    """Run both legs on one broker and one worker and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=100, help="good items per leg, and bombs in the hostile leg")
    ap.add_argument("--bomb-mib", type=int, default=60, help="what each bomb inflates to")
    ap.add_argument("--interval", type=float, default=0.5, help="seconds between two good items")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--attack", nargs=5, metavar=("BOOTSTRAP", "N", "INTERVAL", "MIB", "TAG"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.attack:
        bootstrap, n, interval, mib, tag = args.attack
        asyncio.run(attack(bootstrap, int(n), float(interval), int(mib), tag))
        return
    results: dict[str, Any] = {"pairs": args.pairs, "bomb_mib": args.bomb_mib, "interval_s": args.interval}
    with tempfile.TemporaryDirectory() as tmp, EmbeddedBroker() as broker:
        data = Path(tmp)
        signer = register_scenario_keys(data / "keyring.json", data / "keys")
        env = {"HUB_KAFKA__BOOTSTRAP": broker.bootstrap, "HUB_LEDGER_URL": f"sqlite:///{data / 'ledger.db'}",
               "HUB_DATA_DIR": str(data), "HUB_SIGNING__KEYRING": str(data / "keyring.json")}  # fmt: skip
        worker = WorkerProcess(env, data / "worker.log").start()
        worker.wait_ready()
        asyncio.run(leg(broker.bootstrap, signer, 20, 0.05, None, seed=1))  # warm-up, not counted
        print("[bench] baseline leg", file=sys.stderr, flush=True)
        results["baseline"] = figures(asyncio.run(leg(broker.bootstrap, signer, args.pairs, args.interval, None, 2)))
        print("[bench] hostile leg", file=sys.stderr, flush=True)
        bomb = b"A" * (args.bomb_mib * MIB)
        hostile = asyncio.run(leg(broker.bootstrap, signer, args.pairs, args.interval, bomb, 3))
        results["hostile"] = figures(hostile)
        ledger = Ledger(env["HUB_LEDGER_URL"])
        # a bomb the consumer refused unread keeps no header: its submission id is derived (raw:...)
        rules = [r.rule for r in ledger.records() if r.submission_id.startswith(("bomb-", "raw:"))]
        ledger.close()
        results["bombs_rejected"] = len(rules)
        results["bomb_rules"] = sorted(set(rules))
        results["worker_peak_rss_mib"] = peak_rss_mib(worker.proc.pid) if worker.proc else float("nan")
        worker.stop()
    results["p99_ratio"] = results["hostile"]["p99_ms"] / results["baseline"]["p99_ms"]
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
