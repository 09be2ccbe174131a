"""The dashboard's JSON endpoints as plain functions of the ledger and a query string (no HTTP here).

Each takes the query's parameters (`from`, `to`, `lang`, `area`, `kind`, `direction`, `decision`,
repeated or comma-separated) and returns a JSON-ready dict; bad parameters raise InputError
naming the field.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from itertools import islice
from typing import Any

from hub.audit.listing import CHOICES, Filters, filters, listed
from hub.errors import InputError
from hub.ledger import CountRow, Ledger
from hub.report import build, resolve
from hub.report.counts import as_json as counts_json
from hub.report.document import pairs_json, proposals_json
from hub.report.figures import DIMENSIONS, EXCHANGES, Figures, order
from hub.report.headline import headlines
from hub.report.language import DECISIONS, LANGS, Lang, period_label
from hub.report.tables import Table, label, proposals, waiting
from hub.report.webpage import charts

Query = dict[str, list[str]]
MAX_RECORDS = 1000  # records per drill-down page: enough to read, small enough for the browser


def _one(query: Query, name: str) -> str | None:
    values = query.get(name) or [""]
    return values[-1] or None


def _lang(query: Query) -> Lang:
    lang = _one(query, "lang") or "en"
    if lang not in LANGS:
        raise InputError(f"{lang!r} is not one of {', '.join(LANGS)}", field="lang")
    return "fr" if lang == "fr" else "en"


def _filters(query: Query) -> Filters:
    return filters({dim: query.get(dim) for dim in CHOICES}, _one(query, "from"), _one(query, "to"))


def figures(ledger: Ledger, query: Query, today: date) -> Figures:
    """The report figures for the query's period, restricted to the rows its filters accept."""
    f = build(ledger, resolve(_one(query, "from"), _one(query, "to"), today), today)
    match = _filters(query).match
    if not match:
        return f

    def keep(rows: list[CountRow]) -> list[CountRow]:
        cols = {"area": 1, "kind": 2, "direction": 3, "decision": 4}
        return [r for r in rows if all(r[cols[d]] in vals for d, vals in match.items())]

    return replace(f, rows=keep(f.rows), previous_rows=keep(f.previous_rows))


def summary(ledger: Ledger, query: Query, today: date) -> dict[str, Any]:
    """Headline figures, sentences, and the table per (area, kind, direction) for the period and filters."""
    f = figures(ledger, query, today)
    lang = _lang(query)
    table: dict[tuple[str, str, str], dict[str, int]] = {}
    for _day, area, kind, direction, decision, n in f.rows:
        cell = table.setdefault((area, kind, direction), {})
        cell[decision] = cell.get(decision, 0) + n
    return {
        "period": {"from": f.period.first.isoformat(), "to": f.period.last.isoformat(),
                   "label": period_label(f.period, lang)},
        "previous": {"from": f.previous.first.isoformat(), "to": f.previous.last.isoformat(),
                     "label": period_label(f.previous, lang), "totals": counts_json(f.previous_rows)["totals"]},
        "totals": counts_json(f.rows)["totals"],
        "exchanges": {"current": f.total(decision=EXCHANGES), "previous": f.total(previous=True, decision=EXCHANGES)},
        "by": {dim: f.by(dim) for dim in DIMENSIONS},
        "rows": [
            {"area": a, "kind": k, "direction": d, "labels": [label("area", a, lang), label("kind", k, lang),
             label("direction", d, lang)], "decisions": cells}
            for (a, k, d), cells in sorted(table.items(), key=lambda kv: _row_order(kv[0]))
        ],
        "headlines": headlines(f, lang),
        "cooperation": {"proposals": proposals_json(f), "pairs": pairs_json(f),
                        "tables": [_table(t) for t in (proposals(f, lang), waiting(f, lang))]},
        "decision_labels": DECISIONS[lang],
        "ledger": {"head_seq": f.head[0], "head_hash": f.head[1]},
    }  # fmt: skip


def _table(t: Table) -> dict[str, Any]:
    return {"title": t.title, "header": t.header, "rows": t.rows}


def _row_order(key: tuple[str, str, str]) -> list[tuple[int, str]]:
    return [order(dim, value) for dim, value in zip(("area", "kind", "direction"), key, strict=True)]


def counts(ledger: Ledger, query: Query, today: date) -> dict[str, Any]:
    """The period's count rows in the shape of `hub counts --json`."""
    return counts_json(figures(ledger, query, today).rows)


def series(ledger: Ledger, query: Query, today: date) -> dict[str, Any]:
    """Exchanges per month per area, kind and direction, over the previous and this period."""
    f = figures(ledger, query, today)
    return {dim: f.monthly(dim) for dim in DIMENSIONS[:3]}


def chart_svgs(ledger: Ledger, query: Query, today: date) -> dict[str, str]:
    """The report's two charts as SVG text."""
    by_area, by_direction = charts(figures(ledger, query, today), _lang(query))
    return {"area": by_area, "direction": by_direction}


def records(ledger: Ledger, query: Query, today: date) -> dict[str, Any]:
    """The records behind a figure (first MAX_RECORDS), defaulting to the query's period."""
    period = resolve(_one(query, "from"), _one(query, "to"), today)
    f = replace(_filters(query), first_day=period.first.isoformat(), last_day=period.last.isoformat())
    lines = list(islice(listed(ledger, f), MAX_RECORDS + 1))
    return {"filters": f.as_json(), "records": lines[:MAX_RECORDS], "truncated": len(lines) > MAX_RECORDS}
