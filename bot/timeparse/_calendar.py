"""Calendar arithmetic the grammar needs, each rule in one documented place."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

# A month/day without a year that passed at most this long ago is read as a past
# date the patient got wrong ("Dec 1" said on Dec 2); older ones roll to next year
# ("March 9" said in November means next March).
RECENT_PAST_DAYS = 92
# Beyond this many days ahead a request is flagged too_far (about six months).
HORIZON_DAYS = 183


def monday_of(day: date) -> date:
    """Monday of the Monday-to-Sunday week containing ``day``."""
    return day - timedelta(days=day.weekday())


def month_bounds(year: int, month: int) -> tuple[date, date]:
    """First and last day of a month."""
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def add_months(day: date, months: int) -> date:
    """Same day ``months`` later, clamped to the month's end (Jan 31 + 1 month = Feb 28)."""
    return day + relativedelta(months=months)


def safe_date(year: int, month: int, day: int) -> date | None:
    """A date, or None when the combination does not exist (Feb 30, month 13)."""
    try:
        return date(year, month, day)
    except ValueError:
        return None


def day_exists_in_some_year(month: int, day: int) -> bool:
    """True for month/day pairs valid in at least one year (Feb 29 included)."""
    return safe_date(2000, month, day) is not None


def upcoming_weekday(today: date, weekday: int) -> date:
    """The next ``weekday`` strictly after today (a bare "monday" said on a Monday is next week's)."""
    return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)


def this_weekday(today: date, weekday: int) -> date:
    """ "this tuesday": this week's Tuesday if not yet past (today counts), else the next one."""
    candidate = monday_of(today) + timedelta(days=weekday)
    return candidate if candidate >= today else candidate + timedelta(days=7)


def next_weekday(today: date, weekday: int) -> date:
    """ "next tuesday": the Tuesday of next calendar week (Monday-start weeks)."""
    return monday_of(today) + timedelta(days=7 + weekday)


def last_weekday(today: date, weekday: int) -> date:
    """ "last tuesday": the most recent Tuesday strictly before today."""
    return today - timedelta(days=(today.weekday() - weekday - 1) % 7 + 1)


def resolve_weekday(today: date, weekday: int, mode: str) -> date:
    """Turn a weekday plus its modifier (bare/this/next/last/after_next) into a date."""
    if mode == "this":
        return this_weekday(today, weekday)
    if mode == "next":
        return next_weekday(today, weekday)
    if mode == "after_next":
        return next_weekday(today, weekday) + timedelta(days=7)
    if mode == "last":
        return last_weekday(today, weekday)
    return upcoming_weekday(today, weekday)


def month_day_without_year(today: date, month: int, day: int) -> date | None:
    """Resolve "March 9": this year's if upcoming or only recently past, else next year's."""
    this_year = safe_date(today.year, month, day)
    if this_year is not None and this_year >= today:
        return this_year
    if this_year is not None and (today - this_year).days <= RECENT_PAST_DAYS:
        return this_year
    for year in (today.year + 1, today.year + 2, today.year + 3, today.year + 4):
        candidate = safe_date(year, month, day)
        if candidate is not None:
            return candidate
    return None


def day_of_month(today: date, day: int) -> date | None:
    """Resolve "the 9th": this month's if today or later, else the next month that has it."""
    if not 1 <= day <= 31:
        return None
    for offset in range(0, 4):
        first = add_months(today.replace(day=1), offset)
        candidate = safe_date(first.year, first.month, day)
        if candidate is not None and candidate >= today:
            return candidate
    return None


def named_month(today: date, month: int) -> tuple[date, date]:
    """Resolve "in March" to the whole month: current, upcoming, or just-ended if recent."""
    if month == today.month:
        first, last = month_bounds(today.year, month)
        return today, last
    first, last = month_bounds(today.year, month)
    if first > today:
        return first, last
    if (today - last).days <= RECENT_PAST_DAYS:
        return first, last
    return month_bounds(today.year + 1, month)


def nth_weekday_of_month(year: int, month: int, weekday: int, nth: int) -> date | None:
    """The nth (1-based; -1 = last) given weekday in a month, e.g. the first Monday."""
    first, last = month_bounds(year, month)
    if nth == -1:
        return last - timedelta(days=(last.weekday() - weekday) % 7)
    candidate = first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))
    return candidate if candidate.month == month else None


def thanksgiving(year: int) -> date:
    """US Thanksgiving: the fourth Thursday of November."""
    found = nth_weekday_of_month(year, 11, 3, 4)
    assert found is not None
    return found
