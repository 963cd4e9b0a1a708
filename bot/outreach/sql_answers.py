"""Answers to texts: the open question a text asked a number, recorded answers, waitlist offers accepted.

A text is matched to a reply by the keyed hash of the number it went to
(``number_key``), never by the number itself. What counts as open:

- only the latest answerable text sent to the number in :data:`PROMPT_WINDOW`
  (a "1" means the last text the patient read, never an older one);
- a reminder stays open until its visit starts while the visit is still booked,
  also after "confirmed" (the patient may still move or cancel it by answering
  the same text); "moved" or "cancelled" close it;
- a waitlist offer is open while its offer row is ``open``;
- a follow-up offer is open until it is answered.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.log_privacy import patient_ref
from bot.outreach.models import (
    ANSWER_ACCEPTED,
    ANSWER_CANCELLED,
    ANSWER_DECLINED,
    ANSWER_GONE,
    ANSWER_MOVED,
    ANSWERABLE_KINDS,
    KIND_FOLLOW_UP,
    KIND_REMINDER,
    KIND_WAITLIST_OFFER,
    OFFER_ACCEPTED,
    OFFER_DECLINED,
    OFFER_GONE,
    OFFER_OPEN,
    OUTBOX_ANSWERS,
    OUTBOX_SENT,
    WAITLIST_BOOKED,
    OutboxMessage,
    WaitlistEntry,
    WaitlistOffer,
)
from bot.outreach.outbox import number_key
from bot.outreach.service import PROMPT_WINDOW, OfferGone, Prompt, PromptNotFound
from bot.outreach.sql_base import SqlOutreachBase
from bot.scheduling.service import AppointmentInfo, SchedulingService

logger = logging.getLogger(__name__)

# Answers after which a reminder asks nothing more.
_REMINDER_CLOSED = (ANSWER_MOVED, ANSWER_CANCELLED)


class SqlAnswers(SqlOutreachBase):
    """open_prompt, prompt, mark_recalled, record_answer, accept_offer."""

    def _scheduling(self) -> SchedulingService:
        """The scheduler on the same database (the process-wide one unless a URL was given)."""
        if self._url_override:
            from bot.scheduling.sql import SqlSchedulingService

            return SqlSchedulingService(self._url_override)
        from bot.scheduling import get_scheduling_service

        return get_scheduling_service()

    # -- reading ------------------------------------------------------------

    def _prompt_of(self, session: Session, row: OutboxMessage) -> Prompt:
        """A sent row as the conversation needs it (the visit, the offered time or the follow-up)."""
        from bot.records.models import Visit
        from bot.scheduling.models import Appointment

        fields: dict[str, Any] = {}
        if row.kind == KIND_REMINDER and row.appointment_id:
            appointment = session.get(Appointment, row.appointment_id)
            if appointment is not None:
                fields = {
                    "provider_id": appointment.provider_id,
                    "visit_type": appointment.visit_type_code,
                    "start": appointment.start_at,
                }
        elif row.kind == KIND_WAITLIST_OFFER and row.offer_id:
            offer = session.get(WaitlistOffer, row.offer_id)
            if offer is not None:
                fields = {
                    "provider_id": offer.provider_id,
                    "visit_type": offer.visit_type_code,
                    "start": offer.start_at,
                }
        elif row.kind == KIND_FOLLOW_UP and row.visit_id:
            visit = session.get(Visit, row.visit_id)
            if visit is not None:
                due = None
                if visit.follow_up_due_in_days is not None:
                    due = visit.visit_date + dt.timedelta(days=visit.follow_up_due_in_days)
                fields = {"provider_id": visit.provider_id, "visit_type": "follow_up", "due_date": due}
        return Prompt(
            outbox_id=row.id,
            kind=row.kind,
            patient_id=row.patient_id,
            sent_at=row.sent_at,
            appointment_id=row.appointment_id,
            offer_id=row.offer_id,
            visit_id=row.visit_id,
            answer=row.answer,
            recalled_at=row.recalled_at,
            **fields,
        )

    def _is_open(self, session: Session, row: OutboxMessage, now: dt.datetime) -> bool:
        """Whether the text still asks for an answer (see the module docstring)."""
        from bot.scheduling.models import STATUS_BOOKED, Appointment

        if row.kind == KIND_REMINDER:
            if row.answer in _REMINDER_CLOSED or not row.appointment_id:
                return False
            appointment = session.get(Appointment, row.appointment_id)
            return appointment is not None and appointment.status == STATUS_BOOKED and appointment.start_at > now
        if row.kind == KIND_WAITLIST_OFFER:
            offer = session.get(WaitlistOffer, row.offer_id) if row.offer_id else None
            return row.answer is None and offer is not None and offer.status == OFFER_OPEN and offer.start_at > now
        return row.answer is None

    def open_prompt(self, number: str, now: dt.datetime | None = None) -> Prompt | None:
        """The latest answerable text sent to ``number`` if it still asks something; else None."""
        current = self._now(now)
        key = number_key(number)
        with self._session("open_prompt") as session:
            row = (
                session.execute(
                    select(OutboxMessage)
                    .where(
                        OutboxMessage.number_key == key,
                        OutboxMessage.status == OUTBOX_SENT,
                        OutboxMessage.kind.in_(ANSWERABLE_KINDS),
                        OutboxMessage.sent_at >= current - PROMPT_WINDOW,
                    )
                    .order_by(OutboxMessage.sent_at.desc(), OutboxMessage.id.desc())
                    .limit(1)
                )
                .scalars()
                .first()
            )
            if row is None or not self._is_open(session, row, current):
                return None
            return self._prompt_of(session, row)

    def prompt(self, outbox_id: int, number: str) -> Prompt:
        """The sent text ``outbox_id`` if it went to ``number``; open or not (the caller says which)."""
        with self._session("prompt") as session:
            row = session.get(OutboxMessage, outbox_id)
            if row is None or row.status != OUTBOX_SENT or row.number_key != number_key(number):
                raise PromptNotFound(f"outbox {outbox_id}: not a text sent to this number")
            return self._prompt_of(session, row)

    def is_open(self, outbox_id: int, now: dt.datetime | None = None) -> bool:
        """Whether the sent text ``outbox_id`` still asks for an answer."""
        current = self._now(now)
        with self._session("is_open") as session:
            row = session.get(OutboxMessage, outbox_id)
            return row is not None and row.status == OUTBOX_SENT and self._is_open(session, row, current)

    # -- writing ------------------------------------------------------------

    def mark_recalled(self, outbox_id: int, now: dt.datetime | None = None) -> None:
        """Note the first time the text was brought into the patient's SMS conversation."""
        current = self._now(now)
        with self._session("mark_recalled") as session:
            row = session.get(OutboxMessage, outbox_id)
            if row is None:
                raise PromptNotFound(f"outbox {outbox_id}")
            if row.recalled_at is None:
                row.recalled_at = current
                row.updated_at = current

    def record_answer(self, outbox_id: int, answer: str, now: dt.datetime | None = None) -> None:
        """Keep the latest answer; an offer declined also closes its offer row."""
        if answer not in OUTBOX_ANSWERS:
            raise ValueError(f"unknown answer {answer!r}")
        current = self._now(now)
        with self._session("record_answer") as session:
            row = session.get(OutboxMessage, outbox_id, with_for_update=True)
            if row is None:
                raise PromptNotFound(f"outbox {outbox_id}")
            if row.kind == KIND_WAITLIST_OFFER and row.answer == ANSWER_ACCEPTED:
                return  # a booked offer stays booked; "no" afterwards changes nothing here
            row.answer = answer
            row.answered_at = current
            row.updated_at = current
            if row.kind == KIND_WAITLIST_OFFER and row.offer_id and answer in (ANSWER_DECLINED, ANSWER_GONE):
                offer = session.get(WaitlistOffer, row.offer_id)
                if offer is not None and offer.status == OFFER_OPEN:
                    offer.status = OFFER_DECLINED if answer == ANSWER_DECLINED else OFFER_GONE
                    offer.answered_at = current
        logger.info("outreach answer recorded: outbox %s %s", outbox_id, answer)

    def accept_offer(self, outbox_id: int, channel: str = "sms", now: dt.datetime | None = None) -> AppointmentInfo:
        """Book the offered time for the offer's patient through the scheduler's race-safe insert."""
        from bot.scheduling.errors import SlotUnavailable

        current = self._now(now)
        with self._session("accept_offer") as session:
            row = session.get(OutboxMessage, outbox_id)
            offer = session.get(WaitlistOffer, row.offer_id) if row is not None and row.offer_id else None
            if row is None or offer is None or row.kind != KIND_WAITLIST_OFFER:
                raise PromptNotFound(f"outbox {outbox_id}: not a waitlist offer")
            patient_id = row.patient_id
            offer_id, provider_id, visit_type, start = (
                offer.id,
                offer.provider_id,
                offer.visit_type_code,
                offer.start_at,
            )
            status, booked_id = offer.status, offer.appointment_id
        scheduling = self._scheduling()
        if status == OFFER_ACCEPTED and booked_id:
            return scheduling.get_appointment(booked_id, patient_id)  # the same "yes" again
        if status != OFFER_OPEN or start <= current:
            self._close_offer(outbox_id, offer_id, OFFER_GONE, None, current)
            raise OfferGone(f"offer {offer_id} is {status}")
        try:
            appointment = scheduling.book(
                patient_id=patient_id,
                provider_id=provider_id,
                visit_type=visit_type,
                start=start,
                reason="waitlist",
                channel=channel,
                now=current,
            )
        except SlotUnavailable as exc:
            mine = self._own_booking(patient_id, provider_id, start, scheduling, current)
            if mine is None:
                self._close_offer(outbox_id, offer_id, OFFER_GONE, None, current)
                logger.info("waitlist offer %s gone for %s", offer_id, patient_ref(patient_id))
                raise OfferGone(f"offer {offer_id}: the time was taken") from exc
            appointment = mine  # booked by an earlier try of this same answer
        self._close_offer(outbox_id, offer_id, OFFER_ACCEPTED, appointment.appointment_id, current)
        logger.info(
            "waitlist offer %s accepted: %s booked for %s",
            offer_id,
            appointment.appointment_id,
            patient_ref(patient_id),
        )
        return appointment

    @staticmethod
    def _own_booking(
        patient_id: str, provider_id: str, start: dt.datetime, scheduling: SchedulingService, now: dt.datetime
    ) -> AppointmentInfo | None:
        """The patient's own booked visit at exactly the offered time, if an earlier try made it."""
        for appointment in scheduling.upcoming_appointments(patient_id, now=now):
            if appointment.provider_id == provider_id and appointment.start == start:
                return appointment
        return None

    def _close_offer(
        self, outbox_id: int, offer_id: int, status: str, appointment_id: str | None, now: dt.datetime
    ) -> None:
        """Mark the offer (and its text) accepted or gone; the winner's waitlist entry becomes booked."""
        with self._session("close_offer") as session:
            offer = session.get(WaitlistOffer, offer_id, with_for_update=True)
            row = session.get(OutboxMessage, outbox_id)
            if offer is None or row is None:
                return
            if offer.status != OFFER_ACCEPTED:
                offer.status = status
                offer.answered_at = now
                offer.appointment_id = appointment_id
            row.answer = ANSWER_ACCEPTED if status == OFFER_ACCEPTED else ANSWER_GONE
            row.answered_at = now
            row.updated_at = now
            if status == OFFER_ACCEPTED:
                entry = session.get(WaitlistEntry, offer.entry_id)
                if entry is not None:
                    entry.status = WAITLIST_BOOKED
                    entry.booked_appointment_id = appointment_id
                    entry.updated_at = now
