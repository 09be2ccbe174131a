"""Throughput benchmark on the embedded broker: the broker's own limit, the hub, and Faust's floor.

    python bench/throughput.py [--n 30000] [--workers 1] [--latency-rate 1000] [--ledger URL]

In one run, on one fresh Tansu broker, with the same N envelopes preloaded on `hub.submitted`:
  (a) raw aiokafka consumption (the limit),
  (b) the full hub pipeline (`hub up` child processes, batch engine) from `hub.submitted` to both
      inboxes and the ledger, with exact counts checked,
  (c) a plain Faust agent that only reads the topic;
then p50/p99 submit-to-inbox latency at an offered load, and the workers' peak RSS.
Figures go to stdout as a table and to `--json FILE` if given; BENCHMARKS.md records them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer

from hub.core.signing import SignerSet
from hub.demo.scenario import mixed, register_scenario_keys
from hub.kafka.broker import EmbeddedBroker
from hub.kafka.publisher import Publisher
from hub.ledger import Ledger
from hub.report.counts import totals
from hub.settings import KafkaSettings
from hub.worker.supervise import WorkerProcess

HERE = Path(__file__).resolve().parent
PARTITIONS = 4  # the hub's default; two workers get two partitions each


async def preload(bootstrap: str, items: list[bytes], signer: SignerSet | None) -> float:
    """Publish `items` to hub.submitted (signed unless `signer` is None); returns messages/s."""
    t0 = time.perf_counter()
    kafka = KafkaSettings(bootstrap=bootstrap, partitions=PARTITIONS)
    async with Publisher(kafka, bootstrap, signer=signer) as pub:
        for i in range(0, len(items), 5000):
            await pub.publish(items[i : i + 5000])
    return len(items) / (time.perf_counter() - t0)


async def raw_consume(bootstrap: str, n: int) -> float:
    """(a) Read n messages with a bare aiokafka consumer; messages/s from the first record on."""
    consumer = AIOKafkaConsumer(
        "hub.submitted",
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_bytes=64 * 1024 * 1024,
        max_partition_fetch_bytes=16 * 1024 * 1024,
    )
    await consumer.start()
    seen, t0 = 0, time.perf_counter()  # from the first fetch on: one getmany can return everything
    try:
        while seen < n:
            batches = await consumer.getmany(timeout_ms=1000, max_records=20_000)
            seen += sum(len(records) for records in batches.values())
    finally:
        await consumer.stop()
    return n / (time.perf_counter() - t0)


def faust_plain(bootstrap: str, n: int) -> float:
    """(c) A plain Faust agent reading the same topic; messages/s from its first batch on."""
    proc = subprocess.Popen(  # noqa: S603 - our own script
        [sys.executable, str(HERE / "faust_plain.py"), bootstrap, str(n)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None  # noqa: S101 - set by Popen(stdout=PIPE)
    try:
        for line in proc.stdout:  # the agent prints one line when it has read n messages
            if line.startswith("faust_plain"):
                _, count, seconds = line.split()
                return int(count) / float(seconds)
        raise SystemExit("bench/faust_plain.py exited without a result")
    finally:
        proc.kill()  # Faust's worker does not always leave on app.stop(); the figure is in hand
        proc.wait()


def peak_rss_mib(pid: int) -> float:
    """VmHWM (peak resident set) of a live process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_pipeline(
    bootstrap: str, ledger_url: str, data: Path, n: int, workers: int, signed: bool
) -> tuple[float, list[WorkerProcess]]:
    """(b) Start `workers` hub workers on the preloaded topic; messages/s from the first decision to the last."""
    env = {
        "HUB_KAFKA__BOOTSTRAP": bootstrap,
        "HUB_LEDGER_URL": ledger_url,
        "HUB_DATA_DIR": str(data),
        "HUB_KAFKA__PARTITIONS": str(PARTITIONS),
        "HUB_SIGNING__REQUIRED": str(signed).lower(),
    }
    procs = [WorkerProcess(env, data / f"worker-{i}.log").start() for i in range(workers)]
    for p in procs:
        p.wait_ready()
    ledger = Ledger(ledger_url)
    first_t, first_n = 0.0, 0
    while (size := ledger.size()) < n:
        if size and not first_t:
            first_t, first_n = time.perf_counter(), size
        time.sleep(0.005)
    rate = (n - first_n) / (time.perf_counter() - first_t)
    ledger.close()
    return rate, procs


async def latency(bootstrap: str, rate: int, count: int, signer: SignerSet | None) -> tuple[float, float]:
    """p50 and p99 milliseconds from publish to arrival on the counterpart inbox at `rate`/s."""
    items = mixed(total=count, duplicates=0, updates=0, red=0, malformed_n=0, seed=int(time.time())).items
    consumer = AIOKafkaConsumer(
        "eu.inbox",
        "nato.inbox",
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="latest",
        fetch_max_wait_ms=5,  # measure the hub, not this consumer's own long-poll wait
    )
    await consumer.start()
    await asyncio.sleep(0.5)  # let the consumer take its position at the end of both inboxes
    sent: dict[str, float] = {}
    arrived: dict[str, float] = {}

    async def collect() -> None:
        while len(arrived) < count:
            for records in (await consumer.getmany(timeout_ms=100)).values():
                now = time.perf_counter()
                for r in records:
                    sid = dict(r.headers)["hub-sid"].decode()
                    if sid.startswith("lat-"):  # the previous leg's last outputs may still be arriving
                        arrived.setdefault(sid, now)

    task = asyncio.create_task(collect())
    async with Publisher(KafkaSettings(bootstrap=bootstrap, partitions=PARTITIONS), bootstrap) as pub:
        start = time.perf_counter()
        for i, raw in enumerate(items):
            await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
            sid = f"lat-{i}-{start}"
            sent[sid] = time.perf_counter()
            headers = [("hub-sid", sid.encode()), *(signer.headers(raw) if signer else [])]
            fut = await pub.producer.send("hub.submitted", raw, key=None, headers=headers)
            del fut  # acknowledged in the background: the clock starts when the publisher hands it over
        await pub.producer.flush()
    await asyncio.wait_for(task, 120)
    await consumer.stop()
    ms = sorted((arrived[s] - sent[s]) * 1000 for s in sent)
    return statistics.median(ms), ms[int(len(ms) * 0.99) - 1]


def say(text: str) -> None:
    """Progress on stderr."""
    print(f"[bench] {text}", file=sys.stderr, flush=True)


def main() -> None:
    """Run every measurement and print the table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=30_000, help="envelopes (default 30000)")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--kinds", default="mixed", choices=["mixed", "notes"], help="mixed kinds, or notes only")
    ap.add_argument("--latency-rate", type=int, default=1000)
    ap.add_argument("--latency-count", type=int, default=5000)
    ap.add_argument("--ledger", help="ledger URL (default: SQLite in a temporary directory)")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument("--unsigned", action="store_true", help="publish unsigned, workers not requiring signatures")
    args = ap.parse_args()

    sc = mixed(total=args.n, duplicates=0, updates=0, red=0, malformed_n=0, seed=6)
    items = sc.items if args.kinds == "mixed" else [i for i in sc.items if b'"stratcom_note"' in i]
    n = len(items)
    results: dict[str, Any] = {
        "n": n,
        "workers": args.workers,
        "kinds": args.kinds,
        "cpus": os.cpu_count(),
        "signed": not args.unsigned,
    }
    with tempfile.TemporaryDirectory() as tmp, EmbeddedBroker() as broker:
        data = Path(tmp)
        signer = None if args.unsigned else register_scenario_keys(data / "keyring.json", data / "keys")
        say(f"broker at {broker.bootstrap}; preloading {n} envelopes")
        results["produce_per_s"] = asyncio.run(preload(broker.bootstrap, items, signer))
        say("(a) raw aiokafka consumption")
        results["raw_aiokafka_per_s"] = asyncio.run(raw_consume(broker.bootstrap, n))
        say("(c) plain Faust agent")
        results["faust_plain_per_s"] = faust_plain(broker.bootstrap, n)
        ledger_url = args.ledger or f"sqlite:///{data / 'ledger.db'}"
        say(f"(b) the hub pipeline, {args.workers} worker(s), ledger {ledger_url}")
        rate, procs = run_pipeline(broker.bootstrap, ledger_url, data, n, args.workers, not args.unsigned)
        results["pipeline_per_s"] = rate
        ledger = Ledger(ledger_url)
        results["exact"] = totals(ledger.counts())["delivered"] == n and ledger.counts() == ledger.recount()
        ledger.close()
        say(f"latency at {args.latency_rate}/s offered, {args.latency_count} envelopes")
        p50, p99 = asyncio.run(latency(broker.bootstrap, args.latency_rate, args.latency_count, signer))
        results.update(latency_p50_ms=p50, latency_p99_ms=p99)
        results["worker_peak_rss_mib"] = max(peak_rss_mib(p.proc.pid) for p in procs if p.proc)
        for p in procs:
            p.stop()
    results["ratio_pipeline_raw"] = results["pipeline_per_s"] / results["raw_aiokafka_per_s"]
    results["ratio_pipeline_faust"] = results["pipeline_per_s"] / results["faust_plain_per_s"]
    for key, value in results.items():
        print(f"{key:<24} {value:,.3f}" if isinstance(value, float) else f"{key:<24} {value}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
