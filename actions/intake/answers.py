"""Reading intake answers: pure functions from what the patient typed to a clean value, or None.

Phone numbers are read with ``phonenumbers``, e-mails with ``email-validator``
(syntax only), and the rest with the words in ``vocabulary.py``. No backend.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rasa_sdk import Tracker

from actions.common import latest_intent, latest_text, yes_or_no
from actions.identity import clean_full_name
from actions.intake.vocabulary import (
    ADDRESS_LEAD,
    AMBIGUOUS_STATE_CODES,
    BUTTON,
    CHANGE_VERB,
    EMAIL_IN_TEXT,
    FIELD_PATTERNS,
    FIELD_WRONG,
    GO_BACK,
    HOUSE_NUMBER,
    LAST_ANSWER,
    LIST_PREFIX,
    LIST_SPLIT,
    NAME_LEAD,
    NO_EXTRA,
    NOT_NAME_WORDS,
    PAUSE,
    PREVIOUS,
    RELATIONSHIP_LEAD,
    RELATIONSHIP_TEXT,
    RELATIONSHIP_WORDS,
    STATE_CODES,
    SUBSCRIBER_WORDS,
    UNSURE,
    US_STATES,
    WRONG_FIELD,
    YES_EXTRA,
    ZIP,
)
from bot.settings import get_settings


def words(text: str) -> int:
    """How many words an answer has."""
    return len(text.split())


def field_of(phrase: str) -> str | None:
    """The answer a phrase names ("my emergency contact's phone" -> contact_phone), or None."""
    phrase = re.sub(r"\s+", " ", phrase.strip().lower()).strip(" .!?,")
    phrase = re.sub(r"^(my|the|your|our|that|this) ", "", phrase)
    if LAST_ANSWER.match(phrase):
        return PREVIOUS
    for key, _slots, pattern in FIELD_PATTERNS:
        if pattern.fullmatch(phrase):
            return key
    return None


def parse_change_request(text: str) -> str | None:
    """What the patient wants to change: a field key, PREVIOUS for "go back", or None for an answer."""
    text = (text or "").strip()
    if not text or words(text) > 10:
        return None
    if GO_BACK.match(text):
        return PREVIOUS
    for pattern in (CHANGE_VERB, FIELD_WRONG, WRONG_FIELD):
        match = pattern.match(text)
        if match:
            field = field_of(match.group("field"))
            if field is not None:
                return field
    return None


def field_slots(field: str) -> list[str]:
    """The slots an answer name covers."""
    return next((slots for key, slots, _ in FIELD_PATTERNS if key == field), [])


def is_pause_request(text: str) -> bool:
    """Whether the patient wants to stop for now ("pause", "later", "stop")."""
    return bool(PAUSE.match(text or ""))


def choice_or_text(value: Any) -> str:
    """The choice a button sent (``/inform{"intake_choice": "skip"}``), else the answer as typed."""
    text = str(value or "").strip()
    match = BUTTON.match(text)
    if match:
        try:
            choice = json.loads(match.group(1)).get("intake_choice")
        except (ValueError, AttributeError):
            choice = None
        if isinstance(choice, str) and choice.strip():
            return choice.strip()
    return text


def answer_yes_no(value: Any, tracker: Tracker) -> bool | None:
    """A yes/no answer from words, a button ("/affirm") or the message's intent."""
    if isinstance(value, bool):
        return value
    text = str(value or "").strip()
    if text.startswith("/"):
        intent = text[1:].split("{")[0]
        return {"affirm": True, "deny": False}.get(intent)
    if NO_EXTRA.match(text):
        return False
    if YES_EXTRA.match(text):
        return True
    answer = yes_or_no(text)
    if answer is None and words(text) <= 6 and text == latest_text(tracker).strip():
        answer = {"affirm": True, "deny": False}.get(latest_intent(tracker))
    return answer


def is_plain_yes(value: Any) -> bool:
    """A short yes ("yes", "that's right", a yes button), not a name that starts like one."""
    text = str(value or "").strip()
    if text.startswith("/"):
        return text[1:].split("{")[0] == "affirm"
    return words(text) <= 4 and (yes_or_no(text) is True or bool(YES_EXTRA.match(text)))


def parse_us_phone(text: str) -> str | None:
    """A US phone number in E.164 read with ``phonenumbers``, or None (not one, or not exactly one)."""
    import phonenumbers

    from bot.records import InvalidPatientData, normalize_us_mobile

    text = (text or "").strip()
    if not text or len(text) > 100:
        return None
    try:
        found = [m.number for m in phonenumbers.PhoneNumberMatcher(text, "US", leniency=phonenumbers.Leniency.POSSIBLE)]
    except (phonenumbers.NumberParseException, ValueError):  # a parser hiccup is just "not a number"
        found = []
    if not found:
        try:
            found = [phonenumbers.parse(text, "US")]
        except phonenumbers.NumberParseException:
            return None
    if len(found) != 1:
        return None
    number = found[0]
    if number.country_code != 1 or not phonenumbers.is_possible_number(number):
        return None
    national = str(number.national_number)
    # The demo clinic's records use the fictional 555 area code; real ones must be valid numbers.
    fictional = national.startswith("555") and get_settings().demo_mode
    if not (phonenumbers.is_valid_number(number) or fictional):
        return None
    try:
        return normalize_us_mobile(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
    except InvalidPatientData:
        return None


def phone_text(e164: str) -> str:
    """Say a US number the usual way: (212) 555-0123."""
    digits = re.sub(r"\D", "", e164 or "")[-10:]
    if len(digits) != 10:
        return e164 or ""
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"


def parse_email(text: str) -> str | None:
    """An e-mail address checked for syntax only (no network), or None."""
    from email_validator import EmailNotValidError, validate_email

    from bot.records import InvalidIntake
    from bot.records.intake import normalize_email

    found = EMAIL_IN_TEXT.findall(text or "")
    if len(found) != 1:
        return None
    candidate = found[0].rstrip(".!?")
    try:
        normalized = validate_email(candidate, check_deliverability=False).normalized
        return normalize_email(normalized)
    except (EmailNotValidError, InvalidIntake):
        return None


def parse_address(text: str) -> str | None:
    """A one-line US address: a street number, words, and a ZIP code or a state; None otherwise."""
    text = ADDRESS_LEAD.sub("", " ".join((text or "").split())).strip(" .")
    if not 8 <= len(text) <= 300 or any(ord(ch) < 32 for ch in text):
        return None
    if not HOUSE_NUMBER.search(text):
        return None
    tokens = re.findall(r"[A-Za-z][A-Za-z'.-]*", text)
    has_zip = bool(ZIP.search(text))
    lowered = f" {text.lower()} "
    has_state = any(f" {name} " in re.sub(r"[^a-z]+", " ", lowered) for name in US_STATES)
    for index, token in enumerate(tokens[1:], start=1):
        code = token.strip(".").upper()
        if code not in STATE_CODES:
            continue
        is_last = index == len(tokens) - 1
        before_zip = bool(re.search(rf"\b{re.escape(token)}\W*\d{{5}}", text))
        if token.isupper() or before_zip or (is_last and token.lower() not in AMBIGUOUS_STATE_CODES):
            has_state = True
    if has_zip and len(tokens) >= 2:
        return text
    if has_state and len(tokens) >= 3:
        return text
    return None


def looks_like_a_name(text: str) -> bool:
    """Whether no word of it is a pronoun, a family word or a filler ("my mom", "I don't know")."""
    relationship = re.compile(rf"(?:{RELATIONSHIP_WORDS})('?s)?", re.I)
    return not any(
        word.casefold().replace("’", "'") in NOT_NAME_WORDS or relationship.fullmatch(word)
        for word in re.split(r"[\s,.]+", text.strip())
        if word
    )


def parse_full_name(text: str) -> str | None:
    """A first and last name, tidied like patient names ("jordan rivera" -> "Jordan Rivera")."""
    from bot.records import InvalidIntake
    from bot.records.intake import person_name

    name = clean_full_name(NAME_LEAD.sub("", str(text or "")))
    if name is None or words(name) < 2 or not looks_like_a_name(name):
        return None
    try:
        return person_name(name, "name")
    except InvalidIntake:
        return None


def parse_short_name(text: str) -> str | None:
    """A name to be called by: one to three words of letters."""
    from bot.records import InvalidIntake
    from bot.records.intake import person_name

    name = NAME_LEAD.sub("", " ".join(str(text or "").split())).strip(" .!,")
    if not name or words(name) > 3 or len(name) > 100 or not looks_like_a_name(name):
        return None
    try:
        return person_name(name, "preferred_name")
    except InvalidIntake:
        return None


def parse_list(text: str, none_pattern: re.Pattern[str]) -> list[str] | None:
    """A list of short answers ("aspirin, insulin and vitamin d"); [] for "none"; None if unclear."""
    from bot.records import InvalidIntake
    from bot.records.intake import clean_list

    text = " ".join(str(text or "").split())
    if none_pattern.match(text):
        return []
    if not text or UNSURE.match(text) or text.startswith("/"):
        return None
    text = LIST_PREFIX.sub("", text)
    items = [item.strip(" .!") for item in LIST_SPLIT.split(text)]
    items = [item for item in items if item and not none_pattern.match(item)]
    if not items or not all(re.search(r"[^\W\d_]", item) for item in items):
        return None
    try:
        return list(clean_list(items, "list"))
    except InvalidIntake:
        return None


def parse_relationship(text: str) -> str | None:
    """How someone is related to the patient, in a word or two ("mother", "friend")."""
    text = RELATIONSHIP_LEAD.sub("", " ".join(str(text or "").split())).strip(" .!,").lower()
    if not text or words(text) > 4 or len(text) > 40 or yes_or_no(text) is not None or UNSURE.match(text):
        return None
    if not RELATIONSHIP_TEXT.fullmatch(text):
        return None
    return text


def parse_subscriber_relationship(text: str) -> str | None:
    """Whose plan it is, as the records want it: self, spouse, child (of the holder) or other."""
    text = str(text or "").strip()
    for relationship, pattern in SUBSCRIBER_WORDS:
        if pattern.search(text):
            return relationship
    return None
