"""The dashboard against a hostile browser: DNS rebinding (Host), framing, sniffing, dates beyond the calendar."""

from __future__ import annotations

import http.client
import json
import threading

import pytest

from hub.dashboard.guard import allowed_hosts, host_name, host_problem
from hub.dashboard.server import Dashboard
from hub.ledger import Ledger


def request(server, path, host: str | None, method="GET"):
    """(status, headers, body) of one request with exactly the Host header given (or none)."""
    conn = http.client.HTTPConnection(*server.server_address[:2], timeout=10)
    try:
        conn.putrequest(method, path, skip_host=True)
        if host is not None:
            conn.putheader("Host", host)
        conn.endheaders()
        r = conn.getresponse()
        return r.status, r.headers, r.read()
    finally:
        conn.close()


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "127.0.0.1:8074", "localhost", "LOCALHOST:80", "localhost.", "[::1]", "[::1]:8074", "::1"],
)
def test_loopback_names_are_served(dashboard, host):
    assert request(dashboard, "/api/counts", host)[0] == 200


@pytest.mark.parametrize(
    "host",
    [
        "attacker.example",
        "attacker.example:8074",
        "127.0.0.1.attacker.example",
        "localhost.attacker.example",
        "127.0.0.2",
        "0.0.0.0",  # noqa: S104 - a Host header value, not an address bound
        "[::2]:8074",
        "",
        "   ",
        "localhost@attacker.example",
    ],
)
def test_other_hosts_are_refused_with_400(dashboard, host):
    for path in ("/api/records", "/api/summary", "/"):
        status, headers, body = request(dashboard, path, host)
        assert status == 400
        assert "Host" in json.loads(body)["error"] or "not served here" in json.loads(body)["error"]
        assert b"records" not in body
    assert request(dashboard, "/", host, method="HEAD")[0] == 400


def test_a_request_without_host_is_refused(dashboard):
    status, _, body = request(dashboard, "/api/records", None)
    assert (status, json.loads(body)) == (400, {"error": "a Host header is required"})


def test_configured_names_are_served(filled):
    server = Dashboard(Ledger(filled), port=0, allow_hosts=["hub.internal.example", "Dash.Example."])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert request(server, "/api/counts", "hub.internal.example:8074")[0] == 200
        assert request(server, "/api/counts", "dash.example")[0] == 200
        assert request(server, "/api/counts", "localhost")[0] == 200
        assert request(server, "/api/counts", "other.example")[0] == 400
    finally:
        server.shutdown()
        server.server_close()
        server.ledger.close()


def test_host_names_are_normalised():
    assert [host_name(h) for h in ("LocalHost:1", "[::1]:80", "a.example.", "::1")] == [
        "localhost", "::1", "a.example", "::1"
    ]  # fmt: skip
    assert host_problem("evil.example", allowed_hosts()) is not None
    assert host_problem("evil.example", allowed_hosts(["EVIL.example"])) is None


@pytest.mark.parametrize("path", ["/", "/api/summary", "/api/records", "/api/nothing", "/api/counts?from=june"])
def test_every_response_refuses_framing_and_sniffing(dashboard, path):
    _, headers, _ = request(dashboard, path, "127.0.0.1")
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    refused = request(dashboard, path, "attacker.example")[1]
    assert refused["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in refused["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("from=0001-01-01&to=9999-12-31", "field `from`: 0001-01-01 is out of range (1990-01-01 to 2099-12-31)"),
        ("from=2020-01-01&to=9999-12-31", "field `to`: 9999-12-31 is out of range (1990-01-01 to 2099-12-31)"),
        ("to=0001-01-01", "field `to`: 0001-01-01 is out of range (1990-01-01 to 2099-12-31)"),
        ("from=1989-12-31", "field `from`: 1989-12-31 is out of range (1990-01-01 to 2099-12-31)"),
        ("from=2030-01-01&to=2020-01-01", "field `to`: 2020-01-01 is before `from` 2030-01-01"),
    ],
)
@pytest.mark.parametrize("endpoint", ["/api/summary", "/api/counts", "/api/series", "/api/charts", "/api/records"])
def test_out_of_range_dates_are_a_400_with_a_message(dashboard, endpoint, query, error):
    status, _, body = request(dashboard, f"{endpoint}?{query}", "127.0.0.1")
    assert (status, json.loads(body)) == (400, {"error": error})


def test_the_widest_period_allowed_is_answered(dashboard):
    status, _, body = request(dashboard, "/api/summary?from=1990-01-01&to=2099-12-31", "127.0.0.1")
    assert status == 200
    assert json.loads(body)["totals"]["delivered"] == 18
