"""Headline sentences in English and French, with the right numbers, plurals and dates."""

from __future__ import annotations

from datetime import date

import pytest

from hub.ledger import Ledger
from hub.report import build, render, resolve
from hub.report.headline import change, flow, overview, refusals, trend
from hub.report.language import NNBSP, count, day_text, number, period_label
from hub.report.period import Period
from tests.audit.ledgers import many, outcome, write

FOURTH_REPORT_DAY = date(2019, 6, 17)  # the fourth progress report, "de juin 2018 à juin 2019"


@pytest.fixture
def ledger(ledger_url):
    led = Ledger(ledger_url)
    yield led
    led.close()


def fourth_report(ledger, events=41):
    """CERT events since June 2018 as in the fourth report, plus one of everything else."""
    write(ledger, "2018-05-20", *many(12, kind="assessment", area="hybrid_threats"))  # the previous period
    write(ledger, "2018-06-04", *many(events - events // 2, origin="EU"), outcome(kind="assessment"))
    write(ledger, "2019-01-15", *many(events // 2, origin="NATO"), *many(3, decision="updated"))
    write(ledger, "2019-03-01", outcome(decision="withheld", kind="stratcom_note", area="hybrid_threats"),
          outcome(decision="rejected"), outcome(decision="duplicate"))  # fmt: skip
    return build(ledger, resolve("2018-06-01", "2019-06-17", FOURTH_REPORT_DAY), FOURTH_REPORT_DAY)


def test_the_cert_sentence_reads_as_in_the_fourth_progress_report(ledger):
    f = fourth_report(ledger)
    assert flow(f, "misp_event", "en") == (
        "CERT-EU and NCIRC exchanged information on 41 events in total since June 2018, with 3 updates."
    )
    assert flow(f, "misp_event", "fr") == (
        "La CERT-UE et la NCIRC ont échangé des informations sur 41 événements au total depuis juin 2018, "
        "avec 3 mises à jour."
    )
    en, fr = render(f, "md", "en"), render(f, "md", "fr")
    assert "- CERT-EU and NCIRC exchanged information on 41 events in total since June 2018, with 3 updates.\n" in en
    assert "sur 41 événements au total depuis juin 2018, avec 3 mises à jour.\n" in fr
    assert "exchanged 1 assessment in total since June 2018." in en
    assert "ont échangé 1 évaluation au total depuis juin 2018." in fr
    assert "shared 0 trend notes in total" in en
    assert "ont partagé 0 note de tendances au total" in fr


def test_one_event_is_singular_in_both_languages(ledger):
    f = fourth_report(ledger, events=1)
    assert "information on 1 event in total since June 2018, with 3 updates." in flow(f, "misp_event", "en")
    assert "des informations sur 1 événement au total depuis juin 2018" in flow(f, "misp_event", "fr")


def test_overview_and_refusals_agree_in_number_and_gender(ledger):
    f = fourth_report(ledger)
    assert overview(f, "en") == (
        "Between 1 June 2018 and 17 June 2019, the hub decided on 48 submissions: "
        "42 delivered, 3 updated, 1 duplicate, 1 withheld and 1 rejected."
    )
    assert overview(f, "fr") == (
        f"Entre le 1er juin 2018 et le 17 juin 2019, le hub a statué sur 48 soumissions{NNBSP}: "
        "42 transmises, 3 mises à jour, 1 doublon, 1 retenue et 1 rejetée."
    )
    assert refusals(f, "en") == (
        "1 submission was withheld under the release policy and 1 was rejected as invalid or untrusted."
    )
    assert refusals(f, "fr") == (
        "1 soumission a été retenue en application de la politique de diffusion "
        "et 1 a été rejetée comme non valide ou non fiable."
    )


def test_a_period_already_over_is_named_from_start_to_end(ledger):
    f = build(ledger, resolve("2018-06-01", "2018-11-30", date(2026, 1, 1)), date(2026, 1, 1))
    assert flow(f, "misp_event", "en").endswith("0 events in total from June 2018 to November 2018.")
    assert flow(f, "misp_event", "fr").endswith("0 événement au total de juin 2018 à novembre 2018.")
    g = build(ledger, resolve("2018-06-15", "2018-11-20", date(2026, 1, 1)), date(2026, 1, 1))
    assert flow(g, "misp_event", "fr").endswith("au total du 15 juin 2018 au 20 novembre 2018.")


@pytest.mark.parametrize(
    ("first", "last", "en", "fr"),
    [
        (
            "2026-11-15",
            "2026-11-30",
            "from 15 November 2026 to 30 November 2026",
            "du 15 novembre 2026 au 30 novembre 2026",
        ),
        ("2026-06-01", "2026-11-20", "from 1 June 2026 to 20 November 2026", "du 1er juin 2026 au 20 novembre 2026"),
        ("2026-06-02", "2026-06-30", "from 2 June 2026 to 30 June 2026", "du 2 juin 2026 au 30 juin 2026"),
        ("2026-06-01", "2026-06-30", "in June 2026", "en juin 2026"),
        ("2025-12-01", "2026-05-31", "from December 2025 to May 2026", "de décembre 2025 à mai 2026"),
    ],
)
def test_both_ends_of_a_past_period_read_alike(ledger, first, last, en, fr):
    """A period that starts or ends inside a month names both days, never "from 15 November to November"."""
    f = build(ledger, resolve(first, last, date(2027, 1, 1)), date(2027, 1, 1))
    assert flow(f, "misp_event", "en").endswith(f"0 events in total {en}.")
    assert flow(f, "misp_event", "fr").endswith(f"0 événement au total {fr}.")


def test_the_trend_sentence_names_the_multiple_as_the_reports_do(ledger):
    write(ledger, "2017-03-01", *many(12, kind="assessment", area="political_dialogue"))
    write(ledger, "2018-09-01", *many(45, kind="assessment", area="political_dialogue"))
    f = build(ledger, resolve("2018-01-01", "2018-12-31", date(2019, 6, 17)), date(2019, 6, 17))
    assert trend(f, "en") == "The number of exchanges almost quadrupled between 2017 and 2018 (12 → 45)."
    assert trend(f, "fr") == "Le nombre d'échanges a presque quadruplé entre 2017 et 2018 (12 → 45)."


@pytest.mark.parametrize(
    ("before", "after", "en", "fr"),
    [
        (10, 10, "stayed the same", "est resté stable"),
        (10, 20, "doubled", "a doublé"),
        (10, 19, "almost doubled", "a presque doublé"),
        (10, 23, "more than doubled", "a plus que doublé"),
        (10, 30, "tripled", "a triplé"),
        (10, 38, "almost quadrupled", "a presque quadruplé"),
        (10, 13, "rose by 30%", f"a augmenté de 30{NNBSP}%"),
        (10, 26, "rose by 160%", f"a augmenté de 160{NNBSP}%"),
        (10, 4, "fell by 60%", f"a diminué de 60{NNBSP}%"),
        (10, 65, "rose 6.5-fold", "a été multiplié par 6,5"),
        (10, 70, "rose 7-fold", "a été multiplié par 7"),
    ],
)
def test_change_phrases(before, after, en, fr):
    assert change(before, after, "en") == en
    assert change(before, after, "fr") == fr


def test_numbers_dates_and_plurals_per_language():
    assert number(1234567, "en") == "1,234,567"
    assert number(1234567, "fr") == f"1{NNBSP}234{NNBSP}567"
    assert count(0, ("événement", "événements"), "fr") == "0 événement"
    assert count(0, ("event", "events"), "en") == "0 events"
    assert count(2, ("événement", "événements"), "fr") == "2 événements"
    assert day_text(date(2018, 6, 1), "fr") == "1er juin 2018"
    assert day_text(date(2019, 6, 17), "fr") == "17 juin 2019"
    assert day_text(date(2018, 12, 1), "en") == "1 December 2018"
    assert period_label(Period(date(2018, 12, 1), date(2019, 5, 31)), "fr") == "décembre 2018–mai 2019"
    assert period_label(Period(date(2019, 6, 1), date(2019, 11, 30)), "en") == "June–November 2019"
    assert period_label(Period(date(2019, 6, 1), date(2019, 6, 30)), "fr") == "juin 2019"


def test_trend_without_a_previous_figure(ledger):
    f = build(ledger, resolve("2018-01-01", "2018-12-31", date(2019, 1, 1)), date(2019, 1, 1))
    assert trend(f, "en") == "There were no exchanges in this period (2018) nor in the previous one (2017)."
    assert trend(f, "fr") == "Aucun échange n'a eu lieu pendant cette période (2018) ni pendant la précédente (2017)."
    write(ledger, "2018-03-01", *many(1200))
    f = build(ledger, resolve("2018-01-01", "2018-12-31", date(2019, 1, 1)), date(2019, 1, 1))
    assert trend(f, "en") == "There were no exchanges in the previous period (2017); this period (2018) counts 1,200."
    assert trend(f, "fr") == (
        f"Aucun échange n'a eu lieu pendant la période précédente (2017){NNBSP}; celle-ci (2018) en compte 1{NNBSP}200."
    )
