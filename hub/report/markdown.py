"""The report as Markdown: title, period, headline sentences, tables, and how to check them."""

from __future__ import annotations

from hub.report.figures import Figures
from hub.report.headline import headlines
from hub.report.language import TEXT, Lang, day_text, period_label
from hub.report.provenance import checks
from hub.report.tables import Table, tables


def title(f: Figures, lang: Lang) -> str:
    """The report's title."""
    return TEXT[lang]["title"].format(label=period_label(f.period, lang))


def period_line(f: Figures, lang: Lang) -> str:
    """The sentence that names the period and the one it is compared with."""
    p, q = f.period, f.previous
    return TEXT[lang]["period"].format(
        first=day_text(p.first, lang), last=day_text(p.last, lang),
        pfirst=day_text(q.first, lang), plast=day_text(q.last, lang),
    )  # fmt: skip


def markdown(f: Figures, lang: Lang) -> str:
    """The whole report as Markdown."""
    words = TEXT[lang]
    out = [f"# {title(f, lang)}", "", period_line(f, lang), "", f"## {words['headlines']}", ""]
    out += [f"- {h}" for h in headlines(f, lang)]
    out += ["", f"_{words['exchange_note']}_"]
    for t in tables(f, lang):
        out += ["", f"## {t.title}", "", *_table(t)]
    out += ["", f"## {words['check']}", ""]
    out += [f"- {line}" for line in checks(f, lang)]
    return "\n".join(out) + "\n"


def _table(t: Table) -> list[str]:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    align = ["---", *(["---:"] * (len(t.header) - 1))]
    return [line(t.header), "|" + "|".join(align) + "|", *(line(r) for r in t.rows)]
