"""Files connectors under `hub up`: a thousand files decided once each, inbox files that outlive the broker, crashes."""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from connectors.files.dropped import submission_id
from hub.config.keystore import signer_from_file
from hub.demo.scenario import updated
from hub.kafka.broker import free_port
from hub.ledger import Ledger
from schemas.common import Side
from tests.conftest import assert_exact_counts
from tests.connectors.drops import WHEN, drop, items, listed
from tests.connectors.helpers import hub_settings

pytestmark = [pytest.mark.broker, pytest.mark.e2e]


def connectors_env(tmp_path: Path, **drop_extra) -> dict[str, str]:
    """`hub up` with the EU side's drop directory and the NATO side's inbox directory, signing with the EU key."""
    key = hub_settings("127.0.0.1:1", tmp_path, Side.EU).signing.key_file
    cfgs = [
        {"type": "files", "side": "EU", "role": "source", "drop_dir": str(tmp_path / "eu-drop"), **drop_extra},
        {"type": "files", "side": "NATO", "role": "sink", "inbox_dir": str(tmp_path / "nato-inbox")},
    ]
    return {"HUB_CONNECTORS": json.dumps(cfgs), "HUB_SIGNING__KEY_FILE": str(key)}


def ledger_records(ledger_url: str) -> list:
    ledger = Ledger(ledger_url)
    try:
        return list(ledger.records())
    finally:
        ledger.close()


async def until(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


def thousand_and_forty() -> tuple[list[tuple[str, bytes]], Counter]:
    """1,000 files the hub decides (each decision known) and 40 it never sees, as (name, bytes), oldest first."""
    fresh = items(970, Side.EU)
    later = WHEN.replace(day=2)
    wrong_org = [{**i, "originator": "EEAS StratCom"} for i in items(30, Side.EU, seed=99)]
    red = items(50, Side.EU, seed=7, tlp="RED")
    odd = fresh[820:830]
    sendable = (
        [(f"new-{i:04d}.json", i_) for i, i_ in enumerate(fresh[:820])]
        + [(f"red-{i:02d}.json", r) for i, r in enumerate(red)]
        + [(f"wrong-org-{i:02d}.json", w) for i, w in enumerate(wrong_org)]
        + [(f"update-{i:02d}.json", updated(fresh[i], later)) for i in range(50)]
        + [(f"copy-{i:02d}.json", fresh[100 + i]) for i in range(50)]  # the same bytes under another name
    )
    files = [(name, json.dumps(doc).encode()) for name, doc in sendable]
    bad = (
        [(f"not-json-{i}.json", b"{'kind': 'assessment'}") for i in range(10)]
        + [(f"empty-{i}.json", b"") for i in range(10)]
        + [(f"nato-{i}.json", json.dumps(n).encode()) for i, n in enumerate(items(10, Side.NATO))]
        + [(f"purple-{i}.json", json.dumps({**f, "markings": {"tlp": "PURPLE"}}).encode()) for i, f in enumerate(odd)]
    )  # fmt: skip
    expected = Counter(delivered=820, updated=50, duplicate=50, withheld=50, rejected=30)
    return files + bad, expected


def drop_all(box: Path, files: list[tuple[str, bytes]]) -> None:
    """Drop the files by the convention, oldest first (their order is the order they are taken in)."""
    box.mkdir(parents=True, exist_ok=True)
    start = time.time() - len(files)
    for n, (name, data) in enumerate(files):
        path = drop(box, name, data)
        os.utime(path, (start + n, start + n))


async def test_a_thousand_files_give_a_thousand_decisions_and_one_inbox_file_per_delivery(
    broker, ledger_url, start_worker, tmp_path
):
    files, expected = thousand_and_forty()
    box, inbox = tmp_path / "eu-drop", tmp_path / "nato-inbox"
    port = free_port()
    start_worker(**connectors_env(tmp_path), HUB_HEALTH__PORT=str(port))
    started = time.monotonic()
    drop_all(box, files)
    await until(lambda: len(listed(box / "done")) + len(listed(box / "rejected")) == 1080, 180, "every file filed")
    filed = time.monotonic() - started
    await until(lambda: len(ledger_records(ledger_url)) >= 1000, 120, "1,000 decisions")
    await until(lambda: len(listed(inbox)) >= 870, 120, "870 inbox files")
    await asyncio.sleep(2)  # anything more would show now
    total = time.monotonic() - started

    records = ledger_records(ledger_url)
    assert Counter(r.decision for r in records) == expected
    assert Counter(r.rule for r in records if r.decision == "rejected") == Counter({"wrong-originator": 30})
    key_id = signer_from_file(hub_settings("127.0.0.1:1", tmp_path, Side.EU).signing.key_file).key_id
    sent = {name: data for name, data in files}
    done = listed(box / "done")
    assert len(done) == 1000
    sids = {submission_id(str(box.resolve()), name, sent[name], key_id) for name in done}
    assert sids == {r.submission_id for r in records}  # each file decided once, under its own id
    assert all((box / "done" / name).read_bytes() == sent[name] for name in done)
    rejected = listed(box / "rejected")
    assert len(rejected) == 80  # 40 files and their reasons
    assert {n for n in rejected if not n.endswith(".reason")} == {n for n, _ in files[1000:]}
    assert listed(box) == []
    assert listed(box / "processing") == []

    crossed = [r for r in records if r.decision in ("delivered", "updated")]
    written = listed(inbox)
    assert len(written) == len(crossed) == 870
    named = Counter(tuple(n.split("--")[:2]) for n in written)
    assert named == Counter((r.kind, r.source_id) for r in crossed)
    assert {json.loads((inbox / n).read_text())["content_hash"][:12] for n in written} == {
        r.content_hash[:12] for r in crossed
    }
    ledger = Ledger(ledger_url)
    try:
        assert_exact_counts(ledger, dict(expected))
    finally:
        ledger.close()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:  # noqa: S310
        metrics = answer.read().decode()
    found = {
        (m.group(1), m.group(2)): float(m.group(3))
        for m in re.finditer(
            r'hub_connector_items_total\{connector="files-(drop|inbox)-[^"]*",[^}]*what="(\w+)"\} (\S+)', metrics
        )
    }
    assert found == {
        ("drop", "submitted"): 1000, ("drop", "applied"): 0, ("drop", "refused"): 40,
        ("inbox", "submitted"): 0, ("inbox", "applied"): 870, ("inbox", "refused"): 0,
    }  # fmt: skip
    print(f"\n1,040 files filed in {filed:.1f} s; 1,000 decided and 870 inbox files written in {total:.1f} s")


async def test_the_inbox_directory_outlives_a_broker_restart(broker, ledger_url, start_worker, tmp_path):
    box, inbox = tmp_path / "eu-drop", tmp_path / "nato-inbox"
    env = connectors_env(tmp_path, settle_s=0)
    first, second = items(20, Side.EU)[:10], items(20, Side.EU)[10:]
    worker = start_worker(**env)
    drop_all(box, [(f"a-{i}.json", json.dumps(d).encode()) for i, d in enumerate(first)])
    await until(lambda: len(listed(inbox)) == 10, 60, "the first ten delivered")
    before = {n: (inbox / n).read_bytes() for n in listed(inbox)}
    inodes = {n: (inbox / n).stat().st_ino for n in before}

    worker.stop()
    broker.stop()  # memory storage: every topic, offset and undelivered message is gone
    broker.start()  # on the same port
    assert {n: (inbox / n).read_bytes() for n in listed(inbox)} == before
    start_worker(**env)
    drop_all(box, [(f"b-{i}.json", json.dumps(d).encode()) for i, d in enumerate(second)])
    await until(lambda: len(listed(inbox)) == 20, 60, "ten more delivered after the restart")
    assert all((inbox / n).read_bytes() == data for n, data in before.items())
    assert all((inbox / n).stat().st_ino == inodes[n] for n in before)  # not rewritten
    assert Counter(r.decision for r in ledger_records(ledger_url)) == Counter(delivered=20)


async def test_sigkill_mid_run_neither_loses_nor_submits_a_file_twice(broker, ledger_url, start_worker, tmp_path):
    files = [(f"item-{i:04d}.json", json.dumps(d).encode()) for i, d in enumerate(items(1000, Side.EU))]
    box, inbox = tmp_path / "eu-drop", tmp_path / "nato-inbox"
    env = connectors_env(tmp_path, settle_s=0)
    drop_all(box, files)
    in_flight = []  # files claimed but not yet filed at each kill
    for threshold in (150, 400, 650):
        worker = start_worker(**env)
        await until(lambda t=threshold: len(listed(box / "done")) >= t, 120, f"{threshold} files filed")
        if len(listed(box / "done")) < len(files):
            worker.kill()  # SIGKILL: whatever was claimed, sent or moved stays where it was
            in_flight.append(len(listed(box / "processing")))
    start_worker(**env)
    await until(lambda: len(listed(box / "done")) == 1000, 120, "every file filed")
    await until(lambda: len(ledger_records(ledger_url)) >= 1000, 120, "1,000 decisions")
    await until(lambda: len(listed(inbox)) >= 1000, 120, "1,000 inbox files")
    await asyncio.sleep(2)

    records = ledger_records(ledger_url)
    assert len(in_flight) == 3
    assert len(records) == 1000  # nothing decided twice
    assert Counter(r.decision for r in records) == Counter(delivered=1000)
    assert len({r.submission_id for r in records}) == 1000
    assert listed(box / "done") == [name for name, _ in files]  # nothing lost, nothing renamed as a second copy
    assert listed(box / "rejected") == []
    assert listed(box / "processing") == []
    assert listed(box) == []
    assert len(listed(inbox)) == 1000
    logs = "".join((tmp_path / f"worker-{n}.log").read_text() for n in range(4))
    assert "Traceback" not in logs
    replayed = sum(int(n) for n in re.findall(r", (\d+) replayed;", logs))
    print(f"\n3 SIGKILLs during 1,000 files ({in_flight} in processing/ at each): 1,000 decisions, {replayed} replays")
