"""Every intake question as one row of a table: how its answer is read, skipped and re-asked.

``FIELDS`` maps each asked slot to a :class:`Field`. The form (``form.py``)
runs the same steps for every row: a "skip" to a required question is re-asked,
a skip of an optional one stores ``SKIPPED``, then the row's ``parse`` reads
the answer. ``parse`` gives the slot's value, None (not understood: the row's
``invalid`` response is said), a :class:`Reask` with its own response, or
:class:`Filled` when the answer sets more than its own slot.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.backend_guard import BACKEND_DOWN_SLOTS, backend_guard
from actions.common import (
    actor_of,
    call_backend,
    channel_of,
    entity_values,
    latest_text,
    safe_clinic_values,
    yes_or_no,
)
from actions.intake.answers import (
    answer_yes_no,
    field_of,
    field_slots,
    is_plain_yes,
    parse_address,
    parse_change_request,
    parse_email,
    parse_full_name,
    parse_list,
    parse_relationship,
    parse_short_name,
    parse_subscriber_relationship,
    parse_us_phone,
    words,
)
from actions.intake.record import answers_from_slots, field_for_error
from actions.intake.slots import (
    ADDRESS,
    ALLERGIES,
    CARRIER,
    CONFIRMED,
    CONSENT_TEXT,
    CONSENT_TREATMENT,
    CONTACT_NAME,
    CONTACT_PHONE,
    CONTACT_RELATIONSHIP,
    COVERAGE_ON_FILE,
    DOB,
    EDIT,
    EMAIL,
    INSURANCE_DETAILS,
    LEGAL_NAME,
    MEDICATIONS,
    MEMBER_ID,
    MOBILE,
    NAME_ON_FILE,
    PREFERRED_NAME,
    REASON,
    REQUESTED_SLOT,
    SELF_PAY,
    SLOT_TEXT,
    SUBSCRIBER_NAME,
    SUBSCRIBER_RELATIONSHIP,
    intake_steps,
)
from actions.intake.vocabulary import (
    BARE_NO,
    CARRIER_PREFIX,
    CONTACT_LEAD,
    FIELD_PATTERNS,
    MEMBER_PREFIX,
    NONE_ALLERGIES,
    NONE_MEDICATIONS,
    NOT_A_CARRIER,
    NOTHING_TO_CHANGE,
    PHONE_IN_ANSWER,
    SELF_PAY_WORDS,
    SKIP_WORDS,
    UNSURE,
)
from bot.log_privacy import patient_ref
from bot.settings import get_settings

logger = logging.getLogger(__name__)

ACTION = "validate_intake_form"
SUBSCRIBER_RELATIONSHIPS = ("self", "spouse", "child", "other")


@dataclass(frozen=True)
class Reask:
    """An answer that is not valid: the response that says so, and the reason logged (never the answer)."""

    response: str
    reason: str


@dataclass(frozen=True)
class Filled:
    """An answer that sets more than its own slot (or ends the form)."""

    slots: dict[str, Any]


@dataclass(frozen=True)
class Turn:
    """The message being validated: the tracker (with the answers so far) and the dispatcher."""

    tracker: Tracker
    dispatcher: CollectingDispatcher


#: Reads one answer: the value, None (not understood), a Reask or Filled; may be a coroutine.
Parser = Callable[[Any, Turn], Any]


@dataclass(frozen=True)
class Field:
    """One intake question: how its answer is read and what is said when it cannot be."""

    slot: str
    parse: Parser
    invalid: Reask
    #: "skip" is answered with "we need this one" (``utter_intake_required``).
    required: bool = False
    #: An optional question: replies this predicate accepts store ``SKIPPED``.
    skip: Callable[[str, Tracker], bool] | None = None
    #: Answers that depend on this one, asked again once it is given.
    clears: tuple[str, ...] = field(default=())


# --- skip rules -------------------------------------------------------------------


def said_skip(text: str, tracker: Tracker) -> bool:
    """ "Skip", "none", "no thanks" (or any no) to an optional question."""
    return bool(SKIP_WORDS.match(text)) or answer_yes_no(text, tracker) is False


def said_skip_not_an_address(text: str, tracker: Tracker) -> bool:
    """A skip, unless the reply holds an e-mail address ("n@example.com" starts like a no)."""
    return "@" not in text and said_skip(text, tracker)


# --- answers that need more than a parser ---------------------------------------------


def legal_name(value: Any, turn: Turn) -> str | None:
    """A full name; "yes" takes the name on the record."""
    on_file = turn.tracker.get_slot(NAME_ON_FILE)
    if is_plain_yes(value) and on_file:
        return on_file
    return parse_full_name(str(value or ""))


def preferred_name(value: Any, turn: Turn) -> str | Reask | None:
    """A short name; a bare "yes" asks which name."""
    text = str(value or "").strip()
    if is_plain_yes(text):
        return Reask("utter_intake_preferred_name_which", "yes without a name")
    return parse_short_name(text)


async def date_of_birth(value: Any, turn: Turn) -> str | Reask | Filled | None:
    """A date of birth that matches the verified record."""
    from bot.records import get_records_service
    from bot.timeparse import parse_date_of_birth

    tracker = turn.tracker
    dob = parse_date_of_birth(str(value or ""), get_settings().today())
    if dob is None:
        return None
    verified = tracker.get_slot("patient_dob")
    if verified:
        matches = dob.isoformat() == str(verified)
    else:
        async with backend_guard(ACTION, turn.dispatcher) as guard:
            found = await call_backend(
                get_records_service().verify_identity,
                tracker.get_slot(NAME_ON_FILE) or "",
                dob,
                **audit_kwargs(tracker),
            )
        if guard.failed:
            return Filled({DOB: None, **BACKEND_DOWN_SLOTS})
        matches = found is not None and found.patient_id == tracker.get_slot("patient_id")
    if not matches:
        return Reask("utter_intake_dob_mismatch", "does not match the record")
    return dob.isoformat()


def contact_name(value: Any, turn: Turn) -> Filled | None:
    """The contact's full name; "my wife Maria Rivera, 212-555-0188" fills all three answers."""
    tracker = turn.tracker
    text = " ".join(str(value or "").split())
    result: dict[str, Any] = {}
    phone = None
    if re.search(r"\d{3}", text):
        phone = parse_us_phone(text)
        text = PHONE_IN_ANSWER.sub(" ", text).strip(" ,.-")
    lead = CONTACT_LEAD.match(text)
    if lead:
        text = lead.group("rest")
        if tracker.get_slot(CONTACT_RELATIONSHIP) is None:
            result[CONTACT_RELATIONSHIP] = lead.group("relationship").lower()
    name = parse_full_name(text.strip(" ,."))
    if name is None:
        return None
    result[CONTACT_NAME] = name
    if phone and phone != tracker.get_slot(MOBILE) and tracker.get_slot(CONTACT_PHONE) is None:
        result[CONTACT_PHONE] = phone
    return Filled(result)


def contact_phone(value: Any, turn: Turn) -> str | Reask | None:
    """The contact's US phone number, not the patient's own."""
    phone = parse_us_phone(str(value or ""))
    if phone is not None and phone == turn.tracker.get_slot(MOBILE):
        return Reask("utter_intake_contact_phone_is_yours", "patient's own number")
    return phone


def reason(value: Any, turn: Turn) -> str | Reask | None:
    """Why the patient is coming, in their words."""
    from bot.records import InvalidIntake
    from bot.records.intake import REASON_MAX, clean_text

    text = str(value or "").strip()
    if (
        text.startswith("/")
        or UNSURE.match(text)
        or len(re.findall(r"[^\W\d_]", text)) < 2
        or (words(text) <= 2 and yes_or_no(text) is not None)
    ):
        return None
    try:
        return clean_text(text, "reason_for_visit", REASON_MAX)
    except InvalidIntake:
        return Reask("utter_intake_reason_too_long", "too long")


def medicine_list(value: Any, turn: Turn) -> list[str] | None:
    """A list of medicines, or none."""
    return value if isinstance(value, list) else parse_list(str(value or ""), NONE_MEDICATIONS)


def allergy_list(value: Any, turn: Turn) -> list[str] | None:
    """A list of allergies, or "none" / "no known allergies" / "NKDA"."""
    return value if isinstance(value, list) else parse_list(str(value or ""), NONE_ALLERGIES)


async def insurance_carrier(value: Any, turn: Turn) -> Filled | None:
    """The insurer (by name, or the one on file), or self-pay."""
    from bot.records import get_records_service

    tracker = turn.tracker
    text = str(value or "").strip()
    reset = dict.fromkeys(INSURANCE_DETAILS)
    on_file = tracker.get_slot(COVERAGE_ON_FILE)
    if SELF_PAY_WORDS.match(text) and not (on_file and BARE_NO.fullmatch(text)):
        return Filled({CARRIER: SELF_PAY, **reset})
    if on_file:
        answer = answer_yes_no(text, tracker)
        if answer is True:
            return Filled(keep_coverage(on_file))
        if answer is False and words(text) <= 3:
            # "No, it changed": ask for the new insurer without the offer.
            return Filled({CARRIER: None, COVERAGE_ON_FILE: None})
    if is_plain_yes(text) or UNSURE.match(text) or text.startswith("/"):
        return None
    service = get_records_service()
    async with backend_guard(ACTION, turn.dispatcher) as guard:
        codes = entity_values(tracker, "insurance") if text == latest_text(tracker).strip() else []
        carrier = await call_backend(service.carrier, codes[0]) if len(set(codes)) == 1 else None
        if carrier is None:
            carrier = await call_backend(service.match_carrier, text)
    if guard.failed:
        return Filled({CARRIER: None, **BACKEND_DOWN_SLOTS})
    if carrier is not None:
        if not carrier.accepted:
            turn.dispatcher.utter_message(
                response="utter_intake_carrier_not_accepted", carrier_name=carrier.display_name
            )
        return Filled({CARRIER: carrier.code, **reset})
    name = CARRIER_PREFIX.sub("", " ".join(text.split())).strip(" .!")
    if not 2 <= len(name) <= 60 or words(name) > 6 or not re.search(r"[^\W\d_]{2}", name) or NOT_A_CARRIER.search(name):
        return None
    logger.info("intake: insurer not on the clinic's list, kept as written")
    return Filled({CARRIER: name, **reset})


def keep_coverage(on_file: Mapping[str, Any]) -> dict[str, Any]:
    """Take the insurance on record: carrier, member id and plan holder."""
    from bot.records import InvalidIntake
    from bot.records.intake import normalize_member_id

    try:
        member_id = normalize_member_id(on_file.get("member_id"))
    except InvalidIntake:
        member_id = None
    relationship = on_file.get("relationship") if on_file.get("relationship") in SUBSCRIBER_RELATIONSHIPS else None
    subscriber = on_file.get("subscriber_name") if relationship not in (None, "self") else None
    if relationship not in (None, "self") and not subscriber:
        relationship = None
    return {
        CARRIER: on_file.get("carrier"),
        MEMBER_ID: member_id,
        SUBSCRIBER_RELATIONSHIP: relationship,
        SUBSCRIBER_NAME: subscriber,
    }


def member_id(value: Any, turn: Turn) -> str | Reask | None:
    """The member id as printed on the card."""
    from bot.records import InvalidIntake
    from bot.records.intake import normalize_member_id

    text = MEMBER_PREFIX.sub("", str(value or "").strip()).strip(" .!")
    if not re.search(r"\d", text):
        return Reask("utter_intake_member_id_not_understood", "no digits")
    try:
        return normalize_member_id(text)
    except InvalidIntake:
        return None


def subscriber_relationship(value: Any, turn: Turn) -> str | None:
    """Whose plan it is: the patient's, a spouse's, a parent's or someone else's."""
    text = str(value or "").strip()
    return text if text in SUBSCRIBER_RELATIONSHIPS else parse_subscriber_relationship(text)


def yes_no(value: Any, turn: Turn) -> bool | None:
    """A yes or a no, in words, by button or by intent."""
    return answer_yes_no(value, turn.tracker)


async def consent_to_treatment(value: Any, turn: Turn) -> bool | Filled | None:
    """Yes goes on; no ends the form politely (we cannot treat without consent)."""
    answer = answer_yes_no(value, turn.tracker)
    if answer is False:
        logger.info(
            "intake: %s declined consent to treatment; nothing submitted",
            patient_ref(turn.tracker.get_slot("patient_id")),
        )
        turn.dispatcher.utter_message(response="utter_intake_no_consent", **(await safe_clinic_values()))
        return Filled({CONSENT_TREATMENT: None, "form_outcome": "no_consent", REQUESTED_SLOT: None})
    return answer


def confirmation(value: Any, turn: Turn) -> bool | Filled | None:
    """Yes sends (after a last full check); no asks what to change."""
    from bot.records import IntakeAnswers, InvalidIntake

    tracker = turn.tracker
    answer = answer_yes_no(value, tracker)
    if answer is not True:
        return answer
    try:
        IntakeAnswers.from_dict(answers_from_slots(tracker.slots)).validated(get_settings().today())
    except InvalidIntake as exc:
        slots = field_for_error(exc.field) or [CONFIRMED]
        logger.warning(
            "intake of %s failed the final check at %s", patient_ref(tracker.get_slot("patient_id")), exc.field
        )
        turn.dispatcher.utter_message(
            response="utter_intake_fix_answer", field_text=SLOT_TEXT.get(slots[0], "one answer")
        )
        return Filled({**dict.fromkeys(slots), CONFIRMED: None})
    return True


def answer_to_change(value: Any, turn: Turn) -> Filled | None:
    """Which answer to change ("my email", "insurance"); "nothing" shows the summary again."""
    text = str(value or "").strip()
    if NOTHING_TO_CHANGE.match(text):
        return Filled({EDIT: None, CONFIRMED: None})
    keys = {key for key, _slots, _pattern in FIELD_PATTERNS}
    named = text if text in keys else (field_of(text) or parse_change_request(text))
    targets = [slot for slot in field_slots(named) if slot in intake_steps(turn.tracker.slots)] if named else []
    if not targets:
        return None
    turn.dispatcher.utter_message(response="utter_intake_change_ok", field_text=SLOT_TEXT[targets[0]])
    return Filled({**cleared_for_change(targets), EDIT: None, CONFIRMED: None})


def cleared_for_change(targets: list[str]) -> dict[str, Any]:
    """The answers to ask again when these change (a new insurer asks its details again)."""
    cleared: dict[str, Any] = dict.fromkeys(targets)
    if CARRIER in targets:
        cleared.update(dict.fromkeys(INSURANCE_DETAILS))
    return cleared


def audit_kwargs(tracker: Tracker) -> dict[str, str]:
    """Who is asking, for the records audit: a hash of the conversation, and the channel."""
    return {"actor": actor_of(tracker), "channel": channel_of(tracker)}


# --- the table --------------------------------------------------------------------

NAME_NOT_UNDERSTOOD = Reask("utter_name_not_understood", "not a full name")
PHONE_NOT_UNDERSTOOD = Reask("utter_intake_phone_not_understood", "not a US number")
NOT_YES_OR_NO = Reask("utter_yes_or_no", "not yes or no")

FIELDS: dict[str, Field] = {
    spec.slot: spec
    for spec in (
        Field(LEGAL_NAME, legal_name, NAME_NOT_UNDERSTOOD, required=True),
        Field(
            PREFERRED_NAME,
            preferred_name,
            Reask("utter_intake_preferred_name_not_understood", "not a name"),
            skip=said_skip,
        ),
        Field(DOB, date_of_birth, Reask("utter_dob_not_understood", "not a date")),
        Field(MOBILE, lambda value, turn: parse_us_phone(str(value or "")), PHONE_NOT_UNDERSTOOD),
        Field(
            EMAIL,
            lambda value, turn: parse_email(str(value or "").strip()),
            Reask("utter_intake_email_not_understood", "not an email"),
            skip=said_skip_not_an_address,
        ),
        Field(
            ADDRESS,
            lambda value, turn: parse_address(str(value or "")),
            Reask("utter_intake_address_not_understood", "not an address"),
            required=True,
        ),
        Field(
            CONTACT_NAME,
            contact_name,
            Reask("utter_intake_contact_name_not_understood", "not a full name"),
            required=True,
        ),
        Field(CONTACT_PHONE, contact_phone, PHONE_NOT_UNDERSTOOD),
        Field(
            CONTACT_RELATIONSHIP,
            lambda value, turn: parse_relationship(str(value or "")),
            Reask("utter_intake_relationship_not_understood", "unclear"),
        ),
        Field(REASON, reason, Reask("utter_intake_reason_not_understood", "no reason given"), required=True),
        Field(MEDICATIONS, medicine_list, Reask("utter_intake_medications_not_understood", "unclear list")),
        Field(ALLERGIES, allergy_list, Reask("utter_intake_allergies_not_understood", "unclear list")),
        Field(CARRIER, insurance_carrier, Reask("utter_intake_carrier_not_understood", "no insurer named")),
        Field(MEMBER_ID, member_id, Reask("utter_intake_member_id_not_understood", "not a member id")),
        Field(
            SUBSCRIBER_RELATIONSHIP,
            subscriber_relationship,
            Reask("utter_intake_subscriber_not_understood", "unclear"),
            clears=(SUBSCRIBER_NAME,),
        ),
        Field(SUBSCRIBER_NAME, lambda value, turn: parse_full_name(str(value or "")), NAME_NOT_UNDERSTOOD),
        Field(CONSENT_TREATMENT, consent_to_treatment, NOT_YES_OR_NO),
        Field(CONSENT_TEXT, yes_no, NOT_YES_OR_NO),
        Field(EDIT, answer_to_change, Reask("utter_intake_edit_not_understood", "no answer named")),
        Field(CONFIRMED, confirmation, NOT_YES_OR_NO),
    )
}
