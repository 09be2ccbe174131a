"""The TAXII source connector against a real TAXII 2.1 peer on loopback (the hub's own server over another database):
new hub reports are submitted once, from a saved watermark; MISP-shaped STIX is refused, with the reason."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime

import pytest

from connectors.store import delivered
from connectors.taxii.service import peer_id, run_source
from hub.config.keystore import write_private_key
from hub.core.misp_release import stamp
from hub.demo.scenario import BASE_TIME
from hub.ledger import Ledger
from hub.ledger.deliveries import put
from hub.ledger.refusals import refusals
from hub.settings import ConnectorSettings, KafkaSettings, load_settings
from hub.taxii.collections import collection_id
from hub.worker.status import ConnectorHealth
from schemas.common import Side
from schemas.envelope import SUBMISSION
from tests.conftest import TEST_KEYS
from tests.connectors.conftest import fixture_event, whole_events
from tests.taxii.conftest import fill_store, server_settings, serving
from tests.taxii.test_taxii_server import EU_ORG

pytestmark = [pytest.mark.broker, pytest.mark.e2e]
NATO_CELL = "NATO Hybrid Analysis Branch"


def decided(ledger_url: str, n: int, timeout: float = 60) -> list:
    deadline = time.monotonic() + timeout
    while True:
        led = Ledger(ledger_url)
        records = list(led.records())
        led.close()
        if len(records) >= n or time.monotonic() > deadline:
            return records
        time.sleep(0.2)


def test_the_taxii_source_submits_new_hub_reports_once_and_refuses_misp_shaped_stix(
    broker, ledger_url, start_worker, tmp_path, keyring_file, token
):
    start_worker()
    peer_url = f"sqlite:///{tmp_path / 'peer.db'}"  # the peer's own database: a TAXII server of the NATO cell
    peer = server_settings(tmp_path / "peer", peer_url, keyring_file)
    envs = fill_store(peer_url, Side.EU, 30, kinds=("assessment",))  # NATO's assessments, in the EU's inbox
    event = stamp(fixture_event(whole_events()[0]), int(BASE_TIME.timestamp()))
    doc = {"kind": "misp_event", "origin": "NATO", "originator": "NCIRC", "area": "cyber", "payload": {"Event": event}}
    misp = json.loads(SUBMISSION.validate_python(doc).model_dump_json())
    misp["content_hash"] = "f" * 64
    led = Ledger(peer_url)
    put(led, [delivered(Side.EU, misp)], datetime.now(UTC))
    led.close()

    key = tmp_path / "keys" / "nato-cell.pem"
    write_private_key(TEST_KEYS[("NATO", NATO_CELL)], key)
    kafka = KafkaSettings(bootstrap=broker.bootstrap, partitions=4)
    signing = {"key_file": key, "keyring": keyring_file}
    settings = load_settings(kafka=kafka, ledger_url=ledger_url, data_dir=tmp_path / "connector", signing=signing)
    with serving(peer) as url:
        peer_token = token_on(peer_url, EU_ORG, "EU")
        cfg = ConnectorSettings(type="taxii", side="NATO", url=f"{url}eu/collections/{collection_id('eu', 'inbox')}/",
                                key=peer_token, allow_http=True, interval_s=1)  # fmt: skip
        health = ConnectorHealth(peer_id(cfg), "NATO", "source")
        assert asyncio.run(run_source(cfg, settings, broker.bootstrap, True, health)) == 30
        records = decided(ledger_url, 30)
        assert [(r.decision, r.rule, r.reason) for r in records if r.source_id is None] == []
        assert sorted(r.source_id for r in records) == sorted(e["source_id"] for e in envs)
        assert {(r.direction, r.decision) for r in records} == {("NATO->EU", "delivered")}
        assert asyncio.run(run_source(cfg, settings, broker.bootstrap, True, health)) == 0  # the watermark held

        more = fill_store(peer_url, Side.EU, 3, seed=99, kinds=("assessment",))
        assert asyncio.run(run_source(cfg, settings, broker.bootstrap, True, health)) == 3
        assert {r.source_id for r in decided(ledger_url, 33)} >= {e["source_id"] for e in more}
    led = Ledger(ledger_url)
    refused = [r for r in refusals(led) if r.connector == peer_id(cfg)]
    led.close()
    assert len(refused) == 1
    assert "MISP events cross through the MISP connectors" in refused[0].reason
    assert health.submitted == 33


def token_on(ledger_url: str, org: str, side: str) -> str:
    from hub.ledger.tokens import add

    led = Ledger(ledger_url)
    try:
        return add(led, org, side)[1]
    finally:
        led.close()
