"""The TAXII 2.1 server as the OASIS client (taxii2-client) and a plain HTTP client see it, over the delivery store."""

from __future__ import annotations

import hashlib
import json

import requests
from stix2validator import ValidationOptions, validate_instance
from taxii2client.common import TokenAuth
from taxii2client.v21 import Server, as_pages

from hub.core.misp_release import stamp
from hub.demo.scenario import BASE_TIME, mixed
from hub.ledger import Ledger
from hub.ledger.deliveries import put
from hub.stix.convert import bundle
from hub.taxii.collections import collection_id
from hub.taxii.media import TAXII
from schemas.common import Side
from schemas.envelope import SUBMISSION
from tests.connectors.conftest import fixture_event, whole_events
from tests.taxii.conftest import fill_store, server_settings, serving

TAXII_HEADERS = {"Accept": TAXII}
NATO_ORG = "NATO Hybrid Analysis Branch"
EU_ORG = "EU Hybrid Fusion Cell"


def inbox_url(url: str, root: str) -> str:
    return f"{url}{root}/collections/{collection_id(root, 'inbox')}/"


def test_taxii2_client_discovers_the_server_and_lists_each_sides_collections(web, token):
    server = Server(f"{web}taxii2/", auth=TokenAuth(token(NATO_ORG, "NATO")))
    assert server.title == "The exchange hub"
    assert [r.url for r in server.api_roots] == [f"{web}eu/", f"{web}nato/"]
    nato = server.api_roots[1]
    assert nato.versions == [TAXII]
    inbox, submissions = nato.collections
    assert (inbox.title, inbox.can_read, inbox.can_write) == ("NATO inbox", True, False)
    assert (submissions.title, submissions.can_read, submissions.can_write) == ("NATO submissions", False, True)
    assert inbox.id == collection_id("nato", "inbox")


def test_nothing_is_read_without_a_token_and_a_side_reads_only_its_own_inbox(web, token, ledger_url):
    fill_store(ledger_url, Side.NATO, 3)
    eu = {"Authorization": f"Bearer {token(EU_ORG, 'EU')}", **TAXII_HEADERS}
    for path in ("taxii2/", "nato/", "nato/collections/", "objects/"):
        url = inbox_url(web, "nato") + "objects/" if path == "objects/" else web + path
        r = requests.get(url, headers=TAXII_HEADERS, timeout=10)
        assert r.status_code == 401
        assert r.headers["Content-Type"] == TAXII
        assert r.json()["http_status"] == "401"
        assert "token" in r.json()["description"]
        bad = requests.get(url, headers={**TAXII_HEADERS, "Authorization": "Bearer hub_0_nope"}, timeout=10)
        assert bad.status_code == 401
    for path in ("nato/", "nato/collections/", "nato/collections/x/objects/"):
        r = requests.get(web + path, headers=eu, timeout=10)
        assert (r.status_code, r.json()["http_status"]) == (403, "403")
    r = requests.get(inbox_url(web, "nato") + "objects/", headers=eu, timeout=10)
    assert r.status_code == 403
    assert b"objects" not in r.content.replace(b"no objects", b"")
    assert requests.get(inbox_url(web, "eu") + "objects/", headers=eu, timeout=10).json() == {}  # its own: empty


def test_media_types_are_negotiated(web, token):
    auth = {"Authorization": f"Bearer {token(EU_ORG, 'EU')}"}
    assert requests.get(f"{web}eu/", headers={**auth, "Accept": "text/html"}, timeout=10).status_code == 406
    ok = requests.get(f"{web}eu/", headers={**auth, "Accept": TAXII}, timeout=10)
    assert (ok.status_code, ok.headers["Content-Type"]) == (200, TAXII)
    subs = f"{web}eu/collections/{collection_id('eu', 'submissions')}/objects/"
    r = requests.post(
        subs, headers={**auth, "Accept": TAXII, "Content-Type": "application/json"}, data="{}", timeout=10
    )
    assert (r.status_code, r.json()["http_status"]) == (415, "415")
    r = requests.get(subs, headers={**auth, "Accept": TAXII}, timeout=10)
    assert r.status_code == 403  # the submissions collection cannot be read
    r = requests.get(f"{web}eu/nothing/", headers={**auth, "Accept": TAXII}, timeout=10)
    assert (r.status_code, r.json()["http_status"]) == (404, "404")


def test_filters_manifest_versions_and_objects_by_id(web, token, ledger_url):
    envs = fill_store(ledger_url, Side.NATO, 20)
    headers = {"Authorization": f"Bearer {token(NATO_ORG, 'NATO')}", **TAXII_HEADERS}
    base = inbox_url(web, "nato")
    first = requests.get(base + "objects/", headers=headers, params={"limit": 5}, timeout=10)
    body = first.json()
    assert (len(body["objects"]), body["more"]) == (5, True)
    added_last = first.headers["X-TAXII-Date-Added-Last"]
    assert first.headers["X-TAXII-Date-Added-First"] <= added_last
    after = requests.get(base + "objects/", headers=headers, params={"added_after": added_last}, timeout=10).json()
    everything = requests.get(base + "objects/", headers=headers, timeout=10).json()["objects"]
    assert [o["id"] for o in after["objects"]] == [o["id"] for o in everything[5:]]
    rid = f"report--{envs[3]['source_id']}"
    one = requests.get(base + "objects/", headers=headers, params={"match[id]": rid}, timeout=10).json()
    assert [o["id"] for o in one["objects"]] == [rid]
    reports = requests.get(base + "objects/", headers=headers, params={"match[type]": "report"}, timeout=10).json()
    assert len(reports["objects"]) == 20
    assert requests.get(base + f"objects/{rid}/", headers=headers, timeout=10).json()["objects"][0]["id"] == rid
    versions = requests.get(base + f"objects/{rid}/versions/", headers=headers, timeout=10).json()
    assert len(versions["versions"]) == 1
    identity = next(o["id"] for o in everything if o["type"] == "identity")
    all_ids = requests.get(base + f"objects/{identity}/versions/", headers=headers, timeout=10).json()["versions"]
    assert len(all_ids) == 10  # one per item of that organisation (every other item)
    for word, expected in (("first", all_ids[0]), ("last", all_ids[-1]), (all_ids[3], all_ids[3])):
        got = requests.get(base + f"objects/{identity}/", headers=headers, params={"match[version]": word}, timeout=10)
        assert [o["modified"][:19] for o in got.json()["objects"]] == [expected[:19]]  # a keyword or a timestamp
    manifest = requests.get(base + "manifest/", headers=headers, params={"match[type]": "report"}, timeout=10).json()
    assert {m["id"] for m in manifest["objects"]} == {f"report--{e['source_id']}" for e in envs}
    assert all(m["media_type"] == "application/stix+json;version=2.1" for m in manifest["objects"])
    missing = requests.get(base + "objects/report--00000000-0000-4000-8000-000000000000/", headers=headers, timeout=10)
    assert missing.status_code == 404
    bad = requests.get(base + "objects/", headers=headers, params={"match[version]": "latest"}, timeout=10)
    assert (bad.status_code, bad.json()["http_status"]) == (400, "400")


def test_taxii2_client_pages_through_10000_reports_in_pages_of_100(tmp_path, ledger_url, keyring_file, token):
    envs = fill_store(ledger_url, Side.NATO, 10_000, updates=100, recorded=True)  # 9,900 items, 100 updated
    with serving(server_settings(tmp_path, ledger_url, keyring_file)) as url:
        server = Server(f"{url}taxii2/", auth=TokenAuth(token(NATO_ORG, "NATO")))
        inbox = server.api_roots[1].collections[0]
        got: list[str] = []
        pages = 0
        for envelope in as_pages(inbox.get_objects, per_request=100, type="report", version="all"):
            got += [o["id"] for o in envelope.get("objects", [])]
            pages += 1
    assert pages == 100
    assert len(got) == 10_000
    assert len(set(got)) == 9_900  # 100 items in two versions
    assert set(got) == {f"report--{e['source_id']}" for e in envs}
    led = Ledger(ledger_url)
    records = [r for r in led.records() if r.direction == "EU->NATO" and r.decision in ("delivered", "updated")]
    led.close()
    assert len(records) == len(got)  # exactly what the ledger says crossed to NATO


OPTIONS = ValidationOptions(version="2.1")


def test_every_object_served_for_the_demo_scenario_and_every_misp_fixture_validates(
    tmp_path, ledger_url, keyring_file, token
):
    from connectors.store import delivered
    from tests.taxii.conftest import datetime_now

    scenario = mixed(total=300, duplicates=0, updates=20, red=0, malformed_n=0, seed=2016)
    items = [json.loads(raw) for raw in scenario.items]
    for event in whole_events():
        body = stamp(fixture_event(event), int(BASE_TIME.timestamp()))
        items.append({"kind": "misp_event", "origin": "EU", "originator": "CERT-EU", "area": "cyber",
                      "payload": {"Event": body}})  # fmt: skip
    led = Ledger(ledger_url)
    for i, item in enumerate(items):
        doc = json.loads(SUBMISSION.validate_python(item).model_dump_json())  # as the hub delivers it
        doc["content_hash"] = hashlib.sha256(str(i).encode()).hexdigest()
        side = Side.NATO if doc["origin"] == "EU" else Side.EU
        put(led, [delivered(side, doc)], datetime_now())
    led.close()
    served: list[dict] = []
    with serving(server_settings(tmp_path, ledger_url, keyring_file)) as url:
        for root, org in (("eu", EU_ORG), ("nato", NATO_ORG)):
            server = Server(f"{url}taxii2/", auth=TokenAuth(token(org, root.upper())))
            inbox = next(r for r in server.api_roots if r.url.endswith(f"/{root}/")).collections[0]
            for envelope in as_pages(inbox.get_objects, per_request=500, version="all"):
                served += envelope.get("objects", [])
    kinds = {o["type"] for o in served}
    assert {"report", "identity", "marking-definition", "attack-pattern", "indicator"} <= kinds
    assert len([o for o in served if o["type"] in ("report", "grouping")]) >= 300 + len(whole_events())
    result = validate_instance(bundle(served), OPTIONS)
    assert [str(e) for e in result.errors] == []


def test_one_server_answers_each_part_in_its_own_language(web, token):
    auth = {"Authorization": f"Bearer {token(EU_ORG, 'EU')}", "Accept": TAXII}
    dash = requests.post(f"{web}api/summary", timeout=10)
    assert (dash.status_code, dash.json(), dash.headers["Allow"]) == (405, {"error": "the dashboard is read-only"},
                                                                      "GET, HEAD")  # fmt: skip
    taxii = requests.delete(f"{web}eu/", headers=auth, timeout=10)
    assert (taxii.status_code, taxii.json()["http_status"], taxii.headers["Content-Type"]) == (405, "405", TAXII)
    assert requests.get(f"{web}nothing", timeout=10).json() == {"error": "no such page: /nothing"}
    refused = requests.get(f"{web}taxii2/", headers={**auth, "Host": "attacker.example"}, timeout=10)
    assert refused.status_code == 400  # the dashboard's Host guard is in front of TAXII too
    assert refused.headers["X-Frame-Options"] == "DENY"
