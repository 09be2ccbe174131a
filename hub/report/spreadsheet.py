"""The report as CSV: one line per (area, kind, direction, decision), this period beside the previous one."""

from __future__ import annotations

import csv
import io

from hub.report.figures import Figures

HEADER = ["from", "to", "area", "kind", "direction", "decision", "n", "previous_n"]


def spreadsheet(f: Figures) -> str:
    """CSV text; codes rather than labels so that it sorts and filters the same in every language."""
    now: dict[tuple[str, str, str, str], int] = {}
    before: dict[tuple[str, str, str, str], int] = {}
    for rows, into in ((f.rows, now), (f.previous_rows, before)):
        for _day, area, kind, direction, decision, n in rows:
            key = (area, kind, direction, decision)
            into[key] = into.get(key, 0) + n
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(HEADER)
    for key in sorted(set(now) | set(before)):
        out.writerow([f.period.first, f.period.last, *key, now.get(key, 0), before.get(key, 0)])
    return buf.getvalue()
