"""English and French as the progress reports write them: numbers, plurals, dates, and the hub's labels.

French follows the reports' own conventions: "1er juin", "juin 2018", a narrow no-break space as the
thousands separator and before `:` and `%`, and the singular for 0 and 1 ("0 événement").
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from hub.report.period import Period

Lang = Literal["en", "fr"]
LANGS: tuple[Lang, ...] = ("en", "fr")
NNBSP = "\u202f"  # narrow no-break space: French thousands separator and space before `:` and `%`

MONTHS = {
    "en": "January February March April May June July August September October November December".split(),
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split(),
}

# The proposal areas as the 2016 statement (EN) and the fourth progress report (FR) name them:
# (heading, in a sentence). French sentences need the article the report uses.
AREAS: dict[Lang, dict[str, tuple[str, str]]] = {
    "en": {
        "hybrid_threats": ("Countering hybrid threats", "countering hybrid threats"),
        "operational_cooperation": (
            "Operational cooperation including maritime issues",
            "operational cooperation including maritime issues",
        ),
        "cyber": ("Cyber security and defence", "cyber security and defence"),
        "defence_capabilities": ("Defence capabilities", "defence capabilities"),
        "defence_industry_research": ("Defence industry and research", "defence industry and research"),
        "exercises": ("Exercises", "exercises"),
        "capacity_building": ("Defence and security capacity-building", "defence and security capacity-building"),
        "political_dialogue": ("Political dialogue between the EU and NATO", "political dialogue"),
        "unknown": ("Unknown (unreadable submissions)", "unreadable submissions"),
    },
    "fr": {
        "hybrid_threats": ("Lutte contre les menaces hybrides", "la lutte contre les menaces hybrides"),
        "operational_cooperation": (
            "Coopération opérationnelle, notamment sur les questions maritimes",
            "la coopération opérationnelle, notamment sur les questions maritimes",
        ),
        "cyber": ("Cybersécurité et cyberdéfense", "la cybersécurité et la cyberdéfense"),
        "defence_capabilities": ("Capacités de défense", "les capacités de défense"),
        "defence_industry_research": (
            "Industrie de défense et recherche en matière de défense",
            "l'industrie de défense et la recherche en matière de défense",
        ),
        "exercises": ("Exercices", "les exercices"),
        "capacity_building": (
            "Renforcement des capacités de défense et de sécurité",
            "le renforcement des capacités de défense et de sécurité",
        ),
        "political_dialogue": ("Dialogue politique entre l'UE et l'OTAN", "le dialogue politique entre l'UE et l'OTAN"),
        "unknown": ("Inconnu (soumissions illisibles)", "des soumissions illisibles"),
    },
}

# Kinds as nouns: (singular, plural).
KINDS: dict[Lang, dict[str, tuple[str, str]]] = {
    "en": {
        "misp_event": ("MISP event", "MISP events"),
        "assessment": ("assessment", "assessments"),
        "stratcom_note": ("trend note", "trend notes"),
        "unknown": ("unreadable submission", "unreadable submissions"),
    },
    "fr": {
        "misp_event": ("événement MISP", "événements MISP"),
        "assessment": ("évaluation", "évaluations"),
        "stratcom_note": ("note de tendances", "notes de tendances"),
        "unknown": ("soumission illisible", "soumissions illisibles"),
    },
}

SIDE_NAMES: dict[Lang, dict[str, str]] = {
    "en": {"EU": "the EU", "NATO": "NATO"},
    "fr": {"EU": "l'UE", "NATO": "l'OTAN"},
}
DIRECTIONS: dict[Lang, dict[str, str]] = {
    "en": {"EU->NATO": "EU → NATO", "NATO->EU": "NATO → EU", "unknown": "unknown"},
    "fr": {"EU->NATO": "UE → OTAN", "NATO->EU": "OTAN → UE", "unknown": "inconnue"},
}

# Table headings: the decisions as column names.
DECISIONS: dict[Lang, dict[str, str]] = {
    "en": {
        "delivered": "Delivered",
        "updated": "Updated",
        "duplicate": "Duplicates",
        "withheld": "Withheld",
        "rejected": "Rejected",
    },
    "fr": {
        "delivered": "Transmis",
        "updated": "Mises à jour",
        "duplicate": "Doublons",
        "withheld": "Retenus",
        "rejected": "Rejetés",
    },
}


def number(n: int, lang: Lang) -> str:
    """`n` with the language's thousands separator: 1,234 / 1 234."""
    text = f"{n:,}"
    return text if lang == "en" else text.replace(",", NNBSP)


def is_plural(n: int, lang: Lang) -> bool:
    """Whether `n` takes the plural: English for all but 1, French from 2 on."""
    return n != 1 if lang == "en" else abs(n) >= 2


def count(n: int, forms: tuple[str, str], lang: Lang) -> str:
    """`n` and the noun in the right number: "1 event", "41 events", "0 événement"."""
    return f"{number(n, lang)} {forms[1] if is_plural(n, lang) else forms[0]}"


def month(day: date, lang: Lang) -> str:
    """The month and year: "June 2018" / "juin 2018"."""
    return f"{MONTHS[lang][day.month - 1]} {day.year}"


def day_text(day: date, lang: Lang) -> str:
    """A date as the reports write it: "1 June 2018" / "1er juin 2018", "17 juin 2019"."""
    d = "1er" if lang == "fr" and day.day == 1 else str(day.day)
    return f"{d} {month(day, lang)}"


def is_month_end(day: date) -> bool:
    """True on the last day of a month."""
    return (day + timedelta(days=1)).day == 1


def period_label(p: Period, lang: Lang) -> str:
    """A compact name for a period: "2018", "June 2018", "June–November 2018", or its two dates."""
    if p.whole_months is None:
        return f"{day_text(p.first, lang)}–{day_text(p.last, lang)}"
    if p.whole_months == 12 and p.first.month == 1:
        return str(p.first.year)
    if p.first.year == p.last.year and p.first.month == p.last.month:
        return month(p.first, lang)
    if p.first.year == p.last.year:
        return f"{MONTHS[lang][p.first.month - 1]}–{month(p.last, lang)}"
    return f"{month(p.first, lang)}–{month(p.last, lang)}"


def percent(value: float, lang: Lang) -> str:
    """A whole percentage: "25%" / "25 %"."""
    return f"{round(value)}%" if lang == "en" else f"{round(value)}{NNBSP}%"


def area_heading(area: str, lang: Lang) -> str:
    """The area's title as a table row or heading."""
    return AREAS[lang].get(area, (area, area))[0]


def area_phrase(area: str, lang: Lang) -> str:
    """The area as it reads inside a sentence."""
    return AREAS[lang].get(area, (area, area))[1]


# Words of the report's frame, per language.
TEXT: dict[Lang, dict[str, str]] = {
    "en": {
        "title": "EU–NATO exchange hub: figures for {label}",
        "period": "Period: {first} to {last}, compared with the previous period, {pfirst} to {plast}.",
        "headlines": "Headlines",
        "by_area": "By area",
        "by_kind": "By kind",
        "by_direction": "By direction",
        "by_decision": "By decision",
        "area": "Area",
        "kind": "Kind",
        "direction": "Direction",
        "decision": "Decision",
        "total": "Total",
        "previous": "Previous period",
        "exchanges": "Exchanges",
        "all": "All",
        "charts": "Charts",
        "chart_area": "Exchanges per month, by area",
        "chart_direction": "Exchanges per month, by direction",
        "check": "How to check these figures",
        "check_verify": "`hub audit verify` proves the ledger's hash chain and that the live counts equal a recount.",
        "check_list": "`{command}` lists the {what} behind the headline, with ids, originator, time and reason.",
        "head": "Ledger head when the report was read: record {seq}, hash `{hash}`.",
        "exchange_note": "An exchange is a submission delivered to the other side, new or as an update.",
        "all_records": "decisions",
        "by_proposal": "By common proposal",
        "proposal": "Proposal",
        "waiting": "Parallel assessments awaiting their other half",
        "group": "Parallel group",
        "delivered_side": "Delivered by",
        "since": "Since",
        "awaiting": "Awaiting",
    },
    "fr": {
        "title": "Plateforme d'échange UE-OTAN : chiffres pour {label}",
        "period": "Période : du {first} au {last}, comparée à la période précédente, du {pfirst} au {plast}.",
        "headlines": "Points clés",
        "by_area": "Par domaine",
        "by_kind": "Par type",
        "by_direction": "Par sens",
        "by_decision": "Par décision",
        "area": "Domaine",
        "kind": "Type",
        "direction": "Sens",
        "decision": "Décision",
        "total": "Total",
        "previous": "Période précédente",
        "exchanges": "Échanges",
        "all": "Tous",
        "charts": "Graphiques",
        "chart_area": "Échanges par mois, par domaine",
        "chart_direction": "Échanges par mois, par sens",
        "check": "Comment vérifier ces chiffres",
        "check_verify": "`hub audit verify` vérifie la chaîne de hachage du registre et que les compteurs "
        "sont égaux à un recomptage.",
        "check_list": "`{command}` énumère les {what} derrière ce chiffre, avec identifiants, auteur, date et motif.",
        "head": "Tête du registre à la lecture du rapport : enregistrement {seq}, empreinte `{hash}`.",
        "exchange_note": "Un échange est une soumission transmise à l'autre partie, nouvelle ou mise à jour.",
        "all_records": "décisions",
        "by_proposal": "Par proposition commune",
        "proposal": "Proposition",
        "waiting": "Évaluations parallèles en attente de leur pendant",
        "group": "Groupe parallèle",
        "delivered_side": "Transmise par",
        "since": "Depuis le",
        "awaiting": "En attente de",
    },
}
