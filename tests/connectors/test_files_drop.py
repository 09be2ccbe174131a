"""The drop directory: each file submitted once under a stable id, hostile files rejected unread, nothing half read."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import shutil
import subprocess
import time

import pytest

from connectors.files.drop import DropDir
from connectors.files.dropped import submission_id
from connectors.files.ready import Settle
from connectors.files.service import run_drop
from connectors.files.source import DropSource, Tally
from connectors.refusals import RefusalLog
from connectors.supervise import cause_of
from hub.config.keystore import signer_from_file
from hub.core.validate import DEFAULT_LIMITS
from hub.errors import ConnectorError
from hub.ledger import Ledger
from hub.ledger.refusals import refusals
from hub.worker.status import ConnectorHealth
from schemas.common import Side
from tests.conftest import read_topic
from tests.connectors.drops import drop, drop_config, items, listed
from tests.connectors.helpers import hub_settings

pytestmark = pytest.mark.broker


def health() -> ConnectorHealth:
    return ConnectorHealth("files-test", "EU", "source")


def recorded(ledger_url: str) -> list:
    ledger = Ledger(ledger_url)
    try:
        return list(refusals(ledger))
    finally:
        ledger.close()


async def test_each_file_is_submitted_once_signed_under_its_stable_id(broker, tmp_path):
    settings = hub_settings(broker.bootstrap, tmp_path, Side.EU)
    box = tmp_path / "drop"
    box.mkdir()
    sent = {f"item-{i}.json": drop(box, f"item-{i}.json", doc).read_bytes() for i, doc in enumerate(items(3, Side.EU))}
    drop(box, "broken.json", b'{"kind": "assessment",')
    tally = await run_drop(drop_config(box, Side.EU), settings, broker.bootstrap, True, health())
    assert (tally.submitted, tally.rejected, tally.waiting) == (3, 1, 0)

    key_id = signer_from_file(settings.signing.key_file).key_id
    records = await read_topic(broker.bootstrap, "hub.submitted", 3, timeout=10)
    assert len(records) == 3
    by_sid = {dict(r.headers)["hub-sid"].decode(): r for r in records}
    for name, data in sent.items():
        record = by_sid[submission_id(str(box.resolve()), name, data, key_id)]
        assert record.value == data  # the file's bytes, as dropped
        assert dict(record.headers)["hub-key"].decode() == key_id
        assert len(base64.b64decode(dict(record.headers)["hub-sig"])) == 64
    assert listed(box) == []
    assert listed(box / "done") == sorted(sent)
    assert listed(box / "processing") == []
    assert listed(box / "rejected") == ["broken.json", "broken.json.reason"]
    reason = "is not JSON: Expecting property name enclosed in double quotes (line 1, column 23)\n"
    assert (box / "rejected" / "broken.json.reason").read_text() == reason
    [refusal] = recorded(settings.ledger)
    assert (refusal.role, refusal.side, refusal.item, refusal.reason) == ("source", "EU", "broken.json", reason.strip())
    assert refusal.connector.startswith("files-drop-eu-")

    again = await run_drop(drop_config(box, Side.EU), settings, broker.bootstrap, True, health())
    assert (again.submitted, again.rejected) == (0, 0)  # nothing left: nothing sent twice
    assert len(await read_topic(broker.bootstrap, "hub.submitted", 4, timeout=2)) == 3


async def test_links_fifos_hard_links_and_oversized_files_are_rejected_unread(broker, tmp_path):
    settings = hub_settings(broker.bootstrap, tmp_path, Side.EU)
    box = tmp_path / "drop"
    (box / "sub").mkdir(parents=True)
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps(items(1, Side.EU)[0]))  # valid: it would cross if it were read
    (box / "out.json").symlink_to(secret)
    (box / "sub" / "real.json").write_text(json.dumps(items(1, Side.EU, seed=2)[0]))
    (box / "in.json").symlink_to("sub/real.json")  # a link inside the directory: refused too
    os.mkfifo(box / "pipe.json")  # read, it would block the connector
    os.link(secret, box / "hard.json")  # a second name of a file elsewhere
    (box / "big.json").write_bytes(b" " * (1024 * 1024 + 1))
    cfg = drop_config(box, Side.EU, max_file_mib=1)
    tally = await run_drop(cfg, settings, broker.bootstrap, True, health())

    assert (tally.submitted, tally.rejected, tally.waiting) == (0, 5, 0)
    reasons = {p.name: p.read_text() for p in (box / "rejected").glob("*.reason")}
    assert reasons == {
        "out.json.reason": f"is a symbolic link (to {secret}): drop the file itself; links are not followed\n",
        "in.json.reason": "is a symbolic link (to sub/real.json): drop the file itself; links are not followed\n",
        "pipe.json.reason": "is not a regular file (a FIFO, socket or device)\n",
        "hard.json.reason": "has 2 names (hard links): drop a file of its own, by rename\n",
        "big.json.reason": "is 1,048,577 bytes, more than the 1 MiB a dropped file may hold\n",
    }
    assert (box / "rejected" / "out.json").is_symlink()  # the link was moved, its target left where it is
    assert secret.is_file()
    assert (box / "sub" / "real.json").is_file()  # directories are left alone
    assert await read_topic(broker.bootstrap, "hub.submitted", 1, timeout=2) == []
    assert len(recorded(settings.ledger)) == 5


async def test_temporary_names_wait_and_a_renamed_file_is_taken(broker, tmp_path):
    settings = hub_settings(broker.bootstrap, tmp_path, Side.EU)
    box = tmp_path / "drop"
    box.mkdir()
    item = json.dumps(items(1, Side.EU)[0]).encode()
    for name in (".a.json.tmp", "a.json.part", "b.json.filepart", "c.json~", "~d.json", "e.json.crdownload"):
        (box / name).write_bytes(item)
    tally = await run_drop(drop_config(box, Side.EU), settings, broker.bootstrap, True, health())
    assert (tally.submitted, tally.rejected, tally.waiting) == (0, 0, 0)
    assert len(listed(box)) == 5  # and the hidden one
    os.replace(box / "a.json.part", box / "a.json")
    tally = await run_drop(drop_config(box, Side.EU), settings, broker.bootstrap, True, health())
    assert tally.submitted == 1
    assert listed(box / "done") == ["a.json"]


async def test_names_already_filed_get_a_free_one_and_long_names_fit(broker, tmp_path):
    settings = hub_settings(broker.bootstrap, tmp_path, Side.EU)
    box = tmp_path / "drop"
    first, second = items(2, Side.EU)
    box.mkdir()
    drop(box, "a.json", first)
    drop(box, "bad", b"{")
    await run_drop(drop_config(box, Side.EU), settings, broker.bootstrap, True, health())
    drop(box, "a.json", second)
    drop(box, "bad", b"[")
    long = "x" * 250 + ".json"
    (box / long).write_bytes(b"]")  # 255 bytes: no room for a temporary name
    tally = await run_drop(drop_config(box, Side.EU), settings, broker.bootstrap, True, health())
    assert (tally.submitted, tally.rejected) == (1, 2)
    assert listed(box / "done") == ["a-2.json", "a.json"]
    assert json.loads((box / "done" / "a-2.json").read_text()) == second
    rejected = listed(box / "rejected")
    assert rejected[:4] == ["bad", "bad-2", "bad-2.reason", "bad.reason"]
    assert (box / "rejected" / "bad-2.reason").read_text().startswith("is not JSON: Expecting value")
    [cut, cut_reason] = rejected[4:]
    assert cut.startswith("x" * 200)
    assert cut.endswith(".json")
    assert len(cut) == 255 - len(".reason")
    assert cut_reason == cut + ".reason"


async def test_a_file_still_being_written_is_never_read_half(broker, tmp_path):
    """The writer keeps the file open: the lease probe sees it; without leases, the settle time waits it out."""
    settings = hub_settings(broker.bootstrap, tmp_path, Side.EU)
    first, second = (json.dumps(i, indent=2).encode() for i in items(2, Side.EU))
    async with RunningDrop(settings, broker.bootstrap, tmp_path / "leased", Settle(0.0)) as run:
        with (run.box / "slow.json").open("wb") as writer:
            writer.write(first[:100])
            writer.flush()
            for _ in range(3):  # settled by time (0 s) but held open by a writer: left alone
                assert await run.tally() == (0, 0, 1)
            writer.write(first[100:])
        assert await run.tally() == (1, 0, 0)
    async with RunningDrop(settings, broker.bootstrap, tmp_path / "settled", Settle(30.0, leases=False)) as run:
        with (run.box / "slow.json").open("wb") as writer:
            writer.write(second[:100])
            writer.flush()
            assert await run.tally() == (0, 0, 1)
            writer.write(second[100:])
        assert await run.tally() == (0, 0, 1)  # just written: not settled yet
        os.utime(run.box / "slow.json", (0, time.time() - 31))  # as if 31 s went by without a change
        assert await run.tally() == (1, 0, 0)
    sent = [r.value for r in await read_topic(broker.bootstrap, "hub.submitted", 2, timeout=10)]
    assert sorted(sent) == sorted([first, second])  # whole, each once


async def test_a_file_dated_in_the_future_is_taken_once_seen_unchanged_for_the_settle_time(broker, tmp_path):
    settings = hub_settings(broker.bootstrap, tmp_path, Side.EU)
    async with RunningDrop(settings, broker.bootstrap, tmp_path / "drop", Settle(0.5, leases=False)) as run:
        path = drop(run.box, "future.json", items(1, Side.EU)[0])
        os.utime(path, (0, time.time() + 86_400))  # a clock, or a copy tool, set it a day ahead
        assert await run.tally() == (0, 0, 1)  # first seen now
        await asyncio.sleep(0.6)
        assert await run.tally() == (1, 0, 0)  # unchanged for the settle time: complete


async def test_one_process_at_a_time_works_on_a_drop_directory(broker, tmp_path):
    settings = hub_settings(broker.bootstrap, tmp_path, Side.EU)
    box = tmp_path / "drop"
    holder = DropDir(box, Settle(0), 1024)
    holder.open()
    assert holder.lock()
    drop(box, "a.json", items(1, Side.EU)[0])
    with pytest.raises(ConnectorError) as caught:
        await run_drop(drop_config(box, Side.EU), settings, broker.bootstrap, True, health())
    assert cause_of(caught.value) == f"drop directory {box} is being worked on by another hub process"
    holder.unlock()
    tally = await run_drop(drop_config(box, Side.EU), settings, broker.bootstrap, True, health())
    assert tally.submitted == 1


class RunningDrop:
    """A drop source on `box` with its own publisher, for passes driven by the test."""

    def __init__(self, settings, bootstrap, box, settle) -> None:
        from connectors import make_publisher

        box.mkdir()
        self.box = box
        self.dir = DropDir(box, settle, 1024 * 1024)
        self.dir.open()
        self.publisher = make_publisher(settings, bootstrap)
        self.refusals = RefusalLog(settings.ledger, "files-test", "EU")
        self.total = Tally()

    async def __aenter__(self) -> RunningDrop:
        await self.publisher.__aenter__()
        self.source = DropSource(self.dir, Side.EU, DEFAULT_LIMITS, self.publisher, self.refusals, health())
        return self

    async def __aexit__(self, *exc) -> None:
        await self.publisher.__aexit__(*exc)
        self.refusals.close()

    async def tally(self) -> tuple[int, int, int]:
        """One pass: (submitted, rejected, waiting) of that pass alone."""
        before = (self.total.submitted, self.total.rejected)
        await self.source.run_pass(self.total)
        return (self.total.submitted - before[0], self.total.rejected - before[1], self.total.waiting)


async def test_a_second_connector_on_the_directory_stands_by_and_takes_over(broker, tmp_path, caplog):
    settings = hub_settings(broker.bootstrap, tmp_path, Side.EU)
    box = tmp_path / "drop"
    box.mkdir()
    cfg = drop_config(box, Side.EU, interval_s=1)
    caplog.set_level(logging.INFO, "hub.files")
    holder = health()
    first = asyncio.create_task(run_drop(cfg, settings, broker.bootstrap, False, holder))
    await until(lambda: holder.last_success is not None)  # a pass done: it holds the lock
    second = asyncio.create_task(run_drop(cfg, settings, broker.bootstrap, False, health()))
    await until(lambda: "is worked on by another process; standing by" in caplog.text)
    docs = items(10, Side.EU)
    for i, doc in enumerate(docs[:5]):
        drop(box, f"{i}.json", doc)
    await until(lambda: len(listed(box / "done")) == 5)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    for i, doc in enumerate(docs[5:], start=5):
        drop(box, f"{i}.json", doc)
    await until(lambda: len(listed(box / "done")) == 10)
    second.cancel()
    with pytest.raises(asyncio.CancelledError):
        await second
    assert "took over" in caplog.text
    sent = await read_topic(broker.bootstrap, "hub.submitted", 10, timeout=10)
    assert len({dict(r.headers)["hub-sid"] for r in sent}) == len(sent) == 10


async def until(check, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


@pytest.mark.skipif(shutil.which("chattr") is None, reason="needs chattr (e2fsprogs) to make a file unmovable")
async def test_a_file_that_cannot_be_moved_is_left_said_once_and_the_others_go_on(broker, tmp_path, caplog):
    settings = hub_settings(broker.bootstrap, tmp_path, Side.EU)
    box = tmp_path / "drop"
    box.mkdir()
    first, second = items(2, Side.EU)
    stuck = drop(box, "stuck\nname.json", first)
    drop(box, "fine.json", second)
    if subprocess.run(["chattr", "+i", str(stuck)], capture_output=True).returncode != 0:  # noqa: S603, S607
        pytest.skip("this filesystem has no immutable flag")
    started = time.monotonic()
    try:
        for _ in range(2):  # each run says it once
            tally = await run_drop(drop_config(box, Side.EU), settings, broker.bootstrap, True, health())
        elapsed = time.monotonic() - started
        assert (tally.submitted, tally.rejected, tally.waiting, tally.stuck) == (0, 0, 0, 1)
    finally:
        subprocess.run(["chattr", "-i", str(stuck)], check=True)  # noqa: S603, S607
    assert listed(box / "done") == ["fine.json"]
    said = [r.getMessage() for r in caplog.records if "cannot move" in r.getMessage()]
    assert said == [f"cannot move stuck name.json out of {box} (Operation not permitted): left where it is"] * 2
    assert elapsed < 10  # a one-off run does not wait for a file it cannot move
