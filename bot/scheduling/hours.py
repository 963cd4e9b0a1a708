"""Is the clinic open now, and when does it open next? From the clinic's opening hours.

Used by the handoff (a person in this chat during opening hours, a call back
outside them) and to tell a patient when to expect a call. Pure functions over
:class:`ClinicInfo` and the service's closure check, so tests need no clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from bot.scheduling.service import ClinicInfo

LOOKAHEAD_DAYS = 21


def _local(clinic: ClinicInfo, when: dt.datetime) -> dt.datetime:
    """``when`` in the clinic's time zone (naive input is read as clinic time)."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(clinic.timezone)
    return when.replace(tzinfo=tz) if when.tzinfo is None else when.astimezone(tz)


def is_open_at(clinic: ClinicInfo, when: dt.datetime, open_on: Callable[[dt.date], bool] = lambda _: True) -> bool:
    """Whether the front desk is staffed at ``when`` (weekly hours, minus closure days)."""
    local = _local(clinic, when)
    if not open_on(local.date()):
        return False
    now = local.time().replace(tzinfo=None)
    return any(start <= now < end for start, end in clinic.hours_on(local.weekday()))


def next_opening(
    clinic: ClinicInfo, when: dt.datetime, open_on: Callable[[dt.date], bool] = lambda _: True
) -> dt.datetime | None:
    """The next moment after ``when`` the clinic opens (None: no hours in the next three weeks)."""
    local = _local(clinic, when)
    for offset in range(LOOKAHEAD_DAYS + 1):
        day = local.date() + dt.timedelta(days=offset)
        if not clinic.hours_on(day.weekday()) or not open_on(day):
            continue
        for start, _end in sorted(clinic.hours_on(day.weekday())):
            candidate = dt.datetime.combine(day, start, tzinfo=local.tzinfo)
            if candidate > local:
                return candidate
    return None
