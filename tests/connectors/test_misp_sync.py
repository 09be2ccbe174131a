"""MISP sync end to end: feed directories and MISP-API servers on both sides, the real broker and worker."""

from __future__ import annotations

import copy
import json
from collections import Counter

import pytest
from pymisp import MISPEvent

from connectors import make_publisher
from connectors.misp.envelope import envelope
from connectors.misp.feed import FeedDir
from schemas.common import Side
from tests.conftest import read_topic
from tests.connectors.conftest import fixture_event, whole_events
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
WITHHELD_FIXTURES = {"misp_event.json", "new_misp_event.json", "shadow.json"}  # distribution 0


def closed_clusters(event) -> set[str]:
    """Tag names of the event's galaxy clusters at distribution 0: they and their tags stay on their side."""
    return {c["tag_name"] for g in event.get("Galaxy") or [] for c in g["GalaxyCluster"] if c["distribution"] == "0"}


def shape(event, closed=frozenset()):
    """What must arrive: event, attribute and object UUIDs, values and tag names (less the `closed` ones)."""
    return {
        "uuid": event["uuid"],
        "tags": sorted(t["name"] for t in event.get("Tag") or [] if t["name"] not in closed),
        "attributes": sorted(
            (a["uuid"], a["value"], tuple(sorted(t["name"] for t in a.get("Tag") or [])))
            for a in event.get("Attribute") or []
        ),
        "objects": sorted(
            (o["uuid"], tuple(sorted((a["uuid"], a["value"]) for a in o.get("Attribute") or [])))
            for o in event.get("Object") or []
        ),
    }


async def test_fixture_events_cross_from_an_eu_feed_to_a_nato_feed_and_misp(
    broker, ledger_url, start_worker, misp_servers, tmp_path
):
    nato = misp_servers()
    settings = hub_settings(broker.bootstrap, tmp_path, Side.EU)
    eu_feed, nato_feed = tmp_path / "eu-feed", tmp_path / "nato-feed"
    names = [n for n in whole_events() if n != "existing_event_edited.json"]
    originals = {n: fixture_event(n) for n in names}
    write_feed(eu_feed, [copy.deepcopy(e) for e in originals.values()])
    start_worker()

    assert await pull_feed(settings, eu_feed, Side.EU) == len(names)
    records = await decisions(ledger_url, len(names))
    by_uuid = {r.source_id: r for r in records}
    for name, event in originals.items():
        r = by_uuid[event["uuid"]]
        if name in WITHHELD_FIXTURES:  # distribution 0 and no TLP tag: the first rule that fails is named
            assert (r.decision, r.rule) in {("withheld", "no-tlp"), ("withheld", "misp-distribution-0")}, name
        else:
            assert (r.decision, r.rule) == ("delivered", "new"), name
    crossing = [e for n, e in originals.items() if n not in WITHHELD_FIXTURES]
    await inbox_holds(broker.bootstrap, "NATO", len(crossing))
    assert await export_feed(settings, nato_feed, Side.NATO) == Counter(added=len(crossing))
    assert await push_misp(settings, nato, Side.NATO) == Counter(added=len(crossing))

    manifest = FeedDir(nato_feed).manifest()
    assert sorted(manifest) == sorted(e["uuid"] for e in crossing)
    for event in crossing:
        in_feed = FeedDir(nato_feed).read(event["uuid"])
        in_misp = nato.state.events[event["uuid"]]
        assert shape(in_feed) == shape(event, closed_clusters(event)) == shape(in_misp)
        assert not closed_clusters(in_feed)
        assert manifest[event["uuid"]]["timestamp"] == int(in_feed["timestamp"])
        loaded = MISPEvent()
        loaded.load({"Event": in_feed})
        assert str(loaded.uuid) == event["uuid"]

    # The edit: stamped by the EU side as MISP stamps an edit, then one update on the NATO side.
    edited = fixture_event("existing_event_edited.json")
    write_feed(eu_feed, [edited])
    assert await pull_feed(settings, eu_feed, Side.EU) == 1
    last = (await decisions(ledger_url, len(names) + 1))[-1]
    assert (last.decision, last.rule) == ("updated", "newer-version")
    await inbox_holds(broker.bootstrap, "NATO", len(crossing) + 1)
    assert await export_feed(settings, nato_feed, Side.NATO) == Counter(updated=1)
    assert await push_misp(settings, nato, Side.NATO) == Counter(updated=1)
    held = nato.state.events[edited["uuid"]]
    assert held["timestamp"] == edited["timestamp"]
    assert [t["name"] for t in held["Object"][0]["Attribute"][0]["Tag"]] == ["blah"]
    assert FeedDir(nato_feed).read(edited["uuid"])["timestamp"] == edited["timestamp"]

    # Replaying both: two duplicates, nothing changes on the NATO side.
    before = json.dumps(nato.state.events, sort_keys=True)
    async with make_publisher(settings, broker.bootstrap) as pub:
        await pub.publish([envelope(originals["existing_event.json"], Side.EU), envelope(edited, Side.EU)])
    replayed = (await decisions(ledger_url, len(names) + 3))[-2:]
    assert [(r.decision, r.rule) for r in replayed] == [("duplicate", "older-version"), ("duplicate", "same-version")]
    assert await push_misp(settings, nato, Side.NATO) == Counter()
    assert json.dumps(nato.state.events, sort_keys=True) == before


def _event(uuid: str, ts: int, tags: list[str], **extra):
    return {
        "uuid": uuid,
        "info": f"Phishing wave {uuid[:8]}",
        "date": "2026-06-01",
        "timestamp": str(ts),
        "published": True,
        "distribution": "3",
        "Orgc": {"name": "CERT-EU", "uuid": "5cd1b7d4-0000-4000-8000-00000000e0e0"},
        "Tag": [{"name": t} for t in tags],
        "Attribute": [
            {
                "uuid": f"{uuid[:-4]}a{i:03d}",
                "type": "domain",
                "category": "Network activity",
                "value": f"bad-{i}.example.net",
                "distribution": "5",
                "timestamp": str(ts),
                "Tag": [],
            }
            for i in range(3)
        ],
        **extra,
    }


async def test_withheld_stripped_and_echo_over_rest(broker, ledger_url, start_worker, misp_servers, tmp_path):
    eu, nato = misp_servers(), misp_servers()
    settings = hub_settings(broker.bootstrap, tmp_path, Side.EU)
    nato_settings = hub_settings(broker.bootstrap, tmp_path, Side.NATO)
    red = _event("11111111-1111-4111-8111-111111111111", 1000, ["tlp:red"])
    org_only = _event("22222222-2222-4222-8222-222222222222", 1000, ["tlp:green"], distribution="0")
    group = {"name": "EU only", "SharingGroupOrg": [{"Organisation": {"name": "CERT-EU", "uuid": "e0"}}]}
    eu_group = _event("33333333-3333-4333-8333-333333333333", 1000, ["tlp:green"], distribution="4", SharingGroup=group)
    mixed = _event("44444444-4444-4444-8444-444444444444", 1000, ["tlp:green", "PAP:GREEN"])
    mixed["Attribute"][1]["Tag"] = [{"name": "tlp:red"}]
    mixed["Tag"].append({"name": "cert-eu:internal", "local": 1})
    for e in (red, org_only, eu_group, mixed):
        eu.state.add({"Event": e})
    start_worker()

    assert await pull_misp(settings, eu, Side.EU) == 4
    records = {r.source_id: r for r in await decisions(ledger_url, 4)}
    assert (records[red["uuid"]].decision, records[red["uuid"]].rule) == ("withheld", "tlp-red")
    assert records[org_only["uuid"]].rule == "misp-distribution-0"
    assert records[eu_group["uuid"]].rule == "misp-sharing-group"
    stripped = mixed["Attribute"][1]["uuid"]
    assert records[mixed["uuid"]].decision == "delivered"
    assert f"stripped 1: attribute {stripped} (tlp-red)" in records[mixed["uuid"]].reason
    await inbox_holds(broker.bootstrap, "NATO", 1)
    assert await push_misp(settings, nato, Side.NATO) == Counter(added=1)
    held = nato.state.events[mixed["uuid"]]
    assert [a["uuid"] for a in held["Attribute"]] == [mixed["Attribute"][0]["uuid"], mixed["Attribute"][2]["uuid"]]
    assert [t["name"] for t in held["Tag"]] == ["tlp:green", "PAP:GREEN"]  # the local tag stayed home

    # The NATO side's source pulls what the hub delivered: recognised, not sent back.
    assert await pull_misp(nato_settings, nato, Side.NATO) == 1
    echo = (await decisions(ledger_url, 5))[-1]
    assert (echo.source_id, echo.decision, echo.rule) == (mixed["uuid"], "duplicate", "echo")
    assert await read_topic(broker.bootstrap, "eu.inbox", 1, timeout=3) == []


async def test_a_sink_counts_only_what_the_destination_shows_and_lists_the_rest(broker, misp_servers, tmp_path):
    """`{}`, another event's JSON and a 307 answered to events/add are refused and listed; the next is applied."""
    from aiokafka import AIOKafkaProducer

    from hub.config.keystore import hub_signer
    from hub.core.delivery import delivery_headers
    from hub.ledger import Ledger
    from hub.ledger.refusals import refusals
    from tests.connectors.hostile import answer, raw

    nato, elsewhere = misp_servers(), misp_servers()
    settings = hub_settings(broker.bootstrap, tmp_path, Side.NATO)
    sent = [_event(f"5a3c2fcd-8328-42bb-a95e-00000000000{i}", 1000 + i, ["tlp:green"]) for i in range(4)]
    other = _event("99999999-9999-4999-8999-999999999999", 5000, ["tlp:green"])
    answers = {
        sent[0]["uuid"]: answer({}),
        sent[1]["uuid"]: answer({"Event": other}),
        sent[2]["uuid"]: raw("", 307, Location=f"{elsewhere.url}events/add"),
    }
    nato.state.hostile = lambda m, path, body: (
        answers.get((body.get("Event") or {}).get("uuid")) if path == "events/add" else None
    )
    hub = hub_signer(settings)  # the deliveries are the hub's: they pass the inbox gate, then meet the liar
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
    await producer.start()
    for i, e in enumerate(sent):
        delivered = {"kind": "misp_event", "origin": "EU", "source_id": e["uuid"], "payload": {"Event": e}}
        value = json.dumps(delivered).encode()
        headers = [("hub-sid", f"s{i}".encode()), *delivery_headers(hub, "NATO", f"s{i}", value)]
        await producer.send_and_wait("nato.inbox", value, headers=headers)
    await producer.stop()

    assert await push_misp(settings, nato, Side.NATO) == Counter(refused=3, added=1)
    assert list(nato.state.events) == [sent[3]["uuid"]]
    assert elsewhere.state.calls == []
    ledger = Ledger(settings.ledger)
    listed = {r.submission_id: r for r in refusals(ledger)}
    ledger.close()
    assert sorted(listed) == ["s0", "s1", "s2"]
    assert [listed[s].item for s in ("s0", "s1", "s2")] == [e["uuid"] for e in sent[:3]]
    assert listed["s0"].reason.endswith(
        "events/add answered HTTP 200 without the event, and a read-back shows no such event: not applied"
    )
    assert listed["s1"].reason.endswith(
        "events/add answered HTTP 200 without the event, and a read-back shows no such event: not applied"
    )
    assert (
        f"events/add {sent[2]['uuid']} answered HTTP 307, a redirect to {elsewhere.url}events/add"
        in listed["s2"].reason
    )
    assert await push_misp(settings, nato, Side.NATO) == Counter()  # committed: none of them comes back
