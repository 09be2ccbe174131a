"""The MISP client against the loopback MISP server over real HTTP: errors, retries, MISP's rules, the REST source."""

from __future__ import annotations

import json
import time

import pytest

from connectors import Applied, Change, Unsent
from connectors.http import AnswerTooLarge, tls_context
from connectors.misp.client import MispClient
from connectors.misp.rest_source import ALLOWED_SKEW_S, RestSource
from connectors.misp.watermark import Watermark
from hub.errors import ConnectorError, PeerUnavailable, Refused
from hub.kafka.broker import free_port
from schemas.common import Side
from tests.connectors.conftest import fixture_event
from tests.connectors.helpers import misp_client
from tests.connectors.hostile import answer, raw, when


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


def seed(server, *events):
    for e in events:
        server.state.add({"Event": e})


async def changes(source):
    return [c async for c in source.changes()]


async def test_wrong_key_is_one_clear_error_without_retries(misp_servers):
    server = misp_servers()
    bad = MispClient(server.url, "not-the-key", misp_client(server).http.tls)
    with pytest.raises(ConnectorError, match=r"^MISP at http://127\.0\.0\.1:\d+/ refused the API key"):
        await bad.index(0, 1)
    await bad.close()
    assert server.state.calls == ["POST events/index"]
    assert "not-the-key" not in str(server.state.calls)


async def test_unreachable_url_is_retried_then_named():
    url = f"http://127.0.0.1:{free_port()}/"
    dead = MispClient(url, "k", tls_context(True, None, url))
    with pytest.raises(PeerUnavailable, match=rf"^{url}servers/getVersion: Cannot connect"):
        await dead.check()
    await dead.close()


async def test_server_errors_are_retried_with_backoff(misp_servers):
    server = misp_servers()
    c = misp_client(server)
    seed(server, event(U1, 1000))
    server.state.fail(2)
    rows, refused, answered = await c.index(0, 1)
    assert ([r.uuid for r in rows], refused, answered) == ([U1], 0, 1)
    assert server.state.calls == ["POST events/index"] * 3
    await c.close()


async def test_a_long_retry_after_is_passed_up_and_a_short_one_waited_for(misp_servers):
    server = misp_servers()
    c = misp_client(server)
    server.state.hostile = when("events/index", raw("busy", 429, **{"Retry-After": "120"}))
    with pytest.raises(PeerUnavailable) as caught:
        await c.index(0, 1)
    assert caught.value.retry_after == 120.0
    assert server.state.calls == ["POST events/index"]  # not retried inside: the supervisor waits the 120 s

    busy = [raw("busy", 503, **{"Retry-After": "1"})]
    server.state.hostile = lambda m, p, b: busy.pop() if busy else None
    start = time.monotonic()
    await c.index(0, 1)
    assert 1.0 <= time.monotonic() - start < 5.0  # waited the second it was asked to, then asked again
    await c.close()


async def test_add_by_uuid_edit_only_when_strictly_newer(misp_servers):
    server = misp_servers()
    c = misp_client(server)
    assert await c.put(event(U1, 1000)) is Applied.ADDED
    assert await c.put(event(U1, 1000)) is Applied.UNCHANGED
    assert await c.put(event(U1, 999, info="older")) is Applied.UNCHANGED
    assert await c.put(event(U1, 1001, info="newer")) is Applied.UPDATED
    assert server.state.events[U1]["info"] == "newer"
    assert len(server.state.events) == 1
    await c.close()


async def test_soft_deleted_attributes_come_with_the_event(misp_servers):
    server = misp_servers()
    c = misp_client(server)
    body = fixture_event("attribute_del.json") | {"uuid": U2, "timestamp": "1000", "published": True}
    assert await c.put(body) is Applied.ADDED
    fetched = await c.event(U2)
    assert fetched is not None
    assert [a["deleted"] for a in fetched["Attribute"]] == [True]
    assert await c.event("00000000-0000-4000-8000-000000000000") is None
    await c.close()


@pytest.mark.parametrize(
    "reply",
    [answer({}), answer([]), answer({"Event": event(U2, 5000)}), raw("OK"), answer({"Event": event(U1, 999)})],
    ids=["empty-object", "empty-list", "another-event", "not-json", "older-version"],
)
async def test_an_add_answered_200_without_the_event_is_not_counted_as_applied(misp_servers, reply):
    server = misp_servers()
    c = misp_client(server)
    server.state.hostile = when("events/add", reply)
    with pytest.raises(Refused, match=r"events/add answered HTTP 200 without the event, and a read-back shows no such"):
        await c.put(event(U1, 1000))
    assert server.state.events == {}
    assert server.state.calls == ["POST events/add", f"POST events/view/{U1}"]
    await c.close()


async def test_a_redirect_on_a_write_is_not_followed(misp_servers):
    server, elsewhere = misp_servers(), misp_servers()
    c = misp_client(server)
    server.state.hostile = when("events/add", raw("", 307, Location=f"{elsewhere.url}events/add"))
    with pytest.raises(ConnectorError, match=r"answered HTTP 307, a redirect to http://127.0.0.1:\d+/events/add"):
        await c.put(event(U1, 1000))
    assert elsewhere.state.calls == []  # the event (and the key) never went to the other host
    assert server.state.events == {}
    await c.close()


async def test_a_destination_refusal_is_a_refused_item(misp_servers):
    server = misp_servers()
    c = misp_client(server)
    blocked = {"name": "Event blocked by event blocklist.", "message": "Event blocked by event blocklist.", "url": "/"}
    server.state.hostile = when("events/add", answer(blocked, 403))
    with pytest.raises(Refused, match=r"events/add 5a3c2fcd-\S+ failed: HTTP 403 Event blocked by event blocklist\.$"):
        await c.put(event(U1, 1000))
    await c.close()


async def test_event_b_served_for_a_is_refused_and_a_stays_owed(misp_servers, tmp_path):
    server = misp_servers()
    seed(server, event(U1, 1000), event(U2, 2000))
    server.state.hostile = when(f"events/view/{U1}", answer({"Event": event(U2, 2000)}))
    c = misp_client(server)
    with pytest.raises(ConnectorError, match=rf"asked for event {U1}, served {U2}: refused"):
        await c.event(U1)
    source = RestSource(c, Side.EU, Watermark(tmp_path / "wm.db"))
    found = await changes(source)
    assert [(ch.key, ch.version) for ch in found] == [(U2, 2000)]  # B under its own name only
    source.done(found)
    source.passed()
    assert source.failed == 1
    assert source.watermark.since == 1000  # A still owed: the next pass asks from it
    server.state.hostile = None
    assert [(ch.key, ch.version) for ch in await changes(source)] == [(U1, 1000)]
    await source.close()


async def test_uuids_are_checked_before_they_go_into_a_url(misp_servers, tmp_path):
    server = misp_servers()
    seed(server, event(U1, 1000))
    rows = [
        {"uuid": "../../users/view/me", "timestamp": "1"},
        {"uuid": "5a3c2fcd-8328-42bb-a95e-4f4402de0b8a/../../x", "timestamp": "1"},
        {"uuid": U1.upper(), "timestamp": "1000"},
    ]
    server.state.hostile = when("events/index", answer(rows))
    c = misp_client(server)
    with pytest.raises(ConnectorError, match=r"'\.\./x' is not an event UUID"):
        await c.event("../x")
    source = RestSource(c, Side.EU, Watermark(tmp_path / "wm.db"))
    assert [ch.key for ch in await changes(source)] == [U1]  # the upper-case form, made canonical
    assert [call for call in server.state.calls if "view" in call] == [f"POST events/view/{U1}"]
    await source.close()


@pytest.mark.parametrize(
    ("index", "bad"),
    [
        ("[1]", 1),
        ("[null]", 1),
        ('["x"]', 1),
        (f'[{{"uuid": "{U1}", "timestamp": 1e999}}]', 1),
        (f'[{{"uuid": "{U1}", "timestamp": true}}]', 1),
        (f'[{{"uuid": "{U1}", "timestamp": "12abc"}}]', 1),
        (f'[{{"uuid": "{U1}", "timestamp": -5}}]', 1),
        (f'[{{"uuid": ["{U1}"], "timestamp": "1"}}]', 1),
        (f'[1, {{"uuid": "{U2}", "timestamp": "2000"}}]', 1),
    ],
    ids=["int", "null", "string", "1e999", "bool", "digits-and-letters", "negative", "list-uuid", "bad-then-good"],
)
async def test_index_rows_that_are_not_events_are_skipped(misp_servers, tmp_path, index, bad):
    server = misp_servers()
    seed(server, event(U2, 2000))
    server.state.hostile = when("events/index", raw(index))
    c = misp_client(server)
    rows, refused, answered = await c.index(0, 1)
    assert refused == bad
    assert [r.uuid for r in rows] == ([U2] if U2 in index else [])
    await c.close()


@pytest.mark.parametrize("index", ["{}", '{"errors": "boom"}', "null", "x"], ids=["object", "errors", "null", "text"])
async def test_an_index_that_is_not_a_list_fails_the_pass_in_one_line(misp_servers, index):
    server = misp_servers()
    server.state.hostile = when("events/index", raw(index))
    c = misp_client(server)
    with pytest.raises(ConnectorError, match=r"events/index (answered \w+, not a list|.*not JSON)"):
        await c.index(0, 1)
    await c.close()


async def test_the_index_is_read_page_by_page(misp_servers, tmp_path):
    server = misp_servers()
    seed(server, *(event(f"5a3c2fcd-8328-42bb-a95e-{i:012d}", 1000 + i) for i in range(2500)))
    c = misp_client(server)
    source = RestSource(c, Side.EU, Watermark(tmp_path / "wm.db"), per_pass=1000)
    first = await changes(source)
    assert [ch.version for ch in first] == list(range(1000, 2000))  # the oldest thousand first
    index_calls = [call for call in server.state.calls if call == "POST events/index"]
    assert len(index_calls) == 3  # pages of 1,000: 1,000 + 1,000 + 500
    source.done(first)
    source.passed()
    assert source.watermark.since == 2000  # the oldest event left for the next pass
    second = await changes(source)
    assert [ch.version for ch in second] == list(range(2000, 3000))
    await source.close()


async def test_a_peer_timestamp_far_in_the_future_does_not_hide_later_events(misp_servers, tmp_path):
    server = misp_servers()
    now = int(time.time())
    seed(server, event(U1, 4_102_444_800))  # 2100-01-01
    source = RestSource(misp_client(server), Side.EU, Watermark(tmp_path / "wm.db"))
    found = await changes(source)
    assert [ch.key for ch in found] == [U1]
    source.done(found)
    source.passed()
    assert now < source.watermark.since <= int(time.time()) + ALLOWED_SKEW_S
    seed(server, event(U2, now + 1))  # edited after the 2100 one was seen
    assert [ch.key for ch in await changes(source)] == [U2]
    await source.close()


async def test_too_large_and_unrepresentable_events_are_unsent_and_passed(misp_servers, tmp_path):
    server = misp_servers()
    big = [{"type": "text", "category": "Other", "value": "x" * 300_000}]  # in the event, not in its index row
    seed(server, event(U1, 1000, Attribute=big), event(U2, 2000), event(U3, 3000))
    c = misp_client(server, max_bytes=256 * 1024)
    inf = json.dumps({"Event": event(U2, 2000)}).replace('"distribution": "3"', '"distribution": 1e999')
    server.state.hostile = when(f"events/view/{U2}", raw(inf))
    source = RestSource(c, Side.EU, Watermark(tmp_path / "wm.db"))
    found = await changes(source)
    assert [type(x) for x in found] == [Unsent, Unsent, Change]
    assert found[0].reason.startswith(f"{server.url}events/view/{U1}: the answer is larger than 256 KiB (")
    assert "cannot be submitted: Out of range float values are not JSON compliant" in found[1].reason
    source.done(found)
    source.passed()
    assert source.watermark.since == 3000  # moved past both
    assert await changes(source) == []
    await source.close()


async def test_a_lone_surrogate_travels_escaped_for_the_hub_to_reject(misp_servers, tmp_path):
    server = misp_servers()
    seed(server, event(U1, 1000))
    body = json.dumps({"Event": event(U1, 1000)}).replace('"info": "event 5a3c"', '"info": "\\ud800"')
    server.state.hostile = when(f"events/view/{U1}", raw(body))
    source = RestSource(misp_client(server), Side.EU, Watermark(tmp_path / "wm.db"))
    [found] = await changes(source)
    assert isinstance(found, Change)
    assert b'"info":"\\ud800"' in found.item
    await source.close()


async def test_a_gzip_bomb_and_an_endless_answer_stop_at_the_cap(misp_servers):
    from tests.connectors.hostile import bomb, endless

    server = misp_servers()
    c = misp_client(server, max_bytes=8 * 1024 * 1024)
    server.state.hostile = when(f"events/view/{U1}", bomb())
    with pytest.raises(AnswerTooLarge, match=r"the answer is larger than 8 MiB"):
        await c.event(U1)
    server.state.hostile = when(f"events/view/{U1}", make=lambda _: endless(server.state))
    with pytest.raises(AnswerTooLarge, match=r"the answer is larger than 8 MiB"):
        await c.event(U1)
    await c.close()


async def test_an_answer_that_never_ends_in_time_hits_the_deadline(misp_servers):
    from tests.connectors.hostile import trickle

    server = misp_servers()
    c = misp_client(server, deadline_s=1.0, attempts=1)
    server.state.hostile = when("servers/getVersion", make=lambda _: trickle(server.state, 0.2))
    start = time.monotonic()
    with pytest.raises(PeerUnavailable, match=r"servers/getVersion: no whole answer within 1 s"):
        await c.check()
    assert time.monotonic() - start < 2.0
    await c.close()


async def test_rest_source_pulls_published_changes_against_its_watermark(misp_servers, tmp_path):
    server = misp_servers()
    seed(server, event(U1, 1000), event(U2, 2000), event(U3, 3000, published=False))
    source = RestSource(misp_client(server), Side.EU, Watermark(tmp_path / "wm.db"))
    first = await changes(source)
    assert [(ch.key, ch.version) for ch in first] == [(U1, 1000), (U2, 2000)]
    doc = json.loads(first[0].item)
    assert (doc["kind"], doc["origin"], doc["originator"], doc["payload"]["Event"]["uuid"]) == (
        "misp_event",
        "EU",
        "CERT-EU",
        U1,
    )
    source.done(first)
    source.passed()
    assert await changes(source) == []
    await source.close()
    seed(server)
    server.state.edit(U1, {"Event": event(U1, 4000, info="edited")})
    again = RestSource(misp_client(server), Side.EU, Watermark(tmp_path / "wm.db"))  # progress survives a restart
    assert [(ch.key, ch.version) for ch in await changes(again)] == [(U1, 4000)]
    assert again.watermark.since == 2000
    assert any(call == "POST events/view/" + U1 for call in server.state.calls)
    await again.close()


async def test_a_refused_key_ends_the_pass_instead_of_failing_each_event(misp_servers, tmp_path):
    server = misp_servers()
    seed(server, event(U1, 1000), event(U2, 2000))
    denied = {"name": "Authentication failed.", "message": "Authentication failed. Please make sure", "url": "/"}
    server.state.hostile = when("events/view", answer(denied, 403))
    source = RestSource(misp_client(server), Side.EU, Watermark(tmp_path / "wm.db"))
    with pytest.raises(ConnectorError, match=r"refused the API key"):
        await changes(source)
    assert [c for c in server.state.calls if "view" in c] == [f"POST events/view/{U1}"]
    await source.close()


async def test_a_peers_words_reach_logs_and_terminals_as_one_printable_line(misp_servers):
    server = misp_servers()
    c = misp_client(server)
    hostile = "\x1b[2J\x1b[31mEvent blocked\r\nhub: error: fake line\x07" + "x" * 10_000
    server.state.hostile = when("events/add", answer({"name": hostile, "message": hostile}, 403))
    with pytest.raises(Refused) as caught:
        await c.put(event(U1, 1000))
    text = str(caught.value)
    assert text.isprintable()
    assert "[2J [31mEvent blocked hub: error: fake line" in text
    assert len(text) < 500
    await c.close()


def _attrs(n: int) -> list[dict]:
    return [
        {
            "uuid": f"00000000-0000-4000-8000-{i:012d}",
            "type": "ip-dst",
            "category": "Network activity",
            "value": f"198.51.100.{i}",
            "timestamp": "1000",
        }
        for i in range(1, n + 1)
    ]


@pytest.mark.parametrize("order", [(1, 10), (10, 1)])
async def test_put_ends_with_the_fuller_copy_of_one_version_under_misps_strictly_newer_rule(misp_servers, order):
    server = misp_servers()
    c = misp_client(server)
    applied = [await c.put(event(U1, 1000, Attribute=_attrs(n))) for n in order]
    held = server.state.events[U1]
    assert len(held["Attribute"]) == 10
    if order == (1, 10):  # MISP took the missing nine in an edit one second past its own timestamp
        assert applied == [Applied.ADDED, Applied.UPDATED]
        assert held["timestamp"] == "1001"
    else:
        assert applied == [Applied.ADDED, Applied.UNCHANGED]
        assert held["timestamp"] == "1000"
    await c.close()


async def test_a_tag_removed_upstream_is_removed_from_misp_that_only_adds_tags_on_edit(misp_servers):
    server = misp_servers()
    c = misp_client(server)
    tags = [{"name": "tlp:green"}, {"name": 'osint:source-type="blog-post"'}, {"name": "local-note", "local": True}]
    await c.put(event(U1, 1000, Tag=tags))
    server.state.events[U1]["Tag"].append({"name": "ncirc:seen", "local": 1})  # NCIRC's own local tag
    plain = server.state.edit(U1, {"Event": event(U1, 1001, Tag=[{"name": "tlp:green"}])})
    assert plain[0] == 200
    assert 'osint:source-type="blog-post"' in {t["name"] for t in server.state.events[U1]["Tag"]}  # MISP's rule
    assert await c.put(event(U1, 1002, Tag=[{"name": "tlp:green"}])) is Applied.UPDATED
    assert {t["name"] for t in server.state.events[U1]["Tag"]} == {"tlp:green", "local-note", "ncirc:seen"}
    await c.close()


async def test_the_loopback_misp_untags_by_its_endpoints(misp_servers):
    server = misp_servers()
    seed(server, event(U1, 1000, Tag=[{"name": "tlp:green"}, {"name": "a"}, {"name": "b"}]))
    assert server.state.untag(U1, "a")[1]["saved"] is True
    c = misp_client(server)
    answer = await c.http.request("POST", "tags/removeTagFromObject", {"uuid": U1, "tag": "b"})
    assert answer.status == 200
    assert [t["name"] for t in server.state.events[U1]["Tag"]] == ["tlp:green"]
    await c.close()


async def test_an_event_edited_before_the_mark_and_published_after_it_is_pulled_once(misp_servers, tmp_path):
    server = misp_servers()
    seed(server, event(U1, 1000), event(U2, 900, published=False))
    source = RestSource(misp_client(server), Side.EU, Watermark(tmp_path / "wm.db"))
    first = await changes(source)
    assert [ch.key for ch in first] == [U1]
    source.done(first)
    source.passed()
    assert source.watermark.since == 1000
    late = server.state.events[U2]
    late["published"], late["publish_timestamp"] = True, "5000"  # published long after its last edit
    found = await changes(source)
    assert [(ch.key, ch.version) for ch in found] == [(U2, 900)]
    source.done(found)
    source.passed()
    assert source.watermark.since == 5000
    assert await changes(source) == []  # the overlap asks again; the versions keep it from a second pull
    index = [c for c in server.state.calls if c == "POST events/index"]
    assert len(index) == 3
    await source.close()


async def test_the_owners_next_version_is_applied_past_a_merge_and_a_late_old_one_is_not(misp_servers):
    server = misp_servers()
    c = misp_client(server)
    await c.put(event(U1, 1000, Attribute=_attrs(1)))
    assert await c.put(event(U1, 1000, Attribute=_attrs(3))) is Applied.UPDATED  # merged: MISP at 1001
    assert server.state.events[U1]["timestamp"] == "1001"
    edited = event(U1, 1001, info="the owner's edit", Attribute=_attrs(3))
    assert await c.put(edited) is Applied.UPDATED  # "not newer" by MISP's clock, yet newer content
    assert (server.state.events[U1]["info"], server.state.events[U1]["timestamp"]) == ("the owner's edit", "1002")
    for stamp in (1000, 1001):  # deliveries MISP's timestamp is now past: replayed, or late
        late = event(U1, stamp, info="an old version replayed", Tag=[{"name": "tlp:green"}, {"name": "gone"}])
        assert await c.put(late) is Applied.UNCHANGED  # untouched: MISP's rule, no regression
    assert server.state.events[U1]["info"] == "the owner's edit"
    await c.close()


async def test_a_tag_removed_from_an_attribute_is_removed_from_misp_that_only_adds_tags_on_edit(misp_servers):
    server = misp_servers()
    c = misp_client(server)
    tagged = [{**a, "Tag": [{"name": "tlp:green"}, {"name": "kill-chain:delivery"}]} for a in _attrs(2)]
    await c.put(event(U1, 1000, Attribute=tagged))
    plain = [{**a, "Tag": [{"name": "tlp:green"}]} for a in _attrs(1)] + _attrs(2)[1:]  # the second: no Tag key
    assert await c.put(event(U1, 1001, Attribute=plain)) is Applied.UPDATED
    held = {a["uuid"]: [t["name"] for t in a["Tag"]] for a in server.state.events[U1]["Attribute"]}
    assert list(held.values()) == [["tlp:green"], []]
    await c.close()
