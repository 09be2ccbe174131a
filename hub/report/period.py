"""Reporting periods: the progress reports' June/December cadence by default, any dates on request.

A period is a closed range of UTC days, compared with the period of the same length just before
it. Whole-month periods step back by whole months (December-May before June-November), others by
days, so "the previous period" is always what a reader of the report would expect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from hub.errors import InputError

CADENCE_MONTHS = (6, 12)  # progress reports go to both Councils in June and December
# Days a period may name: the exchanges began in 2016, and a period and the one before it must stay
# in the calendar (0001-01-01 has no day before it) and small enough to chart month by month.
FIRST_DAY = date(1990, 1, 1)
LAST_DAY = date(2099, 12, 31)


@dataclass(frozen=True)
class Period:
    """A closed range of days, `first` to `last` inclusive."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise InputError(f"{self.last} is before `from` {self.first}", field="to")

    @property
    def days(self) -> int:
        """How many days the period spans."""
        return (self.last - self.first).days + 1

    @property
    def whole_months(self) -> int | None:
        """The number of calendar months when the period is made of whole months, else None."""
        if self.first.day != 1 or (self.last + timedelta(days=1)).day != 1:
            return None
        end = self.last + timedelta(days=1)
        return (end.year - self.first.year) * 12 + end.month - self.first.month

    def previous(self) -> Period:
        """The period of the same length that ends the day before this one starts."""
        months = self.whole_months
        if months is not None:
            start = add_months(self.first, -months)
            return Period(start, self.first - timedelta(days=1))
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def months(self) -> list[str]:
        """The months the period touches, as YYYY-MM."""
        out: list[str] = []
        cursor = self.first.replace(day=1)
        while cursor <= self.last:
            out.append(cursor.strftime("%Y-%m"))
            cursor = add_months(cursor, 1)
        return out


def add_months(day: date, months: int) -> date:
    """The first of the month `months` after (or before) `day`'s month; `day` must be a first."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def cadence_period(today: date) -> Period:
    """The half-year of the reports' cadence that holds `today`: 1 June-30 November or 1 December-31 May."""
    if today.month >= CADENCE_MONTHS[1]:
        first = date(today.year, CADENCE_MONTHS[1], 1)
    elif today.month >= CADENCE_MONTHS[0]:
        first = date(today.year, CADENCE_MONTHS[0], 1)
    else:
        first = date(today.year - 1, CADENCE_MONTHS[1], 1)
    return Period(first, add_months(first, 6) - timedelta(days=1))


def parse_day(text: str, field: str) -> date:
    """A YYYY-MM-DD date from the command line or a query string; InputError naming `field` if not."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{text!r} is not a date (YYYY-MM-DD)", field=field) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InputError(f"{text} is out of range ({FIRST_DAY} to {LAST_DAY})", field=field)
    return day


def resolve(first: str | None, last: str | None, today: date) -> Period:
    """The period asked for: both ends given, one end with the other from the cadence, or the current half-year."""
    if first is None and last is None:
        return cadence_period(today)
    if first is None:
        end = parse_day(last or "", "to")
        return Period(cadence_period(end).first, end)
    start = parse_day(first, "from")
    if last is None:
        return Period(start, max(today, start))
    return Period(start, parse_day(last, "to"))
