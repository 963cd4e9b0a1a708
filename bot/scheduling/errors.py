"""Exceptions of the scheduling service.

Every one derives from :class:`SchedulingError`, so an action can catch the
family and still tell the patient something specific. Messages carry ids and
reasons only, never names, dates of birth or phone numbers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from bot.scheduling.service import AppointmentInfo


class SchedulingError(Exception):
    """Base of every scheduling failure an action may want to explain."""


class BackendUnavailable(SchedulingError):
    """The scheduling database cannot be reached or timed out; try again later."""


class UnknownProvider(SchedulingError):
    """No provider with that id works at the clinic."""

    def __init__(self, provider_id: str) -> None:
        super().__init__(f"unknown provider {provider_id!r}")
        self.provider_id = provider_id


class UnknownVisitType(SchedulingError):
    """No visit type with that code is offered at the clinic."""

    def __init__(self, visit_type: str) -> None:
        super().__init__(f"unknown visit type {visit_type!r}")
        self.visit_type = visit_type


class ProviderDoesNotOffer(SchedulingError):
    """The provider exists but does not see patients for that visit type."""

    def __init__(self, provider_id: str, visit_type: str) -> None:
        super().__init__(f"provider {provider_id!r} does not offer {visit_type!r}")
        self.provider_id = provider_id
        self.visit_type = visit_type


class SlotUnavailable(SchedulingError):
    """The requested time is taken, outside the schedule, too soon or in the past."""


class OverlappingAppointment(SlotUnavailable):
    """The patient already holds a booked visit at that time (with any provider).

    ``conflict`` is that visit, so the patient (its owner) can be told which one; the
    message carries its id only.
    """

    def __init__(self, conflict: AppointmentInfo) -> None:
        super().__init__(f"the patient already has appointment {conflict.appointment_id!r} at that time")
        self.conflict = conflict


class AppointmentNotFound(SchedulingError):
    """No such appointment for this patient (another patient's counts as not found)."""

    def __init__(self, appointment_id: str) -> None:
        super().__init__(f"appointment {appointment_id!r} not found")
        self.appointment_id = appointment_id


class AppointmentNotActive(SchedulingError):
    """The appointment can no longer be changed (cancelled, moved or already over)."""

    def __init__(self, appointment_id: str, status: str, reason: str) -> None:
        super().__init__(f"appointment {appointment_id!r} is {status}: {reason}")
        self.appointment_id = appointment_id
        self.status = status


class AppointmentAlreadyCancelled(AppointmentNotActive):
    """The appointment was already cancelled or moved to another time."""


class AppointmentInPast(AppointmentNotActive):
    """The appointment has started or is over; the clinic handles it, not the assistant."""
