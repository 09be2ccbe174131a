"""The inbox directory: one file per hub-signed delivery, as an envelope or a valid STIX bundle; the rest refused."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import time
from collections import Counter

import pytest
from stix2validator import ValidationOptions, validate_instance

from connectors.atomic import STALE_TMP_S
from connectors.files.inbox_dir import file_name
from connectors.files.service import run_inbox
from hub.demo.scenario import BASE_TIME, envelope, updated
from hub.ledger import Ledger
from hub.ledger.refusals import refusals
from hub.worker.status import ConnectorHealth
from schemas.common import Side
from tests.conftest import publish, read_topic
from tests.connectors.drops import inbox_config, listed
from tests.connectors.helpers import decisions, hub_settings, inbox_holds
from tests.connectors.test_hostile_peer import publish_raw

pytestmark = [pytest.mark.broker, pytest.mark.e2e]
KINDS = ("assessment", "stratcom_note", "misp_event")


def three_kinds(seed: int = 3) -> list[dict]:
    rng = random.Random(seed)
    return [envelope(rng, kind, "EU", BASE_TIME) for kind in KINDS]


async def fill(settings, inbox, fmt="envelope") -> Counter:
    cfg = inbox_config(inbox, Side.NATO, inbox_format=fmt)
    return await run_inbox(cfg, settings, settings.kafka.bootstrap, True, ConnectorHealth("t", "NATO", "sink"))


async def test_each_delivery_is_one_file_named_by_item_and_version_holding_the_envelope(
    broker, ledger_url, start_worker, tmp_path
):
    settings = hub_settings(broker.bootstrap, tmp_path, Side.NATO)
    inbox = tmp_path / "inbox"
    start_worker()
    sent = three_kinds()
    await publish(broker.bootstrap, [json.dumps(i).encode() for i in sent])
    await inbox_holds(broker.bootstrap, "NATO", 3)
    assert await fill(settings, inbox) == Counter(added=3)

    delivered = [json.loads(r.value) for r in await read_topic(broker.bootstrap, "nato.inbox", 3)]
    assert listed(inbox) == sorted(file_name(d) for d in delivered)
    for doc in delivered:
        assert json.loads((inbox / file_name(doc)).read_text()) == doc  # the delivery, as the hub signed it
        kind, item, stamp, digest = file_name(doc).removesuffix(".json").split("--")
        assert (kind, item, digest) == (doc["kind"], doc["source_id"], doc["content_hash"][:12])
        assert stamp == "20260601T080000Z"
    assert [p.name for p in inbox.iterdir() if p.name.startswith(".")] == []  # no temporary file left

    # A delivery read again (as after a crash or a replay) and a newer version: the first file is left as it
    # is, the newer one is written beside it.
    first = (await read_topic(broker.bootstrap, "nato.inbox", 3))[0]
    await _copy(broker.bootstrap, first, "nato.inbox")
    newer = updated(sent[0], BASE_TIME.replace(hour=9))
    await publish(broker.bootstrap, [json.dumps(newer).encode()])
    assert [r.decision for r in (await decisions(ledger_url, 4))[3:]] == ["updated"]
    await inbox_holds(broker.bootstrap, "NATO", 5)
    before = (inbox / file_name(json.loads(first.value))).stat()
    assert await fill(settings, inbox) == Counter(unchanged=1, updated=1)
    assert (inbox / file_name(json.loads(first.value))).stat().st_ino == before.st_ino
    assert len(listed(inbox)) == 4
    versions = sorted(n.split("--")[2] for n in listed(inbox) if n.split("--")[1] == sent[0]["source_id"])
    assert versions == ["20260601T080000Z", "20260601T090000Z"]


async def test_stix_files_are_bundles_that_validate(broker, ledger_url, start_worker, tmp_path):
    settings = hub_settings(broker.bootstrap, tmp_path, Side.NATO)
    inbox = tmp_path / "inbox"
    start_worker()
    await publish(broker.bootstrap, [json.dumps(i).encode() for i in three_kinds(seed=4)])
    await inbox_holds(broker.bootstrap, "NATO", 3)
    assert await fill(settings, inbox, "stix") == Counter(added=3)
    options = ValidationOptions(version="2.1")
    kinds = Counter()
    for name in listed(inbox):
        doc = json.loads((inbox / name).read_text())
        assert doc["type"] == "bundle"
        result = validate_instance(doc, options)
        assert [str(e) for e in result.errors] == [], name
        kinds[name.split("--")[0]] += 1
        top = {o["type"] for o in doc["objects"]}
        assert top & {"report", "grouping"}, name
    assert kinds == Counter(assessment=1, stratcom_note=1, misp_event=1)


async def test_what_the_hub_did_not_sign_for_this_side_is_refused_recorded_and_passed(
    broker, ledger_url, start_worker, tmp_path
):
    settings = hub_settings(broker.bootstrap, tmp_path, Side.NATO)
    inbox = tmp_path / "inbox"
    start_worker()
    to_eu = envelope(random.Random(5), "assessment", "NATO", BASE_TIME)
    await publish(broker.bootstrap, [json.dumps(to_eu).encode()])
    [genuine_for_eu] = await read_topic(broker.bootstrap, "eu.inbox", 1)
    forged = json.dumps(three_kinds(seed=6)[0]).encode()
    await publish_raw(broker.bootstrap, "nato.inbox", forged, "forged-1")  # unsigned, with a `hub-sid`
    await _copy(broker.bootstrap, genuine_for_eu, "nato.inbox")  # signed by the hub, but for the EU side
    good = three_kinds(seed=7)[0]
    await publish(broker.bootstrap, [json.dumps(good).encode()])
    await inbox_holds(broker.bootstrap, "NATO", 3)

    assert await fill(settings, inbox) == Counter(refused=2, added=1)
    [only] = listed(inbox)
    assert only.split("--")[1] == good["source_id"]
    ledger = Ledger(ledger_url)
    try:
        listed_refusals = [(r.role, r.side, r.reason) for r in refusals(ledger)]
    finally:
        ledger.close()
    cross_side = "the hub's signature does not match this delivery for NATO (forged, altered or for the other side)"
    unsigned = "unsigned: the hub signs every delivery; this one was not written by the hub"
    assert sorted(listed_refusals) == [  # in the order their partitions were read: any
        ("sink", "NATO", f"not a delivery of the hub: {cross_side}"),
        ("sink", "NATO", f"not a delivery of the hub: {unsigned}"),
    ]


async def _copy(bootstrap: str, record, topic: str) -> None:
    """Write `record` (value and headers) into `topic`, as anyone can on a broker without ACLs."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, record.value, headers=list(record.headers))
    finally:
        await producer.stop()


def test_a_delivery_is_refused_when_it_cannot_be_named():
    from hub.errors import Refused

    item = "2f1c0e4a-0000-4000-8000-000000000001"
    good = {"kind": "assessment", "source_id": item, "version": "2026-06-01T10:00+02:00"}
    assert file_name(good).startswith(f"assessment--{item}--20260601T080000Z--")
    for bad, says in [
        ({**good, "kind": "../etc"}, "the delivery's `kind` '../etc' is not one of the hub's kinds"),
        ({**good, "source_id": "../../x"}, "the delivery has no usable `source_id` and `version`"),
        ({**good, "version": "yesterday"}, "the delivery has no usable `source_id` and `version`"),
        ({**good, "version": "2026-06-01T10:00:00"}, "the delivery's `version` has no time zone"),
    ]:
        with pytest.raises(Refused) as caught:
            file_name(bad)
        assert str(caught.value).startswith(says)


async def test_temporary_files_of_a_dead_writer_are_removed_and_others_left(tmp_path):
    from connectors.files.inbox_dir import InboxDir

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    stale, fresh, theirs = inbox / ".hub-0123456789abcdef.tmp", inbox / ".hub-fedcba9876543210.tmp", inbox / ".x.tmp"
    for path in (stale, fresh, theirs):
        path.write_bytes(b"half")
    old = time.time() - STALE_TMP_S - 1
    os.utime(stale, (old, old))
    os.utime(theirs, (old, old))
    InboxDir(inbox, Side.NATO)
    assert sorted(p.name for p in inbox.iterdir()) == sorted([fresh.name, theirs.name])


@pytest.mark.skipif(shutil.which("chattr") is None, reason="needs chattr (e2fsprogs) to make a directory unwritable")
async def test_a_directory_that_takes_no_files_stops_the_loop_and_skips_nothing(
    broker, ledger_url, start_worker, tmp_path
):
    from hub.errors import ConnectorError

    settings = hub_settings(broker.bootstrap, tmp_path, Side.NATO)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    start_worker()
    await publish(broker.bootstrap, [json.dumps(i).encode() for i in three_kinds(seed=8)])
    await inbox_holds(broker.bootstrap, "NATO", 3)
    if subprocess.run(["chattr", "+i", str(inbox)], capture_output=True).returncode != 0:  # noqa: S603, S607
        pytest.skip("this filesystem has no immutable flag")
    try:  # as a full disk or a read-only mount would: every write fails, even root's
        with pytest.raises(ConnectorError, match=r"inbox directory .*: cannot write .*\.json: Operation not permitted"):
            await fill(settings, inbox)
    finally:
        subprocess.run(["chattr", "-i", str(inbox)], check=True)  # noqa: S603, S607
    ledger = Ledger(ledger_url)
    try:
        assert list(refusals(ledger)) == []  # nothing was refused: the deliveries wait
    finally:
        ledger.close()
    assert await fill(settings, inbox) == Counter(added=3)
    assert len(listed(inbox)) == 3
