"""Records backend: patient identity, insurance and coverage, intake forms,
visits with after-visit summaries, staff work items and the audit log.

Actions use :func:`get_records_service` and the values and errors exported
here; the SQL implementation and its tables are details behind that
interface. Importing this package creates no database engine.
"""

from bot.records.errors import (
    BackendUnavailable,
    InvalidIntake,
    InvalidPatientData,
    PatientAlreadyExists,
    RecordsError,
    UnknownPatient,
    WorkItemNotFound,
    WriteConflict,
)
from bot.records.intake import EmergencyContact, InsuranceAnswer, IntakeAnswers
from bot.records.models import CALLBACK_REASONS, RELATIONSHIPS
from bot.records.normalize import normalize_us_mobile
from bot.records.service import (
    AuditService,
    IdentityService,
    InsuranceService,
    IntakeService,
    PatientRef,
    RecordsService,
    VisitService,
    WorkItemService,
    get_records_service,
    set_records_service,
)
from bot.records.sql import SqlRecordsService
from bot.records.values import (
    AuditEntry,
    CallbackRequest,
    CarrierInfo,
    CoverageInfo,
    EmergencyFlag,
    FollowUp,
    HandoffRequest,
    IntakeDraft,
    IntakeSubmission,
    PendingResult,
    RefillRequest,
    SelfPayPrice,
    VisitMedication,
    VisitSummary,
    WorkItem,
    add_business_days,
    assistant_actor,
)

__all__ = [
    "AuditEntry",
    "AuditService",
    "BackendUnavailable",
    "CALLBACK_REASONS",
    "CallbackRequest",
    "CarrierInfo",
    "CoverageInfo",
    "EmergencyContact",
    "FollowUp",
    "EmergencyFlag",
    "HandoffRequest",
    "IdentityService",
    "InsuranceAnswer",
    "InsuranceService",
    "IntakeAnswers",
    "IntakeDraft",
    "IntakeService",
    "IntakeSubmission",
    "InvalidIntake",
    "InvalidPatientData",
    "PatientAlreadyExists",
    "PatientRef",
    "PendingResult",
    "RELATIONSHIPS",
    "RecordsError",
    "RecordsService",
    "RefillRequest",
    "SelfPayPrice",
    "SqlRecordsService",
    "UnknownPatient",
    "VisitMedication",
    "VisitService",
    "VisitSummary",
    "WorkItem",
    "WorkItemNotFound",
    "WorkItemService",
    "WriteConflict",
    "add_business_days",
    "assistant_actor",
    "get_records_service",
    "normalize_us_mobile",
    "set_records_service",
]
