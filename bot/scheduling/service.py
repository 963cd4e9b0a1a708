"""The scheduling interface actions talk to, the plain values it returns, and
the factory that picks the implementation.

Actions never see tables or ORM objects: they call a :class:`SchedulingService`
obtained from :func:`get_scheduling_service` and get frozen dataclasses back.
Datetimes going in and out are timezone-aware in the clinic's zone
(``get_settings().tz``); a naive datetime passed in is read as clinic-local time.
"""

from __future__ import annotations

import abc
import datetime as dt
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from bot.scheduling.errors import UnknownProvider, UnknownVisitType


@dataclass(frozen=True)
class ClinicInfo:
    """The clinic's public facts; ``opening_hours`` maps weekday (0 = Monday) to open intervals."""

    name: str
    address: str
    phone: str
    timezone: str
    opening_hours: Mapping[int, tuple[tuple[dt.time, dt.time], ...]]

    def hours_on(self, weekday: int) -> tuple[tuple[dt.time, dt.time], ...]:
        """Open intervals on a weekday; empty when the clinic is closed that day."""
        return tuple(self.opening_hours.get(weekday, ()))


@dataclass(frozen=True)
class ProviderInfo:
    """A bookable clinician and the visit type codes they offer."""

    provider_id: str
    display_name: str
    short_name: str
    title: str
    specialty: str
    visit_types: tuple[str, ...]


@dataclass(frozen=True)
class VisitTypeInfo:
    """A kind of visit: its code, wording, length and self-pay price (None: not listed)."""

    code: str
    display_name: str
    duration_minutes: int
    self_pay_price_cents: int | None


@dataclass(frozen=True)
class Slot:
    """An open time a patient can book: provider, visit type, aware start and end."""

    provider_id: str
    provider_name: str
    visit_type: str
    visit_type_name: str
    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class AppointmentInfo:
    """A patient's appointment as the patient may see it (only ever shown to its owner)."""

    appointment_id: str
    patient_id: str
    provider_id: str
    provider_name: str
    visit_type: str
    visit_type_name: str
    start: dt.datetime
    end: dt.datetime
    status: str
    reason: str | None
    channel: str
    created_at: dt.datetime
    cancelled_at: dt.datetime | None = None
    rescheduled_from: str | None = None

    @property
    def is_active(self) -> bool:
        """Whether the appointment still holds its time (booked, not cancelled or moved)."""
        return self.status == "booked"


class SchedulingService(abc.ABC):
    """What the assistant can ask of a scheduling backend (SQL today, an EHR later).

    Every method that depends on the current time takes an optional ``now``
    (default ``get_settings().now()``) so callers and tests can pin it. Errors
    are :class:`bot.scheduling.errors.SchedulingError` subclasses.
    """

    @abc.abstractmethod
    def clinic_info(self) -> ClinicInfo:
        """Name, address, phone and weekly hours, for the clinic-info answers."""

    @abc.abstractmethod
    def list_providers(self) -> list[ProviderInfo]:
        """Active providers in the clinic's display order."""

    @abc.abstractmethod
    def list_visit_types(self) -> list[VisitTypeInfo]:
        """Active visit types in the clinic's display order."""

    @abc.abstractmethod
    def providers_for(self, visit_type: str) -> list[ProviderInfo]:
        """Providers who offer ``visit_type``; raises UnknownVisitType."""

    @abc.abstractmethod
    def is_open_on(self, day: dt.date) -> bool:
        """Whether the clinic opens at all on ``day`` (weekly hours and closures)."""

    @abc.abstractmethod
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
        """Open slots to offer, earliest first and spread out; see the implementation for details.

        With ``patient_id`` times overlapping that patient's booked visits are left out
        (except ``ignore_appointment_id``, the visit being moved).
        """

    @abc.abstractmethod
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
        """Book an offered slot for a patient.

        Raises SlotUnavailable when it is not open, and OverlappingAppointment (a
        SlotUnavailable) when the patient already holds a booked visit overlapping it;
        both are checked in the transaction that inserts, so concurrent bookings of one
        patient cannot both succeed.
        """

    @abc.abstractmethod
    def reschedule(
        self,
        appointment_id: str,
        patient_id: str,
        new_start: dt.datetime,
        new_provider_id: str | None = None,
        channel: str | None = None,
        now: dt.datetime | None = None,
    ) -> AppointmentInfo:
        """Move a patient's appointment atomically: the new slot is taken before the old is freed.

        Raises SlotUnavailable / OverlappingAppointment (another of the patient's booked
        visits overlaps the new time; the visit being moved does not count).
        """

    @abc.abstractmethod
    def cancel(self, appointment_id: str, patient_id: str, now: dt.datetime | None = None) -> AppointmentInfo:
        """Cancel a patient's upcoming appointment and free its time."""

    @abc.abstractmethod
    def get_appointment(self, appointment_id: str, patient_id: str) -> AppointmentInfo:
        """One of the patient's own appointments; another patient's is AppointmentNotFound."""

    @abc.abstractmethod
    def upcoming_appointments(self, patient_id: str, now: dt.datetime | None = None) -> list[AppointmentInfo]:
        """The patient's active appointments starting from ``now``, soonest first."""

    @abc.abstractmethod
    def past_appointments(
        self, patient_id: str, now: dt.datetime | None = None, limit: int = 10
    ) -> list[AppointmentInfo]:
        """The patient's visits that started before ``now`` (not cancelled), latest first."""

    def get_provider(self, provider_id: str) -> ProviderInfo:
        """One active provider by id; raises UnknownProvider."""
        wanted = (provider_id or "").strip().lower()
        for provider in self.list_providers():
            if provider.provider_id == wanted:
                return provider
        raise UnknownProvider(provider_id)

    def get_visit_type(self, code: str) -> VisitTypeInfo:
        """One active visit type by code; raises UnknownVisitType."""
        wanted = (code or "").strip().lower()
        for visit_type in self.list_visit_types():
            if visit_type.code == wanted:
                return visit_type
        raise UnknownVisitType(code)


_service: SchedulingService | None = None
_service_lock = threading.Lock()


def get_scheduling_service() -> SchedulingService:
    """The process-wide scheduling backend, created on first use (no engine at import)."""
    global _service
    with _service_lock:
        if _service is None:
            # The one place that picks the implementation; an EHR/FHIR backend
            # would be chosen here from a setting.
            from bot.scheduling.sql import SqlSchedulingService

            _service = SqlSchedulingService()
        return _service


def set_scheduling_service(service: SchedulingService | None) -> None:
    """Install another implementation (tests, an EHR adapter); None restores the default."""
    global _service
    with _service_lock:
        _service = service
