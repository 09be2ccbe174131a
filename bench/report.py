"""Benchmark: `hub report` over a ledger of 1,000,000 records (target: under 5 s), and `hub audit verify`.

    python bench/report.py                       # SQLite, 1,000,000 records over five years
    python bench/report.py --postgres postgresql://postgres@127.0.0.1:5432/test
    python bench/report.py --records 100000 --verify

The ledger is built once through `Ledger.append` (hash chain and live counts included) and kept in
the temp directory for later runs. Each report is timed as the real command in a fresh process, so the
times include Python's start-up, the SQL aggregation, the rendering and the output.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hub.demo.history import Span, fill
from hub.ledger import Ledger

YEARS = 5  # the ledger spans five years up to today, so the half-year periods and months are realistic
RUNS = 3  # runs per case; the median is reported
TARGET_S = 5.0  # the target for a report over 1,000,000 records


def ledger_for(url: str, records: int) -> float:
    """Fill the ledger at `url` to `records` unless it holds them already; seconds spent building."""
    led = Ledger(url)
    try:
        have = led.size()
        if have == records:
            return 0.0
        if have:
            sys.exit(f"{url} holds {have} records, not {records}: remove it or pick another --db")
        start = datetime.now(UTC) - timedelta(days=YEARS * 365)
        t = time.perf_counter()
        fill(led, records, Span(start, YEARS * 365))
        return time.perf_counter() - t
    finally:
        led.close()


def timed(url: str, args: list[str], runs: int = RUNS) -> tuple[float, int]:
    """Median seconds of `hub ARGS` over `runs` fresh processes, and the output's size in bytes."""
    env = {**os.environ, "HUB_LEDGER_URL": url}
    times, size = [], 0
    for _ in range(runs):
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "hub", *args], capture_output=True, env=env, check=True)
        times.append(time.perf_counter() - t)
        size = len(proc.stdout)
    return statistics.median(times), size


def main() -> None:
    """Build the ledger if needed, time the report cases, print a Markdown table."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--records", type=int, default=1_000_000)
    p.add_argument("--db", type=Path, default=None, help="SQLite file (default: hub-bench-report-N.db in the temp dir)")
    p.add_argument("--postgres", metavar="URL", help="benchmark this PostgreSQL ledger instead of SQLite")
    p.add_argument("--verify", action="store_true", help="also time `hub audit verify` (about a minute per million)")
    args = p.parse_args()
    if args.postgres:
        url = args.postgres
    else:
        db = args.db or Path(tempfile.gettempdir()) / f"hub-bench-report-{args.records}.db"
        url = f"sqlite:///{db.resolve()}"
    built = ledger_for(url, args.records)
    first = (datetime.now(UTC) - timedelta(days=YEARS * 365)).date().isoformat()
    cases = [
        ("current half-year, md (en)", ["report"]),
        ("current half-year, html (fr)", ["report", "--lang", "fr", "--format", "html"]),
        ("whole ledger, md (fr)", ["report", "--from", first, "--lang", "fr"]),
        ("whole ledger, html (en)", ["report", "--from", first, "--format", "html"]),
        ("whole ledger, csv", ["report", "--from", first, "--format", "csv"]),
        ("whole ledger, json", ["report", "--from", first, "--format", "json"]),
    ]
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"ledger: {args.records:,} records on {backend} over {YEARS} years", file=sys.stderr)
    if built:
        print(f"built in {built:.0f} s ({args.records / built:,.0f} records/s through Ledger.append)", file=sys.stderr)
    print(f"| case ({backend}, {args.records:,} records) | median of {RUNS} | output | under {TARGET_S:.0f} s |")
    print("| --- | ---: | ---: | --- |")
    for name, hub_args in cases:
        seconds, size = timed(url, hub_args)
        ok = "yes" if seconds < TARGET_S else "no"
        print(f"| `hub {' '.join(hub_args)}`: {name} | {seconds:.2f} s | {size / 1e6:.2f} MB | {ok} |", flush=True)
    if args.verify:
        seconds, _ = timed(url, ["audit", "verify"], runs=1)
        print(f"| `hub audit verify`: the whole chain and the counts (one run) | {seconds:.1f} s | | |")


if __name__ == "__main__":
    main()
