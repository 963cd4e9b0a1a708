"""The intake answers as one dict (``IntakeAnswers.to_dict``'s shape), for drafts, submissions and the summary."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from actions.intake.answers import phone_text
from actions.intake.slots import (
    ADDRESS,
    ALLERGIES,
    CARRIER,
    CONSENT_TEXT,
    CONSENT_TREATMENT,
    CONTACT_NAME,
    CONTACT_PHONE,
    CONTACT_RELATIONSHIP,
    DOB,
    EMAIL,
    LEGAL_NAME,
    MEDICATIONS,
    MEMBER_ID,
    MOBILE,
    PREFERRED_NAME,
    REASON,
    SELF_PAY,
    SUBSCRIBER_NAME,
    SUBSCRIBER_RELATIONSHIP,
)


def answers_from_slots(values: Mapping[str, Any]) -> dict[str, Any]:
    """The answers so far in ``IntakeAnswers.to_dict``'s shape (missing answers left out)."""
    answers: dict[str, Any] = {"schema": 1}

    def put(key: str, slot: str) -> None:
        if values.get(slot) is not None:
            answers[key] = values.get(slot)

    put("legal_name", LEGAL_NAME)
    put("preferred_name", PREFERRED_NAME)
    put("date_of_birth", DOB)
    put("mobile", MOBILE)
    put("email", EMAIL)
    put("address", ADDRESS)
    contact = {
        key: values.get(slot)
        for key, slot in (("name", CONTACT_NAME), ("phone", CONTACT_PHONE), ("relationship", CONTACT_RELATIONSHIP))
        if values.get(slot) is not None
    }
    if contact:
        answers["emergency_contact"] = contact
    put("reason_for_visit", REASON)
    if values.get(MEDICATIONS) is not None:
        answers["medications"] = list(values.get(MEDICATIONS) or [])
    if values.get(ALLERGIES) is not None:
        allergies = list(values.get(ALLERGIES) or [])
        answers["allergies"] = allergies
        answers["no_known_allergies"] = not allergies
    carrier = values.get(CARRIER)
    if carrier == SELF_PAY:
        answers["self_pay"] = True
        answers["insurance"] = None
    elif carrier is not None:
        answers["self_pay"] = False
        insurance = {"carrier": carrier}
        for key, slot in (
            ("member_id", MEMBER_ID),
            ("relationship", SUBSCRIBER_RELATIONSHIP),
            ("subscriber_name", SUBSCRIBER_NAME),
        ):
            if values.get(slot) is not None:
                insurance[key] = values.get(slot)
        answers["insurance"] = insurance
    if values.get(CONSENT_TREATMENT) is True:
        answers["consent_to_treatment"] = True
    if isinstance(values.get(CONSENT_TEXT), bool):
        answers["consent_to_text"] = values.get(CONSENT_TEXT)
    return answers


def slots_from_answers(answers: Mapping[str, Any]) -> dict[str, Any]:
    """Slot values for a saved draft's answers; anything of the wrong shape is asked again."""
    values: dict[str, Any] = {}

    def text(key: str, slot: str, source: Mapping[str, Any] = answers) -> None:
        value = source.get(key)
        if isinstance(value, str):
            values[slot] = value

    def string_list(key: str, slot: str) -> None:
        value = answers.get(key)
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            values[slot] = list(value)

    text("legal_name", LEGAL_NAME)
    text("preferred_name", PREFERRED_NAME)
    text("date_of_birth", DOB)
    text("mobile", MOBILE)
    text("email", EMAIL)
    text("address", ADDRESS)
    contact = answers.get("emergency_contact")
    if isinstance(contact, Mapping):
        text("name", CONTACT_NAME, contact)
        text("phone", CONTACT_PHONE, contact)
        text("relationship", CONTACT_RELATIONSHIP, contact)
    text("reason_for_visit", REASON)
    string_list("medications", MEDICATIONS)
    if answers.get("no_known_allergies") is True:
        values[ALLERGIES] = []
    else:
        string_list("allergies", ALLERGIES)
        if values.get(ALLERGIES) == []:
            del values[ALLERGIES]
    insurance = answers.get("insurance")
    if answers.get("self_pay") is True:
        values[CARRIER] = SELF_PAY
    elif isinstance(insurance, Mapping) and isinstance(insurance.get("carrier"), str):
        values[CARRIER] = insurance["carrier"]
        text("member_id", MEMBER_ID, insurance)
        text("relationship", SUBSCRIBER_RELATIONSHIP, insurance)
        text("subscriber_name", SUBSCRIBER_NAME, insurance)
    if answers.get("consent_to_treatment") is True:
        values[CONSENT_TREATMENT] = True
    if isinstance(answers.get("consent_to_text"), bool):
        values[CONSENT_TEXT] = answers["consent_to_text"]
    return values


def field_for_error(field: str) -> list[str]:
    """The slots to ask again for an InvalidIntake field name ("emergency_contact.phone")."""
    mapping = {
        "legal_name": [LEGAL_NAME],
        "preferred_name": [PREFERRED_NAME],
        "date_of_birth": [DOB],
        "mobile": [MOBILE],
        "email": [EMAIL],
        "address": [ADDRESS],
        "emergency_contact.name": [CONTACT_NAME],
        "emergency_contact.phone": [CONTACT_PHONE],
        "emergency_contact.relationship": [CONTACT_RELATIONSHIP],
        "reason_for_visit": [REASON],
        "medications": [MEDICATIONS],
        "allergies": [ALLERGIES],
        "no_known_allergies": [ALLERGIES],
        "insurance.carrier": [CARRIER],
        "insurance.member_id": [MEMBER_ID],
        "insurance.relationship": [SUBSCRIBER_RELATIONSHIP],
        "insurance.subscriber_name": [SUBSCRIBER_NAME],
        "consent_to_treatment": [CONSENT_TREATMENT],
        "consent_to_text": [CONSENT_TEXT],
    }
    base = field.split("[")[0]
    if base in mapping:
        return mapping[base]
    if base.startswith("emergency_contact"):
        return [CONTACT_NAME, CONTACT_PHONE, CONTACT_RELATIONSHIP]
    if base.startswith("insurance"):
        return [CARRIER, MEMBER_ID, SUBSCRIBER_RELATIONSHIP, SUBSCRIBER_NAME]
    return []


def format_dob(iso: Any) -> str:
    """A date of birth in words: March 14, 1990."""
    try:
        day = dt.date.fromisoformat(str(iso))
    except ValueError:
        return str(iso or "")
    return f"{day.strftime('%B')} {day.day}, {day.year}"


SUBSCRIBER_TEXT = {"spouse": "your spouse", "child": "your parent", "other": "someone else"}


def summary_text(values: Mapping[str, Any], carrier_name: str) -> str:
    """The answers read back in short lines, one sentence each (easy to read)."""
    lines = [f"Name: {values.get(LEGAL_NAME)}."]
    if values.get(PREFERRED_NAME):
        lines.append(f"Goes by: {values.get(PREFERRED_NAME)}.")
    lines.append(f"Born: {format_dob(values.get(DOB))}.")
    lines.append(f"Mobile: {phone_text(values.get(MOBILE) or '')}.")
    lines.append(f"Email: {values.get(EMAIL) or 'none'}.")
    lines.append(f"Address: {values.get(ADDRESS)}.")
    lines.append(
        f"Emergency contact: {values.get(CONTACT_NAME)}, your {values.get(CONTACT_RELATIONSHIP)}, "
        f"{phone_text(values.get(CONTACT_PHONE) or '')}."
    )
    lines.append(f"Reason: {values.get(REASON)}.")
    lines.append(f"Medicines: {', '.join(values.get(MEDICATIONS) or []) or 'none'}.")
    lines.append(f"Allergies: {', '.join(values.get(ALLERGIES) or []) or 'none known'}.")
    if values.get(CARRIER) == SELF_PAY:
        lines.append("Insurance: none, you pay for yourself.")
    else:
        lines.append(f"Insurance: {carrier_name}, member ID {values.get(MEMBER_ID)}.")
        relationship = values.get(SUBSCRIBER_RELATIONSHIP)
        if relationship in SUBSCRIBER_TEXT:
            lines.append(f"Plan holder: {values.get(SUBSCRIBER_NAME)}, {SUBSCRIBER_TEXT[relationship]}.")
    lines.append("Consent to care: yes." if values.get(CONSENT_TREATMENT) else "Consent to care: no.")
    lines.append("Texts from us: yes." if values.get(CONSENT_TEXT) else "Texts from us: no.")
    return "\n".join(lines)
