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
