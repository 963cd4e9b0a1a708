"""Understand when a patient wants to come in, written in their own words.

Pure Python (stdlib + dateutil), English and basic Spanish, linear-time on any input.

Public API::

    parse_when(text, now) -> WhenPreference
    parse_time_of_day(text) -> time | None
    parse_date_of_birth(text, today) -> date | None

Conventions (what the validator and scheduler can rely on):

* ``now`` is timezone-aware clinic local time; the clinic's today is ``now.date()``.
* Weeks run Monday-Sunday. A bare weekday ("monday") is the next one strictly after
  today: said on a Monday it means next week's. "this tuesday" is this week's Tuesday
  if today or later, else the coming one. "next tuesday" is the Tuesday of next
  calendar week (said on Wednesday Dec 2: Tuesday Dec 8; "next friday" is Dec 11
  while "friday"/"this friday" is Dec 4). "tuesday next week" / "next week tuesday"
  land in next week too; "tuesday after next" adds a week; "a week from tuesday" is
  the bare Tuesday + 7. Spanish "el martes que viene"/"el próximo martes" is read as
  the coming Tuesday (the usual Spanish meaning).
* "the 9th" is never past: this month's if today or later, else next month's.
  A month/day without a year is this year's if upcoming; if it passed within the last
  ~3 months it is reported as ``past_date`` (a slip, "Dec 1" said on Dec 2), otherwise
  it is next year's ("March 9" said in November). Numeric dates are US month/day
  ("12/9" = December 9) unless only day/month is possible ("13/12").
* Ranges: "this week" = today..Sunday, "next week" = Mon..Sun, "weekend" = Sat..Sun
  (Sunday closure is the scheduler's job), "early/mid/late next week" = Mon-Wed /
  Tue-Thu / Thu-Sat, "early/mid/late december" = 1-10 / 11-20 / 21-end, "next month" =
  the whole month; ranges that include today start today.
* "in 3 days"/"in two weeks" are single days; "within two weeks"/"next few days" are
  ranges. Several days mentioned are united into one range; weekdays offered as
  alternatives ("monday or friday") also fill ``weekdays``.
* Parts of the day: morning 08-12, afternoon 12-17, evening 16-20, lunchtime 12-13,
  first thing 08-09:30, end of day 15-17, after work/school from 15:00. "around 10"
  = exact 10:00 with a 09:30-10:30 window. Bare hours: 1-7 PM, 8-11 AM, 12 noon;
  explicit am/pm always wins.
* Negation: "not monday", "can't do mornings", "monday doesn't work", "I work
  afternoons", "away next week" exclude what they name (weekday filter, the other part
  of the day, or "from the day after" for excluded ranges); "can't come until 3" = from 3.
* The patient's story is never a preference: onsets ("since yesterday", "started
  monday", "on and off since march"), durations ("for a week now", "the past few
  days", "2 weeks ago"), past visits ("my last visit was in june"), the clinic's advice
  ("the doctor said come back in 2 weeks") and when a symptom happens ("my knee hurts
  at night", "pain after eating") are dropped; "can I come at night?" still asks for
  the evening. The words are in ``history_words.yml`` (content staff edit it; see
  ``_history``). Other past mentions next to future ones are history too ("my
  appointment was yesterday, can I come monday"); ``past_date`` is raised only when
  nothing upcoming was asked for.
* ``problems`` codes: ``past_date``, ``past_time`` (today at an hour already gone),
  ``invalid_date``, ``not_understood``, ``too_far`` (> 183 days ahead),
  ``ambiguous_time`` (an hour contradicting its part of the day, "3 in the morning"),
  ``conflicting_dates`` ("friday the 9th" when the 9th is a Wednesday and no month
  within two has a Friday the 9th).
* ``matched`` is True only when something was understood and no problem needs
  re-asking; ``understood`` tells whether anything date/time-like was found at all.
"""

from __future__ import annotations

from datetime import datetime, time, timezone

from ._dob import parse_date_of_birth
from ._grammar import scan
from ._items import ClockRef, LooseNumber
from ._model import (
    AMBIGUOUS_TIME,
    CONFLICTING_DATES,
    INVALID_DATE,
    NOT_UNDERSTOOD,
    PAST_DATE,
    PAST_TIME,
    PROBLEM_CODES,
    TOO_FAR,
    WhenPreference,
    format_day,
    format_time,
)
from ._resolve import resolve
from ._tokens import tokenize

__all__ = [
    "WhenPreference",
    "parse_when",
    "parse_time_of_day",
    "parse_date_of_birth",
    "format_time",
    "format_day",
    "PROBLEM_CODES",
    "PAST_DATE",
    "PAST_TIME",
    "INVALID_DATE",
    "NOT_UNDERSTOOD",
    "TOO_FAR",
    "AMBIGUOUS_TIME",
    "CONFLICTING_DATES",
]

_REFERENCE_NOW = datetime(2000, 1, 3, 0, 0, tzinfo=timezone.utc)


def parse_when(text: str, now: datetime) -> WhenPreference:
    """Turn a patient's free-text "when" into a searchable preference plus problems to re-ask."""
    tokens = tokenize(text or "")
    items = scan(tokens, now.date())
    return resolve(items, tokens, now)


def parse_time_of_day(text: str) -> time | None:
    """The single clock time in a reply like "3", "half past 4", "10am" (None if there isn't one)."""
    tokens = tokenize(text or "")
    items = scan(tokens, _REFERENCE_NOW.date())
    clocks = [i for i in items if isinstance(i, (ClockRef, LooseNumber))]
    if not clocks:
        return None
    result = resolve(items, tokens, _REFERENCE_NOW)
    return result.exact_time
