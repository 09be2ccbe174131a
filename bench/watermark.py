"""A source's watermark save at 1,000 and at 1,000,000 known events: it must cost what changed, not the whole.

    python bench/watermark.py [--sizes 1000,1000000] [--saves 30] [--changed 200]

For each size, fills a watermark with that many events, then times `save()` after marking
`--changed` events (a pull's batch: half new, half newer versions of known ones), median and
95th percentile over `--saves` saves. With `--old`, also times the JSON file the watermark used to
be (the whole file rewritten and fsynced at each save), for comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from connectors.misp.watermark import Watermark, write_atomic

FILL_BATCH = 50_000  # events per transaction while filling


def fill(watermark: Watermark, n: int) -> list[str]:
    keys = [str(uuid.UUID(int=i + 1)) for i in range(n)]
    for start in range(0, n, FILL_BATCH):
        for key in keys[start : start + FILL_BATCH]:
            watermark.mark(key, 1_700_000_000)
        watermark.save()
    return keys


def time_saves(watermark: Watermark, keys: list[str], saves: int, changed: int) -> list[float]:
    took = []
    version = 1_800_000_000
    for s in range(saves):
        version += 1
        for i in range(changed // 2):
            watermark.mark(keys[(s * changed + i) % len(keys)], version)  # a newer version of a known event
            watermark.mark(str(uuid.uuid4()), version)  # a new event
        watermark.advance(version)
        start = time.perf_counter()
        watermark.save()
        took.append(time.perf_counter() - start)
    return took


def time_old(n: int, saves: int, directory: Path) -> list[float]:
    """The earlier watermark: every version in one JSON file, rewritten whole and fsynced at each save."""
    versions = {str(uuid.UUID(int=i + 1)): 1_700_000_000 for i in range(n)}
    took = []
    for _ in range(saves):
        start = time.perf_counter()
        write_atomic(directory / "old.json", json.dumps({"versions": versions}, sort_keys=True).encode())
        took.append(time.perf_counter() - start)
    return took


def p95(values: list[float]) -> float:
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def main() -> None:
    """Fill, save, print one line per size."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,1000000")
    ap.add_argument("--saves", type=int, default=30)
    ap.add_argument("--changed", type=int, default=200, help="events marked between two saves (sync.BATCH_EVENTS)")
    ap.add_argument("--old", action="store_true", help="also time the earlier JSON watermark (3 saves)")
    args = ap.parse_args()
    medians = {}
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            watermark = Watermark(Path(tmp) / f"wm-{n}.db")
            start = time.perf_counter()
            keys = fill(watermark, n)
            filled = time.perf_counter() - start
            took = time_saves(watermark, keys, args.saves, args.changed)
            medians[n] = statistics.median(took)
            size = watermark.path.stat().st_size + Path(f"{watermark.path}-wal").stat().st_size
            print(
                f"{n:>9,} events: save of {args.changed} changed: median {medians[n] * 1000:.2f} ms, "
                f"p95 {p95(took) * 1000:.2f} ms; file {size / 2**20:.1f} MiB; filled in {filled:.1f} s"
            )
            watermark.close()
            if args.old:
                old = time_old(n, 3, Path(tmp))
                print(f"{n:>9,} events, the earlier JSON watermark: median save {statistics.median(old) * 1000:.1f} ms")
    sizes = sorted(medians)
    if len(sizes) > 1:
        print(f"ratio {sizes[-1]:,} / {sizes[0]:,}: {medians[sizes[-1]] / medians[sizes[0]]:.2f}x (target: within 2x)")


if __name__ == "__main__":
    main()
