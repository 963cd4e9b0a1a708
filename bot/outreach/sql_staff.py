"""What the staff page lists: texts planned and sent with their answers, and the waitlist.

Outbox rows point at appointments, waitlist offers and visits without foreign
keys (separate services), so the list joins them here, in one query whatever
the number of rows. Nothing read here is a phone number or a message text.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, func, or_, select

from bot.outreach.models import (
    KIND_WAITLIST_OFFER,
    OFFER_OPEN,
    WAITLIST_WAITING,
    OutboxMessage,
    WaitlistEntry,
    WaitlistOffer,
)
from bot.outreach.service import ReminderView, WaitlistEntryInfo
from bot.outreach.sql_base import SqlOutreachBase
from bot.records.models import Visit
from bot.scheduling.models import Appointment
from bot.settings import get_settings


def _local(moment: dt.datetime) -> dt.datetime:
    """A stored UTC time in the clinic's zone."""
    return moment.astimezone(get_settings().tz)


def _maybe_local(moment: dt.datetime | None) -> dt.datetime | None:
    """:func:`_local`, None staying None."""
    return _local(moment) if moment is not None else None


class SqlStaffViews(SqlOutreachBase):
    """upcoming_texts, waitlist."""

    def upcoming_texts(self, days: int = 7, now: dt.datetime | None = None) -> list[ReminderView]:
        """Texts due or sent within ``days`` days either side of now, by send time, with their visit or offer."""
        moment = self._now(now)
        start, end = moment - dt.timedelta(days=days), moment + dt.timedelta(days=days)
        when = func.coalesce(OutboxMessage.sent_at, OutboxMessage.send_at)
        query = (
            select(
                OutboxMessage,
                Appointment.start_at,
                Appointment.provider_id,
                WaitlistOffer.start_at,
                WaitlistOffer.provider_id,
                WaitlistOffer.status,
                WaitlistOffer.appointment_id,
                Visit.provider_id,
            )
            .outerjoin(Appointment, Appointment.id == OutboxMessage.appointment_id)
            .outerjoin(WaitlistOffer, WaitlistOffer.id == OutboxMessage.offer_id)
            .outerjoin(Visit, Visit.id == OutboxMessage.visit_id)
            .where(
                or_(
                    OutboxMessage.send_at.between(start, end),
                    and_(OutboxMessage.sent_at.is_not(None), OutboxMessage.sent_at.between(start, end)),
                )
            )
            .order_by(when, OutboxMessage.id)
        )
        with self._session("upcoming texts") as session:
            rows = session.execute(query).all()
        views = []
        for row, visit_start, visit_provider, offer_start, offer_provider, offer_status, booked, notes_provider in rows:
            answer = row.answer
            if row.kind == KIND_WAITLIST_OFFER:
                visit_start, visit_provider = offer_start, offer_provider
                if answer is None and offer_status not in (None, OFFER_OPEN):
                    answer = offer_status  # accepted, gone or declined: the offer's outcome
            views.append(
                ReminderView(
                    outbox_id=row.id,
                    kind=row.kind,
                    patient_id=row.patient_id,
                    appointment_id=booked if row.kind == KIND_WAITLIST_OFFER else row.appointment_id,
                    visit_start=_maybe_local(visit_start),
                    provider_id=visit_provider or notes_provider,
                    send_at=_local(row.send_at),
                    status=row.status,
                    status_reason=row.status_reason,
                    answer=answer,
                    attempts=row.attempts,
                    sent_at=_maybe_local(row.sent_at),
                    visit_id=row.visit_id,
                )
            )
        return views

    def waitlist(self) -> list[WaitlistEntryInfo]:
        """Everyone waiting, in order of joining."""
        query = (
            select(WaitlistEntry)
            .where(WaitlistEntry.status == WAITLIST_WAITING)
            .order_by(WaitlistEntry.joined_at, WaitlistEntry.id)
        )
        with self._session("waitlist") as session:
            entries = session.execute(query).scalars().all()
            return [
                WaitlistEntryInfo(
                    entry_id=entry.id,
                    patient_id=entry.patient_id,
                    visit_type=entry.visit_type_code,
                    provider_id=entry.provider_id,
                    from_date=entry.from_date,
                    to_date=entry.to_date,
                    status=entry.status,
                    joined_at=_local(entry.joined_at),
                    booked_appointment_id=entry.booked_appointment_id,
                )
                for entry in entries
            ]
