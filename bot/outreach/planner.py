"""Planning: turn visits, visit summaries and freed times into outbox rows.

:func:`plan` runs in every worker round (``python -m bot worker``) and may run in
several workers at once: every row has a unique ``dedupe_key`` and is inserted
with ``ON CONFLICT DO NOTHING``, and a freed time is claimed once through the
primary key of ``freed_slots``, so planning twice plans nothing new. It reads
the database as it is, whatever path changed it (chat, SMS, staff, a script):

- **Reminders** of booked visits at the clinic's offsets, moved out of quiet
  hours. An offset whose time has passed while the visit is still ahead (a
  visit booked late) is due at once; of several passed offsets only the latest
  goes out. A planned reminder of a visit that was moved or cancelled is dropped
  (the moved visit, a new appointment, gets its own).
- **Waitlist offers**: a booked time freed by a cancel or a move is offered to
  every waiting patient it suits (provider, visit type that fits, day in their
  range), in order of joining; the first "yes" books it (:mod:`bot.outreach.sql_answers`).
- **Follow-ups** a visit summary says are due, on the day they fall due, when
  none is booked; **notes ready** the day after a visit.

Patients without texting consent or a mobile get no text: their rows are
written as ``skipped`` so staff can see why.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.db import session_scope
from bot.outreach.content import can_text, follow_up_booked
from bot.outreach.models import (
    KIND_FOLLOW_UP,
    KIND_NOTES_READY,
    KIND_REMINDER,
    KIND_WAITLIST_OFFER,
    OFFER_ACCEPTED,
    OFFER_OPEN,
    OUTBOX_DROPPED,
    OUTBOX_PLANNED,
    OUTBOX_SKIPPED,
    WAITLIST_EXPIRED,
    WAITLIST_WAITING,
    FreedSlot,
    OutboxMessage,
    WaitlistEntry,
    WaitlistOffer,
)
from bot.outreach.policy import Policy, load_policy
from bot.records.models import Patient, Visit
from bot.scheduling.models import (
    STATUS_BOOKED,
    STATUS_CANCELLED,
    STATUS_RESCHEDULED,
    Appointment,
    ProviderVisitType,
    VisitType,
)
from bot.settings import get_settings

logger = logging.getLogger(__name__)

FREED_LOOKBACK = dt.timedelta(days=2)
"""How far back a cancel or move is still looked at for the waitlist (older ones were handled or are stale)."""
REMINDER_PLAN_AHEAD = dt.timedelta(days=8)
"""Reminders are planned this long before they are due, so staff see the coming week."""
FOLLOW_UP_PLAN_AHEAD = dt.timedelta(days=14)
"""Follow-up offers are planned this far ahead, so staff see them coming."""
FOLLOW_UP_GRACE = dt.timedelta(days=3)
"""A follow-up offer not sent within this time after it fell due is no longer sent."""
NOTES_READY_GRACE = dt.timedelta(days=1)
"""A "notes ready" text not sent within a day of its time is no longer sent."""


@dataclass
class PlanReport:
    """How many rows one planning round wrote (0 everywhere: nothing new)."""

    reminders: int = 0
    offers: int = 0
    follow_ups: int = 0
    notes_ready: int = 0
    dropped: int = 0
    expired_entries: int = 0

    @property
    def total(self) -> int:
        """Rows written or changed in all."""
        return self.reminders + self.offers + self.follow_ups + self.notes_ready + self.dropped + self.expired_entries


def _insert_ignoring_duplicates(session: Session, table: Any, rows: Sequence[dict[str, Any]], key: str) -> int:
    """Insert ``rows``; a row whose ``key`` exists already (another worker planned it) is left out."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    result = session.execute(insert(table).values(list(rows)).on_conflict_do_nothing(index_elements=[key]))
    return max(int(result.rowcount or 0), 0)


def _outbox_row(
    *,
    dedupe_key: str,
    kind: str,
    patient_id: str,
    send_at: dt.datetime,
    expires_at: dt.datetime | None,
    now: dt.datetime,
    refusal: str | None = None,
    **links: Any,
) -> dict[str, Any]:
    """The values of one outbox row (``refusal``: written as skipped with that reason)."""
    return {
        "dedupe_key": dedupe_key,
        "kind": kind,
        "patient_id": patient_id,
        "appointment_id": links.get("appointment_id"),
        "visit_id": links.get("visit_id"),
        "offer_id": links.get("offer_id"),
        "send_at": send_at,
        "expires_at": expires_at,
        "status": OUTBOX_SKIPPED if refusal else OUTBOX_PLANNED,
        "status_reason": refusal,
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }


def _refusals(session: Session, patient_ids: Iterable[str]) -> dict[str, str | None]:
    """For each patient: None when they may be texted first, else the reason code."""
    wanted = sorted(set(patient_ids))
    if not wanted:
        return {}
    found = {p.id: p for p in session.execute(select(Patient).where(Patient.id.in_(wanted))).scalars()}
    result: dict[str, str | None] = {}
    for patient_id in wanted:
        refusal = can_text(found.get(patient_id))
        result[patient_id] = refusal.reason if refusal else None
    return result


def _existing_keys(session: Session, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` are planned already (read in chunks; IN lists stay short)."""
    existing: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = list(keys[start : start + 500])
        existing.update(
            session.execute(select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(chunk))).scalars()
        )
    return existing


# -- reminders ---------------------------------------------------------------


def reminder_due(policy: Policy, start: dt.datetime, now: dt.datetime, tz: ZoneInfo) -> list[tuple[str, dt.datetime]]:
    """The reminders a visit starting at ``start`` gets, as (offset code, send time), given ``now``.

    Future offsets keep their time (out of quiet hours); of the offsets already
    passed only the latest is kept, due now (unless quiet hours would hold it
    until a coming reminder goes out anyway). A reminder that could only go out
    at or after the visit's start is left out.
    """
    planned: list[tuple[str, dt.datetime]] = []
    passed: tuple[dt.datetime, str] | None = None
    for offset in policy.reminders:
        due = policy.reminder_time(offset, start, tz)
        if due >= start:
            continue
        if due <= now:
            if passed is None or due > passed[0]:
                passed = (due, offset.code)
            continue
        planned.append((offset.code, policy.next_allowed(due, tz)))
    if passed is not None:
        at_once = policy.next_allowed(now, tz)
        # Quiet hours can push the late reminder onto a coming one: then the coming one is enough.
        if all(at_once < send_at for _, send_at in planned):
            planned.append((passed[1], at_once))
    return [(code, send_at) for code, send_at in planned if send_at < start]


def _plan_reminders(session: Session, policy: Policy, now: dt.datetime, tz: ZoneInfo) -> int:
    if not policy.reminders:
        return 0
    horizon = now + dt.timedelta(days=max(o.days_before for o in policy.reminders)) + REMINDER_PLAN_AHEAD
    visits = session.execute(
        select(Appointment.id, Appointment.patient_id, Appointment.start_at).where(
            Appointment.status == STATUS_BOOKED, Appointment.start_at > now, Appointment.start_at <= horizon
        )
    ).all()
    wanted = []
    for appointment_id, patient_id, start in visits:
        for code, send_at in reminder_due(policy, start, now, tz):
            wanted.append((f"{KIND_REMINDER}:{appointment_id}:{code}", appointment_id, patient_id, start, send_at))
    existing = _existing_keys(session, [w[0] for w in wanted])
    missing = [w for w in wanted if w[0] not in existing]
    refusals = _refusals(session, (w[2] for w in missing))
    rows = [
        _outbox_row(
            dedupe_key=key,
            kind=KIND_REMINDER,
            patient_id=patient_id,
            send_at=send_at,
            expires_at=start,
            now=now,
            refusal=refusals.get(patient_id),
            appointment_id=appointment_id,
        )
        for key, appointment_id, patient_id, start, send_at in missing
    ]
    return _insert_ignoring_duplicates(session, OutboxMessage.__table__, rows, "dedupe_key")


def _drop_stale_reminders(session: Session, now: dt.datetime) -> int:
    """Planned reminders of visits no longer booked are dropped, with why."""
    stale = session.execute(
        select(OutboxMessage.id, Appointment.status)
        .join(Appointment, Appointment.id == OutboxMessage.appointment_id)
        .where(
            OutboxMessage.kind == KIND_REMINDER,
            OutboxMessage.status == OUTBOX_PLANNED,
            Appointment.status != STATUS_BOOKED,
        )
    ).all()
    dropped = 0
    for outbox_id, status in stale:
        reason = "visit_moved" if status == STATUS_RESCHEDULED else f"visit_{status}"
        result = session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == outbox_id, OutboxMessage.status == OUTBOX_PLANNED)
            .values(status=OUTBOX_DROPPED, status_reason=reason[:40], updated_at=now)
        )
        dropped += int(result.rowcount or 0)
    return dropped


# -- waitlist ----------------------------------------------------------------


def _expire_entries(session: Session, today: dt.date, now: dt.datetime) -> int:
    result = session.execute(
        update(WaitlistEntry)
        .where(WaitlistEntry.status == WAITLIST_WAITING, WaitlistEntry.to_date < today)
        .values(status=WAITLIST_EXPIRED, updated_at=now)
    )
    return int(result.rowcount or 0)


def _slot_is_free(session: Session, provider_id: str, start: dt.datetime, end: dt.datetime) -> bool:
    """Whether no booked visit of the provider overlaps [start, end)."""
    clash = session.execute(
        select(Appointment.id).where(
            Appointment.provider_id == provider_id,
            Appointment.status == STATUS_BOOKED,
            Appointment.start_at < end,
            Appointment.end_at > start,
        )
    ).first()
    return clash is None


def _entries_for(session: Session, freed: Appointment, tz: ZoneInfo) -> list[tuple[WaitlistEntry, str]]:
    """Waiting entries the freed time suits, oldest first, each with the visit type it would be booked as."""
    day = freed.start_at.astimezone(tz).date()
    length = freed.end_at - freed.start_at
    offered = {
        code
        for (code,) in session.execute(
            select(ProviderVisitType.visit_type_code).where(ProviderVisitType.provider_id == freed.provider_id)
        )
    }
    lengths = {
        code: dt.timedelta(minutes=minutes)
        for code, minutes in session.execute(select(VisitType.code, VisitType.duration_minutes))
    }
    entries = session.execute(
        select(WaitlistEntry)
        .where(
            WaitlistEntry.status == WAITLIST_WAITING,
            WaitlistEntry.from_date <= day,
            WaitlistEntry.to_date >= day,
            WaitlistEntry.patient_id != freed.patient_id,
            or_(WaitlistEntry.provider_id.is_(None), WaitlistEntry.provider_id == freed.provider_id),
        )
        .order_by(WaitlistEntry.joined_at, WaitlistEntry.id)
    ).scalars()
    return [
        (entry, entry.visit_type_code)
        for entry in entries
        if entry.visit_type_code in offered and lengths.get(entry.visit_type_code, length + length) <= length
    ]


def _open_offer(
    session: Session, entry: WaitlistEntry, freed: Appointment, visit_type: str, now: dt.datetime
) -> WaitlistOffer | None:
    """The open offer of the freed time to ``entry``: new, or an earlier one of the same time opened again.

    The same time can be freed twice (booked again, then cancelled again); the
    patient who said no or was too late then gets it offered once more.
    """
    offer = session.execute(
        select(WaitlistOffer).where(
            WaitlistOffer.entry_id == entry.id,
            WaitlistOffer.provider_id == freed.provider_id,
            WaitlistOffer.start_at == freed.start_at,
        )
    ).scalar_one_or_none()
    if offer is None:
        offer = WaitlistOffer(
            entry_id=entry.id,
            freed_appointment_id=freed.id,
            provider_id=freed.provider_id,
            visit_type_code=visit_type,
            start_at=freed.start_at,
            status=OFFER_OPEN,
            created_at=now,
        )
        session.add(offer)
    elif offer.status == OFFER_ACCEPTED:
        return None
    else:
        offer.status = OFFER_OPEN
        offer.freed_appointment_id = freed.id
        offer.visit_type_code = visit_type
        offer.created_at = now
        offer.answered_at = None
    session.flush()
    return offer


def _plan_offers(session: Session, policy: Policy, now: dt.datetime, tz: ZoneInfo) -> int:
    """Offer each newly freed time to the waitlist (each freed time is claimed by one planner)."""
    freed_rows = session.execute(
        select(Appointment).where(
            Appointment.status.in_((STATUS_CANCELLED, STATUS_RESCHEDULED)),
            Appointment.start_at > now,
            Appointment.cancelled_at >= now - FREED_LOOKBACK,
            ~Appointment.id.in_(select(FreedSlot.appointment_id)),
        )
    ).scalars()
    offers = 0
    for freed in list(freed_rows):
        claimed = _insert_ignoring_duplicates(
            session,
            FreedSlot.__table__,
            [
                {
                    "appointment_id": freed.id,
                    "provider_id": freed.provider_id,
                    "visit_type_code": freed.visit_type_code,
                    "start_at": freed.start_at,
                    "found_at": now,
                    "offers": 0,
                }
            ],
            "appointment_id",
        )
        if not claimed:
            continue  # another worker has it
        send_at = policy.next_allowed(now, tz)
        if not policy.waitlist or send_at >= freed.start_at:
            continue
        if not _slot_is_free(session, freed.provider_id, freed.start_at, freed.end_at):
            continue  # booked again already (a move back, a quick booking)
        suited = _entries_for(session, freed, tz)
        refusals = _refusals(session, (entry.patient_id for entry, _ in suited))
        count = 0
        for entry, visit_type in suited:
            if refusals.get(entry.patient_id):
                continue  # offers go out by text only
            offer = _open_offer(session, entry, freed, visit_type, now)
            if offer is None:
                continue
            count += _insert_ignoring_duplicates(
                session,
                OutboxMessage.__table__,
                [
                    _outbox_row(
                        dedupe_key=f"{KIND_WAITLIST_OFFER}:{freed.id}:{entry.id}",
                        kind=KIND_WAITLIST_OFFER,
                        patient_id=entry.patient_id,
                        send_at=send_at,
                        expires_at=freed.start_at,
                        now=now,
                        offer_id=offer.id,
                    )
                ],
                "dedupe_key",
            )
        session.execute(update(FreedSlot).where(FreedSlot.appointment_id == freed.id).values(offers=count))
        if count:
            logger.info("freed time of %s offered to %d waitlisted patient(s)", freed.id, count)
        offers += count
    return offers


# -- follow-ups and notes ----------------------------------------------------


def _plan_visit_texts(session: Session, policy: Policy, now: dt.datetime, tz: ZoneInfo) -> tuple[int, int]:
    today = now.astimezone(tz).date()
    follow_ups: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    earliest = today - dt.timedelta(days=400)
    wanted: list[Any] = [Visit.visit_date >= today - dt.timedelta(days=1)]  # notes ready
    if policy.follow_up_offer_at is not None:
        wanted.append(Visit.follow_up_due_in_days.isnot(None))
    visits = list(session.execute(select(Visit).where(Visit.visit_date >= earliest, or_(*wanted))).scalars())
    refusals = _refusals(session, (v.patient_id for v in visits))

    def row(kind: str, visit: Visit, due: dt.datetime, grace: dt.timedelta) -> dict[str, Any]:
        return _outbox_row(
            dedupe_key=f"{kind}:{visit.id}",
            kind=kind,
            patient_id=visit.patient_id,
            send_at=policy.next_allowed(max(due, now), tz),
            expires_at=due + grace,
            now=now,
            refusal=refusals.get(visit.patient_id),
            visit_id=visit.id,
        )

    for visit in visits:
        if policy.follow_up_offer_at is not None and visit.follow_up_due_in_days is not None:
            due_day = visit.visit_date + dt.timedelta(days=visit.follow_up_due_in_days)
            due = dt.datetime.combine(due_day, policy.follow_up_offer_at, tzinfo=tz).astimezone(dt.timezone.utc)
            visit_end = dt.datetime.combine(visit.visit_date + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
            if now - FOLLOW_UP_GRACE < due <= now + FOLLOW_UP_PLAN_AHEAD and not follow_up_booked(
                session, visit.patient_id, visit_end
            ):
                follow_ups.append(row(KIND_FOLLOW_UP, visit, due, FOLLOW_UP_GRACE))
        if policy.notes_ready_at is not None:
            day_after = visit.visit_date + dt.timedelta(days=1)
            due = dt.datetime.combine(day_after, policy.notes_ready_at, tzinfo=tz).astimezone(dt.timezone.utc)
            if due > now - NOTES_READY_GRACE and day_after <= today + dt.timedelta(days=1):
                notes.append(row(KIND_NOTES_READY, visit, due, NOTES_READY_GRACE))
    existing = _existing_keys(session, [r["dedupe_key"] for r in follow_ups + notes])
    table = OutboxMessage.__table__
    new_follow_ups = [r for r in follow_ups if r["dedupe_key"] not in existing]
    new_notes = [r for r in notes if r["dedupe_key"] not in existing]
    return (
        _insert_ignoring_duplicates(session, table, new_follow_ups, "dedupe_key"),
        _insert_ignoring_duplicates(session, table, new_notes, "dedupe_key"),
    )


# -- the round ---------------------------------------------------------------


def plan(now: dt.datetime | None = None, url: str | None = None) -> PlanReport:
    """One planning round at ``now`` (default: the clinic clock); idempotent, safe in several workers at once."""
    settings = get_settings()
    tz = settings.tz
    moment = (now or settings.now()).astimezone(dt.timezone.utc)
    report = PlanReport()
    with session_scope(url) as session:
        policy = load_policy(session)
    if policy is None:
        return report  # the clinic data has no outreach section: nothing is texted first
    # Separate short transactions: a slow step does not hold the others' locks.
    with session_scope(url) as session:
        report.dropped = _drop_stale_reminders(session, moment)
    with session_scope(url) as session:
        report.reminders = _plan_reminders(session, policy, moment, tz)
    with session_scope(url) as session:
        report.expired_entries = _expire_entries(session, moment.astimezone(tz).date(), moment)
    with session_scope(url) as session:
        report.offers = _plan_offers(session, policy, moment, tz)
    with session_scope(url) as session:
        report.follow_ups, report.notes_ready = _plan_visit_texts(session, policy, moment, tz)
    if report.total:
        logger.info(
            "outreach planned: %d reminder(s), %d offer(s), %d follow-up(s), %d notes-ready, %d dropped",
            report.reminders,
            report.offers,
            report.follow_ups,
            report.notes_ready,
            report.dropped,
        )
    return report
