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
