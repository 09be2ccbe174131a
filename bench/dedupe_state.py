"""Deduplication state at 1,000,000 keys: bytes per key on disk, and the worker's memory stays bounded.

    python bench/dedupe_state.py [--keys 1000000] [--ledger URL]

The state lives in the ledger database (`items`: key, version, content hash, origin, delivered),
so the worker holds none of it in memory: this fills the table through `Ledger.append`, reports
bytes per key (table and its index), then times `Ledger.seen` lookups and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hub.core.dedupe import Seen
from hub.ledger import Ledger
from schemas.common import Side

BATCH = 20_000  # keys per transaction while filling


def main() -> None:
    """Fill, measure, print."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keys", type=int, default=1_000_000)
    ap.add_argument("--ledger", help="ledger URL (default: SQLite in a temporary directory)")
    args = ap.parse_args()
    rng = random.Random(1)  # noqa: S311 - test data
    base = datetime(2026, 1, 1, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.ledger or f"sqlite:///{Path(tmp) / 'ledger.db'}"
        ledger = Ledger(url)
        keys: list[str] = []
        t0 = time.perf_counter()
        for start in range(0, args.keys, BATCH):
            batch = {}
            for _ in range(min(BATCH, args.keys - start)):
                key = f"misp_event:{uuid.UUID(int=rng.getrandbits(128), version=4)}"
                seen = Seen(
                    base + timedelta(seconds=rng.randrange(10**7)), f"{rng.getrandbits(256):064x}", Side.EU, True
                )
                batch[key] = seen
                keys.append(key)
            with ledger.transaction():
                ledger.append([], batch, base)
        fill = time.perf_counter() - t0
        if ledger.dialect.name == "sqlite":
            rows = ledger._q(
                "SELECT SUM(pgsize) FROM dbstat WHERE name IN ('items', 'items_hash', 'sqlite_autoindex_items_1')"
            )
            state_bytes = int(rows[0][0])
        else:
            rows = ledger._q("SELECT pg_total_relation_size('items')")
            state_bytes = int(rows[0][0])
        probe = rng.sample(keys, min(100_000, len(keys) // 1000 * 1000))
        t0 = time.perf_counter()
        for i in range(0, len(probe), 1000):
            assert len(ledger.seen(probe[i : i + 1000])) == 1000  # noqa: S101 - a benchmark self-check
        lookup = len(probe) / (time.perf_counter() - t0)
        ledger.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    per_key = state_bytes / args.keys
    print(f"keys                      {args.keys:,}")
    print(f"state on disk             {state_bytes / 2**20:,.1f} MiB = {per_key:,.0f} bytes/key (table + indexes)")
    print(f"fill                      {args.keys / fill:,.0f} keys/s")
    print(f"lookups (batches of 1000) {lookup:,.0f} keys/s")
    print(f"process peak RSS          {peak:,.0f} MiB (this script also holds the generated keys)")


if __name__ == "__main__":
    main()
