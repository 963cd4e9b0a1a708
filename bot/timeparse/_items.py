"""What the grammar found, before resolving it against each other and the clinic's today."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass
class Item:
    """Base for every finding: the token span [start, end) it came from, and negation."""

    start: int
    end: int
    negated: bool = field(default=False, init=False)


@dataclass
class DateSpan(Item):
    """A concrete day or range of days ("tomorrow", "next week", "December 9")."""

    first: date
    last: date | None
    kind: str = "day"  # day | week | weekend | month | range
    week_anchor: date | None = None  # Monday of the week, so "tuesday" can land inside it
    month_anchor: tuple[int, int] | None = None  # (year, month), for "the 9th of next month"
    explicit: bool = False  # a written calendar date, checked against a nearby weekday
    bound: str | None = None  # after | from | before | by


@dataclass
class WeekdayRef(Item):
    """A weekday name with its modifier; resolved late because context may refine it."""

    weekday: int
    mode: str = "bare"  # bare | this | next | last | after_next
    plural: bool = False  # "mondays": a recurring preference, not one date
    extra_days: int = 0  # "a week from tuesday" adds 7
    bound: str | None = None


@dataclass
class DayOfMonthRef(Item):
    """ "the 9th" with no month; resolved late so "next month" nearby can place it."""

    day: int
    bound: str | None = None


@dataclass
class ClockRef(Item):
    """A clock time as written; am/pm is settled late, using nearby "morning"/"evening"."""

    hour: int
    minute: int
    meridiem: str | None = None  # am | pm | None
    role: str = "exact"  # exact | around | after | before
    hint: str | None = None  # period phrase attached to this clock ("3 in the afternoon")
    explicit: bool = False  # written unmistakably as a time (colon, am/pm, o'clock, ish)


@dataclass
class WindowRef(Item):
    """A named part of the day ("morning", "after work", "lunchtime")."""

    name: str


@dataclass
class Flag(Item):
    """A bare signal: asap, invalid date, weekdays-only, weekends-only."""

    name: str


@dataclass
class LooseNumber(Item):
    """A number that is a time only if context says so ("tomorrow 3" yes, "2 kids" no)."""

    hour: int
    minute: int
