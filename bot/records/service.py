"""The records interface actions talk to, the values it returns, and its factory.

Identity checks return a :class:`PatientRef` or None and never say why a
check failed (which field was wrong would help someone guess).
"""

from __future__ import annotations

import abc
import datetime as dt
import threading
from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class PatientRef:
    """A verified or registered patient: record id and how to address them."""

    patient_id: str
    full_name: str
    first_name: str


class RecordsService(abc.ABC):
    """What the assistant can ask of a patient records backend (SQL today, an EHR later)."""

    @abc.abstractmethod
    def verify_identity(self, full_name: str, date_of_birth: dt.date) -> Optional[PatientRef]:
        """The one patient with this name and date of birth, or None (never by name alone)."""

    @abc.abstractmethod
    def verify_by_mobile_and_dob(self, mobile: str, date_of_birth: dt.date) -> Optional[PatientRef]:
        """The one patient with this mobile number and date of birth, or None."""

    @abc.abstractmethod
    def get_patient(self, patient_id: str) -> Optional[PatientRef]:
        """The patient with this record id (a portal token's subject), or None."""

    @abc.abstractmethod
    def register_patient(
        self,
        full_name: str,
        date_of_birth: dt.date,
        mobile: str,
        today: Optional[dt.date] = None,
    ) -> PatientRef:
        """Create a record for a new patient; raises InvalidPatientData or PatientAlreadyExists."""


_service: Optional[RecordsService] = None
_service_lock = threading.Lock()


def get_records_service() -> RecordsService:
    """The process-wide records backend, created on first use (no engine at import)."""
    global _service
    with _service_lock:
        if _service is None:
            # The one place that picks the implementation; an EHR backend
            # would be chosen here from a setting.
            from bot.records.sql import SqlRecordsService

            _service = SqlRecordsService()
        return _service


def set_records_service(service: Optional[RecordsService]) -> None:
    """Install another implementation (tests, an EHR adapter); None restores the default."""
    global _service
    with _service_lock:
        _service = service
