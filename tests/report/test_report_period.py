"""Reporting periods: the June/December cadence, the previous period of the same length, any dates."""

from __future__ import annotations

from datetime import date

import pytest

from hub.errors import InputError
from hub.report.period import Period, cadence_period, resolve


@pytest.mark.parametrize(
    ("today", "first", "last"),
    [
        (date(2026, 11, 22), date(2026, 6, 1), date(2026, 11, 30)),
        (date(2026, 6, 1), date(2026, 6, 1), date(2026, 11, 30)),
        (date(2026, 12, 1), date(2026, 12, 1), date(2027, 5, 31)),
        (date(2027, 2, 28), date(2026, 12, 1), date(2027, 5, 31)),
        (date(2027, 5, 31), date(2026, 12, 1), date(2027, 5, 31)),
    ],
)
def test_the_default_period_is_the_half_year_of_the_reports_cadence(today, first, last):
    assert cadence_period(today) == Period(first, last)
    assert resolve(None, None, today) == Period(first, last)


def test_whole_month_periods_step_back_by_months_others_by_days():
    assert Period(date(2026, 6, 1), date(2026, 11, 30)).previous() == Period(date(2025, 12, 1), date(2026, 5, 31))
    assert Period(date(2024, 3, 1), date(2024, 3, 31)).previous() == Period(date(2024, 2, 1), date(2024, 2, 29))
    assert Period(date(2018, 1, 1), date(2018, 12, 31)).previous() == Period(date(2017, 1, 1), date(2017, 12, 31))
    assert Period(date(2018, 6, 1), date(2019, 6, 17)).previous() == Period(date(2017, 5, 15), date(2018, 5, 31))
    ten = Period(date(2026, 1, 5), date(2026, 1, 14))
    assert ten.days == 10
    assert ten.previous() == Period(date(2025, 12, 26), date(2026, 1, 4))


def test_any_dates_work_and_one_end_takes_the_other_from_the_cadence_or_today():
    today = date(2026, 11, 22)
    assert resolve("2018-06-01", "2019-06-17", today) == Period(date(2018, 6, 1), date(2019, 6, 17))
    assert resolve("2026-09-10", None, today) == Period(date(2026, 9, 10), today)
    assert resolve(None, "2019-03-04", today) == Period(date(2018, 12, 1), date(2019, 3, 4))
    assert Period(date(2025, 11, 3), date(2026, 2, 2)).months() == ["2025-11", "2025-12", "2026-01", "2026-02"]


def test_bad_dates_are_refused_naming_the_field():
    with pytest.raises(InputError, match=r"field `from`: '2026-13-01' is not a date"):
        resolve("2026-13-01", None, date(2026, 11, 22))
    with pytest.raises(InputError, match=r"field `to`: 2026-01-01 is before `from` 2026-02-01"):
        resolve("2026-02-01", "2026-01-01", date(2026, 11, 22))
