"""Copies of one version, withheld copies, late publication and tag removal, end to end.

The real broker and worker, an EU feed directory or EU loopback MISP as the source, and on the NATO
side a feed directory and a loopback MISP that keeps MISP's rules (strictly newer edits only; tags
added on edit, removed only when sent deleted).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from connectors.misp.feed import FeedDir
from schemas.common import Side
from tests.connectors.helpers import (
    decisions,
    export_feed,
    hub_settings,
    inbox_holds,
    pull_feed,
    pull_misp,
    push_misp,
    write_feed,
)

pytestmark = [pytest.mark.broker, pytest.mark.e2e]
UUID = "6b1e0c52-4f1a-4c6e-9d55-0a7c1e5b2f10"
STAMP = 1_780_300_800  # 2026-06-01: the same timestamp on every copy


def copy_of(n: int, tags: tuple[str, ...] = ("tlp:green",), stamp: int = STAMP, **extra: Any) -> dict[str, Any]:
    """A copy of one event holding its first `n` of ten attributes."""
    return {
        "uuid": UUID,
        "info": "Phishing wave against ministries",
        "date": "2026-06-01",
        "timestamp": str(stamp),
        "published": True,
        "distribution": "3",
        "Orgc": {"name": "CERT-EU", "uuid": "5cd1b7d4-0000-4000-8000-00000000e0e0"},
        "Tag": [{"name": t} for t in tags],
        "Attribute": [
            {
                "uuid": f"6b1e0c52-4f1a-4c6e-9d55-{i:012d}",
                "type": "domain",
                "category": "Network activity",
                "value": f"bad-{i}.example.net",
                "distribution": "5",
                "timestamp": str(STAMP),
            }
            for i in range(n)
        ],
        **extra,
    }


@pytest.mark.parametrize("order", [(1, 10), (10, 1)], ids=["light-then-heavy", "heavy-then-light"])
async def test_both_orders_of_a_light_and_a_heavy_copy_end_with_ten_attributes_on_the_nato_side(
    broker, ledger_url, start_worker, misp_servers, tmp_path, order
):
    nato = misp_servers()
    settings = hub_settings(broker.bootstrap, tmp_path, Side.EU)
    eu_feed, nato_feed = tmp_path / "eu-feed", tmp_path / "nato-feed"
    start_worker()
    crossed = 0
    for n, size in enumerate(order, start=1):
        write_feed(eu_feed, [copy_of(size)])  # the same UUID and timestamp, other content
        assert await pull_feed(settings, eu_feed, Side.EU) == 1  # the feed source sees the content change
        records = await decisions(ledger_url, n)
        crossed += records[-1].decision in ("delivered", "updated")
        await inbox_holds(broker.bootstrap, "NATO", crossed)
        await export_feed(settings, nato_feed, Side.NATO)
        await push_misp(settings, nato, Side.NATO)
    got = [(r.decision, r.rule) for r in records]
    if order == (1, 10):
        assert got == [("delivered", "new"), ("updated", "fuller-copy")]
        assert "this copy adds 9 attribute/object UUID(s)" in records[-1].reason
    else:
        assert got == [("delivered", "new"), ("duplicate", "filtered-copy")]
    assert len(FeedDir(nato_feed).read(UUID)["Attribute"]) == 10
    assert len(nato.state.events[UUID]["Attribute"]) == 10
    lines = (nato_feed / "hashes.csv").read_text().splitlines()
    assert len(lines) == 10  # one per attribute value, kept with the file

    # The NATO MISP's own pull of what it now holds (stamped a second newer after a merge): an echo.
    nato_settings = hub_settings(broker.bootstrap, tmp_path, Side.NATO)
    assert await pull_misp(nato_settings, nato, Side.NATO) == 1
    back = (await decisions(ledger_url, len(records) + 1))[-1]
    assert (back.decision, back.rule) == ("duplicate", "echo")


async def test_a_copy_withheld_for_no_tlp_then_a_tlp_green_copy_of_the_same_version_is_delivered(
    broker, ledger_url, start_worker, tmp_path
):
    settings = hub_settings(broker.bootstrap, tmp_path, Side.EU)
    eu_feed, nato_feed = tmp_path / "eu-feed", tmp_path / "nato-feed"
    start_worker()
    write_feed(eu_feed, [copy_of(3, tags=())])
    assert await pull_feed(settings, eu_feed, Side.EU) == 1
    write_feed(eu_feed, [copy_of(3)])
    assert await pull_feed(settings, eu_feed, Side.EU) == 1
    records = await decisions(ledger_url, 2)
    assert [(r.decision, r.rule) for r in records] == [("withheld", "no-tlp"), ("delivered", "new")]
    await inbox_holds(broker.bootstrap, "NATO", 1)
    assert await export_feed(settings, nato_feed, Side.NATO) == Counter(added=1)


async def test_an_event_published_after_the_low_mark_though_edited_before_is_pulled_and_delivered_once(
    broker, ledger_url, start_worker, misp_servers, tmp_path
):
    eu = misp_servers()
    settings = hub_settings(broker.bootstrap, tmp_path, Side.EU)
    early = {**copy_of(2), "uuid": "6b1e0c52-4f1a-4c6e-9d55-0a7c1e5b2f11", "Attribute": []}
    eu.state.add({"Event": early})
    late = copy_of(2, stamp=STAMP - 3600, published=False)  # edited an hour before the other was published
    eu.state.add({"Event": late})
    start_worker()
    assert await pull_misp(settings, eu, Side.EU) == 1
    eu.state.events[UUID].update(published=True, publish_timestamp=str(STAMP + 7200))
    assert await pull_misp(settings, eu, Side.EU) == 1
    assert await pull_misp(settings, eu, Side.EU) == 0  # the overlap asks again: nothing twice
    records = await decisions(ledger_url, 2)
    mine = [(r.decision, r.version) for r in records if r.source_id == UUID]
    assert [d for d, _ in mine] == ["delivered"]  # exactly one decision, and it crossed


async def test_a_tag_removed_on_the_eu_side_is_gone_from_the_nato_misp(
    broker, ledger_url, start_worker, misp_servers, tmp_path
):
    eu, nato = misp_servers(), misp_servers()
    settings = hub_settings(broker.bootstrap, tmp_path, Side.EU)
    eu.state.add({"Event": copy_of(2, tags=("tlp:green", 'osint:source-type="blog-post"'))})
    start_worker()
    assert await pull_misp(settings, eu, Side.EU) == 1
    await inbox_holds(broker.bootstrap, "NATO", 1)
    assert await push_misp(settings, nato, Side.NATO) == Counter(added=1)
    assert 'osint:source-type="blog-post"' in {t["name"] for t in nato.state.events[UUID]["Tag"]}
    nato.state.events[UUID]["Tag"].append({"name": "ncirc:triage", "local": True})  # NCIRC's own: stays

    # The EU analyst removes the tag as MISP takes it: an edit that sends it deleted.
    removal = copy_of(2, tags=("tlp:green",), stamp=STAMP + 60)
    removal["Tag"].append({"name": 'osint:source-type="blog-post"', "deleted": True})
    assert eu.state.edit(UUID, {"Event": removal})[0] == 200
    assert [t["name"] for t in eu.state.events[UUID]["Tag"]] == ["tlp:green"]
    assert await pull_misp(settings, eu, Side.EU) == 1
    records = await decisions(ledger_url, 2)
    assert (records[-1].decision, records[-1].rule) == ("updated", "newer-version")
    await inbox_holds(broker.bootstrap, "NATO", 2)
    assert await push_misp(settings, nato, Side.NATO) == Counter(updated=1)
    assert {t["name"] for t in nato.state.events[UUID]["Tag"]} == {"tlp:green", "ncirc:triage"}
