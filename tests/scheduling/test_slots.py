"""The slot grid rules on their own, without a database."""

from __future__ import annotations

import datetime as dt

from bot.scheduling.slots import free_starts, nearest, spread_pick
from tests.fixtures_db import TZ, local

WED = dt.date(2026, 12, 2)
MORNING = [(dt.time(8), dt.time(12))]
OPEN = [(dt.time(8), dt.time(17))]
EARLY = local(1, 0)


def hhmm(starts: list[dt.datetime]) -> list[str]:
    return [s.strftime("%H:%M") for s in starts]


def test_grid_runs_every_20_minutes_from_the_block_start_and_ends_inside_it() -> None:
    starts = free_starts(WED, MORNING, OPEN, [], dt.timedelta(minutes=40), TZ, EARLY)
    assert hhmm(starts)[:3] == ["08:00", "08:20", "08:40"]
    assert hhmm(starts)[-1] == "11:20"  # 11:40 + 40 min would end after noon
    assert all(s.tzinfo is not None and s.utcoffset() == dt.timedelta(hours=-5) for s in starts)


def test_grid_follows_an_odd_block_start() -> None:
    starts = free_starts(WED, [(dt.time(9, 10), dt.time(10))], OPEN, [], dt.timedelta(minutes=20), TZ, EARLY)
    assert hhmm(starts) == ["09:10", "09:30"]


def test_busy_time_removes_overlapping_starts_only() -> None:
    busy = [(local(2, 9), local(2, 9, 15))]  # a 15-minute vaccination
    starts = free_starts(WED, MORNING, OPEN, busy, dt.timedelta(minutes=20), TZ, EARLY)
    assert "09:00" not in hhmm(starts)
    assert "08:40" in hhmm(starts) and "09:20" in hhmm(starts)  # touching ends do not overlap
    long_starts = free_starts(WED, MORNING, OPEN, busy, dt.timedelta(minutes=40), TZ, EARLY)
    assert "08:20" in hhmm(long_starts) and "08:40" not in hhmm(long_starts)


def test_starts_before_not_before_are_dropped() -> None:
    starts = free_starts(WED, MORNING, OPEN, [], dt.timedelta(minutes=20), TZ, local(2, 10, 5))
    assert hhmm(starts)[0] == "10:20"


def test_clinic_hours_clip_a_schedule_block() -> None:
    starts = free_starts(WED, [(dt.time(7), dt.time(9))], OPEN, [], dt.timedelta(minutes=20), TZ, EARLY)
    assert hhmm(starts) == ["08:00", "08:20", "08:40"]


def test_spread_pick_prefers_an_hour_apart_then_fills() -> None:
    grid = [local(2, 9, m) for m in (0, 20, 40)] + [local(2, 10, m) for m in (0, 20)]
    assert hhmm(spread_pick(grid, 2, lambda s: s)) == ["09:00", "10:00"]
    assert hhmm(spread_pick(grid, 3, lambda s: s)) == ["09:00", "09:20", "10:00"]
    assert spread_pick(grid, 0, lambda s: s) == []


def test_spread_pick_may_use_the_next_day() -> None:
    grid = [local(2, 16, 0), local(2, 16, 20), local(3, 8, 0)]
    assert spread_pick(grid, 2, lambda s: s) == [local(2, 16, 0), local(3, 8, 0)]


def test_nearest_picks_the_closest_and_earlier_on_a_tie() -> None:
    grid = [local(2, h) for h in (8, 9, 11, 13)]
    assert hhmm(nearest(grid, local(2, 10), 1, lambda s: s)) == ["09:00"]
    assert hhmm(nearest(grid, local(2, 10), 2, lambda s: s)) == ["09:00", "11:00"]
