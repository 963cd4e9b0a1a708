"""Scheduling backend: clinic facts, providers, visit types, slots and appointments.

Actions use :func:`get_scheduling_service` and the values and errors exported
here; the SQL implementation and its tables are details behind that interface.
Importing this package creates no database engine.
"""

from bot.scheduling.errors import (
    AppointmentAlreadyCancelled,
    AppointmentInPast,
    AppointmentNotActive,
    AppointmentNotFound,
    BackendUnavailable,
    OverlappingAppointment,
    ProviderDoesNotOffer,
    SchedulingError,
    SlotUnavailable,
    UnknownProvider,
    UnknownVisitType,
)
from bot.scheduling.service import (
    AppointmentInfo,
    ClinicInfo,
    ProviderInfo,
    SchedulingService,
    Slot,
    VisitTypeInfo,
    get_scheduling_service,
    set_scheduling_service,
)
from bot.scheduling.sql import SqlSchedulingService

__all__ = [
    "AppointmentAlreadyCancelled",
    "AppointmentInPast",
    "AppointmentInfo",
    "AppointmentNotActive",
    "AppointmentNotFound",
    "BackendUnavailable",
    "ClinicInfo",
    "OverlappingAppointment",
    "ProviderDoesNotOffer",
    "ProviderInfo",
    "SchedulingError",
    "SchedulingService",
    "Slot",
    "SlotUnavailable",
    "SqlSchedulingService",
    "UnknownProvider",
    "UnknownVisitType",
    "VisitTypeInfo",
    "get_scheduling_service",
    "set_scheduling_service",
]
