"""TAXII through the real worker on the embedded broker: a bundle added becomes the hub's decision; the inbox outlives
the broker's restart."""

from __future__ import annotations

import asyncio
import json
import random
import time
from datetime import timedelta

import pytest
import requests
from taxii2client.common import TokenAuth
from taxii2client.v21 import Server, as_pages

from hub.demo.scenario import BASE_TIME, envelope
from hub.ledger import Ledger
from hub.stix.convert import stix_objects
from hub.taxii.media import TAXII
from schemas.envelope import SUBMISSION
from tests.conftest import publish
from tests.taxii.conftest import server_settings, serving
from tests.taxii.test_store import store_holds
from tests.taxii.test_taxii_server import EU_ORG, NATO_ORG, inbox_url

pytestmark = [pytest.mark.broker, pytest.mark.e2e]


def stix_of(doc: dict) -> list[dict]:
    """The STIX objects of an item, as a fusion cell's tool would send them."""
    return stix_objects(json.loads(SUBMISSION.validate_python(doc).model_dump_json()))


def served_reports(url: str, tok: str, root: str) -> list[str]:
    server = Server(f"{url}taxii2/", auth=TokenAuth(tok))
    inbox = next(r for r in server.api_roots if r.url.endswith(f"/{root}/")).collections[0]
    return [o["id"] for page in as_pages(inbox.get_objects, per_request=100, type="report", version="all")
            for o in page.get("objects", [])]  # fmt: skip


def delivered_records(ledger_url: str, direction: str) -> int:
    led = Ledger(ledger_url)
    try:
        return sum(1 for r in led.records() if r.direction == direction and r.decision in ("delivered", "updated"))
    finally:
        led.close()


def test_a_bundle_added_with_taxii2_client_ends_as_the_hubs_decision(
    broker, ledger_url, start_worker, tmp_path, keyring_file, token
):
    start_worker()
    rng = random.Random(11)
    good = envelope(rng, "assessment", "EU", BASE_TIME)
    red = envelope(rng, "assessment", "EU", BASE_TIME, tlp="RED")
    newer = {**good, "version": (BASE_TIME + timedelta(hours=1)).isoformat(),
             "modified": (BASE_TIME + timedelta(hours=1)).isoformat()}  # fmt: skip
    newer["payload"] = {**good["payload"], "title": good["payload"]["title"] + " (revised)"}
    stray = {"type": "indicator", "spec_version": "2.1", "id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
             "created": "2026-06-01T08:00:00.000Z", "modified": "2026-06-01T08:00:00.000Z", "pattern_type": "stix",
             "pattern": "[ipv4-addr:value = '198.51.100.1']", "valid_from": "2026-06-01T08:00:00Z"}  # fmt: skip
    settings = server_settings(tmp_path, ledger_url, keyring_file, broker.bootstrap)
    eu_token, nato_token = token(EU_ORG, "EU"), token(NATO_ORG, "NATO")
    with serving(settings) as url:
        server = Server(f"{url}taxii2/", auth=TokenAuth(eu_token))
        submissions = server.api_roots[0].collections[1]
        status = submissions.add_objects({"objects": [*stix_of(good), *stix_of(red), stray]})
        assert status.total_count == 3  # two reports submitted (pending until decided), one refused at once
        status.wait_until_final(poll_interval=0.5, timeout=60)
        assert status.status == "complete"
        assert (status.success_count, status.failure_count, status.pending_count) == (1, 2, 0)
        assert status.successes[0]["id"] == f"report--{good['source_id']}"
        assert status.successes[0]["message"].startswith("delivered")
        messages = {f["id"]: f["message"] for f in status.failures}
        assert messages[f"report--{red['source_id']}"].startswith("withheld (tlp-red)")  # why it was withheld
        assert "no hub mapping" in messages[stray["id"]]

        later = submissions.add_objects({"objects": stix_of(newer)})  # an update: delivered as a new version
        later.wait_until_final(poll_interval=0.5, timeout=60)
        assert later.successes[0]["message"].startswith("updated")

        as_nato = {**newer, "origin": "NATO", "originator": NATO_ORG}  # an EU token cannot sign for NATO
        refused = submissions.add_objects({"objects": stix_of(as_nato)})
        assert (refused.status, refused.failure_count) == ("complete", 1)
        assert "submits as EU Hybrid Fusion Cell (EU) only" in refused.failures[0]["message"]

        peek = requests.get(f"{url}eu/status/{status.id}/", timeout=10,
                            headers={"Authorization": f"Bearer {nato_token}", "Accept": TAXII})  # fmt: skip
        assert peek.status_code == 403  # another side's status is not its business

        assert asyncio.run(store_holds(ledger_url, "NATO", 2)) == 2
        reports = served_reports(url, nato_token, "nato")
    assert reports == [f"report--{good['source_id']}"] * 2  # both versions
    assert len(reports) == delivered_records(ledger_url, "EU->NATO")


def test_the_taxii_inbox_and_the_inbox_directory_outlive_a_restart_of_the_embedded_broker(
    broker, ledger_url, start_worker, tmp_path, keyring_file, token
):
    inbox_dir = tmp_path / "nato-inbox"
    files = json.dumps([{"type": "files", "side": "NATO", "role": "sink", "inbox_dir": str(inbox_dir)}])
    worker = start_worker(HUB_CONNECTORS=files)
    rng = random.Random(5)
    sent = [envelope(rng, kind, "EU", BASE_TIME) for kind in ("assessment", "stratcom_note", "misp_event")]
    asyncio.run(publish(broker.bootstrap, [json.dumps(i).encode() for i in sent]))
    assert asyncio.run(store_holds(ledger_url, "NATO", 3)) == 3
    deadline = time.monotonic() + 60
    while len(list(inbox_dir.glob("*.json"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    worker.stop()
    broker.stop()  # memory storage: every topic, offset and inbox message is gone
    broker.start()
    start_worker(HUB_CONNECTORS=files)
    settings = server_settings(tmp_path, ledger_url, keyring_file, broker.bootstrap)
    with serving(settings) as url:
        reports = served_reports(url, token(NATO_ORG, "NATO"), "nato")
        headers = {"Authorization": f"Bearer {token(NATO_ORG, 'NATO')}", "Accept": TAXII}
        served = requests.get(inbox_url(url, "nato") + "objects/", headers=headers, timeout=10).json()["objects"]
    tops = {o["id"].split("--")[1] for o in served if o["type"] in ("report", "grouping")}
    ids = {s.get("source_id") or s["payload"]["Event"]["uuid"] for s in sent}
    assert ids == tops  # the assessment's and the note's reports, the MISP event's report or grouping
    assert len(reports) >= 2
    assert len(list(inbox_dir.glob("*.json"))) == 3
    assert delivered_records(ledger_url, "EU->NATO") == 3
