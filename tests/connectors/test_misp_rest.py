"""PyMISP against the local MISP-API server over real HTTP: errors, retries, MISP's rules, the REST source."""

from __future__ import annotations

import json

import pytest

from connectors import Applied
from connectors.misp.client import MispClient
from connectors.misp.rest_source import RestSource
from connectors.misp.watermark import Watermark
from hub.errors import ConnectorError
from hub.kafka.broker import free_port
from schemas.common import Side
from tests.connectors.conftest import fixture_event


def client(server, **kw) -> MispClient:
    return MispClient(server.url, server.key, retries=kw.pop("retries", 3), backoff_s=kw.pop("backoff_s", 0.01), **kw)


def event(uuid: str, ts: int, published: bool = True, **extra):
    return {
        "uuid": uuid,
        "info": f"event {uuid[:4]}",
        "timestamp": str(ts),
        "published": published,
        "distribution": "3",
        "Tag": [{"name": "tlp:green"}],
        **extra,
    }


U1, U2, U3 = (f"5a3c2fcd-8328-42bb-a95e-4f4402de0b8{i}" for i in (1, 2, 3))


def test_wrong_key_is_one_clear_error_without_retries(misp_servers):
    server = misp_servers()
    bad = MispClient(server.url, "not-the-key", retries=3, backoff_s=0.01)
    with pytest.raises(ConnectorError, match=r"^MISP at http://127\.0\.0\.1:\d+/ refused the API key"):
        bad.index(0)
    assert "not-the-key" not in str(server.state.calls)


def test_unreachable_url_is_retried_then_named():
    dead = MispClient(f"http://127.0.0.1:{free_port()}/", "k", retries=3, backoff_s=0.01)
    with pytest.raises(ConnectorError, match=r"connecting failed after 3 attempts: ConnectionError"):
        dead.index(0)


def test_server_errors_are_retried_with_backoff(misp_servers):
    server = misp_servers()
    c = client(server)
    assert c.put(event(U1, 1000)) is Applied.ADDED
    server.state.fail(2)
    assert [row["uuid"] for row in c.index(0)] == [U1]
    assert server.state.calls[-3:] == ["POST events/index"] * 3


def test_add_by_uuid_edit_only_when_strictly_newer(misp_servers):
    server = misp_servers()
    c = client(server)
    assert c.put(event(U1, 1000)) is Applied.ADDED
    assert c.put(event(U1, 1000)) is Applied.UNCHANGED
    assert c.put(event(U1, 999, info="older")) is Applied.UNCHANGED
    assert c.put(event(U1, 1001, info="newer")) is Applied.UPDATED
    assert server.state.events[U1]["info"] == "newer"
    assert len(server.state.events) == 1


def test_soft_deleted_attributes_come_with_the_event(misp_servers):
    server = misp_servers()
    c = client(server)
    body = fixture_event("attribute_del.json") | {"uuid": U2, "timestamp": "1000", "published": True}
    assert c.put(body) is Applied.ADDED
    fetched = c.event(U2)
    assert fetched is not None
    assert [a["deleted"] for a in fetched["Attribute"]] == [True]
    assert c.event("00000000-0000-4000-8000-000000000000") is None


async def test_rest_source_pulls_published_changes_against_its_watermark(misp_servers, tmp_path):
    server = misp_servers()
    c = client(server)
    c.put(event(U1, 1000))
    c.put(event(U2, 2000))
    c.put(event(U3, 3000, published=False))
    source = RestSource(c, Side.EU, Watermark(tmp_path / "wm.json"))
    first = [ch async for ch in source.changes()]
    assert [(ch.key, ch.version) for ch in first] == [(U1, 1000), (U2, 2000)]
    doc = json.loads(first[0].item)
    assert (doc["kind"], doc["origin"], doc["originator"], doc["payload"]["Event"]["uuid"]) == (
        "misp_event",
        "EU",
        "CERT-EU",
        U1,
    )
    source.done(first)
    assert [ch async for ch in source.changes()] == []
    c.put(event(U1, 4000, info="edited"))
    again = RestSource(c, Side.EU, Watermark(tmp_path / "wm.json"))  # progress survives a restart
    assert [(ch.key, ch.version) for ch in [ch async for ch in again.changes()]] == [(U1, 4000)]
    assert any(call == "POST events/view/" + U1 for call in server.state.calls)
