"""Joining and leaving the waitlist, and texting consent.

Offers go out by text, so joining needs a mobile on record and the patient's
yes to texts. The same wish twice (patient, visit type, provider) keeps one
waiting entry, widened to cover both ranges, so a patient is never offered the
same time twice. The methods are defined in :class:`bot.outreach.service.OutreachService`.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.log_privacy import patient_ref
from bot.outreach.models import WAITLIST_LEFT, WAITLIST_WAITING, WaitlistEntry
from bot.outreach.service import NoTextConsent, OutreachError, WaitlistEntryInfo
from bot.outreach.sql_base import SqlOutreachBase
from bot.records.models import Patient
from bot.scheduling.models import Provider, ProviderVisitType, VisitType
from bot.settings import get_settings

logger = logging.getLogger(__name__)

MAX_WAITLIST_DAYS = 60
"""The longest range of days one entry may cover (a wish further out is a booking, not a wait)."""


class WaitlistRangeError(OutreachError, ValueError):
    """The range of days cannot be waited for: in the past, reversed or too long (the message says which)."""


class UnknownWaitlistChoice(OutreachError, ValueError):
    """No such visit type, or no such provider, or the provider does not offer the visit type."""


class SqlWaitlist(SqlOutreachBase):
    """join_waitlist, give_text_consent, has_text_consent, waitlist_of, leave_waitlist."""

    def join_waitlist(
        self,
        patient_id: str,
        visit_type: str,
        provider_id: str | None,
        from_date: dt.date,
        to_date: dt.date,
        channel: str,
        now: dt.datetime | None = None,
    ) -> WaitlistEntryInfo:
        """Add (or widen) the patient's waiting entry; see :meth:`OutreachService.join_waitlist`."""
        moment = self._now(now)
        today = moment.astimezone(get_settings().tz).date()
        from_date = _check_range(from_date, to_date, today)
        with self._session("join_waitlist") as session:
            _check_choice(session, visit_type, provider_id)
            patient = session.get(Patient, patient_id, with_for_update=True)
            if patient is None or not patient.mobile:
                raise NoTextConsent("no_mobile")
            if patient.sms_consent_at is None:
                raise NoTextConsent("no_consent", patient.mobile[-4:])
            # The patient row's lock (taken above) serializes two joins of the same patient.
            entry = session.scalars(
                select(WaitlistEntry)
                .where(
                    WaitlistEntry.patient_id == patient_id,
                    WaitlistEntry.visit_type_code == visit_type,
                    (WaitlistEntry.provider_id == provider_id)
                    if provider_id is not None
                    else WaitlistEntry.provider_id.is_(None),
                    WaitlistEntry.status == WAITLIST_WAITING,
                )
                .order_by(WaitlistEntry.joined_at, WaitlistEntry.id)
                .limit(1)
            ).first()
            if entry is None:
                entry = WaitlistEntry(
                    patient_id=patient_id,
                    provider_id=provider_id,
                    visit_type_code=visit_type,
                    from_date=from_date,
                    to_date=to_date,
                    status=WAITLIST_WAITING,
                    channel=channel[:40],
                    joined_at=moment,
                    updated_at=moment,
                )
                session.add(entry)
                action = "joined"
            else:
                # Keep the place in line (joined_at) and cover both wishes; a past start moves to today.
                start = max(min(entry.from_date, from_date), today)
                entry.from_date, entry.to_date = start, max(entry.to_date, to_date, start)
                entry.updated_at = moment
                action = "widened"
            session.flush()
            info = _info(entry)
        logger.info("waitlist entry %s %s for %s", info.entry_id, action, patient_ref(patient_id))
        return info

    def give_text_consent(self, patient_id: str, now: dt.datetime | None = None) -> None:
        """Record the patient's yes to texts (kept at its first moment); NoTextConsent when no mobile is on record."""
        moment = self._now(now)
        with self._session("give_text_consent") as session:
            patient = session.get(Patient, patient_id)
            if patient is None or not patient.mobile:
                raise NoTextConsent("no_mobile")
            if patient.sms_consent_at is None:
                patient.sms_consent_at = moment
        logger.info("text consent recorded for %s", patient_ref(patient_id))

    def has_text_consent(self, patient_id: str) -> bool:
        """Whether the patient agreed to texts and has a mobile on record."""
        with self._session("has_text_consent") as session:
            patient = session.get(Patient, patient_id)
            return patient is not None and bool(patient.mobile) and patient.sms_consent_at is not None

    def waitlist_of(self, patient_id: str) -> list[WaitlistEntryInfo]:
        """The patient's waiting entries, oldest first."""
        with self._session("waitlist_of") as session:
            rows = session.scalars(
                select(WaitlistEntry)
                .where(WaitlistEntry.patient_id == patient_id, WaitlistEntry.status == WAITLIST_WAITING)
                .order_by(WaitlistEntry.joined_at, WaitlistEntry.id)
            ).all()
            return [_info(row) for row in rows]

    def leave_waitlist(self, patient_id: str, entry_id: int, now: dt.datetime | None = None) -> None:
        """Take one of the patient's waiting entries off the list (another patient's entry: no change)."""
        moment = self._now(now)
        with self._session("leave_waitlist") as session:
            entry = session.get(WaitlistEntry, entry_id)
            if entry is None or entry.patient_id != patient_id or entry.status != WAITLIST_WAITING:
                return
            entry.status = WAITLIST_LEFT
            entry.updated_at = moment
        logger.info("waitlist entry %s left by %s", entry_id, patient_ref(patient_id))


def _check_range(from_date: dt.date, to_date: dt.date, today: dt.date) -> dt.date:
    """The range's first day from today on; a range that cannot be waited for raises, saying why."""
    if to_date < from_date:
        raise WaitlistRangeError("the range ends before it starts")
    if to_date < today:
        raise WaitlistRangeError("the range is in the past")
    start = max(from_date, today)
    if (to_date - start).days + 1 > MAX_WAITLIST_DAYS:
        raise WaitlistRangeError(f"the range is longer than {MAX_WAITLIST_DAYS} days")
    return start


def _check_choice(session: Session, visit_type: str, provider_id: str | None) -> None:
    """The visit type exists and is active; the provider (if any) exists and offers it."""
    kind = session.get(VisitType, visit_type)
    if kind is None or not kind.active:
        raise UnknownWaitlistChoice("unknown visit type")
    if provider_id is None:
        return
    provider = session.get(Provider, provider_id)
    if provider is None or not provider.active:
        raise UnknownWaitlistChoice("unknown provider")
    if session.get(ProviderVisitType, (provider_id, visit_type)) is None:
        raise UnknownWaitlistChoice("the provider does not offer this visit type")


def _info(entry: WaitlistEntry) -> WaitlistEntryInfo:
    return WaitlistEntryInfo(
        entry_id=entry.id,
        patient_id=entry.patient_id,
        visit_type=entry.visit_type_code,
        provider_id=entry.provider_id,
        from_date=entry.from_date,
        to_date=entry.to_date,
        status=entry.status,
        joined_at=entry.joined_at,
        booked_appointment_id=entry.booked_appointment_id,
    )
