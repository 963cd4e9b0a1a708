"""Shared test data for the records tests: a complete intake and a thread race."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from bot.records import EmergencyContact, InsuranceAnswer, IntakeAnswers
from tests.fixtures_db import NOW

ACTOR = "assistant:test-conversation"

# What must never appear in the audit log or the logs (demo and test personal data).
PERSONAL_STRINGS = (
    "Jordan",
    "Rivera",
    "1990-03-14",
    "5555550123",
    "555-0123",
    "W123456789",
    "Casey",
    "penicillin",
    "albuterol",
    "bronchitis",
    "inhaler",
    "X-ray",
    "12 Elm",
    "example.com",
    "CVS",
    "Pat Caller",
    "5555550199",
)


def jordan_answers(**changes: Any) -> IntakeAnswers:
    """A complete intake for Jordan Rivera (P-1001), with optional changes."""
    base = IntakeAnswers(
        legal_name="  jordan   RIVERA ",
        preferred_name="Jordan",
        date_of_birth=dt.date(1990, 3, 14),
        mobile="(555) 555-0123",
        email="Jordan@Example.COM",
        address="12 Elm St,   Springfield",
        emergency_contact=EmergencyContact(name="Casey Rivera", phone="555-555-0177", relationship="sister"),
        reason_for_visit="cough that will not go away",
        medications=("albuterol inhaler", "  ", "Albuterol inhaler"),
        allergies=("penicillin",),
        insurance=InsuranceAnswer(carrier="Aetna", member_id=" w123456789 ", relationship="self", plan_name="PPO"),
        consent_to_treatment=True,
        consent_to_text=True,
    )
    return replace(base, **changes)


def submit_time(minutes: int = 0) -> dt.datetime:
    """The pinned test "now", a few minutes on."""
    return NOW + dt.timedelta(minutes=minutes)
