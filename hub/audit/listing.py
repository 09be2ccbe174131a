"""The exchanges behind a figure: ledger records filtered by area, kind, direction, decision and days.

Each line carries the ids, originator, time, decision and reason. The ledger holds no content; for
withheld items the listing also leaves out the content hash and tags, since a hash lets whoever
holds a candidate document confirm that it was submitted, and tags are read from the content.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

from hub.core.decision import UNKNOWN, Decision
from hub.errors import InputError
from hub.ledger import Ledger, Record
from hub.report.period import parse_day
from hub.report.spreadsheet import row
from schemas.common import Area, Kind

FIELDS = (
    "seq", "submission_id", "decided_at", "day", "area", "kind", "direction", "decision", "rule", "reason",
    "originator", "source_id", "version", "content_hash", "tags", "hash",
)  # fmt: skip
CHOICES: dict[str, tuple[str, ...]] = {
    "area": (*(a.value for a in Area), UNKNOWN),
    "kind": (*(k.value for k in Kind), UNKNOWN),
    "direction": ("EU->NATO", "NATO->EU", UNKNOWN),
    "decision": tuple(d.value for d in Decision),
}
WITHHELD_HIDDEN = ("content_hash", "tags")  # what a withheld item's line leaves out, see the module docstring


@dataclass(frozen=True)
class Filters:
    """Which records to list: accepted values per dimension (empty means any) and a day range."""

    match: dict[str, tuple[str, ...]] = field(default_factory=dict)
    first_day: str | None = None
    last_day: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The filters as the JSON listing states them."""
        return {**{k: list(v) for k, v in self.match.items()}, "from": self.first_day, "to": self.last_day}


def filters(given: Mapping[str, Sequence[str] | None], first: str | None, last: str | None) -> Filters:
    """Filters from command-line or query values ("a,b" or repeated); InputError naming a bad field."""
    match: dict[str, tuple[str, ...]] = {}
    for dim, raw in given.items():
        values = [v.strip() for item in raw or () for v in item.split(",") if v.strip()]
        for v in values:
            if v not in CHOICES[dim]:
                raise InputError(f"{v!r} is not one of {', '.join(CHOICES[dim])}", field=dim)
        if values:
            match[dim] = tuple(dict.fromkeys(values))
    first_day = parse_day(first, "from").isoformat() if first else None
    last_day = parse_day(last, "to").isoformat() if last else None
    return Filters(match, first_day, last_day)


def listed(ledger: Ledger, f: Filters) -> Iterator[dict[str, Any]]:
    """The matching records as listing lines, in chain order."""
    for r in ledger.select(f.match, f.first_day, f.last_day):
        yield line(r)


def line(r: Record) -> dict[str, Any]:
    """One record as a listing line; a withheld item's content hash and tags left out."""
    data = r.as_json()
    if r.decision == Decision.WITHHELD.value:
        for name in WITHHELD_HIDDEN:
            data[name] = None
    return {k: data[k] for k in FIELDS}


def write_csv(lines: Iterable[dict[str, Any]], out: TextIO) -> int:
    """Write the lines as CSV (tags joined by spaces, cells neutralised against formulas); returns how many."""
    w = csv.writer(out, lineterminator="\r\n")  # RFC 4180; a CR or LF inside a cell is then quoted
    w.writerow(FIELDS)
    n = 0
    for d in lines:
        tags = d["tags"]
        w.writerow(row([" ".join(tags) if k == "tags" and tags else d[k] for k in FIELDS]))
        n += 1
    return n


def write_json(lines: Iterable[dict[str, Any]], f: Filters, out: TextIO) -> int:
    """Write `{"filters": ..., "records": [...], "count": n}`, streaming; returns how many."""
    out.write('{"filters": ' + json.dumps(f.as_json()) + ', "records": [')
    n = 0
    for d in lines:
        out.write(("," if n else "") + "\n  " + json.dumps(d, ensure_ascii=False))
        n += 1
    out.write(f'\n], "count": {n}}}\n')
    return n
