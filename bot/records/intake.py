"""The intake form's answers: what a complete submission holds, checked and normalized.

Actions fill an :class:`IntakeAnswers` (or a draft dict, see
:meth:`IntakeAnswers.from_dict`) and hand it to
``RecordsService.submit_intake``, which validates it again before storing:
nothing half-done is ever stored as a submission. Errors are
:class:`InvalidIntake` naming the field (``emergency_contact.phone``), never
echoing the value. The field validators are public so a form can check one
answer at a time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bot.records.errors import InvalidIntake, InvalidPatientData
from bot.records.models import RELATIONSHIPS
from bot.records.normalize import normalize_us_mobile, parse_name

ANSWERS_SCHEMA = 1
MAX_AGE_YEARS = 120
MAX_LIST_ITEMS = 50
ITEM_MAX = 200
ADDRESS_MAX = 300
REASON_MAX = 500
CARRIER_MAX = 120
EMAIL_MAX = 254
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+$")
_MEMBER_ID = re.compile(r"^[A-Z0-9][A-Z0-9 \-]{1,38}[A-Z0-9]$")


def clean_text(value: object, field: str, max_length: int, required: bool = True) -> str | None:
    """Collapse whitespace and bound the length; None for an optional blank answer."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidIntake(field, "an answer is required")
        return None
    if not isinstance(value, str):
        raise InvalidIntake(field, "must be text")
    text = " ".join(value.split())
    if len(text) > max_length:
        raise InvalidIntake(field, f"longer than {max_length} characters")
    if any(ord(ch) < 32 for ch in text):
        raise InvalidIntake(field, "contains control characters")
    return text


def validate_date_of_birth(value: object, today: dt.date, field: str = "date_of_birth") -> dt.date:
    """A plausible date of birth: a real date, in the past, at most 120 years ago."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError as exc:
            raise InvalidPatientData(field, "a YYYY-MM-DD date is required") from exc
    if not isinstance(value, dt.date):
        raise InvalidPatientData(field, "a date is required")
    if value >= today:
        raise InvalidPatientData(field, "must be in the past")
    try:
        oldest = today.replace(year=today.year - MAX_AGE_YEARS)
    except ValueError:  # today is February 29
        oldest = today.replace(year=today.year - MAX_AGE_YEARS, day=28)
    if value < oldest:
        raise InvalidPatientData(field, f"more than {MAX_AGE_YEARS} years ago")
    return value


@contextlib.contextmanager
def _as_intake_error(field: str) -> Iterator[None]:
    """Re-raise a patient-data error as an intake error about ``field``."""
    try:
        yield
    except InvalidIntake:
        raise
    except InvalidPatientData as exc:
        raise InvalidIntake(field, exc.reason) from exc


def normalize_email(value: object, field: str = "email") -> str | None:
    """An e-mail address with a lower-case domain, or None when left blank."""
    text = clean_text(value, field, EMAIL_MAX, required=False)
    if text is None:
        return None
    if not _EMAIL.match(text):
        raise InvalidIntake(field, "not an e-mail address")
    local, _, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}"


def normalize_member_id(value: object, field: str = "insurance.member_id") -> str:
    """A member id as printed on the card: upper case, single spaces, 3-40 letters and digits."""
    text = clean_text(value, field, 40)
    assert text is not None
    text = text.upper()
    if not _MEMBER_ID.match(text):
        raise InvalidIntake(field, "3 to 40 letters, digits, spaces or hyphens")
    return text


def normalize_relationship(value: object, field: str = "insurance.relationship") -> str:
    """One of self, spouse, child, other (how the patient relates to the subscriber)."""
    text = (clean_text(value, field, 20) or "").lower()
    if text not in RELATIONSHIPS:
        raise InvalidIntake(field, f"one of {', '.join(RELATIONSHIPS)}")
    return text


def person_name(value: object, field: str) -> str:
    """A person's full name, validated and tidied like patient names."""
    with _as_intake_error(field):
        return parse_name(value if isinstance(value, str) else "").full_name


def phone_number(value: object, field: str) -> str:
    """A US phone number in E.164."""
    with _as_intake_error(field):
        return normalize_us_mobile(value if isinstance(value, str) else "")


def clean_list(values: object, field: str) -> tuple[str, ...]:
    """Short answers (medications, allergies): trimmed, blank entries dropped, duplicates once."""
    if values is None:
        return ()
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise InvalidIntake(field, "must be a list")
    cleaned: list[str] = []
    seen: set[str] = set()
    for index, item in enumerate(values):
        text = clean_text(item, f"{field}[{index}]", ITEM_MAX, required=False)
        if text is not None and text.casefold() not in seen:
            seen.add(text.casefold())
            cleaned.append(text)
    if len(cleaned) > MAX_LIST_ITEMS:
        raise InvalidIntake(field, f"more than {MAX_LIST_ITEMS} entries")
    return tuple(cleaned)


def _sequence(value: object, field: str) -> tuple[Any, ...]:
    """A list from a dict as a tuple; a bare string is refused (it is not a list of answers)."""
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise InvalidIntake(field, "must be a list")
    return tuple(value)


@dataclass(frozen=True)
class EmergencyContact:
    """Whom the clinic calls in an emergency."""

    name: str
    phone: str
    relationship: str


@dataclass(frozen=True)
class InsuranceAnswer:
    """The insurance a patient gives at intake; ``carrier`` is a code or the name as written."""

    carrier: str
    member_id: str
    relationship: str = "self"
    # None with relationship "self": the subscriber is the patient.
    subscriber_name: str | None = None
    plan_name: str | None = None


@dataclass(frozen=True)
class IntakeAnswers:
    """A complete intake form; ``insurance=None`` means the patient pays for themselves."""

    legal_name: str
    date_of_birth: dt.date
    mobile: str
    address: str
    emergency_contact: EmergencyContact
    reason_for_visit: str
    medications: tuple[str, ...] = ()
    allergies: tuple[str, ...] = ()
    no_known_allergies: bool = False
    insurance: InsuranceAnswer | None = None
    consent_to_treatment: bool = False
    consent_to_text: bool = False
    preferred_name: str | None = None
    email: str | None = None

    @property
    def self_pay(self) -> bool:
        """Whether the patient chose to pay without insurance."""
        return self.insurance is None

    def validated(self, today: dt.date) -> IntakeAnswers:
        """A normalized copy, or InvalidIntake naming the first field that is wrong."""
        legal_name = person_name(self.legal_name, "legal_name")
        with _as_intake_error("date_of_birth"):
            dob = validate_date_of_birth(self.date_of_birth, today)
        contact = self.emergency_contact
        if not isinstance(contact, EmergencyContact):
            raise InvalidIntake("emergency_contact", "an emergency contact is required")
        contact = EmergencyContact(
            name=person_name(contact.name, "emergency_contact.name"),
            phone=phone_number(contact.phone, "emergency_contact.phone"),
            relationship=clean_text(contact.relationship, "emergency_contact.relationship", 40) or "",
        )
        allergies = clean_list(self.allergies, "allergies")
        if allergies and self.no_known_allergies:
            raise InvalidIntake("allergies", "allergies listed and 'no known allergies' both given")
        if not allergies and self.no_known_allergies is not True:
            raise InvalidIntake("allergies", "list the allergies or say there are none")
        insurance = self.insurance
        if insurance is not None:
            if not isinstance(insurance, InsuranceAnswer):
                raise InvalidIntake("insurance", "insurance details or self-pay are required")
            relationship = normalize_relationship(insurance.relationship)
            subscriber = insurance.subscriber_name
            if relationship == "self" and (subscriber is None or not str(subscriber).strip()):
                subscriber = legal_name
            insurance = InsuranceAnswer(
                carrier=clean_text(insurance.carrier, "insurance.carrier", CARRIER_MAX) or "",
                member_id=normalize_member_id(insurance.member_id),
                relationship=relationship,
                subscriber_name=person_name(subscriber, "insurance.subscriber_name"),
                plan_name=clean_text(insurance.plan_name, "insurance.plan_name", 120, required=False),
            )
        if self.consent_to_treatment is not True:
            raise InvalidIntake("consent_to_treatment", "consent to treatment is required to submit")
        if not isinstance(self.consent_to_text, bool):
            raise InvalidIntake("consent_to_text", "must be yes or no")
        return replace(
            self,
            legal_name=legal_name,
            preferred_name=clean_text(self.preferred_name, "preferred_name", 100, required=False),
            date_of_birth=dob,
            mobile=phone_number(self.mobile, "mobile"),
            email=normalize_email(self.email),
            address=clean_text(self.address, "address", ADDRESS_MAX) or "",
            emergency_contact=contact,
            reason_for_visit=clean_text(self.reason_for_visit, "reason_for_visit", REASON_MAX) or "",
            medications=clean_list(self.medications, "medications"),
            allergies=allergies,
            no_known_allergies=not allergies,
            insurance=insurance,
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form stored with a submission (dates as ISO strings)."""
        insurance = self.insurance
        return {
            "schema": ANSWERS_SCHEMA,
            "legal_name": self.legal_name,
            "preferred_name": self.preferred_name,
            "date_of_birth": self.date_of_birth.isoformat(),
            "mobile": self.mobile,
            "email": self.email,
            "address": self.address,
            "emergency_contact": {
                "name": self.emergency_contact.name,
                "phone": self.emergency_contact.phone,
                "relationship": self.emergency_contact.relationship,
            },
            "reason_for_visit": self.reason_for_visit,
            "medications": list(self.medications),
            "allergies": list(self.allergies),
            "no_known_allergies": self.no_known_allergies,
            "self_pay": insurance is None,
            "insurance": None
            if insurance is None
            else {
                "carrier": insurance.carrier,
                "member_id": insurance.member_id,
                "relationship": insurance.relationship,
                "subscriber_name": insurance.subscriber_name,
                "plan_name": insurance.plan_name,
            },
            "consent_to_treatment": self.consent_to_treatment,
            "consent_to_text": self.consent_to_text,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IntakeAnswers:
        """Build answers from a dict (a finished draft, a stored submission); shape errors are InvalidIntake."""
        if not isinstance(data, Mapping):
            raise InvalidIntake("answers", "must be a mapping")
        contact = data.get("emergency_contact")
        if not isinstance(contact, Mapping):
            raise InvalidIntake("emergency_contact", "an emergency contact is required")
        insurance_data = data.get("insurance")
        if data.get("self_pay") is True and not insurance_data:
            insurance = None
        elif isinstance(insurance_data, Mapping):
            insurance = InsuranceAnswer(
                carrier=insurance_data.get("carrier"),  # type: ignore[arg-type]
                member_id=insurance_data.get("member_id"),  # type: ignore[arg-type]
                relationship=insurance_data.get("relationship") or "self",
                subscriber_name=insurance_data.get("subscriber_name"),
                plan_name=insurance_data.get("plan_name"),
            )
        else:
            raise InvalidIntake("insurance", "insurance details or self-pay are required")
        dob = data.get("date_of_birth")
        if isinstance(dob, str):
            try:
                dob = dt.date.fromisoformat(dob)
            except ValueError as exc:
                raise InvalidIntake("date_of_birth", "a YYYY-MM-DD date is required") from exc
        for flag in ("consent_to_treatment", "consent_to_text", "no_known_allergies"):
            if not isinstance(data.get(flag, False), bool):
                raise InvalidIntake(flag, "must be yes or no")
        return cls(
            legal_name=data.get("legal_name"),  # type: ignore[arg-type]
            preferred_name=data.get("preferred_name"),
            date_of_birth=dob,  # type: ignore[arg-type]
            mobile=data.get("mobile"),  # type: ignore[arg-type]
            email=data.get("email"),
            address=data.get("address"),  # type: ignore[arg-type]
            emergency_contact=EmergencyContact(
                name=contact.get("name"),  # type: ignore[arg-type]
                phone=contact.get("phone"),  # type: ignore[arg-type]
                relationship=contact.get("relationship"),  # type: ignore[arg-type]
            ),
            reason_for_visit=data.get("reason_for_visit"),  # type: ignore[arg-type]
            medications=_sequence(data.get("medications"), "medications"),
            allergies=_sequence(data.get("allergies"), "allergies"),
            no_known_allergies=bool(data.get("no_known_allergies", False)),
            insurance=insurance,
            consent_to_treatment=bool(data.get("consent_to_treatment", False)),
            consent_to_text=bool(data.get("consent_to_text", False)),
        )
