"""Open now, and the next opening, from the clinic's hours (Mon-Fri 8-17, Sat 9-12)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from bot.scheduling.hours import is_open_at, next_opening
from bot.scheduling.service import ClinicInfo

TZ = ZoneInfo("America/New_York")
WEEKDAY = ((dt.time(8), dt.time(17)),)
CLINIC = ClinicInfo(
    name="Maple Grove Family Clinic",
    address="120 Maple Grove Ave",
    phone="(555) 010-2000",
    timezone="America/New_York",
    opening_hours={0: WEEKDAY, 1: WEEKDAY, 2: WEEKDAY, 3: WEEKDAY, 4: WEEKDAY, 5: ((dt.time(9), dt.time(12)),)},
)


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 12, day, hour, minute, tzinfo=TZ)  # Dec 2 2026 is a Wednesday


@pytest.mark.parametrize(
    "when, open_",
    [
        (at(2, 8), True),
        (at(2, 16, 59), True),
        (at(2, 17), False),
        (at(2, 7, 59), False),
        (at(5, 11), True),
        (at(5, 12), False),
        (at(6, 10), False),
    ],
)
def test_open_during_the_weekly_hours_only(when: dt.datetime, open_: bool) -> None:
    assert is_open_at(CLINIC, when) is open_


def test_a_closure_day_is_closed_and_skipped() -> None:
    closed = {dt.date(2026, 12, 3)}
    assert is_open_at(CLINIC, at(3, 10), lambda day: day not in closed) is False
    assert next_opening(CLINIC, at(2, 19), lambda day: day not in closed) == at(4, 8)


@pytest.mark.parametrize(
    "when, expected",
    [(at(2, 19, 30), at(3, 8)), (at(2, 6), at(2, 8)), (at(4, 17, 30), at(5, 9)), (at(5, 13), at(7, 8))],
)
def test_next_opening(when: dt.datetime, expected: dt.datetime) -> None:
    assert next_opening(CLINIC, when) == expected


def test_other_time_zones_are_read_in_clinic_time_and_no_hours_means_none() -> None:
    utc_evening = dt.datetime(2026, 12, 2, 15, 0, tzinfo=dt.timezone.utc)  # 10:00 in New York
    assert is_open_at(CLINIC, utc_evening) is True
    never = ClinicInfo("x", "y", "z", "America/New_York", {})
    assert next_opening(never, at(2, 10)) is None and is_open_at(never, at(2, 10)) is False
