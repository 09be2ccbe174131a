"""`hub demo`: everything embedded, both sides publishing all three kinds, counts checked."""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from pathlib import Path

from hub.core.decision import Decision
from hub.core.signing import Signer, SignsSubmissions
from hub.demo.scenario import BASE_TIME, ORGS, Scenario, envelope, mixed, register_scenario_keys, scenario_keys
from hub.errors import HubError
from hub.kafka.broker import EmbeddedBroker
from hub.kafka.publisher import Publisher
from hub.ledger import Ledger
from hub.report.counts import DECISIONS, table, totals
from hub.settings import Settings
from hub.worker.supervise import WorkerProcess

SETTLE_TIMEOUT_S = 120.0  # generous: the demo's few hundred items take ~1 s


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `hub demo`."""
    demo = sub.add_parser("demo", help="run a scenario through an embedded hub and check every count")
    demo.add_argument("--items", type=int, default=120, help="submissions in the scenario (default 120)")
    demo.set_defaults(handler=cmd_demo)


def demo_scenario(items: int) -> Scenario:
    """Both sides, three kinds, with duplicates, updates, TLP:RED, unreleasable and malformed items."""
    if items < 40:
        raise HubError("--items must be at least 40 to hold every case of the scenario")
    n = items // 20
    return mixed(
        total=items,
        duplicates=2 * n,
        updates=n,
        red=n // 2 + 1,
        unreleasable=n // 2 + 1,
        malformed_n=n,
        seed=random.SystemRandom().randrange(2**32),
    )


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    """Run the demo; exit 0 only if every count is what the scenario expects."""
    scenario = demo_scenario(args.items)
    ledger_url = settings.ledger
    if ledger_url.startswith("sqlite:///") and not ledger_url.startswith("sqlite:////"):
        ledger_url = f"sqlite:///{Path(ledger_url.removeprefix('sqlite:///')).resolve()}"
    ledger = Ledger(ledger_url)
    before = totals(ledger.counts())
    base = sum(before.values())
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    log_path = (settings.data_dir / "demo-worker.log").resolve()
    keyring = (settings.data_dir / "demo-keys" / "keyring.json").resolve()
    keyring.unlink(missing_ok=True)  # fresh keys each run: the demo's organisations are made up
    signers = register_scenario_keys(keyring, keyring.parent)
    untrusted = _untrusted(scenario)
    print(f"ledger: {ledger_url}\nworker log: {log_path}", file=sys.stderr)
    with EmbeddedBroker(log_level=settings.broker_log) as broker:
        print(f"broker: embedded Tansu at {broker.bootstrap}", file=sys.stderr)
        env = {
            "HUB_KAFKA__BOOTSTRAP": broker.bootstrap,
            "HUB_LEDGER_URL": ledger_url,
            "HUB_DATA_DIR": str(settings.data_dir.resolve()),
            "HUB_KAFKA__SESSION_TIMEOUT_S": "2",
            "HUB_SIGNING__KEYRING": str(keyring),
            "HUB_SIGNING__REQUIRED": "true",
        }
        worker = WorkerProcess(env, log_path).start()
        try:
            waited = worker.wait_ready()
            print(f"worker ready in {waited:.1f} s; publishing {len(scenario.items)} submissions", file=sys.stderr)
            asyncio.run(_publish(settings, broker.bootstrap, scenario, signers, untrusted))
            _settle(ledger, base + len(scenario.items) + len(untrusted))
        finally:
            worker.stop()
    rows = ledger.counts()
    ledger.close()
    after = totals(rows)
    print(table(rows))
    ok = True
    for d in DECISIONS:
        got = after[d] - before[d]
        ok &= got == scenario.expected[d]
        print(f"{'ok ' if got == scenario.expected[d] else 'BAD'} {d:<10} {got:>5}  expected {scenario.expected[d]}")
    print("demo passed: every count is as expected" if ok else "demo FAILED: counts differ from the scenario")
    return 0 if ok else 1


def _untrusted(scenario: Scenario) -> list[tuple[bytes, SignsSubmissions | None]]:
    """Three items the hub must reject at its trust boundary: unsigned, an unknown key, the wrong side."""
    rng = random.SystemRandom()  # fresh items each run
    keys = scenario_keys()
    eu_key = Signer.of(keys[("EU", ORGS["EU"]["assessment"])])
    items: list[tuple[bytes, SignsSubmissions | None]] = [
        (json.dumps(envelope(rng, "assessment", "EU", BASE_TIME)).encode(), None),
        (json.dumps(envelope(rng, "stratcom_note", "NATO", BASE_TIME)).encode(), Signer.of(keys[("NATO", "NCIRC")])),
        (json.dumps(envelope(rng, "assessment", "NATO", BASE_TIME)).encode(), eu_key),
    ]
    scenario.expected[Decision.REJECTED.value] += len(items)
    return items


async def _publish(
    settings: Settings,
    bootstrap: str,
    scenario: Scenario,
    signers: SignsSubmissions,
    untrusted: list[tuple[bytes, SignsSubmissions | None]],
) -> None:
    async with Publisher(settings.kafka, bootstrap, signer=signers) as pub:
        await pub.publish(scenario.items)
    for raw, signer in untrusted:  # keys the hub does not know, or none
        async with Publisher(settings.kafka, bootstrap, signer=signer) as pub:
            await pub.publish([raw])


def _settle(ledger: Ledger, target: int) -> None:
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while (size := ledger.size()) < target:
        if time.monotonic() > deadline:
            raise HubError(f"only {size} of {target} decisions after {SETTLE_TIMEOUT_S:.0f} s")
        time.sleep(0.1)
