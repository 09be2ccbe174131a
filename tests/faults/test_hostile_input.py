"""A fuzz run through the real worker: 10,000+ bad submissions among good ones.

Every bad one is rejected with a reason (ledger and `hub.rejected`), the worker never stops, and
every good one interleaved with them is delivered.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import pytest

from hub.core.route import SID_HEADER
from hub.demo.scenario import mixed
from hub.kafka.publisher import Publisher
from hub.ledger import Ledger
from hub.report.counts import totals
from hub.settings import KafkaSettings
from tests.conftest import read_topic, values
from tests.faults.hostile import CATEGORIES, UNTRUSTED, HeaderTable, huge_string, untrusted

pytestmark = [pytest.mark.broker, pytest.mark.slow]

BAD = 10_000  # the figure for generated bad submissions
GOOD = 1_000
HUGE = 3  # 10 MB strings: a few are enough to show they pass through and are refused


def fuzz_items(seed: int) -> tuple[list[bytes], list[str], HeaderTable]:
    """Good and bad items interleaved, the category of each (`good` for good ones), and their signer."""
    rng = random.Random(seed)
    table = HeaderTable()
    bad: list[tuple[str, bytes]] = []
    names = list(CATEGORIES)
    for i in range(BAD - HUGE - 4 * len(UNTRUSTED)):
        category = names[i % len(names)]
        bad.append((category, CATEGORIES[category](rng)))
    bad += [("huge-string", huge_string(rng)) for _ in range(HUGE)]
    for how in UNTRUSTED * 4:
        raw, headers = untrusted(rng, how)
        table.fixed[raw] = headers
        bad.append((how, raw))
    good = mixed(total=GOOD, duplicates=0, updates=0, red=0, malformed_n=0, seed=seed, attributes=2).items
    rng.shuffle(bad)
    merged: list[tuple[str, bytes]] = [("good", raw) for raw in good]
    for item in bad:  # good items keep their order; bad ones land anywhere among them
        merged.insert(rng.randrange(len(merged) + 1), item)
    return [raw for _, raw in merged], [c for c, _ in merged], table


async def wait_for(ledger: Ledger, n: int, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while ledger.size() < n and loop.time() < deadline:
        await asyncio.sleep(0.2)


async def test_ten_thousand_bad_submissions_are_rejected_and_the_good_ones_delivered(
    broker, ledger_url, start_worker, tmp_path
):
    items, categories, table = fuzz_items(seed=5)
    worker = start_worker()
    kafka = KafkaSettings(bootstrap=broker.bootstrap, partitions=4)
    async with Publisher(kafka, broker.bootstrap, signer=table) as pub:
        sids = await pub.publish(items)
    ledger = Ledger(ledger_url)
    await wait_for(ledger, len(items), timeout=300)

    assert worker.proc is not None
    assert worker.proc.poll() is None, "the worker stopped"
    assert ledger.size() == len(items)
    assert totals(ledger.counts()) == {"delivered": GOOD, "updated": 0, "duplicate": 0, "withheld": 0, "rejected": BAD}
    assert ledger.counts() == ledger.recount()
    category = dict(zip(sids, categories, strict=True))
    records = {r.submission_id: r for r in ledger.records()}
    rejected = {sid for sid, r in records.items() if r.decision == "rejected"}
    assert rejected == {sid for sid, c in category.items() if c != "good"}
    assert all(records[sid].reason for sid in rejected)
    rules = Counter(category[sid] + ":" + records[sid].rule for sid in rejected)
    for how, rule in [("unsigned", "unsigned"), ("rogue-key", "unknown-key"), ("wrong-side", "wrong-side")]:
        assert rules[f"{how}:{rule}"] == 4
    assert rules["altered:forged"] == 4
    reasons = {c: {records[s].reason for s in rejected if category[s] == c} for c in set(categories) - {"good"}}
    assert any("duplicate key" in r for r in reasons["duplicate-key"])
    assert any("is not a JSON number" in r for r in reasons["nan"])
    assert all("UTF-8" in r for r in reasons["invalid-utf8"])
    assert any("nested too deeply" in r or "recursion" in r for r in reasons["nested"])

    published = await read_topic(broker.bootstrap, "hub.rejected", BAD, timeout=60)
    on_topic = {
        dict(r.headers)[SID_HEADER].decode(): body for r, body in zip(published, values(published), strict=True)
    }
    assert set(on_topic) == rejected
    assert all(body["reason"] for body in on_topic.values())
    delivered = set()
    for topic in ("eu.inbox", "nato.inbox"):
        for rec in await read_topic(broker.bootstrap, topic, GOOD, timeout=10):
            delivered.add(dict(rec.headers)[SID_HEADER].decode())
    assert delivered == {sid for sid, c in category.items() if c == "good"}
    log = "".join(p.read_text(errors="replace") for p in tmp_path.glob("worker-*.log"))
    assert "Traceback" not in log
    ledger.close()
