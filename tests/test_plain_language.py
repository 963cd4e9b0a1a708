"""Every response the assistant can say reads at US grade 6 or below (Flesch-Kincaid).

Placeholders are filled with realistic values first, so the grade is that of
the sentence a patient really sees.
"""

from __future__ import annotations

import re

import pytest
import textstat
from rasa.shared.core.domain import Domain

from bot.paths import DOMAIN_PATH

MAX_GRADE = 6.0
SAMPLE_VALUES: dict[str, str] = {
    "clinic_name": "Maple Grove Family Clinic",
    "clinic_address": "120 Maple Grove Ave, Springfield",
    "clinic_phone": "(555) 010-2000",
    "when_text": "Friday, December 4 at 9:00 AM",
    "old_when_text": "Tuesday, December 1 at 2:40 PM",
    "provider_name": "Dr. Amina Patel",
    "visit_type_name": "follow-up visit",
    "appointment_id": "A-7K3Q9",
    "first_name": "Jordan",
    "hours_text": "Monday to Friday 8:00 AM to 5:00 PM; Saturday 9:00 AM to 12:00 PM; closed Sunday",
    "today_text": "We're open now, until 5:00 PM today.",
    "appointments_text": "- Friday, December 4 at 9:00 AM. A follow-up visit with Dr. Amina Patel.",
    "providers_text": "Dr. Amina Patel, Dr. Luis Romero, Dr. Grace Kim, Sam Okafor, NP",
    "alternatives_text": "For a skin check you can see Dr. Grace Kim, or anyone available.",
    "bring_text": "your insurance card, a photo ID and a list of the medicines you take",
    "limit_text": "Monday, June 1",
    "carrier_name": "Blue Cross Blue Shield",
    "carrier_text": "Medi-Cal",
    "note_text": "",
    "accepted_text": (
        "- Aetna.\n- Blue Cross Blue Shield.\n- Cigna.\n- UnitedHealthcare.\n- Humana.\n- Medicare.\n- Medicaid."
    ),
    "copay_text": "$25",
    "prices_text": (
        "- New patient visit: $180.\n- Follow-up visit: $110.\n- Sick visit: $120.\n- Annual physical: $200."
    ),
    "visit_date_text": "Wednesday, November 25",
    "diagnosis_text": "a chest cold (acute bronchitis)",
    "instruction_text": "Use the prescribed inhaler twice a day.",
    "test_name": "chest X-ray",
    "expected_text": "between Monday, November 30 and Wednesday, December 2",
    "follow_up_text": "A follow-up visit in two weeks if the cough continues.",
    "medication_text": "albuterol",
}


def domain_texts() -> list[tuple[str, str]]:
    """(response name, text with sample values) for every response variant."""
    texts = []
    for name, variants in Domain.load(DOMAIN_PATH).responses.items():
        for variant in variants:
            text = variant.get("text")
            if text:
                filled = re.sub(r"\{(\w+)\}", lambda m: SAMPLE_VALUES.get(m.group(1), "Friday"), text)
                texts.append((name, filled))
    return texts


@pytest.mark.parametrize(
    "name, text",
    domain_texts(),
    ids=lambda value: value if isinstance(value, str) and value.startswith("utter_") else "",
)
def test_response_reads_at_grade_six_or_below(name: str, text: str) -> None:
    grade = textstat.flesch_kincaid_grade(text)
    assert grade <= MAX_GRADE, f"{name} reads at grade {grade}: {text!r}"


def test_the_grade_check_can_fail() -> None:
    legalese = (
        "Notwithstanding the aforementioned considerations, reimbursement eligibility "
        "determinations necessitate comprehensive documentation substantiating medical necessity."
    )
    assert textstat.flesch_kincaid_grade(legalese) > MAX_GRADE
