"""Writers sharing one PostgreSQL ledger: time spent waiting for the ledger's locks, and how throughput adds up.

    python bench/ledger_locks.py --ledger postgresql://postgres@127.0.0.1:5432/test [--n 8000] [--batch 500]

The same N scenario items (mixed kinds, all new), each routed to its partition of `hub.submitted`
as the publisher keys it (`hub.kafka.partitioner.home_partition`), are decided by `decide_batch`
(the worker's ledger transaction around the core; signatures not checked, no Kafka) in three legs
on fresh databases of the server: (1) one writer process owning all four partitions, (2) two
writer processes owning two partitions each, started together, (3) the same two with every batch
locking all four partitions, as the one advisory lock did before the chains were partitioned.
For each writer: the time its transactions spent acquiring their locks (`Ledger.locks.wait_s`)
against the time they ran (`Ledger.locks.held_s`); then the summed rate, 2 writers over 1, and
whether the counts equal a recount and `hub audit verify` holds. The machine's cores bound the
ratio: two writers need two free cores (and PostgreSQL a share of them).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg

from hub.audit.verify import verify
from hub.core.decide import Submitted
from hub.core.policy import ReleasePolicy
from hub.demo.scenario import mixed
from hub.kafka.partitioner import home_partition
from hub.kafka.publisher import item_key
from hub.ledger import Ledger
from hub.worker.batch import decide_batch

PARTITIONS = 4  # the hub's default partition count of hub.submitted


def by_partition(n: int) -> dict[int, list[tuple[str, bytes]]]:
    """`n` new items as (submission id, bytes), grouped by the partition their key goes to."""
    items = mixed(total=n, duplicates=0, updates=0, red=0, malformed_n=0, seed=13).items
    parts: dict[int, list[tuple[str, bytes]]] = {p: [] for p in range(PARTITIONS)}
    for i, raw in enumerate(items):
        key = item_key(raw)
        parts[home_partition(key.decode(), PARTITIONS) if key else 0].append((f"s{i}", raw))
    return parts


def write(url: str, mine: dict[int, list[tuple[str, bytes]]], size: int, start: Any, out: Any, one: bool) -> None:
    """One writer: its partitions' items in batches mixing them (as a `getmany` does), timed.

    `one`: every batch locks every partition, as the single advisory lock before chains did.
    """
    ledger = Ledger(url)
    if one:
        locking = ledger.transaction
        ledger.transaction = lambda _=(): locking(range(PARTITIONS))  # type: ignore[method-assign]
    queue = [
        (p, sid, raw) for group in zip(*mine.values(), strict=False) for p, (sid, raw) in zip(mine, group, strict=True)
    ]
    queue += [(p, sid, raw) for p, rows in mine.items() for sid, raw in rows[min(map(len, mine.values())) :]]
    start.wait()
    began = time.perf_counter()
    batches = 0
    for i in range(0, len(queue), size):
        batch = [Submitted(sid, raw, partition=p) for p, sid, raw in queue[i : i + size]]
        decide_batch(ledger, batch, ReleasePolicy(), datetime.now(UTC), partitions=PARTITIONS)
        batches += 1
    seconds = time.perf_counter() - began
    out.put({"items": len(queue), "batches": batches, "seconds": seconds, **vars(ledger.locks)})
    ledger.close()


def leg(
    admin: str, parts: dict[int, list[tuple[str, bytes]]], writers: int, size: int, one: bool = False
) -> dict[str, Any]:
    """Decide every item with `writers` processes on a fresh database; their figures and the checks."""
    name = f"hub_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = f"{admin.rsplit('/', 1)[0]}/{name}"
    try:
        Ledger(url).close()  # the schema, before the clock starts
        ctx = mp.get_context("fork")
        start, out = ctx.Barrier(writers + 1), ctx.Queue()
        owned = [{p: parts[p] for p in range(PARTITIONS) if p % writers == w} for w in range(writers)]
        procs = [ctx.Process(target=write, args=(url, mine, size, start, out, one)) for mine in owned]
        for proc in procs:
            proc.start()
        start.wait()
        figures = [out.get() for _ in procs]
        for proc in procs:
            proc.join()
        ledger = Ledger(url)
        try:
            exact = ledger.counts() == ledger.recount() and ledger.size() == sum(f["items"] for f in figures)
            chains = verify(ledger).chains
        finally:
            ledger.close()
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    total = sum(f["items"] for f in figures)
    return {
        "writers": f"{writers}{' (one lock)' if one else ''}",
        "rate": total / max(f["seconds"] for f in figures),
        "wait_share": [f["wait_s"] / f["held_s"] for f in figures],
        "wait_ms_per_batch": [1000 * f["wait_s"] / f["transactions"] for f in figures],
        "batch_ms": [1000 * f["held_s"] / f["transactions"] for f in figures],
        "exact": exact,
        "chains": chains,
    }


def main() -> None:
    """Both legs, then the table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ledger", required=True, help="a PostgreSQL URL whose server may create databases")
    ap.add_argument("--n", type=int, default=8000, help="items (default 8000)")
    ap.add_argument("--batch", type=int, default=500, help="items per batch (default 500)")
    args = ap.parse_args()
    parts = by_partition(args.n)
    print(f"load average before: {os.getloadavg()}; items per partition {[len(v) for v in parts.values()]}")
    legs = [leg(args.ledger, parts, w, args.batch) for w in (1, 2)] + [leg(args.ledger, parts, 2, args.batch, True)]
    print(f"load average after: {os.getloadavg()}")
    print("| writers | items/s (sum) | lock wait / transaction time | lock wait per batch | batch | exact | chains |")
    print("| ---: | ---: | --- | --- | --- | --- | ---: |")
    for r in legs:
        shares = ", ".join(f"{s:.2%}" for s in r["wait_share"])
        waits = ", ".join(f"{w:.2f} ms" for w in r["wait_ms_per_batch"])
        batches = ", ".join(f"{b:.0f} ms" for b in r["batch_ms"])
        print(f"| {r['writers']} | {r['rate']:,.0f} | {shares} | {waits} | {batches} | {r['exact']} | {r['chains']} |")
    one, two, locked = (r["rate"] for r in legs)
    print(f"2 writers / 1: {two / one:.2f}x; with one lock: {locked / one:.2f}x")


if __name__ == "__main__":
    main()
