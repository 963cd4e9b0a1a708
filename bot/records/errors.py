"""Exceptions of the records service.

All derive from :class:`RecordsError`. Messages name the field or the reason,
never the value: names, dates of birth and phone numbers stay out of logs.
"""

from __future__ import annotations


class RecordsError(Exception):
    """Base of every records failure an action may want to explain."""


class BackendUnavailable(RecordsError):
    """The records database cannot be reached or timed out; try again later."""


class InvalidPatientData(RecordsError, ValueError):
    """A registration field is missing or implausible; ``field`` says which."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"invalid {field}: {reason}")
        self.field = field
        self.reason = reason


class PatientAlreadyExists(RecordsError):
    """A patient with the same name and date of birth is already registered."""


class InvalidIntake(InvalidPatientData):
    """An intake answer is missing or implausible; ``field`` names it (``emergency_contact.phone``)."""


class UnknownPatient(RecordsError, LookupError):
    """No patient has this record id, so nothing can be stored for it."""

    def __init__(self, patient_id: str) -> None:
        super().__init__(f"unknown patient {patient_id!r}")
        self.patient_id = patient_id


class WorkItemNotFound(RecordsError, LookupError):
    """No refill or callback request has this id."""

    def __init__(self, work_item_id: str) -> None:
        super().__init__(f"work item {work_item_id!r} not found")
        self.work_item_id = work_item_id


class WriteConflict(RecordsError):
    """A concurrent write won a uniqueness guard; retrying the request is safe."""
