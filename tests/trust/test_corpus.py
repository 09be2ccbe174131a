"""The generated corpus through the real worker and the real sinks: nothing closed crosses, every control does.

Each hypothesis example is one whole corpus (`tests.trust.corpus`: every marking family, distribution
and field hazard at every level, in drawn spellings, and controls), run on its own embedded broker,
`hub up` worker and ledger, then applied by the feed sink and the REST sink of both sides. What
reached the other side is checked byte for byte against each item's own expectation, and
`hub policy explain` must give the worker's verdict and rule for every item.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from connectors.misp.feed import FeedDir
from hub.cli.policy import explain_item
from hub.core.policy import ReleasePolicy
from hub.kafka.broker import EmbeddedBroker
from hub.worker.supervise import WorkerProcess
from schemas.common import Side
from tests.conftest import publish, read_topic, write_test_keyring
from tests.connectors.helpers import decisions, export_feed, hub_settings, push_misp
from tests.connectors.misp_server import MispServer
from tests.trust.corpus import Item, corpus, plan

pytestmark = [pytest.mark.broker, pytest.mark.e2e, pytest.mark.slow]
EXAMPLES = int(os.environ.get("HUB_CORPUS_EXAMPLES", "2"))  # whole corpora of len(plan()) items each
VERDICT = {"delivered": "delivered", "updated": "delivered", "withheld": "withheld", "rejected": "rejected"}
SEEN: Counter[str] = Counter()  # decisions over every example, for the summary line


def worker_env(base: Path, bootstrap: str) -> dict[str, str]:
    return {
        "HUB_SIGNING__KEYRING": str(write_test_keyring(base / "keyring.json")),
        "HUB_SIGNING__REQUIRED": "true",
        "HUB_KAFKA__BOOTSTRAP": bootstrap,
        "HUB_LEDGER_URL": f"sqlite:///{base / 'ledger.db'}",
        "HUB_DATA_DIR": str(base / "data"),
        "HUB_KAFKA__SESSION_TIMEOUT_S": "2",
        "HUB_KAFKA__PARTITIONS": "4",
    }


async def sink_outputs(bootstrap: str, base: Path, servers: dict[str, MispServer]) -> dict[str, str]:
    """Run the feed sink and the REST sink of both sides until caught up; what each side's sinks wrote, as text."""
    written = {}
    for side in (Side.EU, Side.NATO):
        settings = hub_settings(bootstrap, base, side)
        feed = base / f"{side.value.lower()}-feed"
        counts = await export_feed(settings, feed, side)
        assert await push_misp(settings, servers[side.value], side) == counts
        assert counts["refused"] == 0
        files = "".join(p.read_text(encoding="utf-8") for p in sorted(feed.glob("*.json"))) if feed.exists() else ""
        written[side.value] = files + json.dumps(servers[side.value].state.events, ensure_ascii=False)
        written[side.value + "-uuids"] = " ".join(FeedDir(feed).manifest()) if feed.exists() else ""
    return written


async def run_corpus(items: list[Item], bootstrap: str, base: Path, servers: dict[str, MispServer]) -> None:
    sids = await publish(bootstrap, [item.raw for item in items])
    records = {r.submission_id: r for r in await decisions(f"sqlite:///{base / 'ledger.db'}", len(items), 180)}
    assert len(records) == len(items)
    outcome = {id(item): records[sid] for item, sid in zip(items, sids, strict=True)}
    crossing = [i for i in items if outcome[id(i)].decision in ("delivered", "updated")]
    wrong = [(i.kind, i.hazard, i.level, i.written, outcome[id(i)].rule) for i in items if (i in crossing) != i.crosses]
    assert wrong == [], wrong
    inbox: dict[str, str] = {}
    for side in ("EU", "NATO"):
        expected = sum(i.origin != side for i in crossing)
        for message in await read_topic(bootstrap, f"{side.lower()}.inbox", expected, timeout=60):
            doc = json.loads(message.value)
            key = str(doc["payload"]["Event"]["uuid"] if doc["kind"] == "misp_event" else doc["source_id"])
            inbox[key] = inbox.get(key, "") + message.value.decode()
    sinks = await sink_outputs(bootstrap, base, servers)
    everything = "".join(inbox.values()) + sinks["EU"] + sinks["NATO"]
    for item in items:
        where = (item.kind, item.hazard, item.level, item.written)
        for marker in item.closed_markers():
            assert marker not in everything, where  # not in any inbox, not in anything a sink wrote
        if item.crosses:
            destination = "NATO" if item.origin == "EU" else "EU"
            for marker in item.kept_markers():
                assert marker in inbox[item.source_id], where
                if item.kind == "misp_event":
                    assert marker in sinks[destination], where
            if item.kind == "misp_event":
                assert item.source_id in sinks[destination + "-uuids"], where
        else:
            assert item.source_id not in inbox, where
    check_explain(items, outcome)
    SEEN.update(outcome[id(i)].decision for i in items)


def check_explain(items: list[Item], outcome: dict[int, Any]) -> None:
    """`hub policy explain` gives the worker's verdict and rule for every item, and names the stripped parts."""
    policy, now = ReleasePolicy(), datetime.now(UTC)
    for item in items:
        record = outcome[id(item)]
        said = explain_item(item.raw, policy, now, timedelta(minutes=15))
        assert said["verdict"] == VERDICT[record.decision], (item.hazard, item.level, said, record.reason)
        if said["verdict"] != "delivered":
            assert said["rule"] == record.rule, (item.hazard, item.level, said, record.rule)
        else:
            stripped = said.get("stripped", [])
            assert all(part["uuid"] in record.reason for part in stripped)
            assert bool(stripped) == (item.kind == "misp_event" and item.level not in ("item", "none"))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    phases=[Phase.generate],  # each example is a whole corpus run end to end: nothing to gain from shrinking it
    suppress_health_check=list(HealthCheck),
)
@given(corpus())
def test_a_generated_corpus_crosses_exactly_as_marked_through_the_worker_and_the_sinks(tmp_path_factory, items):
    assert len(items) == len(plan())
    base = tmp_path_factory.mktemp("corpus")
    with EmbeddedBroker() as broker:
        worker = WorkerProcess(worker_env(base, broker.bootstrap), base / "worker.log").start()
        try:
            worker.wait_ready()
            with MispServer() as eu, MispServer() as nato:
                asyncio.run(run_corpus(items, broker.bootstrap, base, {"EU": eu, "NATO": nato}))
        finally:
            worker.stop()
    assert "Traceback" not in (base / "worker.log").read_text(errors="replace")
    print(f"\ncorpus: {len(items)} items, decisions so far {dict(SEEN)}")
