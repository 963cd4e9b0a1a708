"""The staff page's outreach lists: texts the clinic sends first, and the waitlist.

Same login, headers and refusals as the work list (:mod:`channels.staff_access`);
reads only (the day picker is a GET form). The lists show record ids, never a phone number
or a message text, and each view writes one audit row per patient shown, like
the work list.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.outreach.service import OutreachError, ReminderView, get_outreach_service
from bot.outreach.staff_words import MAX_DAYS, display_names, text_time
from bot.records import get_records_service
from bot.scheduling.errors import SchedulingError
from bot.settings import get_settings
from channels.staff_access import (
    DATABASE_DOWN,
    PAGE_CHANNEL,
    RECORDS_ERRORS,
    StaffSession,
    logged_in,
    records,
    refusal,
)
from channels.staff_views import SECURITY_HEADERS, text_json, texts_page, waitlist_page

logger = logging.getLogger(__name__)

DEFAULT_DAYS = 7
MAX_DAY_DISTANCE = 366
DATA_ERRORS: tuple[type[BaseException], ...] = (*RECORDS_ERRORS, OutreachError, SchedulingError)
"""What the reads here raise when the clinic database is down or slow."""


def days_asked(request: Request) -> int:
    """The ``days`` parameter (default 7); anything but a whole number from 1 to 31 is refused."""
    given = (request.args.get("days") or "").strip()
    if not given:
        return DEFAULT_DAYS
    if not given.isdigit() or not 1 <= int(given) <= MAX_DAYS:
        raise refusal(request, 400, f"Days must be a whole number from 1 to {MAX_DAYS}.")
    return int(given)


def day_asked(request: Request) -> dt.date | None:
    """The ``day`` parameter (YYYY-MM-DD, clinic date, within a year of today) or None; anything else is refused."""
    given = (request.args.get("day") or "").strip()
    if not given:
        return None
    try:
        day = dt.date.fromisoformat(given[:10])
    except ValueError:
        raise refusal(request, 400, "The day must be a date like 2026-12-03.") from None
    if abs((day - get_settings().today()).days) > MAX_DAY_DISTANCE:
        raise refusal(request, 400, f"Pick a day within {MAX_DAY_DISTANCE} days of today.")
    return day


def audit_read(operation: str, patient_ids: list[str], session: StaffSession) -> None:
    """One audit row per patient a list showed (who read it, never what)."""
    service = get_records_service()
    for patient_id in dict.fromkeys(patient_ids):
        service.record_staff_access(operation, patient_id, actor=session.actor, channel=PAGE_CHANNEL)


def read_texts(days: int, day: dt.date | None) -> tuple[list[ReminderView], dict[str, str]]:
    """The texts of the window (or of one clinic day, which may lie outside it) and the names they use."""
    service = get_outreach_service()
    if day is None:
        return service.upcoming_texts(days), display_names()
    today = get_settings().today()
    span = max(days, abs((day - today).days) + 1)
    views = [view for view in service.upcoming_texts(span) if text_time(view).date() == day]
    return views, display_names()


class StaffOutreachPages:
    """Route handlers of the Texts and Waitlist lists."""

    def routes(self) -> list[tuple[str, str, Any]]:
        """(path under /webhooks/staff, method, handler) of each list and its JSON."""
        return [
            ("/texts", "GET", self.texts),
            ("/api/texts", "GET", self.texts_json),
            ("/waitlist", "GET", self.waitlist),
        ]

    @staticmethod
    async def _texts(request: Request) -> tuple[list[ReminderView], dict[str, str], int, dt.date | None]:
        session = logged_in(request)
        days, day = days_asked(request), day_asked(request)
        try:
            views, named = await records(read_texts, days, day)
            await records(audit_read, "read:outreach_texts", [view.patient_id for view in views], session)
        except DATA_ERRORS as exc:
            logger.error("staff page: texts unavailable: %s", type(exc).__name__)
            raise refusal(request, 503, DATABASE_DOWN) from None
        return views, named, days, day

    async def texts(self, request: Request) -> HTTPResponse:
        """Texts planned and sent around today, with their status and the patient's answer."""
        views, named, days, day = await self._texts(request)
        return texts_page(views, named, days, day)

    async def texts_json(self, request: Request) -> HTTPResponse:
        """The same list as JSON."""
        views, named, _, _ = await self._texts(request)
        return response.json({"texts": [text_json(view, named) for view in views]}, headers=SECURITY_HEADERS)

    async def waitlist(self, request: Request) -> HTTPResponse:
        """Everyone waiting, in order of joining, and recent offers with their outcomes."""
        session = logged_in(request)
        days = days_asked(request)
        service = get_outreach_service()
        try:
            entries = await records(service.waitlist)
            offers = [view for view in await records(service.upcoming_texts, days) if view.kind == "waitlist_offer"]
            named = await records(display_names)
            shown = [entry.patient_id for entry in entries] + [offer.patient_id for offer in offers]
            await records(audit_read, "read:waitlist", shown, session)
        except DATA_ERRORS as exc:
            logger.error("staff page: waitlist unavailable: %s", type(exc).__name__)
            raise refusal(request, 503, DATABASE_DOWN) from None
        return waitlist_page(entries, offers, named, days)
