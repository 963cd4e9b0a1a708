"""Records backend: patient identity (verification and registration).

Actions use :func:`get_records_service` and the values and errors exported
here. Importing this package creates no database engine.
"""

from bot.records.errors import BackendUnavailable, InvalidPatientData, PatientAlreadyExists, RecordsError
from bot.records.normalize import normalize_us_mobile
from bot.records.service import PatientRef, RecordsService, get_records_service, set_records_service
from bot.records.sql import SqlRecordsService

__all__ = [
    "BackendUnavailable",
    "InvalidPatientData",
    "PatientAlreadyExists",
    "PatientRef",
    "RecordsError",
    "RecordsService",
    "SqlRecordsService",
    "get_records_service",
    "normalize_us_mobile",
    "set_records_service",
]
