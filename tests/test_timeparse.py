"""Date/time understanding on real-looking patient phrasings.

Every case runs against a fixed clinic "now": Wednesday 2026-12-02 10:15 in
America/New_York. Each expectation lists the whole resolved preference (fields not
named must be empty), so a phrase that starts leaking extra constraints fails too.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.timeparse import (
    WhenPreference,
    parse_date_of_birth,
    parse_time_of_day,
    parse_when,
)

NOW = datetime(2026, 12, 2, 10, 15, tzinfo=ZoneInfo("America/New_York"))
TODAY = NOW.date()


def D(month: int, day: int, year: int | None = None) -> date:
    """Shorthand for a date near NOW: January-May default to 2027, June-December to 2026."""
    return date(year or (2027 if month <= 5 else 2026), month, day)


def T(hour: int, minute: int = 0) -> time:
    """Shorthand for a time of day."""
    return time(hour, minute)


def expect(
    *,
    day: date | None = None,
    start: date | None = None,
    end: date | None = None,
    earliest: time | None = None,
    latest: time | None = None,
    exact: time | None = None,
    asap: bool = False,
    problems: tuple[str, ...] = (),
    weekdays: tuple[int, ...] = (),
) -> dict[str, Any]:
    """The full expected preference; ``day`` sets a single-day range."""
    if day is not None:
        start = end = day
    return {
        "start_date": start,
        "end_date": end,
        "earliest": earliest,
        "latest": latest,
        "exact_time": exact,
        "asap": asap,
        "problems": problems,
        "weekdays": weekdays,
    }


def observed(result: WhenPreference) -> dict[str, Any]:
    """The fields a case compares."""
    return {
        "start_date": result.start_date,
        "end_date": result.end_date,
        "earliest": result.earliest,
        "latest": result.latest,
        "exact_time": result.exact_time,
        "asap": result.asap,
        "problems": result.problems,
        "weekdays": result.weekdays,
    }


MORNING: dict[str, Any] = {"earliest": T(8), "latest": T(12)}
AFTERNOON: dict[str, Any] = {"earliest": T(12), "latest": T(17)}
EVENING: dict[str, Any] = {"earliest": T(16), "latest": T(20)}
NEXT_WEEK: dict[str, Any] = {"start": D(12, 7), "end": D(12, 13)}
THIS_WEEK: dict[str, Any] = {"start": TODAY, "end": D(12, 6)}

RELATIVE_DAYS = [
    ("today", expect(day=TODAY)),
    ("Today please", expect(day=TODAY)),
    ("tonight", expect(day=TODAY, **EVENING)),
    ("tomorrow", expect(day=D(12, 3))),
    ("tmrw", expect(day=D(12, 3))),
    ("tmr", expect(day=D(12, 3))),
    ("tomorow", expect(day=D(12, 3))),
    ("tommorow", expect(day=D(12, 3))),
    ("2moro", expect(day=D(12, 3))),
    ("Tomorrow!!", expect(day=D(12, 3))),
    ("day after tomorrow", expect(day=D(12, 4))),
    ("the day after tomorrow", expect(day=D(12, 4))),
    ("in 3 days", expect(day=D(12, 5))),
    ("in three days", expect(day=D(12, 5))),
    ("in a couple of days", expect(day=D(12, 4))),
    ("in a couple days", expect(day=D(12, 4))),
    ("in a few days", expect(day=D(12, 5))),
    ("in two weeks", expect(day=D(12, 16))),
    ("in 2 weeks time", expect(day=D(12, 16))),
    ("2 weeks from now", expect(day=D(12, 16))),
    ("a week from today", expect(day=D(12, 9))),
    ("a week from monday", expect(day=D(12, 14))),
    ("a week from tuesday", expect(day=D(12, 15))),
    ("in a week or two", expect(start=D(12, 9), end=D(12, 16))),
    ("within 2 weeks", expect(start=TODAY, end=D(12, 16))),
    ("in the next few days", expect(start=TODAY, end=D(12, 5))),
    ("next week", expect(**NEXT_WEEK)),
    ("sometime next week", expect(**NEXT_WEEK)),
    ("nxt wk", expect(**NEXT_WEEK)),
    ("this week", expect(**THIS_WEEK)),
    ("end of the week", expect(start=D(12, 3), end=D(12, 5))),
    ("early next week", expect(start=D(12, 7), end=D(12, 9))),
    ("later this week", expect(start=D(12, 3), end=D(12, 5))),
    ("later in the week", expect(start=D(12, 3), end=D(12, 5))),
    ("this weekend", expect(start=D(12, 5), end=D(12, 6))),
    ("the weekend", expect(start=D(12, 5), end=D(12, 6))),
    ("over the weekend", expect(start=D(12, 5), end=D(12, 6))),
    ("next weekend", expect(start=D(12, 12), end=D(12, 13))),
    ("the week after next", expect(start=D(12, 14), end=D(12, 20))),
    ("next month", expect(start=D(1, 1), end=D(1, 31))),
    ("this month", expect(start=TODAY, end=D(12, 31))),
    ("end of the month", expect(start=D(12, 21), end=D(12, 31))),
    ("early december", expect(start=TODAY, end=D(12, 10))),
    ("mid december", expect(start=D(12, 11), end=D(12, 20))),
    ("late december", expect(start=D(12, 21), end=D(12, 31))),
    ("early january", expect(start=D(1, 1), end=D(1, 10))),
    ("sometime in january", expect(start=D(1, 1), end=D(1, 31))),
    ("the first week of january", expect(start=D(1, 1), end=D(1, 7))),
    ("the week of the 14th", expect(start=D(12, 14), end=D(12, 20))),
    ("christmas eve", expect(day=D(12, 24))),
    ("right now", expect(day=TODAY, asap=True)),
]

WEEKDAYS = [
    ("monday", expect(day=D(12, 7))),
    ("Mon", expect(day=D(12, 7))),
    ("tue", expect(day=D(12, 8))),
    ("tues", expect(day=D(12, 8))),
    ("wednesday", expect(day=D(12, 9))),  # today's weekday -> next week's
    ("weds", expect(day=D(12, 9))),
    ("wensday", expect(day=D(12, 9))),
    ("wendsday", expect(day=D(12, 9))),
    ("thu", expect(day=D(12, 3))),
    ("thur", expect(day=D(12, 3))),
    ("thurs", expect(day=D(12, 3))),
    ("thrusday", expect(day=D(12, 3))),
    ("fri", expect(day=D(12, 4))),
    ("friday", expect(day=D(12, 4))),
    ("sat", expect(day=D(12, 5))),
    ("saturday", expect(day=D(12, 5))),
    ("sun", expect(day=D(12, 6))),
    ("on tuesday", expect(day=D(12, 8))),
    ("this tuesday", expect(day=D(12, 8))),
    ("this friday", expect(day=D(12, 4))),
    ("this wednesday", expect(day=TODAY)),
    ("this coming friday", expect(day=D(12, 4))),
    ("next tuesday", expect(day=D(12, 8))),
    ("next friday", expect(day=D(12, 11))),
    ("next wednesday", expect(day=D(12, 9))),
    ("tuesday next week", expect(day=D(12, 8))),
    ("next week tuesday", expect(day=D(12, 8))),
    ("friday next week", expect(day=D(12, 11))),
    ("thursday of next week", expect(day=D(12, 10))),
    ("tuesday after next", expect(day=D(12, 15))),
    ("monday or tuesday", expect(start=D(12, 7), end=D(12, 8))),
    ("mon or wed", expect(start=D(12, 7), end=D(12, 9), weekdays=(0, 2))),
    ("monday to wednesday", expect(start=D(12, 7), end=D(12, 9))),
    ("any weekday", expect(asap=True, weekdays=(0, 1, 2, 3, 4))),
    ("weekdays only", expect(weekdays=(0, 1, 2, 3, 4))),
    ("mondays", expect(weekdays=(0,))),
    ("tuesdays or thursdays", expect(weekdays=(1, 3))),
    ("every tuesday and thursday", expect(weekdays=(1, 3))),
    ("any tuesday", expect(asap=True, weekdays=(1,))),
    ("tuesday the 8th", expect(day=D(12, 8))),
    ("friday the 11th", expect(day=D(12, 11))),
    ("first monday of january", expect(day=D(1, 4))),
    ("last monday", expect(day=D(11, 30), problems=("past_date",))),
]

CALENDAR_DATES = [
    ("the 9th", expect(day=D(12, 9))),
    ("9th", expect(day=D(12, 9))),
    ("on the 21st", expect(day=D(12, 21))),
    ("the 1st", expect(day=D(1, 1))),  # already past this month -> next month
    ("the first", expect(day=D(1, 1))),
    ("the 2nd", expect(day=TODAY)),
    ("the twenty-first", expect(day=D(12, 21))),
    ("dec 9", expect(day=D(12, 9))),
    ("Dec. 9", expect(day=D(12, 9))),
    ("december 9th", expect(day=D(12, 9))),
    ("December 9", expect(day=D(12, 9))),
    ("9 december", expect(day=D(12, 9))),
    ("9th of december", expect(day=D(12, 9))),
    ("the 9th of december", expect(day=D(12, 9))),
    ("December 15th, 2026", expect(day=D(12, 15))),
    ("12/9", expect(day=D(12, 9))),
    ("12/09", expect(day=D(12, 9))),
    ("12/9/2026", expect(day=D(12, 9))),
    ("12/9/26", expect(day=D(12, 9))),
    ("12-09", expect(day=D(12, 9))),
    ("2026-12-09", expect(day=D(12, 9))),
    ("1/5", expect(day=D(1, 5))),
    ("jan 5th", expect(day=D(1, 5))),
    ("March 9", expect(day=D(3, 9))),
    ("march 9 2027", expect(day=D(3, 9))),
    ("the 9th of next month", expect(day=D(1, 9))),
    ("next month on the 9th", expect(day=D(1, 9))),
    ("23/12", expect(day=D(12, 23))),  # day/month only when month/day is impossible
    ("new years eve", expect(day=D(12, 31))),
    ("christmas", expect(day=D(12, 25))),
]

SPANISH = [
    ("hoy", expect(day=TODAY)),
    ("mañana", expect(day=D(12, 3))),
    ("manana", expect(day=D(12, 3))),
    ("pasado mañana", expect(day=D(12, 4))),
    ("mañana por la mañana", expect(day=D(12, 3), **MORNING)),
    ("mañana en la tarde", expect(day=D(12, 3), **AFTERNOON)),
    ("hoy por la tarde", expect(day=TODAY, **AFTERNOON)),
    ("esta tarde", expect(day=TODAY, **AFTERNOON)),
    ("esta noche", expect(day=TODAY, **EVENING)),
    ("lunes", expect(day=D(12, 7))),
    ("el martes", expect(day=D(12, 8))),
    ("el miércoles", expect(day=D(12, 9))),
    ("el jueves en la mañana", expect(day=D(12, 3), **MORNING)),
    ("el viernes a las 4", expect(day=D(12, 4), exact=T(16))),
    ("el sábado", expect(day=D(12, 5))),
    ("el próximo martes", expect(day=D(12, 8))),
    ("el viernes que viene", expect(day=D(12, 4))),
    ("la próxima semana", expect(**NEXT_WEEK)),
    ("la semana que viene", expect(**NEXT_WEEK)),
    ("la semana que viene por la tarde", expect(**NEXT_WEEK, **AFTERNOON)),
    ("esta semana", expect(**THIS_WEEK)),
    ("el fin de semana", expect(start=D(12, 5), end=D(12, 6))),
    ("por la mañana", expect(**MORNING)),
    ("por la tarde", expect(**AFTERNOON)),
    ("a las 3", expect(exact=T(15))),
    ("a las 3 y media", expect(exact=T(15, 30))),
    ("a las once", expect(exact=T(11))),
    ("a la una", expect(exact=T(13))),
    ("a las 10 de la mañana", expect(exact=T(10))),
    ("a las 4 menos cuarto", expect(exact=T(15, 45))),
    ("después de las 2", expect(earliest=T(14))),
    ("antes de las 11", expect(latest=T(11))),
    ("entre la 1 y las 3", expect(earliest=T(13), latest=T(15))),
    ("a eso de las 5", expect(exact=T(17), earliest=T(16, 30), latest=T(17, 30))),
    ("10 de diciembre", expect(day=D(12, 10))),
    ("el 10 de diciembre a las 11", expect(day=D(12, 10), exact=T(11))),
    ("el 15", expect(day=D(12, 15))),
    ("en 3 días", expect(day=D(12, 5))),
    ("dentro de dos semanas", expect(day=D(12, 16))),
    ("el mes que viene", expect(start=D(1, 1), end=D(1, 31))),
    ("a principios de enero", expect(start=D(1, 1), end=D(1, 10))),
    ("lo antes posible", expect(asap=True)),
    ("lo más pronto posible", expect(asap=True)),
    ("cuanto antes", expect(asap=True)),
    ("cuando sea", expect(asap=True)),
    ("puedo ir el lunes o el martes", expect(start=D(12, 7), end=D(12, 8))),
    ("quiero una cita para el jueves en la mañana", expect(day=D(12, 3), **MORNING)),
    ("hola, tienen algo para mañana?", expect(day=D(12, 3))),
    ("después del trabajo", expect(earliest=T(15))),
    ("ayer", expect(day=D(12, 1), problems=("past_date",))),
    ("el lunes 14", expect(day=D(12, 14))),
    ("el lunes 14 de diciembre", expect(day=D(12, 14))),
    ("el martes 8", expect(day=D(12, 8))),
    ("martes a las 10:30", expect(day=D(12, 8), exact=T(10, 30))),
    ("el jueves a las 2 de la tarde", expect(day=D(12, 3), exact=T(14))),
    ("a las 8 de la noche", expect(exact=T(20))),
    ("el miércoles de la próxima semana", expect(day=D(12, 9))),
    ("a mediados de diciembre", expect(start=D(12, 11), end=D(12, 20))),
    ("a finales de mes", expect(start=D(12, 21), end=D(12, 31))),
    ("cualquier día de la semana que viene", expect(asap=True, **NEXT_WEEK)),
    ("cualquier día menos el lunes", expect(asap=True, weekdays=(1, 2, 3, 4, 5))),
    ("no puedo el lunes", expect(weekdays=(1, 2, 3, 4, 5))),
    ("hoy no, mañana", expect(day=D(12, 3))),
    ("mañana o pasado", expect(start=D(12, 3), end=D(12, 4))),
    ("antes del mediodía", expect(latest=T(12))),
    ("a primera hora", expect(earliest=T(8), latest=T(9, 30))),
    ("temprano", expect(earliest=T(8), latest=T(10))),
    ("dentro de un mes", expect(day=D(1, 2))),
    ("en una semana", expect(day=D(12, 9))),
    ("el primero de enero", expect(day=D(1, 1))),
    ("ahorita", expect(day=TODAY, asap=True)),
]

TIMES = [
    ("3", expect(exact=T(15))),
    ("3pm", expect(exact=T(15))),
    ("3 pm", expect(exact=T(15))),
    ("3 p.m.", expect(exact=T(15))),
    ("3p", expect(exact=T(15))),
    ("3:30", expect(exact=T(15, 30))),
    ("3.30pm", expect(exact=T(15, 30))),
    ("15:00", expect(exact=T(15))),
    ("1500", expect(exact=T(15))),
    ("1500 hrs", expect(exact=T(15))),
    ("330pm", expect(exact=T(15, 30))),
    ("at 3", expect(exact=T(15))),
    ("3 o'clock", expect(exact=T(15))),
    ("at 9", expect(exact=T(9))),
    ("at 12", expect(exact=T(12))),
    ("at 12:30", expect(exact=T(12, 30))),
    ("7am", expect(exact=T(7))),
    ("at 7", expect(exact=T(19))),
    ("8:15", expect(exact=T(8, 15))),
    ("around 3", expect(exact=T(15), earliest=T(14, 30), latest=T(15, 30))),
    ("around 10", expect(exact=T(10), earliest=T(9, 30), latest=T(10, 30))),
    ("about 10am", expect(exact=T(10), earliest=T(9, 30), latest=T(10, 30))),
    ("3ish", expect(exact=T(15), earliest=T(14, 30), latest=T(15, 30))),
    ("9ish", expect(exact=T(9), earliest=T(8, 30), latest=T(9, 30))),
    ("after 2", expect(earliest=T(14))),
    ("after 2pm", expect(earliest=T(14))),
    ("anytime after 3", expect(earliest=T(15), asap=True)),
    ("from 2 onwards", expect(earliest=T(14))),
    ("2 or later", expect(earliest=T(14))),
    ("before 11", expect(latest=T(11))),
    ("by noon", expect(latest=T(12))),
    ("no later than 4", expect(latest=T(16))),
    ("11 at the latest", expect(latest=T(11))),
    ("not before 10", expect(earliest=T(10))),
    ("between 1 and 3", expect(earliest=T(13), latest=T(15))),
    ("between 1-3pm", expect(earliest=T(13), latest=T(15))),
    ("between 11 and 1", expect(earliest=T(11), latest=T(13))),
    ("between 7 and 9", expect(earliest=T(7), latest=T(9))),
    ("9-11am", expect(earliest=T(9), latest=T(11))),
    ("10am-2pm", expect(earliest=T(10), latest=T(14))),
    ("3:30-4:30", expect(earliest=T(15, 30), latest=T(16, 30))),
    ("from 1 to 3", expect(earliest=T(13), latest=T(15))),
    ("noon", expect(exact=T(12))),
    ("12pm", expect(exact=T(12))),
    ("12am", expect(exact=T(0))),
    ("21:00", expect(exact=T(21))),
    ("0900", expect(exact=T(9))),
    ("9.00", expect(exact=T(9))),
    ("12 noon", expect(exact=T(12))),
    ("midday", expect(exact=T(12))),
    ("around noon", expect(exact=T(12), earliest=T(11, 30), latest=T(12, 30))),
    ("lunchtime", expect(earliest=T(12), latest=T(13))),
    ("on my lunch break", expect(earliest=T(12), latest=T(13))),
    ("after lunch", expect(earliest=T(13))),
    ("before lunch", expect(latest=T(12))),
    ("first thing", expect(earliest=T(8), latest=T(9, 30))),
    ("first thing in the morning", expect(earliest=T(8), latest=T(9, 30))),
    ("end of day", expect(earliest=T(15), latest=T(17))),
    ("end of the day", expect(earliest=T(15), latest=T(17))),
    ("after work", expect(earliest=T(15))),
    ("after school", expect(earliest=T(15))),
    ("I get off work at 4", expect(earliest=T(16))),
    ("I work until 3 so anything after that", expect(earliest=T(15))),
    ("morning", expect(**MORNING)),
    ("mornings", expect(**MORNING)),
    ("in the am", expect(**MORNING)),
    ("in the morning", expect(**MORNING)),
    ("afternoon", expect(**AFTERNOON)),
    ("afternoons are better", expect(**AFTERNOON)),
    ("pm", expect(**AFTERNOON)),
    ("in the pm", expect(**AFTERNOON)),
    ("evening", expect(**EVENING)),
    ("late morning", expect(earliest=T(10), latest=T(12))),
    ("early afternoon", expect(earliest=T(12), latest=T(14))),
    ("late afternoon", expect(earliest=T(15), latest=T(17))),
    ("half past 3 in the afternoon", expect(exact=T(15, 30))),
    ("half past 3", expect(exact=T(15, 30))),
    ("quarter past 10", expect(exact=T(10, 15))),
    ("quarter to 4", expect(exact=T(15, 45))),
    ("ten to 3", expect(exact=T(14, 50))),
    ("20 past 4", expect(exact=T(16, 20))),
    ("three thirty", expect(exact=T(15, 30))),
    ("ten am", expect(exact=T(10))),
    ("at four", expect(exact=T(16))),
    ("at eleven", expect(exact=T(11))),
    ("three o clock", expect(exact=T(15))),
    ("10 in the morning", expect(exact=T(10))),
    ("8 in the evening", expect(exact=T(20))),
    ("3 or 4", expect(exact=T(15), earliest=T(15), latest=T(16))),
    ("ok 3 works", expect(exact=T(15))),
    ("How about 4?", expect(exact=T(16))),
    ("not too early please", expect(earliest=T(10))),
]

COMBINATIONS = [
    ("next tuesday afternoon", expect(day=D(12, 8), **AFTERNOON)),
    ("tomorrow at 3", expect(day=D(12, 3), exact=T(15))),
    ("tomorrow 3", expect(day=D(12, 3), exact=T(15))),
    ("2moro at 10", expect(day=D(12, 3), exact=T(10))),
    ("tmr am", expect(day=D(12, 3), **MORNING)),
    ("tmrw pm", expect(day=D(12, 3), **AFTERNOON)),
    ("tomorrow night", expect(day=D(12, 3), **EVENING)),
    ("thursday morning or friday", expect(start=D(12, 3), end=D(12, 4), **MORNING)),
    ("the 9th around 10am", expect(day=D(12, 9), exact=T(10), earliest=T(9, 30), latest=T(10, 30))),
    ("any morning next week", expect(**NEXT_WEEK, **MORNING)),
    ("as soon as possible, mornings are better", expect(asap=True, **MORNING)),
    ("asap, afternoons preferred", expect(asap=True, **AFTERNOON)),
    ("anytime this week", expect(asap=True, **THIS_WEEK)),
    ("any day next week", expect(asap=True, **NEXT_WEEK)),
    ("hi um can i come in sometime next week maybe thursday after work", expect(day=D(12, 10), earliest=T(15))),
    ("Hi, I'd like to book an appointment for next Tuesday afternoon if possible", expect(day=D(12, 8), **AFTERNOON)),
    ("can i come in tmrw morning around 10?", expect(day=D(12, 3), exact=T(10), earliest=T(9, 30), latest=T(10, 30))),
    ("do you have anything on friday after 2", expect(day=D(12, 4), earliest=T(14))),
    ("I can do monday or wednesday after 4pm", expect(start=D(12, 7), end=D(12, 9), earliest=T(16), weekdays=(0, 2))),
    ("hello my son needs a checkup, is thursday at 9:30 ok?", expect(day=D(12, 3), exact=T(9, 30))),
    ("Could I get in sometime this week? Mornings are best", expect(**THIS_WEEK, **MORNING)),
    ("Thursday or Friday next week, in the morning", expect(start=D(12, 10), end=D(12, 11), **MORNING)),
    ("how about dec 15 at 2", expect(day=D(12, 15), exact=T(14))),
    ("December 15th, 2026 at 2:00 PM", expect(day=D(12, 15), exact=T(14))),
    ("12/15 2pm", expect(day=D(12, 15), exact=T(14))),
    ("i'd prefer the afternoon of the 18th", expect(day=D(12, 18), **AFTERNOON)),
    ("friday 10", expect(day=D(12, 4), exact=T(10))),
    ("monday 2:30", expect(day=D(12, 7), exact=T(14, 30))),
    ("wed @ 2", expect(day=D(12, 9), exact=T(14))),
    ("thurs 10:30am", expect(day=D(12, 3), exact=T(10, 30))),
    ("Fri 3p", expect(day=D(12, 4), exact=T(15))),
    ("sat morning", expect(day=D(12, 5), **MORNING)),
    ("next monday at 8", expect(day=D(12, 7), exact=T(8))),
    ("on monday 8 am", expect(day=D(12, 7), exact=T(8))),
    ("monday 9-11", expect(day=D(12, 7), earliest=T(9), latest=T(11))),
    ("monday 14", expect(day=D(12, 14))),
    ("monday 10", expect(day=D(12, 7), exact=T(10))),
    ("2026-12-09T10:00", expect(day=D(12, 9), exact=T(10))),
    ("10am on the 9th", expect(day=D(12, 9), exact=T(10))),
    ("MAÑANA A LAS 3PM", expect(day=D(12, 3), exact=T(15))),
    ("tmrw@3", expect(day=D(12, 3), exact=T(15))),
    ("tmrw3pm", expect(day=D(12, 3), exact=T(15))),
    ("9th at 9", expect(day=D(12, 9), exact=T(9))),
    ("tonight at 7", expect(day=TODAY, exact=T(19), **EVENING)),
    ("this afternoon", expect(day=TODAY, **AFTERNOON)),
    ("can you fit me in today at 4", expect(day=TODAY, exact=T(16))),
    ("tomorrow, preferably late morning", expect(day=D(12, 3), earliest=T(10), latest=T(12))),
    ("during lunch tomorrow", expect(day=D(12, 3), earliest=T(12), latest=T(13))),
    ("in the evening after 6", expect(earliest=T(18), latest=T(20))),
    ("next tuesday at three thirty", expect(day=D(12, 8), exact=T(15, 30))),
    (
        "tuesday at 3 or wednesday at 10",
        expect(start=D(12, 8), end=D(12, 9), exact=T(15), earliest=T(10), latest=T(15)),
    ),
    ("I'm free every tuesday and thursday after 3", expect(earliest=T(15), weekdays=(1, 3))),
    ("yes tomorrow works", expect(day=D(12, 3))),
    ("early next week, mornings", expect(start=D(12, 7), end=D(12, 9), **MORNING)),
    ("whenever, but afternoons are better", expect(asap=True, **AFTERNOON)),
    ("first available appointment on a friday", expect(asap=True, day=D(12, 4))),
]

NEGATIONS = [
    ("not monday", expect(weekdays=(1, 2, 3, 4, 5))),
    ("any day but monday", expect(asap=True, weekdays=(1, 2, 3, 4, 5))),
    ("can't do mornings", expect(earliest=T(12))),
    ("mornings dont work for me", expect(earliest=T(12))),
    ("not this week", expect(start=D(12, 7))),
    ("I'm busy tuesday, wednesday works", expect(day=D(12, 9))),
    ("monday doesn't work, tuesday afternoon?", expect(day=D(12, 8), **AFTERNOON)),
    ("any afternoon this week except friday", expect(**THIS_WEEK, **AFTERNOON, weekdays=(2, 3, 5))),
]

ASAP = [
    ("asap", expect(asap=True)),
    ("ASAP please", expect(asap=True)),
    ("a.s.a.p.", expect(asap=True)),
    ("as soon as possible", expect(asap=True)),
    ("as soon as you can", expect(asap=True)),
    ("earliest", expect(asap=True)),
    ("the earliest you have", expect(asap=True)),
    ("first available", expect(asap=True)),
    ("next available please", expect(asap=True)),
    ("whenever", expect(asap=True)),
    ("whenever is fine", expect(asap=True)),
    ("soonest", expect(asap=True)),
    ("soon please", expect(asap=True)),
    ("the sooner the better", expect(asap=True)),
    ("any time", expect(asap=True)),
    ("anytime", expect(asap=True)),
    ("whatever works", expect(asap=True)),
    ("no preference", expect(asap=True)),
    ("i need to see the doctor asap, its urgent", expect(asap=True)),
]

PROBLEMS = [
    ("yesterday", expect(day=D(12, 1), problems=("past_date",))),
    ("last week", expect(start=D(11, 23, 2026), end=D(11, 29, 2026), problems=("past_date",))),
    ("12/1/2026", expect(day=D(12, 1), problems=("past_date",))),
    ("dec 1", expect(day=D(12, 1), problems=("past_date",))),
    ("9/12", expect(day=D(9, 12, 2026), problems=("past_date",))),
    ("February 30", expect(problems=("invalid_date",))),
    ("feb 30th", expect(problems=("invalid_date",))),
    ("13/45", expect(problems=("invalid_date",))),
    ("april 31", expect(problems=("invalid_date",))),
    ("the 32nd", expect(problems=("invalid_date",))),
    ("blue", expect(problems=("not_understood",))),
    ("idk", expect(problems=("not_understood",))),
    ("", expect(problems=("not_understood",))),
    ("   ", expect(problems=("not_understood",))),
    ("🙂👍", expect(problems=("not_understood",))),
    ("I have 2 kids", expect(problems=("not_understood",))),
    ("call me at 555-123-4567", expect(problems=("not_understood",))),
    ("my number is 5551234567", expect(problems=("not_understood",))),
    ("may I ask a question", expect(problems=("not_understood",))),
    ("is dr. jan in?", expect(problems=("not_understood",))),
    ("June 15", expect(day=D(6, 15, 2027), problems=("too_far",))),
    ("in 8 months", expect(day=D(8, 2, 2027), problems=("too_far",))),
    ("in a year", expect(day=D(12, 2, 2027), problems=("too_far",))),
    ("12/9/2027", expect(day=D(12, 9, 2027), problems=("too_far",))),
    ("3 in the morning", expect(exact=T(3), problems=("ambiguous_time",))),
    ("today at 9", expect(day=TODAY, exact=T(9), problems=("past_time",))),
    ("friday the 9th", expect(day=D(12, 9), problems=("conflicting_dates",))),
]

CHATTY = [
    ("Do you have any openings on Thursday?", expect(day=D(12, 3))),
    ("Is 2:30 tomorrow available?", expect(day=D(12, 3), exact=T(14, 30))),
    ("could we do the 10th at 11:15", expect(day=D(12, 10), exact=T(11, 15))),
    ("I'm available Monday through Friday after 5", expect(start=D(12, 7), end=D(12, 11), earliest=T(17))),
    ("Mon thru Fri", expect(start=D(12, 7), end=D(12, 11))),
    ("from monday to friday", expect(start=D(12, 7), end=D(12, 11))),
    ("Between Monday and Wednesday", expect(start=D(12, 7), end=D(12, 9))),
    ("i'm only free on saturdays", expect(weekdays=(5,))),
    ("I can come in Tuesday between 10 and 12", expect(day=D(12, 8), earliest=T(10), latest=T(12))),
    ("Next Thurs at 1:30 pm?", expect(day=D(12, 10), exact=T(13, 30))),
    ("Wed. Dec. 9 at 10 a.m.", expect(day=D(12, 9), exact=T(10))),
    ("Wednesday, December 9th at 10:00am", expect(day=D(12, 9), exact=T(10))),
    ("12/10 @ 3:30pm", expect(day=D(12, 10), exact=T(15, 30))),
    ("tomorrow morning first thing", expect(day=D(12, 3), earliest=T(8), latest=T(9, 30))),
    ("Monday the 14th in the afternoon", expect(day=D(12, 14), **AFTERNOON)),
    ("the morning of the 15th", expect(day=D(12, 15), **MORNING)),
    ("i cant come until next week", expect(start=D(12, 7))),
    ("not until after the 10th", expect(start=D(12, 11))),
    ("sometime after the 15th", expect(start=D(12, 16))),
    ("before christmas", expect(start=TODAY, end=D(12, 24))),
    ("by friday", expect(start=TODAY, end=D(12, 4))),
    ("We're going away on the 20th so before then please", expect(start=TODAY, end=D(12, 19))),
    ("ill be out of town until the 15th", expect(start=D(12, 15))),
    ("I'm away next week", expect(start=D(12, 14))),
    ("not available until january", expect(start=D(1, 1))),
    ("earliest available next week", expect(asap=True, **NEXT_WEEK)),
    ("any time tuesday", expect(asap=True, day=D(12, 8))),
    ("Not urgent, anytime next month", expect(asap=True, start=D(1, 1), end=D(1, 31))),
    ("this thursday or next", expect(start=D(12, 3), end=D(12, 10), weekdays=(3,))),
    ("this week or next", expect(start=TODAY, end=D(12, 13))),
    ("tomorrow or the day after", expect(start=D(12, 3), end=D(12, 4))),
    ("dec 14-18", expect(start=D(12, 14), end=D(12, 18))),
    ("december 14 to 18", expect(start=D(12, 14), end=D(12, 18))),
    ("21 or 22 december", expect(start=D(12, 21), end=D(12, 22))),
    ("dec 10, 11 or 12", expect(start=D(12, 10), end=D(12, 12))),
    ("the 10th, 11th or 12th", expect(start=D(12, 10), end=D(12, 12))),
    ("Tues 15th Dec 2pm", expect(day=D(12, 15), exact=T(14))),
    ("Friday 18/12 at 10", expect(day=D(12, 18), exact=T(10))),
    ("Please book me in on Tuesday 8th December at 10am", expect(day=D(12, 8), exact=T(10))),
    ("Can't make tomorrow. Friday?", expect(day=D(12, 4))),
    ("my appointment was yesterday but i missed it, can i reschedule for monday", expect(day=D(12, 7))),
    ("I was seen last tuesday, need a follow up in 2 weeks", expect(day=D(12, 16))),
    ("i work mornings so afternoons are better", expect(**AFTERNOON)),
    (
        "Hey! So I've been having this pain in my back for like a week now, and I was wondering "
        "if I could come in on Friday? Preferably in the morning because I work afternoons",
        expect(day=D(12, 4), **MORNING),
    ),
    ("morning would be ideal, maybe 9 or 10", expect(exact=T(9), **MORNING)),
    ("10 or 11 on monday", expect(day=D(12, 7), exact=T(10), earliest=T(10), latest=T(11))),
    ("M/W/F", expect(start=D(12, 4), end=D(12, 9), weekdays=(0, 2, 4))),
    ("latest you have on thursday", expect(day=D(12, 3), earliest=T(15), latest=T(17))),
    ("i'd like the first appointment of the day", expect(earliest=T(8), latest=T(9, 30))),
    ("first appointment tomorrow", expect(day=D(12, 3), earliest=T(8), latest=T(9, 30))),
    ("early as possible", expect(asap=True)),
    ("Tomorrow would be great, anytime before noon", expect(day=D(12, 3), asap=True, latest=T(12))),
    ("Thurs after 1 or Fri before 10", expect(start=D(12, 3), end=D(12, 4))),
    ("Friday am", expect(day=D(12, 4), **MORNING)),
    ("monday p.m.", expect(day=D(12, 7), **AFTERNOON)),
    ("8 30", expect(exact=T(8, 30))),
    ("half 8", expect(exact=T(8, 30))),
    ("quarter after 3", expect(exact=T(15, 15))),
    ("a quarter to ten", expect(exact=T(9, 45))),
    ("five past nine", expect(exact=T(9, 5))),
    ("twenty to four", expect(exact=T(15, 40))),
    ("four forty five", expect(exact=T(16, 45))),
    ("nine oh five", expect(exact=T(9, 5))),
    ("3pm-ish", expect(exact=T(15), earliest=T(14, 30), latest=T(15, 30))),
    ("2 to 4", expect(earliest=T(14), latest=T(16))),
    ("2-4", expect(earliest=T(14), latest=T(16))),
    ("12-1", expect(earliest=T(12), latest=T(13))),
    ("sometime between noon and 2", expect(earliest=T(12), latest=T(14))),
    ("friday night", expect(day=D(12, 4), **EVENING)),
    ("in 2 hours", expect(day=TODAY, asap=True)),
    ("I'll be there in 20 minutes", expect(day=TODAY, asap=True)),
    ("for 2 hours", expect(problems=("not_understood",))),
    ("$20", expect(problems=("not_understood",))),
    ("#3", expect(problems=("not_understood",))),
    ("monday, room 3", expect(day=D(12, 7))),
    ("tomorrow I have 2 kids", expect(day=D(12, 3))),
    ("2 to 4 weeks", expect(problems=("not_understood",))),
    ("around 2 or 3", expect(exact=T(14), earliest=T(13, 30), latest=T(15, 30))),
    ("no weekends", expect(weekdays=(0, 1, 2, 3, 4))),
    ("except fridays", expect(weekdays=(0, 1, 2, 3, 5))),
    ("I'm free all week", expect(**THIS_WEEK)),
    ("this coming week", expect(**NEXT_WEEK)),
    ("the 2nd week of january", expect(start=D(1, 8), end=D(1, 14))),
    ("2nd tuesday of january", expect(day=D(1, 12))),
    ("tuesday week", expect(day=D(12, 15))),
    ("2 weeks from friday", expect(day=D(12, 18))),
    ("two weeks today", expect(day=D(12, 16))),
    ("next available after the 15th", expect(asap=True, start=D(12, 16))),
    ("between 10 and 2", expect(earliest=T(10), latest=T(14))),
    ("whenever after 3", expect(asap=True, earliest=T(15))),
    ("any time after lunch on friday", expect(asap=True, day=D(12, 4), earliest=T(13))),
]

NOTHING = expect(problems=("not_understood",))

# The patient's story is never a wish for a date: onsets, durations, past visits,
# the doctor's advice and when a symptom happens are left out; a real wish in the
# same message still counts.
HISTORY = [
    ("I hurt my back on monday", NOTHING),
    ("my son hurt his ankle friday", NOTHING),
    ("cut my hand last tuesday", NOTHING),
    ("I slipped on the ice yesterday and my wrist hurts", NOTHING),
    ("i was stung on saturday", NOTHING),
    ("I hurt my back on monday, can I come thursday", expect(day=D(12, 3))),
    ("can i come in monday, my back hurts", expect(day=D(12, 7))),
    ("back on monday please", expect(day=D(12, 7))),
    ("I've had a fever since yesterday", NOTHING),
    ("fever since last night", NOTHING),
    ("sore throat since monday", NOTHING),
    ("headache since this morning", NOTHING),
    ("rash since last week", NOTHING),
    ("on and off since march", NOTHING),
    ("ever since the 20th", NOTHING),
    ("pain since 2 weeks ago", NOTHING),
    ("sick since monday, can i come in tomorrow", expect(day=D(12, 3))),
    ("I've had a cough since monday, can I come in tomorrow afternoon?", expect(day=D(12, 3), **AFTERNOON)),
    ("fever since last night, can I come tomorrow morning", expect(day=D(12, 3), **MORNING)),
    ("for a week", NOTHING),
    ("for 3 days", NOTHING),
    ("I've been sick for 3 days", NOTHING),
    ("coughing for about a week now", NOTHING),
    ("for the past week", NOTHING),
    ("for the last few days", NOTHING),
    ("the past few days", NOTHING),
    ("over the last 2 weeks", NOTHING),
    ("it's been 3 days", NOTHING),
    ("for a while now", NOTHING),
    ("2 weeks ago", NOTHING),
    ("2 days ago", NOTHING),
    ("a couple of days ago", NOTHING),
    ("I've been coughing for a week, can I come friday", expect(day=D(12, 4))),
    (
        "I fell 3 days ago and my wrist still hurts, do you have anything tomorrow at 2",
        expect(day=D(12, 3), exact=T(14)),
    ),
    ("started monday", NOTHING),
    ("it started hurting again on tuesday", NOTHING),
    ("I had a fever on monday, can I come wednesday", expect(day=D(12, 9))),
    ("last night", NOTHING),
    ("my last visit was in june", NOTHING),
    (
        "my last appointment was great, can I get the last appointment on friday",
        expect(day=D(12, 4), earliest=T(15), latest=T(17)),
    ),
    ("I was seen 2 weeks ago, need a follow up", NOTHING),
    ("I was wondering if I could come in on Friday", expect(day=D(12, 4))),
    ("the doctor said come back in 2 weeks", NOTHING),
    ("Dr. Kim told me to follow up in a month", NOTHING),
    ("they told me to come back in 2 weeks, can I do the 16th", expect(day=D(12, 16))),
    ("the doctor said come back in 2 weeks so maybe next friday", expect(day=D(12, 11))),
    ("my husband said friday works", expect(day=D(12, 4))),
    ("follow up in 2 weeks", expect(day=D(12, 16))),
    ("for 2 weeks from now", expect(day=D(12, 16))),
    ("my back hurts when I carry heavy things", NOTHING),
    ("stomach pain after eating", NOTHING),
    ("stomach pain after lunch", NOTHING),
    ("whenever I eat my stomach hurts", NOTHING),
    ("whenever I can", expect(asap=True)),
    ("my knee hurts at night", NOTHING),
    ("I can't sleep at night", NOTHING),
    ("hurts in the morning", NOTHING),
    ("can I come at night?", expect(**EVENING)),
    ("my knee hurts, can I come at night?", expect(**EVENING)),
    ("cough worse at night, can I come tomorrow", expect(day=D(12, 3))),
    ("stiff in the morning but i can come in the afternoon", expect(**AFTERNOON)),
    ("my knee hurts and I'd like to come in the morning", expect(**MORNING)),
    ("it hurts when I wake up in the morning, any time friday is fine", expect(day=D(12, 4), asap=True)),
]

ALL_CASES = (
    RELATIVE_DAYS
    + WEEKDAYS
    + CALENDAR_DATES
    + SPANISH
    + TIMES
    + COMBINATIONS
    + NEGATIONS
    + ASAP
    + PROBLEMS
    + CHATTY
    + HISTORY
)


@pytest.mark.parametrize(("text", "expected"), ALL_CASES, ids=[c[0] or "<empty>" for c in ALL_CASES])
def test_parse_when(text: str, expected: dict[str, Any]) -> None:
    """Each phrasing resolves to exactly the expected preference."""
    assert observed(parse_when(text, NOW)) == expected


def test_cases_are_unique() -> None:
    """No phrasing is listed twice (a duplicate would hide a changed expectation)."""
    texts = [text for text, _ in ALL_CASES]
    assert len(texts) == len(set(texts))


@pytest.mark.parametrize(
    ("text", "description"),
    [
        ("next tuesday afternoon", "Tuesday, December 8, in the afternoon"),
        ("asap", "as soon as possible"),
        ("tomorrow at 3", "Thursday, December 3, at 3 PM"),
        ("around 10", "around 10 AM"),
        ("next week", "between Monday, December 7 and Sunday, December 13"),
        ("jan 5 at 9:30", "Tuesday, January 5, 2027, at 9:30 AM"),
        ("anytime this week", "as soon as possible, between Wednesday, December 2 and Sunday, December 6"),
        ("after 2", "after 2 PM"),
        ("between 1 and 3", "between 1 PM and 3 PM"),
        ("noon", "at noon"),
        ("mondays", "on Mondays"),
        ("blue", "no date or time"),
    ],
)
def test_describe(text: str, description: str) -> None:
    """The echo-back sentence is plain English."""
    assert parse_when(text, NOW).describe() == description


def test_matched_and_understood() -> None:
    """``matched`` means usable as-is; ``understood`` means something was recognised."""
    assert parse_when("tomorrow at 3", NOW).matched
    assert parse_when("asap", NOW).matched
    past = parse_when("yesterday", NOW)
    assert past.understood and not past.matched
    nonsense = parse_when("blue", NOW)
    assert not nonsense.understood and not nonsense.matched


def test_result_is_frozen() -> None:
    """The preference is immutable so it can be stored in a slot safely."""
    result = parse_when("tomorrow", NOW)
    with pytest.raises(AttributeError):
        result.start_date = TODAY  # type: ignore[misc]


def test_bare_weekday_equal_to_today_is_next_week() -> None:
    """Said on a Monday, "monday" means next Monday; "today" is the way to say today."""
    monday = datetime(2026, 12, 7, 9, 0, tzinfo=ZoneInfo("America/New_York"))
    assert parse_when("monday", monday).start_date == date(2026, 12, 14)
    assert parse_when("today", monday).start_date == date(2026, 12, 7)


def test_day_of_month_already_passed_means_next_month() -> None:
    """On the 20th, "the 9th" is next month's 9th, not a past date."""
    twentieth = datetime(2026, 11, 20, 9, 0, tzinfo=ZoneInfo("America/New_York"))
    result = parse_when("the 9th", twentieth)
    assert result.start_date == date(2026, 12, 9) and result.problems == ()


def test_month_day_long_past_rolls_to_next_year() -> None:
    """In November, "March 9" is next March, not a past date."""
    november = datetime(2026, 11, 20, 9, 0, tzinfo=ZoneInfo("America/New_York"))
    result = parse_when("March 9", november)
    assert result.start_date == date(2027, 3, 9) and result.problems == ()


def test_next_weekday_on_a_sunday_is_the_following_week() -> None:
    """Weeks start on Monday, so on Sunday "next tuesday" is two days away's week."""
    sunday = datetime(2026, 12, 6, 12, 0, tzinfo=ZoneInfo("America/New_York"))
    assert parse_when("next tuesday", sunday).start_date == date(2026, 12, 8)
    assert parse_when("tuesday", sunday).start_date == date(2026, 12, 8)


def test_weekend_said_on_saturday_starts_today() -> None:
    """ "this weekend" on a Saturday is today and tomorrow."""
    saturday = datetime(2026, 12, 5, 9, 0, tzinfo=ZoneInfo("America/New_York"))
    result = parse_when("this weekend", saturday)
    assert (result.start_date, result.end_date) == (date(2026, 12, 5), date(2026, 12, 6))


NY = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("now", "text", "start", "end"),
    [
        # Friday Dec 4, 2026, late afternoon
        (datetime(2026, 12, 4, 16, 0, tzinfo=NY), "this week", date(2026, 12, 4), date(2026, 12, 6)),
        (datetime(2026, 12, 4, 16, 0, tzinfo=NY), "end of the week", date(2026, 12, 4), date(2026, 12, 5)),
        (datetime(2026, 12, 4, 16, 0, tzinfo=NY), "friday", date(2026, 12, 11), date(2026, 12, 11)),
        (datetime(2026, 12, 4, 16, 0, tzinfo=NY), "this friday", date(2026, 12, 4), date(2026, 12, 4)),
        (datetime(2026, 12, 4, 16, 0, tzinfo=NY), "next monday", date(2026, 12, 7), date(2026, 12, 7)),
        # New Year's Eve: everything rolls into 2027
        (datetime(2026, 12, 31, 9, 0, tzinfo=NY), "tomorrow", date(2027, 1, 1), date(2027, 1, 1)),
        (datetime(2026, 12, 31, 9, 0, tzinfo=NY), "next month", date(2027, 1, 1), date(2027, 1, 31)),
        (datetime(2026, 12, 31, 9, 0, tzinfo=NY), "the 5th", date(2027, 1, 5), date(2027, 1, 5)),
        (datetime(2026, 12, 31, 9, 0, tzinfo=NY), "jan 5", date(2027, 1, 5), date(2027, 1, 5)),
        (datetime(2026, 12, 31, 9, 0, tzinfo=NY), "next week", date(2027, 1, 4), date(2027, 1, 10)),
        # January 31: short months are skipped for "the 30th", clamped for "in a month"
        (datetime(2027, 1, 31, 9, 0, tzinfo=NY), "the 30th", date(2027, 3, 30), date(2027, 3, 30)),
        (datetime(2027, 1, 31, 9, 0, tzinfo=NY), "in a month", date(2027, 2, 28), date(2027, 2, 28)),
        (datetime(2027, 1, 31, 9, 0, tzinfo=NY), "next month", date(2027, 2, 1), date(2027, 2, 28)),
        # leap day
        (datetime(2028, 2, 28, 9, 0, tzinfo=NY), "feb 29", date(2028, 2, 29), date(2028, 2, 29)),
        (datetime(2028, 2, 28, 9, 0, tzinfo=NY), "tomorrow", date(2028, 2, 29), date(2028, 2, 29)),
    ],
)
def test_relative_to_other_days(now: datetime, text: str, start: date, end: date) -> None:
    """The same words resolve correctly around weekends, month ends and year ends."""
    result = parse_when(text, now)
    assert (result.start_date, result.end_date, result.problems) == (start, end, ())


def test_part_of_day_already_over_is_past_time() -> None:
    """ "this morning" asked at 1 PM can no longer be booked."""
    afternoon = datetime(2026, 12, 2, 13, 0, tzinfo=NY)
    assert parse_when("this morning", afternoon).problems == ("past_time",)
    assert parse_when("this afternoon", afternoon).problems == ()


def test_long_garbage_is_not_understood() -> None:
    """A 10 kB paste without dates returns not_understood (and does not hang)."""
    text = ("lorem ipsum dolor sit amet " * 400)[:10_000]
    assert parse_when(text, NOW).problems == ("not_understood",)
    assert parse_when("a" * 10_000, NOW).problems == ("not_understood",)
    assert parse_when("9" * 10_000, NOW).problems == ("not_understood",)
    assert parse_when("1/" * 5_000, NOW).problems == ("not_understood",)
    assert parse_when("between " * 2_000, NOW).problems == ("not_understood",)


def test_long_message_with_a_date_buried_at_the_end() -> None:
    """Long chatty messages still find the date."""
    text = "so my knee has been hurting for a while " * 100 + "can i come friday at 2"
    result = parse_when(text, NOW)
    assert (result.start_date, result.exact_time) == (D(12, 4), T(14))


DOB_TODAY = date(2026, 12, 2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3/14/1990", date(1990, 3, 14)),
        ("03/14/1990", date(1990, 3, 14)),
        ("14/3/1990", date(1990, 3, 14)),
        ("3-14-1990", date(1990, 3, 14)),
        ("14.03.1990", date(1990, 3, 14)),
        ("March 14 1990", date(1990, 3, 14)),
        ("March 14, 1990", date(1990, 3, 14)),
        ("march 14th 1990", date(1990, 3, 14)),
        ("14 March 1990", date(1990, 3, 14)),
        ("14th of March, 1990", date(1990, 3, 14)),
        ("1990-03-14", date(1990, 3, 14)),
        ("03141990", date(1990, 3, 14)),
        ("19900314", date(1990, 3, 14)),
        ("mar 14 90", date(1990, 3, 14)),
        ("3/14/90", date(1990, 3, 14)),
        ("3/14/05", date(2005, 3, 14)),
        ("1/2/20", date(2020, 1, 2)),
        ("14 de marzo de 1990", date(1990, 3, 14)),
        ("my dob is 7/4/1985 thanks", date(1985, 7, 4)),
        ("born on Feb 29 2000", date(2000, 2, 29)),
        ("2/30/1990", None),
        ("13/13/1990", None),
        ("3/14/2030", None),
        ("1/1/1900", None),
        ("March 1990", None),
        ("blue", None),
        ("", None),
    ],
)
def test_parse_date_of_birth(text: str, expected: date | None) -> None:
    """Birth dates in the usual spellings; None when impossible, future or absurd."""
    assert parse_date_of_birth(text, DOB_TODAY) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3", T(15)),
        ("3pm", T(15)),
        ("10", T(10)),
        ("10:30", T(10, 30)),
        ("half past 4", T(16, 30)),
        ("noon", T(12)),
        ("at 9 please", T(9)),
        ("blue", None),
        ("tomorrow", None),
    ],
)
def test_parse_time_of_day(text: str, expected: time | None) -> None:
    """A single clock time from a short reply."""
    assert parse_time_of_day(text) == expected


def test_history_lexicon_reads_as_words() -> None:
    """Every list content staff edit in history_words.yml loads, as plain words (no booleans)."""
    from bot.timeparse._history import history_lexicon

    lexicon = history_lexicon()
    for name, value in vars(lexicon).items():
        assert value, f"{name} is empty"
    assert "on" in lexicon.glue and ("since",) in lexicon.onset
