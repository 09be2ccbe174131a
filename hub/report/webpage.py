"""The report as one self-contained HTML page: the Markdown report's content plus inline SVG charts."""

from __future__ import annotations

from html import escape

from hub.report.chart import stacked_bars
from hub.report.figures import Figures
from hub.report.headline import headlines
from hub.report.language import DIRECTIONS, TEXT, Lang, area_heading
from hub.report.markdown import period_line, title
from hub.report.period import Period
from hub.report.provenance import checks
from hub.report.tables import Table, tables

STYLE = """
body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222;line-height:1.4}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{border:1px solid #ccc;padding:.25rem .5rem}
td:not(:first-child),th:not(:first-child){text-align:right}tr:last-child td{font-weight:bold}
code{background:#f4f4f4;padding:0 .2rem}figure{margin:1rem 0}
"""


def charts(f: Figures, lang: Lang) -> list[str]:
    """The two charts: exchanges per month per area, and per direction, over both periods."""
    months = Period(f.previous.first, f.period.last).months()
    by_area = f.monthly("area")
    by_direction = f.monthly("direction")
    words = TEXT[lang]
    return [
        stacked_bars(words["chart_area"], months, by_area, {a: area_heading(a, lang) for a in by_area}),
        stacked_bars(words["chart_direction"], months, by_direction, DIRECTIONS[lang]),
    ]


def webpage(f: Figures, lang: Lang) -> str:
    """The whole report as HTML."""
    words = TEXT[lang]
    out = [
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">',
        f"<title>{escape(title(f, lang))}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(title(f, lang))}</h1><p>{escape(period_line(f, lang))}</p>",
        f"<h2>{escape(words['headlines'])}</h2><ul>",
        *(f"<li>{escape(h)}</li>" for h in headlines(f, lang)),
        f"</ul><p><em>{escape(words['exchange_note'])}</em></p>",
        f"<h2>{escape(words['charts'])}</h2>",
        *(f"<figure>{svg}</figure>" for svg in charts(f, lang)),
    ]
    for t in tables(f, lang):
        out += [f"<h2>{escape(t.title)}</h2>", _table(t)]
    out.append(f"<h2>{escape(words['check'])}</h2><ul>")
    out += [f"<li>{_code(line)}</li>" for line in checks(f, lang)]
    out.append("</ul></body></html>")
    return "\n".join(out) + "\n"


def _table(t: Table) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in t.header)
    body = "".join(
        f'<tr data-key="{escape(k)}">' + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>"
        for k, row in zip(t.keys, t.rows, strict=True)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _code(line: str) -> str:
    """Markdown's `code` spans as <code>, the rest escaped."""
    parts = line.split("`")
    return "".join(f"<code>{escape(p)}</code>" if i % 2 else escape(p) for i, p in enumerate(parts))
