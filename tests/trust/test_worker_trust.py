"""Issue 10's attacks, through the real worker on the embedded broker and the real sinks.

A reused submission id, the three hijacks, and messages written straight to an inbox: each ends as
the issue says, and what is genuine keeps flowing.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaProducer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.config.keystore import load_keyring
from hub.core.route import SID_HEADER
from hub.core.signing import KEY_HEADER, SIG_HEADER, Signer
from hub.demo.scenario import BASE_TIME, envelope
from hub.errors import InputError
from hub.kafka.publisher import Publisher
from hub.settings import KafkaSettings
from schemas.common import Side
from tests.conftest import TEST_SIGNERS, read_topic
from tests.connectors.helpers import decisions, export_feed, hub_settings, push_misp
from tests.connectors.misp_server import MispServer

pytestmark = [pytest.mark.broker, pytest.mark.e2e]
HFC, CERT_EU, NATO_HAB = "EU Hybrid Fusion Cell", "CERT-EU", "NATO Hybrid Analysis Branch"
ROGUE = Signer.of(Ed25519PrivateKey.from_private_bytes(b"q" * 32))


async def send(bootstrap: str, docs: list[dict], sids: list[str] | None = None, signer=TEST_SIGNERS) -> list[str]:
    """Publish `docs` in order, one acknowledged send each (one partition per item keeps their order anyway)."""
    out = []
    async with Publisher(KafkaSettings(bootstrap=bootstrap, partitions=4), bootstrap, signer=signer) as pub:
        for n, doc in enumerate(docs):
            out += await pub.publish([json.dumps(doc).encode()], [sids[n]] if sids else None)
    return out


def by_sid(records) -> dict[str, tuple[str, str]]:
    return {r.submission_id: (r.decision, r.rule) for r in records}


async def test_a_reused_submission_id_is_rejected_and_nothing_reaches_an_inbox(broker, ledger_url, start_worker):
    start_worker()
    genuine = envelope(random.Random(1), "assessment", "EU", BASE_TIME)
    await send(broker.bootstrap, [genuine], ["shared-id"])
    await decisions(ledger_url, 1)  # decided first: the others are on other partitions and could overtake it
    secret = envelope(random.Random(2), "assessment", "EU", BASE_TIME, tlp="RED", releasable_to=["EU"])
    secret["markings"]["classification"] = "EU SECRET"
    forged = envelope(random.Random(3), "misp_event", "NATO", BASE_TIME)
    await send(broker.bootstrap, [secret], ["shared-id"], signer=None)  # unsigned, as in the issue
    await send(broker.bootstrap, [forged], ["shared-id"], signer=ROGUE)  # a forged NATO item
    await send(broker.bootstrap, [genuine], ["shared-id"])  # the genuine message again: a replay
    records = await decisions(ledger_url, 3)
    assert len(records) == 3
    assert [(r.decision, r.rule) for r in records] == [("delivered", "new"), ("rejected", "sid-reuse")] + [
        ("rejected", "sid-reuse")
    ]
    assert [r.submission_id.split(":")[0] for r in records] == ["shared-id", "reuse", "reuse"]
    nato = await read_topic(broker.bootstrap, "nato.inbox", 3, timeout=5)
    # The genuine item, and its replay re-sent (outputs are at least once); nothing of the reused id's bytes.
    assert [json.loads(r.value)["source_id"] for r in nato] == [genuine["source_id"]] * 2
    assert await read_topic(broker.bootstrap, "eu.inbox", 1, timeout=2) == []
    rejected = await read_topic(broker.bootstrap, "hub.rejected", 2, timeout=10)
    bodies = [json.loads(r.value) for r in rejected]
    assert [b["rule"] for b in bodies] == ["sid-reuse", "sid-reuse"]
    assert all("excerpt" not in b and "excerpt_base64" not in b and "sha256" not in b for b in bodies)
    assert b"SECRET" not in b"".join(r.value for r in rejected)


async def test_the_three_hijacks_are_refused_and_the_owners_versions_delivered(broker, ledger_url, start_worker):
    start_worker()
    now = datetime.now(UTC)

    def assessment(seed, origin, originator, version, title):
        doc = envelope(random.Random(seed), "assessment", origin, BASE_TIME)
        doc.update(originator=originator, version=version.isoformat(), modified=version.isoformat())
        doc["payload"]["title"] = title
        return doc

    def event(origin, timestamp, info):
        doc = envelope(random.Random(30), "misp_event", origin, BASE_TIME)
        doc["originator"] = CERT_EU if origin == "EU" else "NCIRC"
        doc["payload"]["Event"].update(timestamp=str(timestamp), info=info)
        return doc

    far = datetime(9999, 12, 31, tzinfo=UTC)
    t0 = int((now - timedelta(hours=2)).timestamp())
    docs = [
        # 1. CERT-EU sends a newer version of the EU Hybrid Fusion Cell's assessment.
        assessment(10, "EU", HFC, now - timedelta(days=3), "hfc v1"),
        assessment(10, "EU", CERT_EU, now - timedelta(days=2), "cert-eu hijack"),
        assessment(10, "EU", HFC, now - timedelta(days=2), "hfc v2"),
        assessment(10, "EU", HFC, now - timedelta(days=1), "hfc v3"),
        # 2. NCIRC's NATO HAB claims an id first with a version in 9999, then the genuine EU item arrives.
        assessment(20, "NATO", NATO_HAB, far, "claimed"),
        assessment(20, "EU", HFC, now - timedelta(days=3), "genuine v1"),
        assessment(20, "EU", HFC, now - timedelta(days=2), "genuine v2"),
        # 3. NCIRC re-publishes CERT-EU's MISP event, in 9999 and then merely newer.
        event("EU", t0, "cert-eu event"),
        event("NATO", 253402214400, "ncirc 9999"),
        event("NATO", t0 + 60, "ncirc newer"),
        event("EU", t0 + 120, "cert-eu update"),
    ]
    sids = await send(broker.bootstrap, docs)
    records = await decisions(ledger_url, len(docs))
    assert [by_sid(records)[s] for s in sids] == [
        ("delivered", "new"),
        ("rejected", "not-owner"),
        ("updated", "newer-version"),
        ("updated", "newer-version"),
        ("rejected", "future-version"),
        ("delivered", "new"),
        ("updated", "newer-version"),
        ("delivered", "new"),
        ("rejected", "future-version"),
        ("rejected", "not-owner"),
        ("updated", "newer-version"),
    ]
    nato = await read_topic(broker.bootstrap, "nato.inbox", 7, timeout=20)
    titles = [
        json.loads(r.value)["payload"].get("title") or json.loads(r.value)["payload"]["Event"]["info"] for r in nato
    ]
    assert sorted(titles) == sorted(
        ["hfc v1", "hfc v2", "hfc v3", "genuine v1", "genuine v2", "cert-eu event", "cert-eu update"]
    )
    assert await read_topic(broker.bootstrap, "eu.inbox", 1, timeout=2) == []


async def test_only_hub_signed_deliveries_are_applied_by_the_feed_and_rest_sinks(
    broker, ledger_url, start_worker, keyring_file, tmp_path
):
    start_worker()
    settings = hub_settings(broker.bootstrap, tmp_path, Side.EU)
    good = [envelope(random.Random(40 + n), "misp_event", "EU", BASE_TIME) for n in range(3)]
    back = envelope(random.Random(50), "misp_event", "NATO", BASE_TIME)  # delivered into eu.inbox
    await send(broker.bootstrap, [good[0], good[1], back])
    await decisions(ledger_url, 3)
    genuine_eu = (await read_topic(broker.bootstrap, "eu.inbox", 1, timeout=20))[0]
    await read_topic(broker.bootstrap, "nato.inbox", 2, timeout=20)

    red = envelope(random.Random(60), "misp_event", "EU", BASE_TIME, tlp="RED")
    red["payload"]["Event"]["distribution"] = "0"
    red_value = json.dumps(red).encode()
    hub_key = next(iter(load_keyring(keyring_file).hub))
    junk = [
        (red_value, [(SID_HEADER, b"fake-1")]),  # unsigned TLP:RED, distribution 0, straight into nato.inbox
        (red_value, [(SID_HEADER, b"fake-2"), (KEY_HEADER, hub_key.encode()), (SIG_HEADER, b"A" * 88)]),  # forged
        (genuine_eu.value, list(genuine_eu.headers)),  # a genuine EU delivery copied into the NATO inbox
        (b"\x00\xff not json at all", []),  # malformed
        (b"[1, 2, 3]", [(SID_HEADER, b"fake-3")]),
    ]
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
    await producer.start()
    try:
        for value, headers in junk:
            await producer.send_and_wait("nato.inbox", value, headers=headers)
    finally:
        await producer.stop()
    await send(broker.bootstrap, [good[2]])  # a genuine delivery behind the junk
    await decisions(ledger_url, 4)
    await read_topic(broker.bootstrap, "nato.inbox", 2 + len(junk) + 1, timeout=20)

    feed = tmp_path / "nato-feed"
    assert await export_feed(settings, feed, Side.NATO) == Counter(added=3, refused=len(junk))
    with MispServer() as nato:
        assert await push_misp(settings, nato, Side.NATO) == Counter(added=3, refused=len(junk))
        assert sorted(nato.state.events) == sorted(d["payload"]["Event"]["uuid"] for d in good)
    written = sorted(p.name for p in feed.iterdir())
    assert written == sorted(["manifest.json", "hashes.csv", *(f"{d['payload']['Event']['uuid']}.json" for d in good)])
    assert red["payload"]["Event"]["uuid"] not in (feed / "manifest.json").read_text()


async def test_the_publisher_refuses_an_unsafe_submission_id_before_sending(broker):
    doc = envelope(random.Random(70), "assessment", "EU", BASE_TIME)
    with pytest.raises(InputError, match=r"submission id 'reuse:0:x': use 1 to 128 of"):
        await send(broker.bootstrap, [doc], ["reuse:0:x"])
    assert await read_topic(broker.bootstrap, "hub.submitted", 1, timeout=2) == []
