"""Tables of the records backend.

Patients and their record id counter (0001), and from 0002: the clinic's
insurance carriers and the words patients use for them, patients' coverage
(versioned), intake submissions (versioned) and drafts, visits with their
after-visit summaries, staff work items (refill and callback requests) and
the audit log.

Patient-owned rows reference ``patients.id`` with ``ON DELETE CASCADE`` (a
removed record takes its data along); the audit log has no foreign key, so
it outlives what it describes. Lists and answers are stored as JSON text:
they are read and written whole, never queried inside. Cross-service ids
(``visits.appointment_id``, ``visits.provider_id``) carry no foreign key,
as scheduling and records may each move to an EHR on their own.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
    true,
)

from bot.db import Base, UtcDateTime

PATIENT_COUNTER = "patient"
FIRST_PATIENT_NUMBER = 1001

RELATIONSHIPS = ("self", "spouse", "child", "other")
WORK_ITEM_KINDS = ("refill", "callback", "handoff", "emergency", "outreach")
EMERGENCY_CATEGORIES = ("medical", "crisis")
WORK_ITEM_STATUSES = ("open", "done")
COVERAGE_SOURCES = ("seed", "intake", "staff")
# Why someone wants a call back; actions pick one, staff sort the queue by it.
CALLBACK_REASONS = ("billing", "handoff", "insurance", "test_results", "refill", "appointment", "records", "other")

# The one active coverage per patient; the partial unique index uses it.
ACTIVE_COVERAGE_SQL = "active"


class Patient(Base):
    """A patient's identity: record id (``P-1001``), name, date of birth, mobile (E.164)."""

    __tablename__ = "patients"
    __table_args__ = (
        # One record per person: same first and last name (folded) and date of birth.
        Index("uq_patients_identity", "name_key", "date_of_birth", unique=True),
        Index("ix_patients_mobile", "mobile"),
    )

    id = Column(String(16), primary_key=True)
    full_name = Column(String(200), nullable=False)
    first_name = Column(String(100), nullable=False)
    last_name = Column(String(100), nullable=False)
    # "first last", case-, accent- and punctuation-folded: what identity checks compare.
    name_key = Column(String(200), nullable=False)
    date_of_birth = Column(Date, nullable=False)
    mobile = Column(String(20), nullable=True)
    # When the patient agreed to texts the clinic sends first (reminders, offers); None: never text first.
    sms_consent_at = Column(UtcDateTime, nullable=True)
    created_at = Column(UtcDateTime, nullable=False)


class RecordCounter(Base):
    """The last number handed out for a kind of record id; its row lock serializes new ids."""

    __tablename__ = "record_counters"

    name = Column(String(40), primary_key=True)
    last_value = Column(Integer, nullable=False)


class InsuranceCarrier(Base):
    """A carrier the clinic has a policy on (accepted or not); ``code`` is the stable key (``aetna``)."""

    __tablename__ = "insurance_carriers"

    code = Column(String(40), primary_key=True)
    display_name = Column(String(120), nullable=False)
    accepted = Column(Boolean, nullable=False)
    note = Column(String(300), nullable=True)
    # Carriers dropped from the clinic file are deactivated, not deleted (coverage refers to them).
    active = Column(Boolean, nullable=False, default=True, server_default=true())
    sort_order = Column(Integer, nullable=False, default=0, server_default="0")


class InsuranceCarrierAlias(Base):
    """One way patients write a carrier ("blue cross", "uhc"), folded; each belongs to one carrier."""

    __tablename__ = "insurance_carrier_aliases"

    alias = Column(String(120), primary_key=True)
    carrier_code = Column(String(40), ForeignKey("insurance_carriers.code", ondelete="CASCADE"), nullable=False)


class Coverage(Base):
    """A version of a patient's insurance; a change adds a version and deactivates the previous one."""

    __tablename__ = "coverages"
    __table_args__ = (
        UniqueConstraint("patient_id", "version", name="uq_coverages_patient_version"),
        CheckConstraint("relationship IN ('self', 'spouse', 'child', 'other')", name="relationship_values"),
        CheckConstraint("source IN ('seed', 'intake', 'staff')", name="source_values"),
        CheckConstraint(
            "(primary_care_copay_cents IS NULL OR primary_care_copay_cents >= 0)"
            " AND (specialist_copay_cents IS NULL OR specialist_copay_cents >= 0)",
            name="copays",
        ),
        Index(
            "uq_coverages_patient_active",
            "patient_id",
            unique=True,
            sqlite_where=text(ACTIVE_COVERAGE_SQL),
            postgresql_where=text(ACTIVE_COVERAGE_SQL),
        ),
    )

    id = Column(Integer, primary_key=True)
    patient_id = Column(String(16), ForeignKey("patients.id", ondelete="CASCADE"), nullable=False)
    version = Column(Integer, nullable=False)
    # Null when the patient's carrier is not one the clinic has a policy on.
    carrier_code = Column(String(40), ForeignKey("insurance_carriers.code"), nullable=True)
    carrier_name = Column(String(120), nullable=False)
    plan_name = Column(String(120), nullable=True)
    member_id = Column(String(40), nullable=True)
    subscriber_name = Column(String(200), nullable=True)
    relationship = Column(String(10), nullable=False)
    primary_care_copay_cents = Column(Integer, nullable=True)
    specialist_copay_cents = Column(Integer, nullable=True)
    active = Column(Boolean, nullable=False)
    source = Column(String(10), nullable=False)
    intake_submission_id = Column(Integer, ForeignKey("intake_submissions.id", ondelete="SET NULL"), nullable=True)
    created_at = Column(UtcDateTime, nullable=False)


class IntakeSubmission(Base):
    """One complete intake form as submitted; resubmitting adds the next version."""

    __tablename__ = "intake_submissions"
    __table_args__ = (
        UniqueConstraint("patient_id", "version", name="uq_intake_submissions_patient_version"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id = Column(Integer, primary_key=True)
    patient_id = Column(String(16), ForeignKey("patients.id", ondelete="CASCADE"), nullable=False)
    version = Column(Integer, nullable=False)
    submitted_at = Column(UtcDateTime, nullable=False)
    channel = Column(String(40), nullable=False)
    answers_json = Column(Text, nullable=False)


class IntakeDraft(Base):
    """A patient's unfinished intake (one at most), kept to resume in a later conversation."""

    __tablename__ = "intake_drafts"

    patient_id = Column(String(16), ForeignKey("patients.id", ondelete="CASCADE"), primary_key=True)
    answers_json = Column(Text, nullable=False)
    current_step = Column(String(60), nullable=False)
    channel = Column(String(40), nullable=False)
    created_at = Column(UtcDateTime, nullable=False)
    updated_at = Column(UtcDateTime, nullable=False)


class Visit(Base):
    """A visit that took place and its after-visit summary, in plain words."""

    __tablename__ = "visits"
    __table_args__ = (
        Index("ix_visits_patient_date", "patient_id", "visit_date"),
        CheckConstraint("follow_up_due_in_days IS NULL OR follow_up_due_in_days >= 0", name="follow_up_days"),
    )

    id = Column(String(16), primary_key=True)
    patient_id = Column(String(16), ForeignKey("patients.id", ondelete="CASCADE"), nullable=False)
    appointment_id = Column(String(16), nullable=True)
    provider_id = Column(String(40), nullable=False)
    # The provider's name as printed on the summary (a summary does not change later).
    provider_name = Column(String(120), nullable=False)
    visit_date = Column(Date, nullable=False)
    diagnosis_plain = Column(String(300), nullable=False)
    instructions_json = Column(Text, nullable=False)
    medications_json = Column(Text, nullable=False)
    follow_up_text = Column(String(300), nullable=True)
    follow_up_due_in_days = Column(Integer, nullable=True)
    pending_results_json = Column(Text, nullable=False)
    created_at = Column(UtcDateTime, nullable=False)


class WorkItem(Base):
    """Something staff must do for a patient or caller: a refill, a call back, a handed-off chat, an emergency."""

    __tablename__ = "work_items"
    __table_args__ = (
        CheckConstraint("kind IN ('refill', 'callback', 'handoff', 'emergency', 'outreach')", name="kind_values"),
        CheckConstraint("status IN ('open', 'done')", name="status_values"),
        CheckConstraint(
            "kind <> 'refill' OR (patient_id IS NOT NULL AND medication IS NOT NULL)", name="refill_fields"
        ),
        CheckConstraint(
            "kind <> 'callback' OR (caller_name IS NOT NULL AND phone IS NOT NULL AND reason IS NOT NULL)",
            name="callback_fields",
        ),
        CheckConstraint(
            "kind <> 'handoff' OR (conversation_id IS NOT NULL AND note IS NOT NULL)", name="handoff_fields"
        ),
        CheckConstraint(
            "kind <> 'emergency' OR (conversation_id IS NOT NULL AND reason IN ('medical', 'crisis'))",
            name="emergency_fields",
        ),
        # A text the clinic could not send: the note says which and why (no number, no text).
        CheckConstraint("kind <> 'outreach' OR note IS NOT NULL", name="outreach_fields"),
        Index("ix_work_items_status_created", "status", "created_at"),
        Index("ix_work_items_patient", "patient_id"),
        Index("ix_work_items_conversation", "conversation_id"),
    )

    id = Column(String(16), primary_key=True)
    kind = Column(String(10), nullable=False)
    patient_id = Column(String(16), ForeignKey("patients.id", ondelete="CASCADE"), nullable=True)
    status = Column(String(10), nullable=False, default="open", server_default="open")
    channel = Column(String(40), nullable=False)
    note = Column(String(500), nullable=True)
    # Refill requests.
    medication = Column(String(200), nullable=True)
    pharmacy = Column(String(200), nullable=True)
    # Callback requests.
    caller_name = Column(String(200), nullable=True)
    phone = Column(String(20), nullable=True)
    best_time = Column(String(100), nullable=True)
    reason = Column(String(40), nullable=True)
    # Callback and handoff requests: the chat they came from (handoff: its summary is ``note``).
    conversation_id = Column(String(128), nullable=True)
    created_at = Column(UtcDateTime, nullable=False)
    done_at = Column(UtcDateTime, nullable=True)


class AuditEvent(Base):
    """Who read or wrote which patient's data, how and when; never the data itself."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_patient_occurred", "patient_id", "occurred_at"),
        Index("ix_audit_log_occurred", "occurred_at"),
    )

    id = Column(Integer, primary_key=True)
    occurred_at = Column(UtcDateTime, nullable=False)
    actor = Column(String(80), nullable=False)
    operation = Column(String(60), nullable=False)
    patient_id = Column(String(16), nullable=True)
    channel = Column(String(40), nullable=False)
    outcome = Column(String(20), nullable=False)
