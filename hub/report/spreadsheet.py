"""The report as CSV: one line per (area, kind, direction, decision), this period beside the previous one."""

from __future__ import annotations

import csv
import io

from hub.report.figures import Figures

HEADER = ["from", "to", "area", "kind", "direction", "decision", "n", "previous_n"]
# OWASP's CSV injection rule: a cell starting with one of these is read as a formula by spreadsheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")  # and full-width


def cell(value: object) -> str:
    """One CSV cell as text, neutralised: a leading formula character is escaped with `'` (OWASP)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def row(values: list[object]) -> list[str]:
    """A CSV row of neutralised cells."""
    return [cell(v) for v in values]


def spreadsheet(f: Figures) -> str:
    """CSV text; codes rather than labels so that it sorts and filters the same in every language."""
    now: dict[tuple[str, str, str, str], int] = {}
    before: dict[tuple[str, str, str, str], int] = {}
    for rows, into in ((f.rows, now), (f.previous_rows, before)):
        for _day, area, kind, direction, decision, n in rows:
            key = (area, kind, direction, decision)
            into[key] = into.get(key, 0) + n
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\r\n")  # RFC 4180; a CR or LF inside a cell is then quoted
    out.writerow(HEADER)
    for key in sorted(set(now) | set(before)):
        out.writerow(row([f.period.first, f.period.last, *key, now.get(key, 0), before.get(key, 0)]))
    return buf.getvalue()
