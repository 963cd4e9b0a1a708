"""The records interface actions talk to, the values it returns, and its factory.

:class:`RecordsService` is the one object actions get from
:func:`get_records_service`; it is made of small interfaces (identity,
insurance, intake, visits, work items, audit) so another backend (an EHR, a
FHIR server) can be written and tested one part at a time.

Every method that reads or writes a patient's data takes keyword-only
``actor`` (who is asking: ``assistant_actor(conversation_id)``, a staff id,
never a person's name) and ``channel``, and writes an audit row in the same
transaction. Identity checks return a :class:`PatientRef` or None and never
say why a check failed (which field was wrong would help someone guess).
Errors derive from :class:`bot.records.errors.RecordsError`;
``BackendUnavailable`` means the database cannot be reached.
"""

from __future__ import annotations

import abc
import datetime as dt
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.records.intake import IntakeAnswers
from bot.records.values import (
    AuditEntry,
    CallbackRequest,
    CarrierInfo,
    CoverageInfo,
    EmergencyFlag,
    HandoffRequest,
    IntakeDraft,
    IntakeSubmission,
    OutreachFailure,
    PendingResult,
    RefillRequest,
    SelfPayPrice,
    VisitSummary,
    WorkItem,
)

SYSTEM_ACTOR = "system"
UNKNOWN_CHANNEL = "unknown"


@dataclass(frozen=True)
class PatientRef:
    """A verified or registered patient: record id and how to address them."""

    patient_id: str
    full_name: str
    first_name: str


class IdentityService(abc.ABC):
    """Finding and registering patients."""

    @abc.abstractmethod
    def verify_identity(
        self,
        full_name: str,
        date_of_birth: dt.date,
        *,
        actor: str = SYSTEM_ACTOR,
        channel: str = UNKNOWN_CHANNEL,
    ) -> PatientRef | None:
        """The one patient with this name and date of birth, or None (never by name alone)."""

    @abc.abstractmethod
    def verify_by_mobile_and_dob(
        self,
        mobile: str,
        date_of_birth: dt.date,
        *,
        actor: str = SYSTEM_ACTOR,
        channel: str = UNKNOWN_CHANNEL,
    ) -> PatientRef | None:
        """The one patient with this mobile number and date of birth, or None."""

    @abc.abstractmethod
    def get_patient(
        self, patient_id: str, *, actor: str = SYSTEM_ACTOR, channel: str = UNKNOWN_CHANNEL
    ) -> PatientRef | None:
        """The patient with this record id (a portal token's subject), or None."""

    @abc.abstractmethod
    def register_patient(
        self,
        full_name: str,
        date_of_birth: dt.date,
        mobile: str,
        today: dt.date | None = None,
        *,
        actor: str = SYSTEM_ACTOR,
        channel: str = UNKNOWN_CHANNEL,
    ) -> PatientRef:
        """Create a record for a new patient; raises InvalidPatientData or PatientAlreadyExists."""


class InsuranceService(abc.ABC):
    """The clinic's insurance policy (staff-edited data) and patients' coverage."""

    @abc.abstractmethod
    def list_carriers(self) -> list[CarrierInfo]:
        """Every carrier the clinic has a policy on, accepted ones first, in the clinic's order."""

    @abc.abstractmethod
    def carrier(self, code: str) -> CarrierInfo | None:
        """One carrier by code (``aetna``), or None when the clinic has no policy on it."""

    @abc.abstractmethod
    def match_carrier(self, text: str) -> CarrierInfo | None:
        """The carrier a patient means by what they wrote ("Blue Cross PPO" -> bcbs), or None."""

    @abc.abstractmethod
    def self_pay_prices(self) -> list[SelfPayPrice]:
        """Prices of the visit types that have a self-pay price, in the clinic's order."""

    @abc.abstractmethod
    def coverage_for(
        self, patient_id: str, *, actor: str = SYSTEM_ACTOR, channel: str = UNKNOWN_CHANNEL
    ) -> CoverageInfo | None:
        """The patient's active coverage, or None (unknown, or self-pay)."""


class IntakeService(abc.ABC):
    """Intake forms: versioned submissions and one resumable draft per patient."""

    @abc.abstractmethod
    def submit_intake(
        self,
        patient_id: str,
        answers: IntakeAnswers,
        channel: str = UNKNOWN_CHANNEL,
        *,
        actor: str = SYSTEM_ACTOR,
        now: dt.datetime | None = None,
    ) -> IntakeSubmission:
        """Store a complete intake as the next version, drop the draft and update the coverage, atomically."""

    @abc.abstractmethod
    def latest_intake(
        self, patient_id: str, *, actor: str = SYSTEM_ACTOR, channel: str = UNKNOWN_CHANNEL
    ) -> IntakeSubmission | None:
        """The patient's newest submission, or None."""

    @abc.abstractmethod
    def intake_history(
        self, patient_id: str, *, actor: str = SYSTEM_ACTOR, channel: str = UNKNOWN_CHANNEL
    ) -> list[IntakeSubmission]:
        """Every submission of the patient, version 1 first."""

    @abc.abstractmethod
    def save_intake_draft(
        self,
        patient_id: str,
        answers: Mapping[str, Any],
        current_step: str,
        *,
        actor: str = SYSTEM_ACTOR,
        channel: str = UNKNOWN_CHANNEL,
        now: dt.datetime | None = None,
    ) -> IntakeDraft:
        """Keep the answers so far (JSON-able values) to resume later; replaces the previous draft."""

    @abc.abstractmethod
    def load_intake_draft(
        self,
        patient_id: str,
        *,
        actor: str = SYSTEM_ACTOR,
        channel: str = UNKNOWN_CHANNEL,
        now: dt.datetime | None = None,
    ) -> IntakeDraft | None:
        """The patient's unfinished intake, or None (none, or too old to keep)."""

    @abc.abstractmethod
    def discard_intake_draft(
        self, patient_id: str, *, actor: str = SYSTEM_ACTOR, channel: str = UNKNOWN_CHANNEL
    ) -> bool:
        """Forget the patient's draft; whether there was one."""


class VisitService(abc.ABC):
    """Past visits and what the patient should do next."""

    @abc.abstractmethod
    def latest_visit(
        self, patient_id: str, *, actor: str = SYSTEM_ACTOR, channel: str = UNKNOWN_CHANNEL
    ) -> VisitSummary | None:
        """The patient's most recent visit with its after-visit summary, or None."""

    @abc.abstractmethod
    def pending_results(
        self, patient_id: str, *, actor: str = SYSTEM_ACTOR, channel: str = UNKNOWN_CHANNEL
    ) -> list[PendingResult]:
        """Test results not back yet across the patient's visits, soonest expected first."""


class WorkItemService(abc.ABC):
    """Requests the assistant leaves for staff: refills, callbacks and chats handed to the front desk."""

    @abc.abstractmethod
    def create_refill_request(
        self,
        patient_id: str,
        medication: str,
        pharmacy: str | None = None,
        note: str | None = None,
        *,
        actor: str = SYSTEM_ACTOR,
        channel: str = UNKNOWN_CHANNEL,
        now: dt.datetime | None = None,
    ) -> RefillRequest:
        """Queue a refill for staff; raises UnknownPatient or InvalidPatientData."""

    @abc.abstractmethod
    def create_callback_request(
        self,
        name: str,
        phone: str,
        reason: str,
        best_time: str | None = None,
        note: str | None = None,
        patient_id: str | None = None,
        *,
        actor: str = SYSTEM_ACTOR,
        channel: str = UNKNOWN_CHANNEL,
        now: dt.datetime | None = None,
        conversation_id: str | None = None,
    ) -> CallbackRequest:
        """Queue a call back (``reason`` one of CALLBACK_REASONS); raises InvalidPatientData."""

    @abc.abstractmethod
    def create_handoff(
        self,
        conversation_id: str,
        summary: str,
        patient_id: str | None = None,
        *,
        actor: str = SYSTEM_ACTOR,
        channel: str = UNKNOWN_CHANNEL,
        now: dt.datetime | None = None,
    ) -> HandoffRequest:
        """Queue a chat for the front desk (one open item per conversation); raises InvalidPatientData."""

    @abc.abstractmethod
    def flag_emergency(
        self,
        conversation_id: str,
        category: str,
        flags: Sequence[str] = (),
        patient_id: str | None = None,
        *,
        actor: str = SYSTEM_ACTOR,
        channel: str = UNKNOWN_CHANNEL,
        now: dt.datetime | None = None,
    ) -> EmergencyFlag:
        """Flag an answered emergency for staff (one open flag per conversation; a crisis outranks medical)."""

    @abc.abstractmethod
    def flag_outreach_failure(
        self,
        patient_id: str,
        note: str,
        *,
        actor: str = SYSTEM_ACTOR,
        channel: str = "outreach",
        now: dt.datetime | None = None,
    ) -> OutreachFailure:
        """A work item for a text the clinic could not send (``note``: which and why, no number, no words)."""

    @abc.abstractmethod
    def get_work_item(
        self, work_item_id: str, *, actor: str = SYSTEM_ACTOR, channel: str = UNKNOWN_CHANNEL
    ) -> WorkItem:
        """One request by id, open or done; raises WorkItemNotFound."""

    @abc.abstractmethod
    def open_work_items(
        self,
        kind: str | None = None,
        *,
        actor: str = SYSTEM_ACTOR,
        channel: str = UNKNOWN_CHANNEL,
    ) -> list[WorkItem]:
        """Open requests, oldest first; ``kind`` (``refill``, ``callback``, ``handoff``) narrows them."""

    @abc.abstractmethod
    def mark_work_item_done(
        self,
        work_item_id: str,
        *,
        actor: str = SYSTEM_ACTOR,
        channel: str = UNKNOWN_CHANNEL,
        now: dt.datetime | None = None,
    ) -> WorkItem:
        """Close a request (closing it again changes nothing); raises WorkItemNotFound."""


class AuditService(abc.ABC):
    """Who has read or changed a patient's data."""

    @abc.abstractmethod
    def audit_trail(
        self,
        patient_id: str,
        *,
        actor: str = SYSTEM_ACTOR,
        channel: str = UNKNOWN_CHANNEL,
        limit: int = 500,
    ) -> list[AuditEntry]:
        """The newest ``limit`` accesses to the patient's data, oldest first (this read is logged too)."""

    @abc.abstractmethod
    def record_staff_access(
        self,
        operation: str,
        patient_id: str | None = None,
        *,
        actor: str = SYSTEM_ACTOR,
        channel: str = UNKNOWN_CHANNEL,
    ) -> None:
        """Log a staff access outside the records (reading a transcript), never its content."""


class RecordsService(IdentityService, InsuranceService, IntakeService, VisitService, WorkItemService, AuditService):
    """What the assistant can ask of a patient records backend (SQL today, an EHR later)."""


_service: RecordsService | None = None
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


def set_records_service(service: RecordsService | None) -> None:
    """Install another implementation (tests, an EHR adapter); None restores the default."""
    global _service
    with _service_lock:
        _service = service
