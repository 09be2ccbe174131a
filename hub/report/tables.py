"""The report's tables, in the reader's language: one row per area, kind, direction or decision.

Markdown and HTML render the same tables; each cell is a sum of the figures' count rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.core.decision import Decision
from hub.report.figures import EXCHANGES, Figures, order
from hub.report.language import DECISIONS, DIRECTIONS, KINDS, SIDE_NAMES, TEXT, Lang, area_heading, day_text, number

DECISION_ORDER = [d.value for d in Decision]


@dataclass(frozen=True)
class Table:
    """A titled table of text cells; `keys` are the raw values of the first column (for links and tests)."""

    title: str
    header: list[str]
    rows: list[list[str]]
    keys: list[str]


def label(dimension: str, value: str, lang: Lang) -> str:
    """The reader's name for a value of a dimension."""
    if dimension == "area":
        return area_heading(value, lang)
    if dimension == "kind":
        forms = KINDS[lang].get(value, (value, value))
        return forms[1][:1].upper() + forms[1][1:]
    if dimension == "direction":
        return DIRECTIONS[lang].get(value, value)
    return DECISIONS[lang].get(value, value)


def breakdown(f: Figures, dimension: str, lang: Lang) -> Table:
    """Per value of `dimension`: the period's decisions, exchanges, total, and the previous period's total."""
    words = TEXT[lang]
    now, before = f.grid(dimension), f.grid(dimension, previous=True)
    values = sorted(set(now) | set(before), key=lambda v: order(dimension, v))
    header = [words[dimension], *(DECISIONS[lang][d] for d in DECISION_ORDER), words["exchanges"], words["total"],
              words["previous"]]  # fmt: skip
    rows: list[list[str]] = []
    for v in values:
        cells = now.get(v, dict.fromkeys(DECISION_ORDER, 0))
        exchanged = sum(cells[d] for d in EXCHANGES)
        previous = sum(before.get(v, {}).values())
        rows.append(
            [
                label(dimension, v, lang),
                *(number(cells[d], lang) for d in DECISION_ORDER),
                number(exchanged, lang),
                number(sum(cells.values()), lang),
                number(previous, lang),
            ]  # fmt: skip
        )
    t = {d: f.total(decision=d) for d in DECISION_ORDER}
    rows.append(
        [
            words["total"],
            *(number(t[d], lang) for d in DECISION_ORDER),
            number(f.total(decision=EXCHANGES), lang),
            number(sum(t.values()), lang),
            number(f.total(previous=True), lang),
        ]  # fmt: skip
    )
    return Table(words[f"by_{dimension}"], header, rows, [*values, "total"])


def decisions(f: Figures, lang: Lang) -> Table:
    """Per decision: this period and the previous one."""
    words = TEXT[lang]
    rows = [
        [DECISIONS[lang][d], number(f.total(decision=d), lang), number(f.total(previous=True, decision=d), lang)]
        for d in DECISION_ORDER
    ]
    rows.append([words["total"], number(f.total(), lang), number(f.total(previous=True), lang)])
    return Table(words["by_decision"], [words["decision"], words["total"], words["previous"]], rows,
                 [*DECISION_ORDER, "total"])  # fmt: skip


def proposals(f: Figures, lang: Lang) -> Table:
    """Exchanges per common proposal within each area: this period and the previous one."""
    words, c = TEXT[lang], f.cooperation
    keys = sorted(set(c.proposals) | set(c.previous_proposals), key=lambda k: (order("area", k[0]), k[1]))
    rows = [[area_heading(area, lang), str(n), number(c.proposals[(area, n)], lang),
             number(c.previous_proposals[(area, n)], lang)] for area, n in keys]  # fmt: skip
    rows.append([words["total"], "", number(sum(c.proposals.values()), lang),
                 number(sum(c.previous_proposals.values()), lang)])  # fmt: skip
    header = [words["area"], words["proposal"], words["exchanges"], words["previous"]]
    return Table(words["by_proposal"], header, rows, [f"{a}:{n}" for a, n in keys] + ["total"])


def waiting(f: Figures, lang: Lang) -> Table:
    """The parallel groups with one half delivered, the other still awaited, oldest first."""
    words = TEXT[lang]
    rows, keys = [], []
    for pair in f.cooperation.waiting():
        side = next(s for s, d in pair.first.items() if d is not None)
        awaited = pair.waiting_for or ""
        rows.append([pair.group, SIDE_NAMES[lang][side], day_text(pair.since, lang), SIDE_NAMES[lang][awaited]])
        keys.append(pair.group)
    header = [words["group"], words["delivered_side"], words["since"], words["awaiting"]]
    return Table(words["waiting"], header, rows, keys)


def tables(f: Figures, lang: Lang) -> list[Table]:
    """Every table of the report, in order."""
    return [breakdown(f, "area", lang), breakdown(f, "kind", lang), breakdown(f, "direction", lang),
            decisions(f, lang), proposals(f, lang), waiting(f, lang)]  # fmt: skip
