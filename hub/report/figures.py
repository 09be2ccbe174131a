"""The figures of a report: one SQL aggregation over the ledger records for the period and the one before.

Every number a report prints is a sum over `rows` (this period) or `previous_rows`: rows of
(day, area, kind, direction, decision, n), the same shape `hub counts --json` prints, so any figure
can be compared with the live counts and traced with `hub audit list`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date

from hub.core.decision import Decision
from hub.ledger import CountRow, Ledger
from hub.report.cooperation import Cooperation
from hub.report.cooperation import read as read_cooperation
from hub.report.period import Period
from schemas.common import Area, Kind

EXCHANGES = (Decision.DELIVERED.value, Decision.UPDATED.value)
"""An exchange is a submission that crossed to the other side: a new item or a newer version."""

DIMENSIONS = ("area", "kind", "direction", "decision")
_COLUMN = {"area": 0, "kind": 1, "direction": 2, "decision": 3}  # positions in a Key
_ORDER = {
    "area": [a.value for a in Area],
    "kind": [k.value for k in Kind],
    "direction": ["EU->NATO", "NATO->EU"],
    "decision": [d.value for d in Decision],
}


Key = tuple[str, str, str, str]
"""(area, kind, direction, decision): a count row without its day."""


@dataclass(frozen=True)
class Figures:
    """The counts of one period and the previous one, with the ledger head they were read at."""

    period: Period
    previous: Period
    rows: list[CountRow]
    previous_rows: list[CountRow]
    head: tuple[int, str]
    today: date
    cooperation: Cooperation = field(default_factory=Cooperation)  # per proposal, and paired assessments
    # The rows summed over days (and over months), so that each figure sums a few hundred keys, not every day.
    _now: dict[Key, int] = field(init=False, repr=False)
    _before: dict[Key, int] = field(init=False, repr=False)
    _months: dict[tuple[str, Key], int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        months: dict[tuple[str, Key], int] = defaultdict(int)
        for day, area, kind, direction, decision, n in (*self.previous_rows, *self.rows):
            months[(day[:7], (area, kind, direction, decision))] += n
        object.__setattr__(self, "_now", _by_key(self.rows))
        object.__setattr__(self, "_before", _by_key(self.previous_rows))
        object.__setattr__(self, "_months", dict(months))

    def total(self, previous: bool = False, **match: Collection[str] | str) -> int:
        """How many decisions match every `dimension=value(s)` given, e.g. `decision=EXCHANGES, kind="misp_event"`."""
        return sum(n for _, n in _matching(self._before if previous else self._now, match))

    def by(self, dimension: str, previous: bool = False, **match: Collection[str] | str) -> dict[str, int]:
        """Decisions per value of `dimension` (area, kind, direction, decision), among those that match."""
        col = _COLUMN[dimension]
        out: dict[str, int] = defaultdict(int)
        for key, n in _matching(self._before if previous else self._now, match):
            out[key[col]] += n
        return dict(sorted(out.items(), key=lambda kv: order(dimension, kv[0])))

    def grid(self, dimension: str, previous: bool = False) -> dict[str, dict[str, int]]:
        """Per value of `dimension`, the decisions it got (every decision present)."""
        col = _COLUMN[dimension]
        out: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys((d.value for d in Decision), 0))
        for key, n in (self._before if previous else self._now).items():
            out[key[col]][key[3]] += n
        return dict(sorted(out.items(), key=lambda kv: order(dimension, kv[0])))

    def monthly(self, dimension: str, decisions: Collection[str] = EXCHANGES) -> dict[str, dict[str, int]]:
        """Per value of `dimension`, decisions per month (YYYY-MM) over the previous and this period."""
        months = Period(self.previous.first, self.period.last).months()
        col = _COLUMN[dimension]
        out: dict[str, dict[str, int]] = {}
        for (m, key), n in self._months.items():
            if key[3] in decisions:
                out.setdefault(key[col], dict.fromkeys(months, 0))[m] += n
        return dict(sorted(out.items(), key=lambda kv: order(dimension, kv[0])))


def order(dimension: str, value: str) -> tuple[int, str]:
    """Sort key: the reports' order of areas (the 2016 statement's), kinds and decisions; unknown last."""
    known = _ORDER.get(dimension, [])
    return (known.index(value) if value in known else len(known), value)


def build(ledger: Ledger, period: Period, today: date) -> Figures:
    """Read the figures of `period` and the previous one in one aggregation over the ledger."""
    previous = period.previous()
    head = ledger.head()
    rows = ledger.recount(previous.first.isoformat(), period.last.isoformat())
    start = period.first.isoformat()
    return Figures(
        period=period,
        previous=previous,
        rows=[r for r in rows if r[0] >= start],
        previous_rows=[r for r in rows if r[0] < start],
        head=head,
        today=today,
        cooperation=read_cooperation(ledger, period),
    )


def _by_key(rows: list[CountRow]) -> dict[Key, int]:
    out: dict[Key, int] = defaultdict(int)
    for _day, area, kind, direction, decision, n in rows:
        out[(area, kind, direction, decision)] += n
    return dict(out)


def _matching(counts: dict[Key, int], match: Mapping[str, Collection[str] | str]) -> list[tuple[Key, int]]:
    wanted = {_COLUMN[k]: {v} if isinstance(v, str) else set(v) for k, v in match.items()}
    return [(key, n) for key, n in counts.items() if all(key[c] in vals for c, vals in wanted.items())]
