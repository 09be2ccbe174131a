"""Headline sentences, written the way the progress reports write them, in English and in French.

"CERT-EU and NCIRC exchanged information on 41 events in total since June 2018" / "La CERT-UE et
la NCIRC ont échangé des informations sur 41 événements au total depuis juin 2018"; "the number of
cross-briefings almost quadrupled between 2017 and 2018". Items exchanged are the items delivered
for the first time (an item crosses once as new, then only as updates); updates are given apart.
"""

from __future__ import annotations

from hub.core.decision import Decision
from hub.report.figures import EXCHANGES, Figures
from hub.report.language import (
    Lang,
    area_phrase,
    count,
    day_text,
    is_month_end,
    is_plural,
    month,
    number,
    percent,
    period_label,
)

# Who exchanges each kind, as the reports name them: (EN, FR).
PARTIES = {
    "misp_event": ("CERT-EU and NCIRC", "La CERT-UE et la NCIRC"),
    "assessment": (
        "The EU Hybrid Fusion Cell and NATO's Hybrid Analysis Branch",
        "La Cellule de fusion de l'UE contre les menaces hybrides et la Branche « Analyse des menaces hybrides » "
        "de l'OTAN",
    ),
    "stratcom_note": (
        "The EEAS StratCom task forces and the NATO StratCom Centre of Excellence",
        "Les task forces StratCom du SEAE et le Centre d'excellence de l'OTAN pour la communication stratégique",
    ),
}
# What each party did with its items, and the noun for the items: (EN verb, FR verb, EN nouns, FR nouns).
FLOWS = {
    "misp_event": ("exchanged information on", "ont échangé des informations sur", ("event", "events"),
                   ("événement", "événements")),
    "assessment": ("exchanged", "ont échangé", ("assessment", "assessments"), ("évaluation", "évaluations")),
    "stratcom_note": ("shared", "ont partagé", ("trend note", "trend notes"),
                      ("note de tendances", "notes de tendances")),
}  # fmt: skip
MULTIPLES = {  # ratios the reports name with a verb
    2: ("doubled", "doublé"),
    3: ("tripled", "triplé"),
    4: ("quadrupled", "quadruplé"),
    5: ("quintupled", "quintuplé"),
}
NEAR = 0.02  # within 2 % of a whole multiple the ratio is that multiple ("doubled", not "almost doubled")
ALMOST = 0.3  # up to 0.3 below a multiple is "almost" it: 3.7 to 3.98 "almost quadrupled"


def headlines(f: Figures, lang: Lang) -> list[str]:
    """The report's headline sentences, in order."""
    out = [overview(f, lang)]
    out += [flow(f, kind, lang) for kind in PARTIES]
    out += [paired(f, lang), trend(f, lang), directions(f, lang), refusals(f, lang)]
    busiest = leading_area(f, lang)
    return out + ([busiest] if busiest else [])


def since(f: Figures, lang: Lang) -> str:
    """The span of the period: "since June 2018" while it runs, "from June 2018 to November 2018" once over.

    Whole months are named as months; a period that starts or ends inside a month is named by its
    two days, so both ends read alike ("from 15 November 2026 to 30 November 2026").
    """
    first, last = f.period.first, f.period.last
    months = first.day == 1 and is_month_end(last)
    if last >= f.today:
        start = month(first, lang) if first.day == 1 else day_text(first, lang)
        if lang == "en":
            return f"since {start}"
        return f"depuis {start}" if first.day == 1 else f"depuis le {start}"
    if months and (first.year, first.month) == (last.year, last.month):
        return f"in {month(first, lang)}" if lang == "en" else f"en {month(first, lang)}"
    if months:
        start, end = month(first, lang), month(last, lang)
        return f"from {start} to {end}" if lang == "en" else f"de {start} à {end}"
    start, end = day_text(first, lang), day_text(last, lang)
    return f"from {start} to {end}" if lang == "en" else f"du {start} au {end}"


def overview(f: Figures, lang: Lang) -> str:
    """All decisions of the period, by decision."""
    t = {d.value: f.total(decision=d.value) for d in Decision}
    first, last = day_text(f.period.first, lang), day_text(f.period.last, lang)
    if lang == "en":
        parts = [f"{number(t['delivered'], lang)} delivered", f"{number(t['updated'], lang)} updated",
                 count(t["duplicate"], ("duplicate", "duplicates"), lang), f"{number(t['withheld'], lang)} withheld",
                 f"{number(t['rejected'], lang)} rejected"]  # fmt: skip
        total = count(sum(t.values()), ("submission", "submissions"), lang)
        return f"Between {first} and {last}, the hub decided on {total}: {', '.join(parts[:-1])} and {parts[-1]}."
    forms = {"delivered": ("transmise", "transmises"), "updated": ("mise à jour", "mises à jour"),
             "duplicate": ("doublon", "doublons"), "withheld": ("retenue", "retenues"),
             "rejected": ("rejetée", "rejetées")}  # fmt: skip
    parts = [count(t[d], forms[d], lang) for d in forms]
    total = count(sum(t.values()), ("soumission", "soumissions"), lang)
    return f"Entre le {first} et le {last}, le hub a statué sur {total}\u202f: {', '.join(parts[:-1])} et {parts[-1]}."


def flow(f: Figures, kind: str, lang: Lang) -> str:
    """One flow's items exchanged, as the reports count them: "... 41 events in total since June 2018"."""
    new = f.total(kind=kind, decision=Decision.DELIVERED.value)
    updates = f.total(kind=kind, decision=Decision.UPDATED.value)
    verb_en, verb_fr, nouns_en, nouns_fr = FLOWS[kind]
    who = PARTIES[kind][0 if lang == "en" else 1]
    if lang == "en":
        tail = f", with {count(updates, ('update', 'updates'), lang)}" if updates else ""
        return f"{who} {verb_en} {count(new, nouns_en, lang)} in total {since(f, lang)}{tail}."
    tail = f", avec {count(updates, ('mise à jour', 'mises à jour'), lang)}" if updates else ""
    return f"{who} {verb_fr} {count(new, nouns_fr, lang)} au total {since(f, lang)}{tail}."


def paired(f: Figures, lang: Lang) -> str:
    """Parallel and coordinated assessments: pairs completed in the period, in all, and halves still waiting."""
    c = f.cooperation
    done, total, waiting = len(c.completed_in(f.period)), len(c.completed_by(f.period.last)), len(c.waiting())
    if lang == "en":
        pairs = count(done, ("parallel and coordinated assessment", "parallel and coordinated assessments"), lang)
        wait = f"{number(waiting, lang)} {'awaits its' if waiting == 1 else 'await their'} other half"
        return (f"The EU Hybrid Fusion Cell and NATO's Hybrid Analysis Branch completed {pairs} {since(f, lang)} "
                f"({number(total, lang)} in total); {wait}.")  # fmt: skip
    pairs = count(done, ("évaluation parallèle et coordonnée", "évaluations parallèles et coordonnées"), lang)
    verb = "attendent leur" if is_plural(waiting, lang) else "attend son"
    return (f"La Cellule de fusion de l'UE contre les menaces hybrides et la Branche « Analyse des menaces hybrides » "
            f"de l'OTAN ont mené à bien {pairs} {since(f, lang)} ({number(total, lang)} au total)\u202f; "
            f"{number(waiting, lang)} {verb} pendant.")  # fmt: skip


def change(before: int, after: int, lang: Lang) -> str:
    """How a number moved, as a verb phrase: "almost quadrupled", "a augmenté de 25 %", "fell by 40%"."""
    if after == before:
        return "stayed the same" if lang == "en" else "est resté stable"
    ratio = after / before
    if ratio < 1:
        return (
            f"fell by {percent(100 * (1 - ratio), lang)}"
            if lang == "en"
            else f"a diminué de {percent(100 * (1 - ratio), lang)}"
        )
    whole = round(ratio)
    if ratio < whole - ALMOST or whole < 2:
        up = percent(100 * (ratio - 1), lang)
        return f"rose by {up}" if lang == "en" else f"a augmenté de {up}"
    if whole not in MULTIPLES:
        times = f"{ratio:.1f}".removesuffix(".0")
        return f"rose {times}-fold" if lang == "en" else f"a été multiplié par {times.replace('.', ',')}"
    en, fr = MULTIPLES[whole]
    if ratio < whole - NEAR:
        return f"almost {en}" if lang == "en" else f"a presque {fr}"
    if ratio > whole + NEAR:
        return f"more than {en}" if lang == "en" else f"a plus que {fr}"
    return en if lang == "en" else f"a {fr}"


def trend(f: Figures, lang: Lang) -> str:
    """Exchanges this period against the previous one: "... almost quadrupled between 2017 and 2018"."""
    before, after = f.total(previous=True, decision=EXCHANGES), f.total(decision=EXCHANGES)
    was, now = period_label(f.previous, lang), period_label(f.period, lang)
    if before == 0 and after == 0:
        if lang == "en":
            return f"There were no exchanges in this period ({now}) nor in the previous one ({was})."
        return f"Aucun échange n'a eu lieu pendant cette période ({now}) ni pendant la précédente ({was})."
    if before == 0:
        n = number(after, lang)
        if lang == "en":
            return f"There were no exchanges in the previous period ({was}); this period ({now}) counts {n}."
        return f"Aucun échange n'a eu lieu pendant la période précédente ({was})\u202f; celle-ci ({now}) en compte {n}."
    phrase = change(before, after, lang)
    span = f"({number(before, lang)} → {number(after, lang)})"
    if lang == "en":
        return f"The number of exchanges {phrase} between {was} and {now} {span}."
    return f"Le nombre d'échanges {phrase} entre {was} et {now} {span}."


def directions(f: Figures, lang: Lang) -> str:
    """The exchanges by direction."""
    by = f.by("direction", decision=EXCHANGES)
    total, eu, nato = sum(by.values()), by.get("EU->NATO", 0), by.get("NATO->EU", 0)
    if total == 0:
        return "Nothing crossed in either direction." if lang == "en" else "Rien n'a été échangé, dans aucun sens."
    if lang == "en":
        return (
            f"Of {count(total, ('exchange', 'exchanges'), lang)}, {number(eu, lang)} went from the EU to NATO "
            f"and {number(nato, lang)} from NATO to the EU."
        )
    went = "sont allés" if is_plural(eu, lang) else "est allé"
    return (
        f"Sur {count(total, ('échange', 'échanges'), lang)}, {number(eu, lang)} {went} de l'UE vers l'OTAN "
        f"et {number(nato, lang)} de l'OTAN vers l'UE."
    )


def refusals(f: Figures, lang: Lang) -> str:
    """What did not cross: withheld by the release policy, rejected as invalid or untrusted."""
    held, bad = f.total(decision=Decision.WITHHELD.value), f.total(decision=Decision.REJECTED.value)
    if lang == "en":
        was = "was" if held == 1 else "were"
        bad_was = "was" if bad == 1 else "were"
        return (
            f"{count(held, ('submission', 'submissions'), lang)} {was} withheld under the release policy "
            f"and {number(bad, lang)} {bad_was} rejected as invalid or untrusted."
        )
    held_verb = "ont été retenues" if is_plural(held, lang) else "a été retenue"
    bad_verb = "ont été rejetées" if is_plural(bad, lang) else "a été rejetée"
    adjectives = "non valides ou non fiables" if is_plural(bad, lang) else "non valide ou non fiable"
    return (
        f"{count(held, ('soumission', 'soumissions'), lang)} {held_verb} en application de la politique de diffusion "
        f"et {number(bad, lang)} {bad_verb} comme {adjectives}."
    )


def leading_area(f: Figures, lang: Lang) -> str | None:
    """The area with the most exchanges, or None when nothing was exchanged."""
    by = f.by("area", decision=EXCHANGES)
    total = sum(by.values())
    if total == 0:
        return None
    area, n = max(sorted(by.items()), key=lambda kv: kv[1])  # ties: the first area by name
    if lang == "en":
        share = f"({number(n, lang)} of {number(total, lang)})"
        return f"The largest share of exchanges concerned {area_phrase(area, lang)} {share}."
    return (
        f"La plus grande part des échanges a porté sur {area_phrase(area, lang)} "
        f"({number(n, lang)} sur {number(total, lang)})."
    )
