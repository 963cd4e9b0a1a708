"""What an outbox row says, read at the moment it is sent, and whether it should still go out.

A row is planned ahead; by the time it is due the visit may have moved, the
patient may have withdrawn consent or texted STOP, the offered time may be
booked. :func:`compose` looks at the current records inside the worker's
claiming transaction and answers either the text to send (words from
``domain/outreach.yml``) or why not (a code for the staff page, never patient data).
Opt-outs are checked again by :func:`bot.sms_gateway.send_sms` itself.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.outreach.models import (
    KIND_FOLLOW_UP,
    KIND_NOTES_READY,
    KIND_REMINDER,
    KIND_WAITLIST_OFFER,
    OFFER_OPEN,
    OUTBOX_DROPPED,
    OUTBOX_SKIPPED,
    WAITLIST_WAITING,
    OutboxMessage,
    WaitlistEntry,
    WaitlistOffer,
)
from bot.outreach.texts import outgoing_text
from bot.records.models import Patient, Visit
from bot.scheduling.models import STATUS_BOOKED, STATUS_RESCHEDULED, Appointment, Clinic, Provider, VisitType
from bot.settings import get_settings
from bot.timeparse import format_day


@dataclass(frozen=True)
class Outgoing:
    """A text to send now: the number on record (E.164) and the whole body."""

    number: str
    body: str


@dataclass(frozen=True)
class NotSendable:
    """Why a row will not go out: ``status`` (dropped: no longer wanted; skipped: cannot) and a reason code."""

    status: str
    reason: str


def clock(moment: dt.datetime, tz: ZoneInfo) -> str:
    """A time as the chat says it: 9:00 AM."""
    text = moment.astimezone(tz).strftime("%I:%M %p")
    return text[1:] if text.startswith("0") else text


def _visit_type_words(name: str) -> str:
    """ "Follow-up" reads as "follow-up" inside a sentence; names stay capitalised."""
    return name[:1].lower() + name[1:] if name[:1].isupper() and not name[1:2].isupper() else name


def can_text(patient: Patient | None) -> NotSendable | None:
    """None when the patient may be texted first; else why not."""
    if patient is None:
        return NotSendable(OUTBOX_SKIPPED, "no_patient")
    if not patient.mobile:
        return NotSendable(OUTBOX_SKIPPED, "no_mobile")
    if patient.sms_consent_at is None:
        return NotSendable(OUTBOX_SKIPPED, "no_consent")
    return None


def _clinic_values(session: Session) -> dict[str, str]:
    clinic = session.get(Clinic, 1)
    if clinic is None:
        return {}
    return {"clinic_name": clinic.name, "clinic_address": clinic.address, "clinic_phone": clinic.phone}


def _provider_name(session: Session, provider_id: str) -> str:
    provider = session.get(Provider, provider_id)
    return provider.display_name if provider is not None else provider_id


def _visit_type_name(session: Session, code: str) -> str:
    visit_type = session.get(VisitType, code)
    return _visit_type_words(visit_type.display_name if visit_type is not None else code.replace("_", " "))


def _reminder(session: Session, row: OutboxMessage, now: dt.datetime, tz: ZoneInfo) -> dict[str, str] | NotSendable:
    appointment = session.get(Appointment, row.appointment_id) if row.appointment_id else None
    if appointment is None:
        return NotSendable(OUTBOX_DROPPED, "visit_gone")
    if appointment.status != STATUS_BOOKED:
        reason = "visit_moved" if appointment.status == STATUS_RESCHEDULED else f"visit_{appointment.status}"
        return NotSendable(OUTBOX_DROPPED, reason[:40])
    if appointment.start_at <= now:
        return NotSendable(OUTBOX_SKIPPED, "visit_started")
    start = appointment.start_at.astimezone(tz)
    return {
        "visit_type": _visit_type_words(appointment.visit_type.display_name),
        "provider": appointment.provider.display_name,
        "day": format_day(start.date(), now.astimezone(tz).date()),
        "time": clock(start, tz),
    }


def _offer(session: Session, row: OutboxMessage, now: dt.datetime, tz: ZoneInfo) -> dict[str, str] | NotSendable:
    offer = session.get(WaitlistOffer, row.offer_id) if row.offer_id else None
    if offer is None or offer.status != OFFER_OPEN:
        return NotSendable(OUTBOX_DROPPED, "offer_ended")
    entry = session.get(WaitlistEntry, offer.entry_id)
    if entry is None or entry.status != WAITLIST_WAITING:
        return NotSendable(OUTBOX_DROPPED, "left_waitlist")
    if offer.start_at <= now:
        return NotSendable(OUTBOX_DROPPED, "offer_passed")
    taken = session.execute(
        select(Appointment.id).where(
            Appointment.provider_id == offer.provider_id,
            Appointment.start_at == offer.start_at,
            Appointment.status == STATUS_BOOKED,
        )
    ).first()
    if taken is not None:
        return NotSendable(OUTBOX_DROPPED, "slot_taken")
    start = offer.start_at.astimezone(tz)
    return {
        "visit_type": _visit_type_name(session, offer.visit_type_code),
        "provider": _provider_name(session, offer.provider_id),
        "day": format_day(start.date(), now.astimezone(tz).date()),
        "time": clock(start, tz),
    }


def follow_up_booked(session: Session, patient_id: str, since: dt.datetime) -> bool:
    """Whether the patient holds a booked visit starting after ``since`` (then no follow-up is offered)."""
    return (
        session.execute(
            select(Appointment.id).where(
                Appointment.patient_id == patient_id,
                Appointment.status == STATUS_BOOKED,
                Appointment.start_at > since,
            )
        ).first()
        is not None
    )


def _visit(session: Session, row: OutboxMessage, now: dt.datetime, tz: ZoneInfo) -> dict[str, str] | NotSendable:
    visit = session.get(Visit, row.visit_id) if row.visit_id else None
    if visit is None:
        return NotSendable(OUTBOX_DROPPED, "visit_gone")
    values = {
        "provider": visit.provider_name,
        "notes_day": format_day(visit.visit_date, now.astimezone(tz).date()),
    }
    if row.kind == KIND_FOLLOW_UP:
        if visit.follow_up_due_in_days is None:
            return NotSendable(OUTBOX_DROPPED, "no_follow_up")
        visit_start = dt.datetime.combine(visit.visit_date, dt.time(0), tzinfo=tz)
        if follow_up_booked(session, visit.patient_id, visit_start + dt.timedelta(days=1)):
            return NotSendable(OUTBOX_DROPPED, "follow_up_booked")
        due = visit.visit_date + dt.timedelta(days=visit.follow_up_due_in_days)
        values["due_day"] = format_day(due, now.astimezone(tz).date())
    return values


def compose(session: Session, row: OutboxMessage, now: dt.datetime) -> Outgoing | NotSendable:
    """The text ``row`` sends now, or why it no longer should (``now`` aware)."""
    tz = get_settings().tz
    if row.expires_at is not None and row.expires_at <= now:
        return NotSendable(OUTBOX_SKIPPED, "expired")
    patient = session.get(Patient, row.patient_id)
    refusal = can_text(patient)
    if refusal is not None:
        return refusal
    assert patient is not None and patient.mobile  # can_text checked both
    if row.kind == KIND_REMINDER:
        values = _reminder(session, row, now, tz)
    elif row.kind == KIND_WAITLIST_OFFER:
        values = _offer(session, row, now, tz)
    elif row.kind in (KIND_FOLLOW_UP, KIND_NOTES_READY):
        values = _visit(session, row, now, tz)
    else:
        return NotSendable(OUTBOX_DROPPED, "unknown_kind")
    if isinstance(values, NotSendable):
        return values
    values = {**_clinic_values(session), "first_name": patient.first_name, **values}
    return Outgoing(patient.mobile, outgoing_text(row.kind, values).sms_body())
