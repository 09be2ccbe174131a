"""Feed directories: MISP's feed import defaults, the source's watermark, the sink's strictly-newer rule."""

from __future__ import annotations

import json
import os

import pytest

from connectors import Applied
from connectors.misp.feed import FeedDir
from connectors.misp.feed_sink import FeedSink
from connectors.misp.feed_source import FeedSource
from connectors.misp.watermark import Watermark
from hub.errors import ConnectorError
from schemas.common import Side
from tests.connectors.conftest import fixture_event
from tests.connectors.helpers import write_feed

OSINT = "57c4445b-c548-4654-af0b-4be3950d210f.json"  # a CIRCL OSINT feed event: no distribution


async def changes(source):
    return [c async for c in source.changes()]


async def test_feed_source_imports_as_misp_does_and_keeps_its_watermark(tmp_path):
    osint = fixture_event(OSINT)
    write_feed(tmp_path / "feed", [osint, fixture_event("existing_event.json")])
    (tmp_path / "feed" / "manifest.json").write_text(
        json.dumps(
            {
                **json.loads((tmp_path / "feed" / "manifest.json").read_text()),
                "0b0b0b0b-0000-4000-8000-000000000000": {"timestamp": 5},
            }
        )
    )  # a manifest entry whose file is missing: skipped, counted, retried next time
    source = FeedSource(tmp_path / "feed", Side.EU, Watermark(tmp_path / "wm.json"))
    found = await changes(source)
    assert [c.key for c in found] == ["57c4445b-c548-4654-af0b-4be3950d210f", "5a3c2fcd-8328-42bb-a95e-4f4402de0b81"]
    assert source.broken == 1
    event = json.loads(found[0].item)["payload"]["Event"]
    assert event["distribution"] == "3"  # the feed's distribution, as MISP gives a fetched feed event
    source.done(found)
    assert [c.key for c in await changes(FeedSource(tmp_path / "feed", Side.EU, Watermark(tmp_path / "wm.json")))] == []


async def test_feed_sink_writes_only_strictly_newer_and_keeps_the_manifest_consistent(tmp_path):
    sink = FeedSink(tmp_path / "out", Side.NATO)
    event = fixture_event("existing_event.json")
    delivered = {"kind": "misp_event", "payload": {"Event": event}}
    assert await sink.apply(delivered) is Applied.ADDED
    assert await sink.apply(delivered) is Applied.UNCHANGED
    older = {**event, "timestamp": "1000", "info": "older"}
    assert await sink.apply({"kind": "misp_event", "payload": {"Event": older}}) is Applied.UNCHANGED
    assert await sink.apply({"kind": "assessment", "payload": {}}) is Applied.SKIPPED
    assert not (tmp_path / "out" / "manifest.json").exists()  # the manifest comes after the files
    await sink.flush()
    feed = FeedDir(tmp_path / "out")
    assert list(feed.manifest()) == [event["uuid"]]
    assert feed.manifest()[event["uuid"]]["timestamp"] == int(event["timestamp"])
    assert feed.read(event["uuid"]) == event
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "5a3c2fcd-8328-42bb-a95e-4f4402de0b81.json",
        "hashes.csv",
        "manifest.json",
    ]  # no temporary file left


async def test_feed_source_refuses_symlinks_that_leave_its_directory(tmp_path, caplog):
    outside = tmp_path / "secret.json"
    secret = fixture_event("existing_event.json")
    outside.write_text(json.dumps({"Event": secret}))
    inside = fixture_event(OSINT)
    write_feed(tmp_path / "feed", [inside])
    feed = tmp_path / "feed"
    (feed / f"{secret['uuid']}.json").symlink_to(outside)  # an event file that is a link out
    (feed / "sub").mkdir()
    (feed / f"{inside['uuid']}.json").rename(feed / "sub" / "real.json")
    (feed / f"{inside['uuid']}.json").symlink_to(feed / "sub" / "real.json")  # a link inside: fine
    manifest = json.loads((feed / "manifest.json").read_text())
    manifest[secret["uuid"]] = {"timestamp": int(secret["timestamp"])}
    (feed / "manifest.json").write_text(json.dumps(manifest))
    source = FeedSource(feed, Side.EU, Watermark(tmp_path / "wm.db"))
    found = await changes(source)
    assert [c.key for c in found] == [inside["uuid"]]
    assert source.broken == 1
    assert f"{secret['uuid']}.json is a symbolic link out of the feed directory (to {outside}): refused" in caplog.text

    (feed / "manifest.json").unlink()
    (feed / "manifest.json").symlink_to(outside)
    with pytest.raises(ConnectorError, match=r"manifest\.json is a symbolic link out of the feed directory"):
        await changes(FeedSource(feed, Side.EU, Watermark(tmp_path / "wm2.db")))


async def test_a_feed_without_a_manifest_is_not_a_feed(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConnectorError, match=r"has no manifest\.json: it is not a MISP feed"):
        await changes(FeedSource(tmp_path / "empty", Side.EU, Watermark(tmp_path / "wm.db")))


async def test_feed_files_are_read_within_bounds(tmp_path):
    write_feed(tmp_path / "feed", [fixture_event("existing_event.json")])
    event_file = next(p for p in (tmp_path / "feed").iterdir() if p.name != "manifest.json")
    event_file.unlink()
    event_file.symlink_to("/dev/zero")  # outside anyway, but a FIFO or device inside is refused too
    os.mkfifo(tmp_path / "feed" / "fifo")
    source = FeedSource(tmp_path / "feed", Side.EU, Watermark(tmp_path / "wm.db"))
    assert await changes(source) == []
    assert source.broken == 1
    with pytest.raises(ConnectorError, match=r"is not a regular file"):
        FeedDir(tmp_path / "feed")._read(tmp_path / "feed" / "fifo", 1024)


def _attrs(n: int) -> list[dict]:
    return [
        {
            "uuid": f"00000000-0000-4000-8000-{i:012d}",
            "type": "ip-dst",
            "category": "Network activity",
            "value": f"198.51.100.{i}",
            "timestamp": "1700000000",
        }
        for i in range(1, n + 1)
    ]


def _copy(n: int, stamp: str = "1700000000") -> dict:
    body = {
        "uuid": "5a3c2fcd-8328-42bb-a95e-4f4402de0b81",
        "info": "light/heavy",
        "timestamp": stamp,
        "date": "2023-11-14",
        "Attribute": _attrs(n),
    }
    return {"kind": "misp_event", "payload": {"Event": body}}


@pytest.mark.parametrize("order", [(1, 10), (10, 1)])
async def test_feed_sink_ends_with_the_fuller_copy_of_one_version_whatever_the_order(tmp_path, order):
    sink = FeedSink(tmp_path / "out", Side.NATO)
    for n in order:
        await sink.apply(_copy(n))
        await sink.flush()
    feed = FeedDir(tmp_path / "out")
    event = feed.read("5a3c2fcd-8328-42bb-a95e-4f4402de0b81")
    assert len(event["Attribute"]) == 10
    entry = feed.manifest()["5a3c2fcd-8328-42bb-a95e-4f4402de0b81"]
    # a MISP fetching the feed re-imports only a strictly greater manifest timestamp
    assert entry["timestamp"] == (1700000001 if order == (1, 10) else 1700000000)
    assert entry.get("hub_version", 1700000000) == 1700000000
    lines = (tmp_path / "out" / "hashes.csv").read_text().splitlines()
    assert len(lines) == 10
    assert all(line.endswith(",5a3c2fcd-8328-42bb-a95e-4f4402de0b81") for line in lines)


async def test_feed_sink_writes_a_true_edit_past_a_bumped_timestamp(tmp_path):
    sink = FeedSink(tmp_path / "out", Side.NATO)
    await sink.apply(_copy(1))
    assert await sink.apply(_copy(3)) is Applied.UPDATED  # merged: 1700000001 in the feed
    assert await sink.apply(_copy(2)) is Applied.UNCHANGED  # a filtered copy adds nothing
    assert await sink.apply(_copy(2, "1700000001")) is Applied.UPDATED  # the owner's next edit
    await sink.flush()
    entry = FeedDir(tmp_path / "out").manifest()["5a3c2fcd-8328-42bb-a95e-4f4402de0b81"]
    assert (entry["timestamp"], entry["hub_version"]) == (1700000002, 1700000001)


async def test_hashes_csv_follows_misps_feed_format_and_updates(tmp_path):
    from pymisp import MISPEvent

    sink = FeedSink(tmp_path / "out", Side.NATO)
    event = fixture_event("existing_event.json")
    await sink.apply({"kind": "misp_event", "payload": {"Event": event}})
    await sink.flush()
    mine = sorted((tmp_path / "out" / "hashes.csv").read_text().splitlines())
    misp = MISPEvent()
    misp.load(json.loads(json.dumps({"Event": event})))  # a copy: PyMISP pops keys of what it loads
    live = [a for a in misp.attributes if not a.deleted] + [
        a for o in misp.objects for a in o.attributes if not a.deleted
    ]
    want = sorted(f"{h},{event['uuid']}" for a in live for h in a.hash_values("md5"))
    assert mine == want  # PyMISP's feed generator: attributes_hashes('md5'), one `hash,event-uuid` line each
    newer = {**event, "timestamp": str(int(event["timestamp"]) + 10), "Attribute": [], "Object": []}
    await sink.apply({"kind": "misp_event", "payload": {"Event": newer}})
    await sink.flush()
    assert (tmp_path / "out" / "hashes.csv").read_text() == ""  # the event's lines follow its file


async def test_feed_source_resubmits_a_file_whose_content_changed_at_the_same_timestamp(tmp_path):
    feed = tmp_path / "feed"
    light = _copy(1)["payload"]["Event"]
    write_feed(feed, [light])
    wm = tmp_path / "wm.json"
    source = FeedSource(feed, Side.EU, Watermark(wm))
    first = await changes(source)
    assert len(first) == 1
    source.done(first)
    await source.close()
    source = FeedSource(feed, Side.EU, Watermark(wm))
    assert await changes(source) == []  # unchanged: nothing
    os.utime(feed / f"{light['uuid']}.json", ns=(1, 1))  # touched, not changed: still nothing
    assert await changes(source) == []
    write_feed(feed, [_copy(10)["payload"]["Event"]])  # the full copy, same UUID and timestamp
    again = await changes(source)
    assert [(c.key, c.version) for c in again] == [(first[0].key, first[0].version)]
    assert len(json.loads(again[0].item)["payload"]["Event"]["Attribute"]) == 10
    source.done(again)
    assert await changes(source) == []


async def test_feed_source_submits_the_hub_version_of_a_merged_file(tmp_path):
    sink = FeedSink(tmp_path / "out", Side.NATO)
    await sink.apply(_copy(1))
    await sink.apply(_copy(10))
    await sink.flush()
    found = await changes(FeedSource(tmp_path / "out", Side.NATO, Watermark(tmp_path / "wm.json")))
    assert [c.version for c in found] == [1700000000]  # what the hub delivered: it knows its own echo
    assert json.loads(found[0].item)["payload"]["Event"]["timestamp"] == "1700000000"
