"""The plain values the records service returns (frozen dataclasses, never ORM rows).

Dates are calendar dates; moments are timezone-aware datetimes in the
clinic's zone. Money is in whole cents; ``None`` means "not known", never 0.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.records.intake import IntakeAnswers


def add_business_days(start: dt.date, days: int) -> dt.date:
    """The date ``days`` working days (Monday to Friday) after ``start``."""
    current = start
    remaining = max(days, 0)
    while remaining:
        current += dt.timedelta(days=1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def assistant_actor(conversation_id: str) -> str:
    """The audit actor for the assistant in a conversation: a hash, never the id or a name."""
    digest = hashlib.sha256((conversation_id or "").encode("utf-8")).hexdigest()[:16]
    return f"assistant:{digest}"


@dataclass(frozen=True)
class CarrierInfo:
    """An insurance carrier the clinic has a policy on, and the words patients use for it."""

    code: str
    display_name: str
    accepted: bool
    note: str | None
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class SelfPayPrice:
    """What a visit type costs without insurance."""

    visit_type: str
    display_name: str
    price_cents: int


@dataclass(frozen=True)
class CoverageInfo:
    """A patient's current insurance; ``accepted`` is None when the carrier is not on the clinic's list."""

    patient_id: str
    version: int
    carrier_code: str | None
    carrier_name: str
    accepted: bool | None
    plan_name: str | None
    member_id: str | None
    subscriber_name: str | None
    relationship: str
    primary_care_copay_cents: int | None
    specialist_copay_cents: int | None
    active: bool
    source: str
    created_at: dt.datetime


@dataclass(frozen=True)
class IntakeSubmission:
    """One stored version of a patient's intake form."""

    submission_id: int
    patient_id: str
    version: int
    submitted_at: dt.datetime
    channel: str
    answers: IntakeAnswers


@dataclass(frozen=True)
class IntakeDraft:
    """An unfinished intake: the answers so far (a fresh dict) and the step to resume at."""

    patient_id: str
    answers: Mapping[str, Any]
    current_step: str
    channel: str
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class VisitMedication:
    """A medicine from a visit and how to take it, in plain words."""

    name: str
    how_to_take: str


@dataclass(frozen=True)
class FollowUp:
    """What to do next after a visit; ``due_date`` is the visit date plus ``due_in_days``."""

    text: str
    due_in_days: int | None
    due_date: dt.date | None


@dataclass(frozen=True)
class PendingResult:
    """A test result not back yet, expected between two dates (equal for a fixed date)."""

    visit_id: str
    visit_date: dt.date
    test: str
    expected_from: dt.date
    expected_by: dt.date
    # (fewest, most) working days after the visit, when the clinic gave a range.
    business_days: tuple[int, int] | None

    def is_overdue(self, today: dt.date) -> bool:
        """Whether the result should have arrived by ``today`` (time to call the clinic)."""
        return today > self.expected_by


@dataclass(frozen=True)
class VisitSummary:
    """A visit and its after-visit summary, written for the patient."""

    visit_id: str
    patient_id: str
    appointment_id: str | None
    provider_id: str
    provider_name: str
    visit_date: dt.date
    diagnosis_plain: str
    instructions: tuple[str, ...]
    medications: tuple[VisitMedication, ...]
    follow_up: FollowUp | None
    pending_results: tuple[PendingResult, ...]
    created_at: dt.datetime


@dataclass(frozen=True)
class RefillRequest:
    """A patient's request that staff renew a prescription."""

    work_item_id: str
    patient_id: str
    medication: str
    pharmacy: str | None
    note: str | None
    status: str
    channel: str
    created_at: dt.datetime
    done_at: dt.datetime | None
    kind: str = "refill"


@dataclass(frozen=True)
class CallbackRequest:
    """Someone asking staff to call them back; ``patient_id`` only when verified."""

    work_item_id: str
    patient_id: str | None
    name: str
    phone: str
    best_time: str | None
    reason: str
    note: str | None
    status: str
    channel: str
    created_at: dt.datetime
    done_at: dt.datetime | None
    kind: str = "callback"
    conversation_id: str | None = None


@dataclass(frozen=True)
class HandoffRequest:
    """A chat handed to the front desk during opening hours; ``summary`` says what staff need, no more."""

    work_item_id: str
    patient_id: str | None
    conversation_id: str
    summary: str
    status: str
    channel: str
    created_at: dt.datetime
    done_at: dt.datetime | None
    kind: str = "handoff"
    reason: str = "handoff"


@dataclass(frozen=True)
class EmergencyFlag:
    """An emergency or crisis the assistant answered, flagged so staff can follow up.

    ``category`` is ``medical`` or ``crisis``; ``flags`` names the red-flag rules
    that matched (``classifier`` when only the intent classifier said so), never
    the patient's words; the transcript has those, for logged-in staff.
    """

    work_item_id: str
    patient_id: str | None
    conversation_id: str
    category: str
    flags: str
    status: str
    channel: str
    created_at: dt.datetime
    done_at: dt.datetime | None
    kind: str = "emergency"
    reason: str = "emergency"


@dataclass(frozen=True)
class OutreachFailure:
    """A text the clinic meant to send first (a reminder, an offer) that Twilio refused on every try.

    ``note`` says which text and why (outbox id, visit, Twilio's code), never the number or the words.
    """

    work_item_id: str
    patient_id: str | None
    note: str
    status: str
    channel: str
    created_at: dt.datetime
    done_at: dt.datetime | None
    kind: str = "outreach"
    reason: str = "outreach"


WorkItem = RefillRequest | CallbackRequest | HandoffRequest | EmergencyFlag | OutreachFailure


@dataclass(frozen=True)
class AuditEntry:
    """One access to a patient's data: who, what operation, when, through which channel."""

    occurred_at: dt.datetime
    actor: str
    operation: str
    patient_id: str | None
    channel: str
    outcome: str


def describe_work_item(item: WorkItem) -> str:
    """One line for staff (staff page and staff command line): what the request is, no more."""
    patient = f", patient {item.patient_id}" if item.patient_id else ""
    if isinstance(item, RefillRequest):
        return f"patient {item.patient_id}: {item.medication} -> {item.pharmacy or 'pharmacy not given'}"
    if isinstance(item, HandoffRequest):
        return item.summary + (f" (patient {item.patient_id})" if item.patient_id else "")
    if isinstance(item, OutreachFailure):
        return item.note + patient
    if isinstance(item, EmergencyFlag):
        rules = "the intent classifier" if item.flags == "classifier" else f"rules {item.flags}"
        return f"{item.category} emergency answered by the assistant ({rules}); follow up{patient}"
    return f"{item.reason}: {item.name}, {item.phone}, best time {item.best_time or 'any'}{patient}"
