"""The dashboard's JSON endpoints over real HTTP: figures from the ledger, filters, read-only, loopback."""

from __future__ import annotations

import http.client
import json
import os
import signal
import sqlite3
import subprocess
import sys

import pytest

from hub.dashboard.server import LOOPBACK, Dashboard
from hub.errors import LedgerError
from hub.ledger import Ledger
from hub.report.counts import as_json


def get(server, path, method="GET"):
    """(status, headers, body) of one request to the dashboard."""
    conn = http.client.HTTPConnection(*server.server_address[:2], timeout=10)
    try:
        conn.request(method, path, body=b"{}" if method != "GET" else None)
        r = conn.getresponse()
        return r.status, r.headers, r.read()
    finally:
        conn.close()


def test_counts_and_summary_come_from_the_ledger(dashboard, filled):
    led = Ledger(filled)
    status, _, body = get(dashboard, "/api/counts")
    assert status == 200
    today = led.counts()[-1][0]
    assert json.loads(body) == as_json([r for r in led.counts() if r[0] == today])
    status, _, body = get(dashboard, "/api/summary?lang=fr")
    s = json.loads(body)
    assert s["totals"] == {"delivered": 13, "updated": 3, "duplicate": 1, "withheld": 1, "rejected": 1}
    assert s["previous"]["totals"]["delivered"] == 5
    assert s["exchanges"] == {"current": 16, "previous": 5}
    assert s["ledger"]["head_seq"] == 24
    assert any(
        h.startswith("La CERT-UE et la NCIRC ont échangé des informations sur 7 événements") for h in s["headlines"]
    )
    row = next(r for r in s["rows"] if (r["area"], r["kind"], r["direction"]) == ("cyber", "misp_event", "NATO->EU"))
    assert row["decisions"] == {"updated": 3}
    assert row["labels"] == ["Cybersécurité et cyberdéfense", "Événements MISP", "OTAN → UE"]
    led.close()


def test_filters_and_drill_down(dashboard):
    s = json.loads(get(dashboard, "/api/summary?kind=misp_event&direction=EU-%3ENATO")[2])
    assert s["totals"] == {"delivered": 7, "updated": 0, "duplicate": 0, "withheld": 1, "rejected": 1}
    r = json.loads(get(dashboard, "/api/records?kind=stratcom_note&decision=delivered,duplicate")[2])
    assert [x["decision"] for x in r["records"]] == ["delivered"] * 4 + ["duplicate"]
    assert r["truncated"] is False
    held = json.loads(get(dashboard, "/api/records?decision=withheld")[2])["records"]
    assert [(x["content_hash"], x["tags"]) for x in held] == [(None, None)]
    series = json.loads(get(dashboard, "/api/series")[2])
    assert sum(series["kind"]["misp_event"].values()) == 10
    charts = json.loads(get(dashboard, "/api/charts?lang=fr")[2])
    assert charts["area"].startswith("<svg")
    assert "Échanges par mois, par sens" in charts["direction"]


def test_bad_parameters_are_a_400_naming_the_field(dashboard):
    status, _, body = get(dashboard, "/api/summary?area=weather")
    assert status == 400
    assert json.loads(body)["error"].startswith("field `area`: 'weather' is not one of hybrid_threats,")
    assert json.loads(get(dashboard, "/api/counts?from=june")[2]) == {
        "error": "field `from`: 'june' is not a date (YYYY-MM-DD)"
    }
    assert get(dashboard, "/api/nothing")[0] == 404


def test_the_dashboard_is_read_only_and_on_loopback(dashboard, filled):
    assert dashboard.server_address[0] == LOOPBACK
    for method in ("POST", "PUT", "DELETE"):
        status, headers, body = get(dashboard, "/api/summary", method)
        assert (status, headers["Allow"], json.loads(body)) == (
            405,
            "GET, HEAD",
            {"error": "the dashboard is read-only"},
        )
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        dashboard.ledger.conn.execute("DELETE FROM counts")  # the connection itself refuses writes
    status, headers, page = get(dashboard, "/")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert b"<script>" in page
    assert b"src=" not in page  # no external script, style or font


@pytest.mark.postgres
def test_on_postgres_the_session_is_read_only(pg_url):
    led = Ledger(pg_url)
    server = Dashboard(led, port=0)
    try:
        with pytest.raises(LedgerError, match="read-only transaction"), led.transaction():
            led._q("DELETE FROM counts")
        assert server.answer("/api/counts", {}) == {"counts": [], "totals": dict.fromkeys(
            ["delivered", "updated", "duplicate", "withheld", "rejected"], 0)}  # fmt: skip
    finally:
        server.server_close()
        led.close()


@pytest.mark.e2e
def test_the_command_serves_on_loopback_until_interrupted(filled):
    env = {**os.environ, "HUB_LEDGER_URL": filled}
    proc = subprocess.Popen([sys.executable, "-m", "hub", "dashboard", "--port", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
    try:
        line = proc.stdout.readline()
        assert line.startswith("dashboard at http://127.0.0.1:")
        host, port = line.split("//")[1].split("/")[0].split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request("GET", "/api/counts")
        body = json.loads(conn.getresponse().read())
        conn.close()
        assert sum(body["totals"].values()) == 19
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 130
    assert err.strip() == "hub: interrupted"
