"""What crossed the hub but not the last step: the refusals connectors recorded, listed for auditors.

A `sink` line is a delivery the hub made (its submission id is in the ledger) that the
destination refused or could not take, with the destination's reason; a `source` line is an event
a source found but could not submit (too large, not representable). Reasons are the peers' own
words, so CSV cells that a spreadsheet would run as a formula are neutralised (OWASP's rule).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from typing import Any, TextIO

from hub.ledger import Ledger
from hub.ledger.refusals import COLUMNS, Refusal, refusals

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what spreadsheets read as the start of a formula (OWASP)


def listed(ledger: Ledger, first_day: str | None, last_day: str | None, **match: str | None) -> Iterable[Refusal]:
    """The refusals recorded from `first_day` to `last_day`, matching `side` and `role` when given."""
    return refusals(ledger, first_day, last_day, {k: v for k, v in match.items() if v})


def cell(value: Any) -> str:
    """A CSV cell a spreadsheet shows as text: a leading formula character gets a `'` before it."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def write_csv(lines: Iterable[Refusal], out: TextIO) -> int:
    """Write the refusals as CSV; returns how many."""
    w = csv.writer(out, lineterminator="\n")
    w.writerow(COLUMNS)
    n = 0
    for r in lines:
        w.writerow([cell(getattr(r, c)) for c in COLUMNS])
        n += 1
    return n


def write_json(lines: Iterable[Refusal], filters: dict[str, Any], out: TextIO) -> int:
    """Write `{"filters": ..., "refusals": [...], "count": n}`, streaming; returns how many."""
    out.write('{"filters": ' + json.dumps(filters) + ', "refusals": [')
    n = 0
    for r in lines:
        out.write(("," if n else "") + "\n  " + json.dumps(r.as_json(), ensure_ascii=False))
        n += 1
    out.write(f'\n], "count": {n}}}\n')
    return n
