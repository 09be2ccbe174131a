"""Progress reports: periods on the June/December cadence, figures aggregated from the ledger,
headline sentences in English and French, and renderers (Markdown, HTML with SVG charts, CSV, JSON).
"""

from __future__ import annotations

from typing import Literal

from hub.report.document import document, dumps
from hub.report.figures import Figures, build
from hub.report.language import Lang
from hub.report.markdown import markdown
from hub.report.period import Period, cadence_period, resolve
from hub.report.spreadsheet import spreadsheet
from hub.report.webpage import webpage

Format = Literal["md", "html", "csv", "json"]
FORMATS: tuple[Format, ...] = ("md", "html", "csv", "json")


def render(f: Figures, fmt: Format, lang: Lang) -> str:
    """The report in one format and language."""
    if fmt == "md":
        return markdown(f, lang)
    if fmt == "html":
        return webpage(f, lang)
    if fmt == "csv":
        return spreadsheet(f)
    return dumps(document(f, lang)) + "\n"


__all__ = ["FORMATS", "Figures", "Format", "Period", "build", "cadence_period", "document", "render", "resolve"]
