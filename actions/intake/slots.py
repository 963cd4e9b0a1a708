"""The intake form's slots: their names, the order they are asked in, and their plain words."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

FORM = "intake_form"
REQUESTED_SLOT = "requested_slot"
#: Value of an optional answer the patient chose to skip (preferred name, e-mail).
SKIPPED = ""
#: Value of ``intake_insurance_carrier`` for a patient paying for themselves.
SELF_PAY = "self_pay"

LEGAL_NAME = "intake_legal_name"
PREFERRED_NAME = "intake_preferred_name"
DOB = "intake_dob"
MOBILE = "intake_mobile"
EMAIL = "intake_email"
ADDRESS = "intake_address"
CONTACT_NAME = "intake_contact_name"
CONTACT_PHONE = "intake_contact_phone"
CONTACT_RELATIONSHIP = "intake_contact_relationship"
REASON = "intake_reason"
MEDICATIONS = "intake_medications"
ALLERGIES = "intake_allergies"
CARRIER = "intake_insurance_carrier"
MEMBER_ID = "intake_member_id"
SUBSCRIBER_RELATIONSHIP = "intake_subscriber_relationship"
SUBSCRIBER_NAME = "intake_subscriber_name"
CONSENT_TREATMENT = "intake_consent_treatment"
CONSENT_TEXT = "intake_consent_text"
CONFIRMED = "intake_confirmed"
EDIT = "intake_edit"
# Helper slots: set by the form itself, never asked.
LOADED = "intake_loaded"
NAME_ON_FILE = "intake_name_on_file"
COVERAGE_ON_FILE = "intake_coverage_on_file"

#: The answers, in the order they are asked (insurance details only without self-pay).
ANSWER_SLOTS = [
    LEGAL_NAME,
    PREFERRED_NAME,
    DOB,
    MOBILE,
    EMAIL,
    ADDRESS,
    CONTACT_NAME,
    CONTACT_PHONE,
    CONTACT_RELATIONSHIP,
    REASON,
    MEDICATIONS,
    ALLERGIES,
    CARRIER,
    MEMBER_ID,
    SUBSCRIBER_RELATIONSHIP,
    SUBSCRIBER_NAME,
    CONSENT_TREATMENT,
    CONSENT_TEXT,
]
#: Every slot the form asks for, in the domain's order.
ASKED_SLOTS = ANSWER_SLOTS + [EDIT, CONFIRMED]
#: Everything the form keeps; cleared when it ends.
INTAKE_SLOTS = ASKED_SLOTS + [LOADED, NAME_ON_FILE, COVERAGE_ON_FILE]
#: The insurance details that depend on the insurer, asked again when it changes.
INSURANCE_DETAILS = [MEMBER_ID, SUBSCRIBER_RELATIONSHIP, SUBSCRIBER_NAME]

# Plain words for each answer, for "OK, let's change {field_text}."
SLOT_TEXT: dict[str, str] = {
    LEGAL_NAME: "your legal name",
    PREFERRED_NAME: "the name you go by",
    DOB: "your date of birth",
    MOBILE: "your mobile number",
    EMAIL: "your email",
    ADDRESS: "your address",
    CONTACT_NAME: "your emergency contact",
    CONTACT_PHONE: "your emergency contact's phone",
    CONTACT_RELATIONSHIP: "how your contact is related to you",
    REASON: "the reason for your visit",
    MEDICATIONS: "your medicines",
    ALLERGIES: "your allergies",
    CARRIER: "your insurance",
    MEMBER_ID: "your member ID",
    SUBSCRIBER_RELATIONSHIP: "whose plan it is",
    SUBSCRIBER_NAME: "the plan holder's name",
    CONSENT_TREATMENT: "your consent to care",
    CONSENT_TEXT: "your answer about texts",
}


def intake_steps(values: Mapping[str, Any]) -> list[str]:
    """The form's questions for these answers: insurance details only with insurance, edit only after a no."""
    steps = ANSWER_SLOTS[: ANSWER_SLOTS.index(CARRIER) + 1]
    if values.get(CARRIER) != SELF_PAY:
        steps += [MEMBER_ID, SUBSCRIBER_RELATIONSHIP]
        if values.get(SUBSCRIBER_RELATIONSHIP) not in (None, "self"):
            steps.append(SUBSCRIBER_NAME)
    steps += [CONSENT_TREATMENT, CONSENT_TEXT]
    if values.get(CONFIRMED) is False:
        steps.append(EDIT)
    steps.append(CONFIRMED)
    return steps


def next_step(values: Mapping[str, Any]) -> str | None:
    """The first question still unanswered, or None when the form is complete."""
    return next((slot for slot in intake_steps(values) if values.get(slot) is None), None)
