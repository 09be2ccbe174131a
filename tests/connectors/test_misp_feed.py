"""Feed directories: MISP's feed import defaults, the source's watermark, the sink's strictly-newer rule."""

from __future__ import annotations

import json

from connectors import Applied
from connectors.misp.feed import FeedDir
from connectors.misp.feed_sink import FeedSink
from connectors.misp.feed_source import FeedSource
from connectors.misp.watermark import Watermark
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
