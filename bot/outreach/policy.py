"""The clinic's texting policy: reminder offsets and quiet hours, read from clinic data.

Quiet hours are clinic wall-clock times; a text due inside them moves to the
next allowed minute (the end of the quiet hours, in the clinic's zone, so
daylight-saving changes are handled by :mod:`zoneinfo`).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.outreach.models import OutreachPolicy


@dataclass(frozen=True)
class ReminderOffset:
    """A reminder ``days_before`` a visit, at clinic time ``at``."""

    days_before: int
    at: dt.time

    @property
    def code(self) -> str:
        """A short stable name for the offset, part of the reminder's dedupe key (``2d1000``)."""
        return f"{self.days_before}d{self.at.strftime('%H%M')}"


@dataclass(frozen=True)
class Policy:
    """What the clinic texts first, and when."""

    reminders: tuple[ReminderOffset, ...]
    quiet_start: dt.time
    quiet_end: dt.time
    follow_up_offer_at: dt.time | None
    notes_ready_at: dt.time | None
    waitlist: bool

    def is_quiet(self, moment: dt.datetime, tz: ZoneInfo) -> bool:
        """Whether ``moment`` (aware) falls in the quiet hours, clinic time."""
        clock = moment.astimezone(tz).time()
        if self.quiet_start == self.quiet_end:
            return False
        if self.quiet_start < self.quiet_end:
            return self.quiet_start <= clock < self.quiet_end
        return clock >= self.quiet_start or clock < self.quiet_end

    def next_allowed(self, moment: dt.datetime, tz: ZoneInfo) -> dt.datetime:
        """``moment`` itself when texts may go out then, else the end of these quiet hours (aware, UTC)."""
        moment = moment.astimezone(dt.timezone.utc)
        if not self.is_quiet(moment, tz):
            return moment
        local = moment.astimezone(tz)
        end_today = dt.datetime.combine(local.date(), self.quiet_end, tzinfo=tz)
        end = end_today if local < end_today else end_today + dt.timedelta(days=1)
        # Re-attach the zone after crossing a day, so a DST change lands on the wall-clock time.
        end = dt.datetime.combine(end.date(), self.quiet_end, tzinfo=tz)
        return end.astimezone(dt.timezone.utc)

    def reminder_time(self, offset: ReminderOffset, visit_start: dt.datetime, tz: ZoneInfo) -> dt.datetime:
        """When ``offset``'s reminder of a visit is due (before moving out of quiet hours), aware UTC."""
        day = visit_start.astimezone(tz).date() - dt.timedelta(days=offset.days_before)
        return dt.datetime.combine(day, offset.at, tzinfo=tz).astimezone(dt.timezone.utc)


def load_policy(session: Session) -> Policy | None:
    """The policy in the clinic database; None when the clinic data has no ``outreach:`` section."""
    row = session.get(OutreachPolicy, 1)
    if row is None:
        return None
    offsets = tuple(
        ReminderOffset(int(item["days_before"]), dt.time.fromisoformat(str(item["at"])))
        for item in json.loads(row.reminders_json or "[]")
    )
    return Policy(
        reminders=offsets,
        quiet_start=row.quiet_start,
        quiet_end=row.quiet_end,
        follow_up_offer_at=row.follow_up_offer_at,
        notes_ready_at=row.notes_ready_at,
        waitlist=bool(row.waitlist_offers),
    )
