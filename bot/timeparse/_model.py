"""The parser's answer: what the patient asked for, plus what a validator must re-ask."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time

from ._lexicon import WINDOWS

PAST_DATE = "past_date"
PAST_TIME = "past_time"
INVALID_DATE = "invalid_date"
NOT_UNDERSTOOD = "not_understood"
TOO_FAR = "too_far"
AMBIGUOUS_TIME = "ambiguous_time"
CONFLICTING_DATES = "conflicting_dates"

PROBLEM_CODES: tuple[str, ...] = (
    PAST_DATE,
    PAST_TIME,
    INVALID_DATE,
    NOT_UNDERSTOOD,
    TOO_FAR,
    AMBIGUOUS_TIME,
    CONFLICTING_DATES,
)

_WINDOW_PHRASES: dict[tuple[time | None, time | None], str] = {
    WINDOWS["morning"]: "in the morning",
    WINDOWS["afternoon"]: "in the afternoon",
    WINDOWS["evening"]: "in the evening",
    WINDOWS["lunch"]: "at lunchtime",
    WINDOWS["first_thing"]: "first thing in the morning",
    WINDOWS["end_of_day"]: "at the end of the day",
    WINDOWS["early_morning"]: "early in the morning",
    WINDOWS["late_morning"]: "late in the morning",
    WINDOWS["early_afternoon"]: "early in the afternoon",
    WINDOWS["late_afternoon"]: "late in the afternoon",
}
_WEEKDAY_PLURALS = ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays")


def format_time(value: time) -> str:
    """Say a clock time the way a receptionist would: "3 PM", "9:30 AM", "noon"."""
    if value == time(12):
        return "noon"
    if value == time(0):
        return "midnight"
    hour = value.hour % 12 or 12
    suffix = "AM" if value.hour < 12 else "PM"
    if value.minute:
        return f"{hour}:{value.minute:02d} {suffix}"
    return f"{hour} {suffix}"


def format_day(value: date, reference: date | None = None) -> str:
    """Say a date as "Tuesday, December 8", adding the year only when it is not this year."""
    text = f"{value:%A}, {value:%B} {value.day}"
    if reference is not None and value.year != reference.year:
        text += f", {value.year}"
    return text


def _join_or(words: list[str]) -> str:
    """Join alternatives as English does: "A", "A or B", "A, B or C"."""
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " or " + words[-1]


@dataclass(frozen=True)
class WhenPreference:
    """When a patient would like to come in; empty fields mean "no constraint given".

    Dates are an inclusive range (a single day has ``start_date == end_date``;
    ``end_date`` is None for open-ended "from Monday on"). ``earliest``/``latest`` are a
    time-of-day window, ``exact_time`` a requested clock time (``approximate`` when the
    patient said "around"). ``weekdays`` restricts the range to those weekdays
    (Monday=0); empty means any day. ``problems`` holds machine codes a validator
    must re-ask about (see ``PROBLEM_CODES``).
    """

    start_date: date | None = None
    end_date: date | None = None
    earliest: time | None = None
    latest: time | None = None
    exact_time: time | None = None
    asap: bool = False
    problems: tuple[str, ...] = ()
    weekdays: tuple[int, ...] = ()
    approximate: bool = False
    reference_date: date | None = field(default=None, compare=False, repr=False)

    @property
    def understood(self) -> bool:
        """True when any date, time, weekday or urgency was recognised (even if unusable)."""
        return bool(
            self.asap
            or self.start_date is not None
            or self.end_date is not None
            or self.earliest is not None
            or self.latest is not None
            or self.exact_time is not None
            or self.weekdays
        )

    @property
    def matched(self) -> bool:
        """True when the answer can go straight to the scheduler without re-asking."""
        return self.understood and not self.problems

    def describe(self) -> str:
        """Plain-English echo of the preference, e.g. "Tuesday, December 8, in the afternoon"."""
        parts = [p for p in (self._asap_text(), self._date_text(), self._time_text()) if p]
        if not parts:
            return "no date or time"
        return ", ".join(parts)

    def describe_time(self) -> str:
        """Only the time-of-day part, e.g. "in the afternoon", "around 10 AM" ("" if none)."""
        return self._time_text()

    def _asap_text(self) -> str:
        """The urgency part of :meth:`describe`."""
        return "as soon as possible" if self.asap else ""

    def _date_text(self) -> str:
        """The calendar part of :meth:`describe`."""
        ref = self.reference_date
        text = ""
        if self.start_date is not None and self.end_date == self.start_date:
            text = format_day(self.start_date, ref)
        elif self.start_date is not None and self.end_date is not None:
            text = f"between {format_day(self.start_date, ref)} and {format_day(self.end_date, ref)}"
        elif self.start_date is not None:
            text = f"from {format_day(self.start_date, ref)} on"
        elif self.end_date is not None:
            text = f"by {format_day(self.end_date, ref)}"
        days = self._weekday_text()
        if days and text and self.start_date != self.end_date:
            return f"{text} ({days})"
        return text or days

    def _weekday_text(self) -> str:
        """Name the allowed weekdays, if the patient limited them."""
        if not self.weekdays:
            return ""
        if self.weekdays == (0, 1, 2, 3, 4):
            return "on a weekday"
        if self.weekdays == (5, 6):
            return "on a weekend"
        return "on " + _join_or([_WEEKDAY_PLURALS[d] for d in self.weekdays])

    def _time_text(self) -> str:
        """The time-of-day part of :meth:`describe`."""
        if self.exact_time is not None:
            word = "around" if self.approximate else "at"
            return f"{word} {format_time(self.exact_time)}"
        window = (self.earliest, self.latest)
        if window in _WINDOW_PHRASES:
            return _WINDOW_PHRASES[window]
        if self.earliest is not None and self.latest is not None:
            return f"between {format_time(self.earliest)} and {format_time(self.latest)}"
        if self.earliest is not None:
            return f"after {format_time(self.earliest)}"
        if self.latest is not None:
            return f"before {format_time(self.latest)}"
        return ""
