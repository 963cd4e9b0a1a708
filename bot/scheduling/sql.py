"""The SQL (SQLite or PostgreSQL) implementation of :class:`SchedulingService`.

Booking is race-safe on both databases: each write transaction first locks
the provider's row (``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite the
engine's ``BEGIN IMMEDIATE`` already serializes writers), then checks for an
overlapping appointment and inserts, all in one transaction. A partial unique
index on (provider_id, start_at) for booked rows is the second guard; its
violation is reported as :class:`SlotUnavailable`.

A patient cannot hold two overlapping visits, even with different providers (whose
locks do not serialize each other): booking and rescheduling also take a per-patient
lock (a transaction-scoped advisory lock on PostgreSQL; SQLite's writer lock already
covers it) before checking the patient's other booked visits, in the same transaction
as the insert; an overlap is :class:`OverlappingAppointment`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import secrets
from collections import defaultdict
from collections.abc import Iterator, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session

from bot.db import session_scope
from bot.log_privacy import patient_ref
from bot.scheduling import slots as slot_math
from bot.scheduling.errors import (
    AppointmentAlreadyCancelled,
    AppointmentInPast,
    AppointmentNotFound,
    BackendUnavailable,
    OverlappingAppointment,
    ProviderDoesNotOffer,
    SchedulingError,
    SlotUnavailable,
    UnknownProvider,
    UnknownVisitType,
)
from bot.scheduling.models import (
    STATUS_BOOKED,
    STATUS_CANCELLED,
    STATUS_COMPLETED,
    STATUS_NO_SHOW,
    STATUS_RESCHEDULED,
    Appointment,
    Clinic,
    ClinicClosure,
    OpeningHours,
    Provider,
    ProviderVisitType,
    ScheduleBlock,
    VisitType,
)
from bot.scheduling.service import (
    AppointmentInfo,
    ClinicInfo,
    ProviderInfo,
    SchedulingService,
    Slot,
    VisitTypeInfo,
)
from bot.settings import get_settings

logger = logging.getLogger(__name__)

DEFAULT_SEARCH_DAYS = 28
MAX_SEARCH_DAYS = 92
# No 0/O, 1/I/L: ids are read aloud and typed from SMS.
ID_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
ID_LENGTH = 5
REASON_MAX = 500
CHANNEL_MAX = 40


def new_appointment_id() -> str:
    """A short, unguessable, easy-to-read appointment id such as ``A-7K3Q9``."""
    return "A-" + "".join(secrets.choice(ID_ALPHABET) for _ in range(ID_LENGTH))


def normalize_appointment_id(appointment_id: str) -> str:
    """Accept ids as people type them: spaces around, lower case."""
    return (appointment_id or "").strip().upper()


def _as_date(value: dt.date | None) -> dt.date | None:
    """Dates may arrive as datetimes from callers; only the calendar day matters."""
    return value.date() if isinstance(value, dt.datetime) else value


def _key(value: str | None) -> str:
    """Provider ids and visit type codes are lower-case slugs; accept sloppy casing."""
    return (value or "").strip().lower()


class SqlSchedulingService(SchedulingService):
    """Scheduling on the clinic database at ``url`` (default: ``CLINIC_DATABASE_URL`` at call time)."""

    def __init__(self, url: str | None = None) -> None:
        """Remember where the database is; the engine is created on first use."""
        self._url_override = url

    # -- plumbing ---------------------------------------------------------

    @property
    def url(self) -> str:
        """The database URL this service uses right now."""
        return self._url_override or get_settings().clinic_database_url

    @staticmethod
    def _tz() -> ZoneInfo:
        return get_settings().tz

    def _local(self, value: dt.datetime) -> dt.datetime:
        """An aware datetime in the clinic zone; naive input is read as clinic-local."""
        tz = self._tz()
        if value.tzinfo is None or value.utcoffset() is None:
            return value.replace(tzinfo=tz)
        return value.astimezone(tz)

    def _now(self, now: dt.datetime | None) -> dt.datetime:
        return self._local(now if now is not None else get_settings().now())

    @contextlib.contextmanager
    def _session(self, operation: str) -> Iterator[Session]:
        """A transaction whose database failures surface as scheduling errors."""
        try:
            with session_scope(self.url) as session:
                yield session
        except SchedulingError:
            raise
        except IntegrityError as exc:
            logger.info("%s: slot taken (unique guard)", operation)
            raise SlotUnavailable("that time was just taken") from exc
        except (DBAPIError, PoolTimeoutError) as exc:
            reason = type(getattr(exc, "orig", None) or exc).__name__
            logger.error("%s: scheduling database unavailable (%s)", operation, reason)
            raise BackendUnavailable("the scheduling database is unavailable") from exc

    # -- catalog ----------------------------------------------------------

    def _provider(self, session: Session, provider_id: str, lock: bool = False) -> Provider:
        """An active provider; with ``lock`` its row is locked until commit (serializes bookings)."""
        key = _key(provider_id)
        query = select(Provider.id).where(Provider.id == key, Provider.active.is_(True))
        if lock:
            query = query.with_for_update()
        if session.execute(query).scalar_one_or_none() is None:
            raise UnknownProvider(provider_id)
        provider = session.get(Provider, key)
        assert provider is not None
        return provider

    @staticmethod
    def _visit_type(session: Session, code: str) -> VisitType:
        visit_type = session.get(VisitType, _key(code))
        if visit_type is None or not visit_type.active:
            raise UnknownVisitType(code)
        return visit_type

    @staticmethod
    def _offers(session: Session, provider_id: str, visit_type_code: str) -> bool:
        return (
            session.get(ProviderVisitType, {"provider_id": provider_id, "visit_type_code": visit_type_code}) is not None
        )

    @staticmethod
    def _provider_info(provider: Provider, visit_types: Sequence[str]) -> ProviderInfo:
        return ProviderInfo(
            provider_id=provider.id,
            display_name=provider.display_name,
            short_name=provider.short_name,
            title=provider.title,
            specialty=provider.specialty,
            visit_types=tuple(visit_types),
        )

    def _providers(self, session: Session, visit_type: str | None = None) -> list[ProviderInfo]:
        type_order = {
            code: index
            for index, code in enumerate(
                session.execute(select(VisitType.code).order_by(VisitType.sort_order, VisitType.code)).scalars()
            )
        }
        offered: dict[str, list[str]] = defaultdict(list)
        for provider_id, code in session.execute(
            select(ProviderVisitType.provider_id, ProviderVisitType.visit_type_code)
            .join(VisitType, VisitType.code == ProviderVisitType.visit_type_code)
            .where(VisitType.active.is_(True))
        ):
            offered[provider_id].append(code)
        providers = session.execute(
            select(Provider).where(Provider.active.is_(True)).order_by(Provider.sort_order, Provider.id)
        ).scalars()
        result = []
        for provider in providers:
            codes = sorted(offered.get(provider.id, []), key=lambda c: type_order.get(c, 0))
            if visit_type is None or visit_type in codes:
                result.append(self._provider_info(provider, codes))
        return result

    def clinic_info(self) -> ClinicInfo:
        """Name, address, phone and weekly hours from the clinic tables."""
        with self._session("clinic_info") as session:
            clinic = session.get(Clinic, 1)
            if clinic is None:
                logger.error("clinic_info: the clinic row is missing (database not seeded)")
                raise BackendUnavailable("the clinic database is not set up")
            hours: dict[int, list[tuple[dt.time, dt.time]]] = {day: [] for day in range(7)}
            for row in session.execute(
                select(OpeningHours).order_by(OpeningHours.weekday, OpeningHours.opens_at)
            ).scalars():
                hours[row.weekday].append((row.opens_at, row.closes_at))
            return ClinicInfo(
                name=clinic.name,
                address=clinic.address,
                phone=clinic.phone,
                timezone=get_settings().clinic_timezone,
                opening_hours={day: tuple(blocks) for day, blocks in hours.items()},
            )

    def list_providers(self) -> list[ProviderInfo]:
        """Active providers with the visit types each offers."""
        with self._session("list_providers") as session:
            return self._providers(session)

    def list_visit_types(self) -> list[VisitTypeInfo]:
        """Active visit types in display order."""
        with self._session("list_visit_types") as session:
            rows = session.execute(
                select(VisitType).where(VisitType.active.is_(True)).order_by(VisitType.sort_order, VisitType.code)
            ).scalars()
            return [
                VisitTypeInfo(
                    code=row.code,
                    display_name=row.display_name,
                    duration_minutes=row.duration_minutes,
                    self_pay_price_cents=row.self_pay_price_cents,
                )
                for row in rows
            ]

    def providers_for(self, visit_type: str) -> list[ProviderInfo]:
        """Providers who offer ``visit_type``; raises UnknownVisitType."""
        with self._session("providers_for") as session:
            code = self._visit_type(session, visit_type).code
            return self._providers(session, code)

    def is_open_on(self, day: dt.date) -> bool:
        """Whether the clinic has opening hours on ``day`` and it is not a closure date."""
        day = _as_date(day) or day
        with self._session("is_open_on") as session:
            if session.get(ClinicClosure, day) is not None:
                return False
            return (
                session.execute(select(OpeningHours.id).where(OpeningHours.weekday == day.weekday()).limit(1)).first()
                is not None
            )

    # -- slots ------------------------------------------------------------

    def _free_slots(
        self,
        session: Session,
        providers: Sequence[Provider],
        visit_type: VisitType,
        first_day: dt.date,
        last_day: dt.date,
        now: dt.datetime,
        exclude_appointment_id: str | None = None,
        patient_id: str | None = None,
    ) -> list[Slot]:
        """Every open slot of ``providers`` for ``visit_type`` between two dates, in offer order.

        With ``patient_id`` the patient's own booked visits are busy time for every provider.
        """
        if last_day < first_day or not providers:
            return []
        tz = self._tz()
        opening: dict[int, list[tuple[dt.time, dt.time]]] = defaultdict(list)
        for row in session.execute(select(OpeningHours)).scalars():
            opening[row.weekday].append((row.opens_at, row.closes_at))
        closed = set(
            session.execute(select(ClinicClosure.day).where(ClinicClosure.day.between(first_day, last_day))).scalars()
        )
        provider_ids = [p.id for p in providers]
        blocks: dict[tuple[str, int], list[tuple[dt.time, dt.time]]] = defaultdict(list)
        for block in session.execute(
            select(ScheduleBlock).where(ScheduleBlock.provider_id.in_(provider_ids))
        ).scalars():
            blocks[(block.provider_id, block.weekday)].append((block.starts_at, block.ends_at))
        range_start = slot_math.local_moment(first_day, dt.time(0), tz)
        range_end = slot_math.local_moment(last_day + dt.timedelta(days=1), dt.time(0), tz)
        busy_query = select(Appointment.provider_id, Appointment.start_at, Appointment.end_at).where(
            Appointment.provider_id.in_(provider_ids),
            Appointment.status == STATUS_BOOKED,
            Appointment.start_at < range_end,
            Appointment.end_at > range_start,
        )
        if exclude_appointment_id is not None:
            busy_query = busy_query.where(Appointment.id != exclude_appointment_id)
        busy: dict[str, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
        for provider_id, start_at, end_at in session.execute(busy_query):
            busy[provider_id].append((start_at, end_at))
        if patient_id:
            own = self._patient_visits(session, patient_id, range_start, range_end, exclude_appointment_id)
            for provider_id in provider_ids:
                busy[provider_id].extend((row.start_at, row.end_at) for row in own)

        duration = dt.timedelta(minutes=visit_type.duration_minutes)
        not_before = now + slot_math.MIN_LEAD_TIME
        found: list[tuple[dt.datetime, int, Slot]] = []
        day = first_day
        while day <= last_day:
            weekday = day.weekday()
            if day not in closed and opening.get(weekday):
                for rank, provider in enumerate(providers):
                    for start in slot_math.free_starts(
                        day,
                        blocks.get((provider.id, weekday), []),
                        opening[weekday],
                        busy.get(provider.id, []),
                        duration,
                        tz,
                        not_before,
                    ):
                        slot = Slot(
                            provider_id=provider.id,
                            provider_name=provider.display_name,
                            visit_type=visit_type.code,
                            visit_type_name=visit_type.display_name,
                            start=start,
                            end=start + duration,
                        )
                        found.append((start, rank, slot))
            day += dt.timedelta(days=1)
        found.sort(key=lambda item: (item[0], item[1]))
        return [slot for _, _, slot in found]

    def _search_targets(
        self, session: Session, visit_type: str, provider_id: str | None
    ) -> tuple[VisitType, list[Provider]]:
        """The visit type and the providers to search, validating both."""
        vt = self._visit_type(session, visit_type)
        if provider_id is not None:
            provider = self._provider(session, provider_id)
            if not self._offers(session, provider.id, vt.code):
                raise ProviderDoesNotOffer(provider.id, vt.code)
            return vt, [provider]
        providers = list(
            session.execute(
                select(Provider)
                .join(ProviderVisitType, ProviderVisitType.provider_id == Provider.id)
                .where(ProviderVisitType.visit_type_code == vt.code, Provider.active.is_(True))
                .order_by(Provider.sort_order, Provider.id)
            ).scalars()
        )
        return vt, providers

    def search_slots(
        self,
        visit_type: str,
        provider_id: str | None = None,
        start_date: dt.date | None = None,
        end_date: dt.date | None = None,
        earliest: dt.time | None = None,
        latest: dt.time | None = None,
        exact_time: dt.time | None = None,
        limit: int = 3,
        now: dt.datetime | None = None,
        patient_id: str | None = None,
        ignore_appointment_id: str | None = None,
    ) -> list[Slot]:
        """Open slots to offer, earliest available first.

        Dates default to today through four weeks on (capped at ~three months);
        ``earliest``/``latest`` bound the start time inclusively (morning:
        ``latest=11:59``). Without a provider every provider offering the visit
        type is searched, and picks are spread at least an hour apart on a day
        when the choice allows. With ``exact_time`` only ``start_date``'s day is
        searched (unless ``end_date`` is given): the slots at exactly that time
        if any are open, else the ones nearest to it on the first day with any.
        """
        current = self._now(now)
        today = current.date()
        start_date, end_date = _as_date(start_date), _as_date(end_date)
        first_day = max(start_date or today, today)
        if end_date is not None:
            last_day = end_date
        elif exact_time is not None:
            last_day = first_day
        else:
            last_day = first_day + dt.timedelta(days=DEFAULT_SEARCH_DAYS - 1)
        last_day = min(last_day, first_day + dt.timedelta(days=MAX_SEARCH_DAYS - 1))
        with self._session("search_slots") as session:
            vt, providers = self._search_targets(session, visit_type, provider_id)
            if limit <= 0 or last_day < first_day:
                return []
            candidates = self._free_slots(
                session,
                providers,
                vt,
                first_day,
                last_day,
                current,
                exclude_appointment_id=normalize_appointment_id(ignore_appointment_id or "") or None,
                patient_id=(patient_id or "").strip() or None,
            )
        candidates = [
            slot
            for slot in candidates
            if (earliest is None or slot.start.time() >= earliest) and (latest is None or slot.start.time() <= latest)
        ]
        if exact_time is not None:
            exact = [slot for slot in candidates if slot.start.time() == exact_time]
            if exact:
                return exact[:limit]
            if not candidates:
                return []
            day = candidates[0].start.date()
            same_day = [slot for slot in candidates if slot.start.date() == day]
            target = slot_math.local_moment(day, exact_time, self._tz())
            return slot_math.nearest(same_day, target, limit, lambda slot: slot.start)
        return slot_math.spread_pick(candidates, limit, lambda slot: slot.start)

    def _ensure_bookable(
        self,
        session: Session,
        provider: Provider,
        visit_type: VisitType,
        start: dt.datetime,
        now: dt.datetime,
        exclude_appointment_id: str | None = None,
    ) -> None:
        """Raise SlotUnavailable unless ``start`` is exactly a slot search would offer now."""
        if not self._offers(session, provider.id, visit_type.code):
            raise ProviderDoesNotOffer(provider.id, visit_type.code)
        if start < now + slot_math.MIN_LEAD_TIME:
            raise SlotUnavailable("that time has passed or is too soon to book")
        day = start.date()
        open_starts = {
            slot.start
            for slot in self._free_slots(session, [provider], visit_type, day, day, now, exclude_appointment_id)
        }
        if start not in open_starts:
            raise SlotUnavailable("that time is not open for this provider")

    # -- appointments -----------------------------------------------------

    @staticmethod
    def _patient_visits(
        session: Session,
        patient_id: str,
        start: dt.datetime,
        end: dt.datetime,
        exclude_appointment_id: str | None = None,
    ) -> list[Appointment]:
        """The patient's booked visits overlapping [start, end), earliest first."""
        query = select(Appointment).where(
            Appointment.patient_id == patient_id,
            Appointment.status == STATUS_BOOKED,
            Appointment.start_at < end,
            Appointment.end_at > start,
        )
        if exclude_appointment_id is not None:
            query = query.where(Appointment.id != exclude_appointment_id)
        return list(session.execute(query.order_by(Appointment.start_at, Appointment.id)).scalars())

    @staticmethod
    def _lock_patient(session: Session, patient_id: str) -> None:
        """Serialize this patient's bookings until commit (PostgreSQL; SQLite writers already are)."""
        if session.get_bind().dialect.name != "postgresql":
            return
        digest = hashlib.sha256(f"clinic-patient:{patient_id}".encode()).digest()
        key = int.from_bytes(digest[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})

    def _ensure_patient_free(
        self,
        session: Session,
        patient_id: str,
        start: dt.datetime,
        end: dt.datetime,
        exclude_appointment_id: str | None = None,
    ) -> None:
        """Raise OverlappingAppointment when the patient already holds a visit in [start, end)."""
        self._lock_patient(session, patient_id)
        clashes = self._patient_visits(session, patient_id, start, end, exclude_appointment_id)
        if clashes:
            raise OverlappingAppointment(self._info(clashes[0]))

    def _info(self, appointment: Appointment) -> AppointmentInfo:
        tz = self._tz()
        return AppointmentInfo(
            appointment_id=appointment.id,
            patient_id=appointment.patient_id,
            provider_id=appointment.provider_id,
            provider_name=appointment.provider.display_name,
            visit_type=appointment.visit_type_code,
            visit_type_name=appointment.visit_type.display_name,
            start=appointment.start_at.astimezone(tz),
            end=appointment.end_at.astimezone(tz),
            status=appointment.status,
            reason=appointment.reason,
            channel=appointment.channel,
            created_at=appointment.created_at.astimezone(tz),
            cancelled_at=appointment.cancelled_at.astimezone(tz) if appointment.cancelled_at else None,
            rescheduled_from=appointment.rescheduled_from_id,
        )

    @staticmethod
    def _unused_id(session: Session) -> str:
        for _ in range(20):
            candidate = new_appointment_id()
            if session.get(Appointment, candidate) is None:
                return candidate
        raise SchedulingError("could not allocate an appointment id")  # pragma: no cover

    def _owned(self, session: Session, appointment_id: str, patient_id: str, lock: bool) -> Appointment:
        """The patient's appointment (row-locked if asked); another patient's is not found."""
        key = normalize_appointment_id(appointment_id)
        query = select(Appointment.id).where(
            Appointment.id == key, Appointment.patient_id == (patient_id or "").strip()
        )
        if lock:
            query = query.with_for_update()
        if not key or session.execute(query).scalar_one_or_none() is None:
            raise AppointmentNotFound(key)
        appointment = session.get(Appointment, key, populate_existing=True)
        assert appointment is not None
        return appointment

    @staticmethod
    def _ensure_changeable(appointment: Appointment, now: dt.datetime) -> None:
        """Only booked, not yet started appointments can be moved or cancelled."""
        if appointment.status in (STATUS_CANCELLED, STATUS_RESCHEDULED):
            reason = "already cancelled" if appointment.status == STATUS_CANCELLED else "already moved"
            raise AppointmentAlreadyCancelled(appointment.id, appointment.status, reason)
        if appointment.status in (STATUS_COMPLETED, STATUS_NO_SHOW) or appointment.start_at <= now:
            raise AppointmentInPast(appointment.id, appointment.status, "it has already started or ended")

    @staticmethod
    def _clean_reason(reason: str | None) -> str | None:
        text = " ".join((reason or "").split())
        return text[:REASON_MAX] or None

    def book(
        self,
        patient_id: str,
        provider_id: str,
        visit_type: str,
        start: dt.datetime,
        reason: str | None = None,
        channel: str = "unknown",
        now: dt.datetime | None = None,
    ) -> AppointmentInfo:
        """Book ``start`` with the provider for the patient, or raise SlotUnavailable."""
        current = self._now(now)
        start = self._local(start)
        patient_id = (patient_id or "").strip()
        if not patient_id:
            raise ValueError("patient_id is required")
        with self._session("book") as session:
            provider = self._provider(session, provider_id, lock=True)
            vt = self._visit_type(session, visit_type)
            self._ensure_bookable(session, provider, vt, start, current)
            end = start + dt.timedelta(minutes=vt.duration_minutes)
            self._ensure_patient_free(session, patient_id, start, end)
            appointment = Appointment(
                id=self._unused_id(session),
                patient_id=patient_id,
                provider_id=provider.id,
                visit_type_code=vt.code,
                start_at=start,
                end_at=start + dt.timedelta(minutes=vt.duration_minutes),
                status=STATUS_BOOKED,
                reason=self._clean_reason(reason),
                channel=(channel or "unknown")[:CHANNEL_MAX],
                created_at=current,
                updated_at=current,
            )
            session.add(appointment)
            session.flush()
            info = self._info(appointment)
        logger.info(
            "booked %s for %s with %s (%s) via %s",
            info.appointment_id,
            patient_ref(patient_id),
            info.provider_id,
            info.visit_type,
            info.channel,
        )
        return info

    def reschedule(
        self,
        appointment_id: str,
        patient_id: str,
        new_start: dt.datetime,
        new_provider_id: str | None = None,
        channel: str | None = None,
        now: dt.datetime | None = None,
    ) -> AppointmentInfo:
        """Move the patient's appointment to ``new_start``, in one transaction.

        The new appointment (a new id, linked through ``rescheduled_from``) is
        inserted first; only then is the old one marked ``rescheduled``. If the
        new time is not open nothing changes. Moving to the very same provider
        and time returns the appointment unchanged.
        """
        current = self._now(now)
        new_start = self._local(new_start)
        with self._session("reschedule") as session:
            old = self._owned(session, appointment_id, patient_id, lock=True)
            self._ensure_changeable(old, current)
            provider_key = _key(new_provider_id) if new_provider_id else old.provider_id
            if provider_key == old.provider_id and new_start == old.start_at:
                return self._info(old)
            provider = self._provider(session, provider_key, lock=True)
            vt = old.visit_type
            self._ensure_bookable(session, provider, vt, new_start, current, exclude_appointment_id=old.id)
            new_end = new_start + dt.timedelta(minutes=vt.duration_minutes)
            self._ensure_patient_free(session, old.patient_id, new_start, new_end, exclude_appointment_id=old.id)
            new = Appointment(
                id=self._unused_id(session),
                patient_id=old.patient_id,
                provider_id=provider.id,
                visit_type_code=vt.code,
                start_at=new_start,
                end_at=new_start + dt.timedelta(minutes=vt.duration_minutes),
                status=STATUS_BOOKED,
                reason=old.reason,
                channel=(channel or old.channel)[:CHANNEL_MAX],
                created_at=current,
                updated_at=current,
                rescheduled_from_id=old.id,
            )
            session.add(new)
            session.flush()
            old.status = STATUS_RESCHEDULED
            old.cancelled_at = current
            old.updated_at = current
            session.flush()
            info = self._info(new)
        logger.info("rescheduled %s to %s for %s", old.id, info.appointment_id, patient_ref(info.patient_id))
        return info

    def cancel(self, appointment_id: str, patient_id: str, now: dt.datetime | None = None) -> AppointmentInfo:
        """Cancel the patient's upcoming appointment; a second cancel raises AppointmentAlreadyCancelled."""
        current = self._now(now)
        with self._session("cancel") as session:
            appointment = self._owned(session, appointment_id, patient_id, lock=True)
            self._ensure_changeable(appointment, current)
            appointment.status = STATUS_CANCELLED
            appointment.cancelled_at = current
            appointment.updated_at = current
            session.flush()
            info = self._info(appointment)
        logger.info("cancelled %s for %s", info.appointment_id, patient_ref(info.patient_id))
        return info

    def get_appointment(self, appointment_id: str, patient_id: str) -> AppointmentInfo:
        """The patient's own appointment, whatever its status."""
        with self._session("get_appointment") as session:
            return self._info(self._owned(session, appointment_id, patient_id, lock=False))

    def upcoming_appointments(self, patient_id: str, now: dt.datetime | None = None) -> list[AppointmentInfo]:
        """Booked appointments of the patient starting at or after ``now``, soonest first."""
        current = self._now(now)
        with self._session("upcoming_appointments") as session:
            rows = session.execute(
                select(Appointment)
                .where(
                    Appointment.patient_id == (patient_id or "").strip(),
                    Appointment.status == STATUS_BOOKED,
                    Appointment.start_at >= current,
                )
                .order_by(Appointment.start_at, Appointment.id)
            ).scalars()
            return [self._info(row) for row in rows]

    def past_appointments(
        self, patient_id: str, now: dt.datetime | None = None, limit: int = 10
    ) -> list[AppointmentInfo]:
        """Visits of the patient that started before ``now`` and were not cancelled, latest first."""
        current = self._now(now)
        with self._session("past_appointments") as session:
            rows = session.execute(
                select(Appointment)
                .where(
                    Appointment.patient_id == (patient_id or "").strip(),
                    Appointment.status.in_((STATUS_BOOKED, STATUS_COMPLETED, STATUS_NO_SHOW)),
                    Appointment.start_at < current,
                )
                .order_by(Appointment.start_at.desc(), Appointment.id)
                .limit(max(limit, 0))
            ).scalars()
            return [self._info(row) for row in rows]
