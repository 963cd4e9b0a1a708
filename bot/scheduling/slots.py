"""Slot arithmetic without a database: the grid of start times a provider's
schedule offers on a day, minus what is booked, and a spread-out pick of them.

Keeping this pure makes the rules (20-minute grid from the block start, a
visit ends inside its block, nothing within the next hour) testable on their
own and shared by searching and booking, so a slot that is offered is exactly
a slot that can be booked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar
from zoneinfo import ZoneInfo

SLOT_STEP = dt.timedelta(minutes=20)
MIN_LEAD_TIME = dt.timedelta(hours=1)
SPREAD_GAP = dt.timedelta(minutes=60)

Interval = tuple[dt.time, dt.time]
Busy = tuple[dt.datetime, dt.datetime]
T = TypeVar("T")


def local_moment(day: dt.date, wall: dt.time, tz: ZoneInfo) -> dt.datetime:
    """The aware moment of a clinic wall-clock time on ``day``."""
    return dt.datetime.combine(day, wall, tzinfo=tz)


def _inside(start: dt.datetime, end: dt.datetime, intervals: Iterable[Busy]) -> bool:
    """Whether [start, end) lies entirely inside one of ``intervals``."""
    return any(lo <= start and end <= hi for lo, hi in intervals)


def _overlaps(start: dt.datetime, end: dt.datetime, busy: Iterable[Busy]) -> bool:
    """Whether [start, end) overlaps any busy interval (touching ends do not overlap)."""
    return any(b_start < end and start < b_end for b_start, b_end in busy)


def free_starts(
    day: dt.date,
    blocks: Sequence[Interval],
    opening: Sequence[Interval],
    busy: Sequence[Busy],
    duration: dt.timedelta,
    tz: ZoneInfo,
    not_before: dt.datetime,
    step: dt.timedelta = SLOT_STEP,
) -> list[dt.datetime]:
    """Start times (aware, clinic tz) on ``day`` where a visit of ``duration`` fits.

    A start is on the ``step`` grid counted from its schedule block's start,
    the visit ends within that block and within the clinic's opening hours,
    overlaps no ``busy`` interval, and starts no earlier than ``not_before``.
    """
    utc = dt.timezone.utc
    open_intervals = [
        (local_moment(day, lo, tz).astimezone(utc), local_moment(day, hi, tz).astimezone(utc)) for lo, hi in opening
    ]
    busy_utc = [(b.astimezone(utc), e.astimezone(utc)) for b, e in busy]
    floor = not_before.astimezone(utc)
    starts: set[dt.datetime] = set()
    for block_start, block_end in blocks:
        cursor = local_moment(day, block_start, tz).astimezone(utc)
        limit = local_moment(day, block_end, tz).astimezone(utc)
        while cursor + duration <= limit:
            end = cursor + duration
            if cursor >= floor and _inside(cursor, end, open_intervals) and not _overlaps(cursor, end, busy_utc):
                starts.add(cursor)
            cursor += step
    return [start.astimezone(tz) for start in sorted(starts)]


def spread_pick(
    candidates: Sequence[T],
    limit: int,
    start_of: Callable[[T], dt.datetime],
    gap: dt.timedelta = SPREAD_GAP,
) -> list[T]:
    """Pick up to ``limit`` candidates, earliest first, preferring starts ``gap`` apart.

    ``candidates`` must be in offer order (earliest first). The earliest is
    always offered; later picks skip starts within ``gap`` of an already
    picked one on the same day, and only if that leaves too few are the
    skipped ones used. The result is in offer order.
    """
    if limit <= 0:
        return []
    picked: list[int] = []
    for index, candidate in enumerate(candidates):
        if len(picked) == limit:
            break
        start = start_of(candidate)
        if all(
            start_of(candidates[other]).date() != start.date() or abs(start_of(candidates[other]) - start) >= gap
            for other in picked
        ):
            picked.append(index)
    if len(picked) < limit:
        for index in range(len(candidates)):
            if len(picked) == limit:
                break
            if index not in picked:
                picked.append(index)
    return [candidates[index] for index in sorted(picked)]


def nearest(
    candidates: Sequence[T],
    target: dt.datetime,
    limit: int,
    start_of: Callable[[T], dt.datetime],
) -> list[T]:
    """The ``limit`` candidates closest to ``target`` (earlier wins a tie), in offer order."""
    order = sorted(
        range(len(candidates)),
        key=lambda i: (abs(start_of(candidates[i]) - target), start_of(candidates[i]) > target, i),
    )
    return [candidates[i] for i in sorted(order[: max(limit, 0)])]
