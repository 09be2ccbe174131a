"""Every figure comes from the ledger: JSON against a recount, CSV and tables summing the same rows,
HTML self-contained with its charts; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime

import pytest

from hub.demo.history import Span, fill
from hub.ledger import Ledger
from hub.report import build, render, resolve
from hub.report.counts import as_json

TODAY = date(2026, 11, 22)


@pytest.fixture
def history(ledger_url):
    """Three years of synthetic decisions, 3,000 records."""
    led = Ledger(ledger_url)
    fill(led, 3000, Span(datetime(2024, 1, 1, tzinfo=UTC), 3 * 365))
    yield led
    led.close()


def test_json_counts_equal_a_recount_of_the_period_and_of_the_previous_one(history):
    f = build(history, resolve("2025-06-01", "2025-11-30", TODAY), TODAY)
    doc = json.loads(render(f, "json", "en"))
    assert doc["period"] == {"from": "2025-06-01", "to": "2025-11-30", "label": "June–November 2025"}
    assert doc["previous"]["from"] == "2024-12-01"
    assert doc["previous"]["to"] == "2025-05-31"
    assert {"counts": doc["counts"], "totals": doc["totals"]} == as_json(history.recount("2025-06-01", "2025-11-30"))
    previous = as_json(history.recount("2024-12-01", "2025-05-31"))
    assert doc["previous"]["counts"] == previous["counts"]
    assert doc["previous"]["totals"] == previous["totals"]
    assert sum(doc["totals"].values()) == sum(doc["figures"]["area"].values()) == sum(r["n"] for r in doc["counts"])
    months = doc["monthly"]["area"]["cyber"]
    assert list(months) == [f"2024-{m:02}" for m in range(12, 13)] + [f"2025-{m:02}" for m in range(1, 12)]
    exchanged = [r[5] for r in history.recount("2024-12-01", "2025-11-30") if r[4] in ("delivered", "updated")
                 and r[1] == "cyber"]  # fmt: skip
    assert sum(months.values()) == sum(exchanged)
    assert doc["ledger"]["head_seq"] == 3000
    assert len(doc["headlines"]) >= 6


def test_the_whole_ledger_as_one_period_matches_hub_counts(history):
    f = build(history, resolve("2024-01-01", "2026-12-31", TODAY), TODAY)
    doc = json.loads(render(f, "json", "fr"))
    assert {"counts": doc["counts"], "totals": doc["totals"]} == as_json(history.counts())
    assert sum(doc["totals"].values()) == 3000


def test_csv_sums_to_the_same_figures(history):
    f = build(history, resolve(None, None, TODAY), TODAY)
    rows = list(csv.DictReader(io.StringIO(render(f, "csv", "en"))))
    assert sum(int(r["n"]) for r in rows) == f.total() > 0
    assert sum(int(r["previous_n"]) for r in rows) == f.total(previous=True) > 0
    withheld = sum(int(r["n"]) for r in rows if r["decision"] == "withheld")
    assert withheld == f.total(decision="withheld")


def test_markdown_tables_total_the_decisions(history):
    f = build(history, resolve(None, None, TODAY), TODAY)
    md = render(f, "md", "en")
    t = f.total
    total_row = (
        f"| Total | {t(decision='delivered')} | {t(decision='updated')} | {t(decision='duplicate')} | "
        f"{t(decision='withheld')} | {t(decision='rejected')} | {t(decision=('delivered', 'updated'))} | {t()} | "
        f"{t(previous=True)} |"
    )
    assert md.count(total_row) == 3  # by area, by kind, by direction
    assert f"hub audit list --from {f.period.first} --to {f.period.last} --kind misp_event --decision delivered" in md
    assert f"record {f.head[0]}, hash `{f.head[1]}`" in md


def test_html_is_self_contained_with_two_charts(history):
    f = build(history, resolve(None, None, TODAY), TODAY)
    page = render(f, "html", "fr")
    assert page.startswith('<!DOCTYPE html><html lang="fr">')
    assert page.count("<svg") == 2
    assert "Échanges par mois, par domaine" in page
    assert "Échanges par mois, par sens" in page
    assert "<script" not in page
    assert "<link" not in page
    assert "src=" not in page
    assert "href=" not in page
    assert set(re.findall(r"https?://[^\"' ]+", page)) == {"http://www.w3.org/2000/svg"}
    assert "Cybersécurité et cyberdéfense" in page
    assert "UE → OTAN" in page


@pytest.mark.postgres
def test_figures_on_postgres_equal_a_recount(pg_url):
    led = Ledger(pg_url)
    fill(led, 1500, Span(datetime(2025, 1, 1, tzinfo=UTC), 700))
    f = build(led, resolve("2025-06-01", "2025-11-30", TODAY), TODAY)
    assert f.rows == led.recount("2025-06-01", "2025-11-30")
    assert f.total() > 0
    assert f.previous_rows == led.recount("2024-12-01", "2025-05-31")
    assert json.loads(render(f, "json", "en"))["counts"] == as_json(f.rows)["counts"]
    led.close()
