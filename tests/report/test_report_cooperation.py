"""Paired assessments and exchanges per common proposal, read from the ledger the worker writes, in EN and FR."""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from hub.core.decide import Submitted
from hub.core.policy import ReleasePolicy
from hub.demo.scenario import BASE_TIME, envelope
from hub.ledger import Ledger
from hub.report import build, render, resolve
from hub.report.headline import paired
from hub.report.tables import proposals, waiting
from hub.worker.batch import decide_batch

TODAY = date(2026, 12, 15)  # the June-November 2026 period is over
G1, G2, G3 = (str(uuid.UUID(int=n, version=4)) for n in (1, 2, 3))


@pytest.fixture
def ledger(ledger_url):
    led = Ledger(ledger_url)
    yield led
    led.close()


def assessment(origin: str, group: str | None, proposals: list[int], seed: int, tlp: str = "GREEN") -> bytes:
    made = BASE_TIME - timedelta(days=365)  # before every decision below: no version from the future
    doc = envelope(random.Random(seed), "assessment", origin, made, tlp=tlp)
    doc["proposals"] = proposals
    doc["payload"]["parallel_group"] = group
    return json.dumps(doc).encode()


def decide(ledger: Ledger, day: str, *items: bytes) -> None:
    at = datetime.fromisoformat(day + "T10:00:00").replace(tzinfo=UTC)
    decide_batch(ledger, [Submitted(str(uuid.uuid4()), raw) for raw in items], ReleasePolicy(), at)


def history(ledger: Ledger) -> None:
    decide(ledger, "2026-01-10", assessment("EU", G3, [1], 1))  # the previous period: G3 completes there
    decide(ledger, "2026-02-01", assessment("NATO", G3, [1], 2))
    decide(ledger, "2026-06-10", assessment("EU", G1, [1, 3], 3), assessment("EU", G2, [3], 4))
    decide(ledger, "2026-07-05", assessment("NATO", G1, [1], 5))  # G1 complete in this period; G2 waits
    decide(ledger, "2026-08-01", assessment("NATO", None, [74], 6))  # no group: no pair
    decide(ledger, "2026-08-02", assessment("NATO", G2, [3], 7, tlp="RED"))  # withheld: G2 still waits


def test_pairs_complete_when_the_second_half_crosses_and_the_rest_wait(ledger):
    history(ledger)
    f = build(ledger, resolve("2026-06-01", "2026-11-30", TODAY), TODAY)
    c = f.cooperation
    assert [p.group for p in c.completed_in(f.period)] == [G1]
    assert [p.group for p in c.completed_by(f.period.last)] == sorted([G1, G3])
    assert [(p.group, p.waiting_for, p.since) for p in c.waiting()] == [(G2, "NATO", date(2026, 6, 10))]
    assert paired(f, "en") == (
        "The EU Hybrid Fusion Cell and NATO's Hybrid Analysis Branch completed 1 parallel and coordinated "
        "assessment from June 2026 to November 2026 (2 in total); 1 awaits its other half."
    )
    assert paired(f, "fr") == (
        "La Cellule de fusion de l'UE contre les menaces hybrides et la Branche « Analyse des menaces hybrides » "
        "de l'OTAN ont mené à bien 1 évaluation parallèle et coordonnée de juin 2026 à novembre 2026 (2 au total)"
        "\u202f; 1 attend son pendant."
    )


def test_exchanges_per_proposal_within_each_area(ledger):
    history(ledger)
    f = build(ledger, resolve("2026-06-01", "2026-11-30", TODAY), TODAY)
    assert dict(f.cooperation.proposals) == {("hybrid_threats", 1): 2, ("hybrid_threats", 3): 2,
                                             ("hybrid_threats", 74): 1}  # fmt: skip
    assert dict(f.cooperation.previous_proposals) == {("hybrid_threats", 1): 2}
    en = proposals(f, "en")
    assert en.header == ["Area", "Proposal", "Exchanges", "Previous period"]
    assert en.rows[0] == ["Countering hybrid threats", "1", "2", "2"]
    assert en.rows[-1] == ["Total", "", "5", "2"]
    fr = proposals(f, "fr")
    assert fr.title == "Par proposition commune"
    assert fr.header == ["Domaine", "Proposition", "Échanges", "Période précédente"]
    assert waiting(f, "fr").rows == [[G2, "l'UE", "10 juin 2026", "l'OTAN"]]
    assert waiting(f, "en").rows == [[G2, "the EU", "10 June 2026", "NATO"]]


def test_the_report_document_carries_the_same_figures(ledger):
    history(ledger)
    doc = json.loads(render(build(ledger, resolve("2026-06-01", "2026-11-30", TODAY), TODAY), "json", "en"))
    assert doc["pairs"]["completed"] == 1
    assert doc["pairs"]["completed_total"] == 2
    assert doc["pairs"]["waiting"] == [{"group": G2, "awaiting": "NATO", "since": "2026-06-10"}]
    assert {(p["area"], p["proposal"]): p["exchanges"] for p in doc["proposals"]} == {
        ("hybrid_threats", 1): 2, ("hybrid_threats", 3): 2, ("hybrid_threats", 74): 1}  # fmt: skip
    md = render(build(ledger, resolve("2026-06-01", "2026-11-30", TODAY), TODAY), "md", "fr")
    assert "## Par proposition commune" in md
    assert "## Évaluations parallèles en attente de leur pendant" in md


def test_the_dashboard_summary_shows_the_pairs_and_proposals(ledger, ledger_url):
    history(ledger)
    from hub.dashboard.api import summary

    s = summary(ledger, {"from": ["2026-06-01"], "to": ["2026-11-30"], "lang": ["fr"]}, TODAY)
    assert s["cooperation"]["pairs"]["completed"] == 1
    titles = [t["title"] for t in s["cooperation"]["tables"]]
    assert titles == ["Par proposition commune", "Évaluations parallèles en attente de leur pendant"]
    assert s["cooperation"]["tables"][1]["rows"] == [[G2, "l'UE", "10 juin 2026", "l'OTAN"]]
    assert any(h.startswith("La Cellule de fusion de l'UE") and "mené à bien 1 évaluation" in h for h in s["headlines"])
