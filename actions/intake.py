"""The intake form: a verified patient's details, health and insurance answers, and consents.

The form (``intake_form``) asks one thing at a time and checks each answer
(phone numbers with ``phonenumbers``, e-mails with ``email-validator``, dates of
birth with ``bot.timeparse``). After every valid answer the answers so far are
saved as the patient's draft, so the patient can pause ("pause", "later", or
simply leave) and pick up where they left off, in this conversation or a later
one. "Go back", "change my email" or "my phone number is wrong" clear that
answer and ask it again. At the end the patient sees a short summary; only a
yes stores a submission (``RecordsService.submit_intake``, which also drops
the draft). Consent to treatment is required; a no ends the form politely.

Slot values are never logged: only patient ids, slot names and reasons.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Mapping
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    actor_of,
    call_backend,
    channel_of,
    entity_values,
    latest_intent,
    latest_text,
    safe_clinic_values,
    stop_form_backend_down,
    tell_backend_down,
    yes_or_no,
)
from actions.identity import IDENTITY_SLOTS, PatientFormValidator, clean_full_name, locked_out
from bot.settings import get_settings

logger = logging.getLogger(__name__)

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

# --- what the patient may call each answer ("change my <field>") ----------------
# Order matters: the first pattern that matches the whole phrase wins.
FIELD_PATTERNS: list[tuple[str, list[str], re.Pattern[str]]] = [
    (
        "contact_phone",
        [CONTACT_PHONE],
        re.compile(
            r"(emergency )?contact'?s? (phone|cell|number)( number)?|emergency (phone|number|cell)( number)?|"
            r"their (phone|number|cell)( number)?"
        ),
    ),
    ("contact_name", [CONTACT_NAME], re.compile(r"(emergency )?contact'?s? name|their name")),
    (
        "contact_relationship",
        [CONTACT_RELATIONSHIP],
        re.compile(r"(emergency )?(contact'?s? )?relationship|how (they are|they're|we are|we're) related"),
    ),
    (
        "contact",
        [CONTACT_NAME, CONTACT_PHONE, CONTACT_RELATIONSHIP],
        re.compile(r"emergency contact( info| information| person)?|emergency( person)?|contact( person)?"),
    ),
    (
        "member_id",
        [MEMBER_ID],
        re.compile(r"member ?(id|number|#)|insurance (id|number)|policy (id|number)|id( number)?"),
    ),
    (
        "subscriber",
        [SUBSCRIBER_RELATIONSHIP, SUBSCRIBER_NAME],
        re.compile(
            r"subscriber( name)?|policy ?holder( name)?|plan ?holder( name)?|whose plan( it is)?|who holds the plan"
        ),
    ),
    (
        "insurance",
        [CARRIER, MEMBER_ID, SUBSCRIBER_RELATIONSHIP, SUBSCRIBER_NAME],
        re.compile(
            r"(health )?insurance( info| information| company| plan| carrier)?|carrier|insurer|plan|coverage|self[- ]?pay"
        ),
    ),
    ("preferred_name", [PREFERRED_NAME], re.compile(r"preferred name|nick ?name|name i go by|what (you|to) call me")),
    ("dob", [DOB], re.compile(r"date of birth|birth ?date|birthday|dob|d\.o\.b\.?")),
    ("mobile", [MOBILE], re.compile(r"(mobile|cell|phone|cell ?phone)( phone)?( number| #)?|number|phone number")),
    ("email", [EMAIL], re.compile(r"e-?mail( address)?")),
    ("address", [ADDRESS], re.compile(r"(home |street |mailing )?address|street|zip( code)?|city|state")),
    ("legal_name", [LEGAL_NAME], re.compile(r"(full |legal |last |first |real )?name|spelling of my name")),
    ("reason", [REASON], re.compile(r"reason( for (my|the) visit)?|visit reason|why i'?m coming( in)?")),
    (
        "medications",
        [MEDICATIONS],
        re.compile(r"med(ication|icine)?s?|meds|drugs|pills|prescriptions?|medication list"),
    ),
    ("allergies", [ALLERGIES], re.compile(r"allerg(y|ies)|allergic|allergy list")),
    ("consent_text", [CONSENT_TEXT], re.compile(r"texts?( messages?)?( consent| answer)?|sms|texting")),
    ("consent_treatment", [CONSENT_TREATMENT], re.compile(r"consent( to (treatment|care))?|treatment")),
]
PREVIOUS = "previous"
_PREFIX = r"(?:(?:wait|oops|sorry|actually|hold on|hang on|hm+|uh+|um+|oh|ah|no|ok|okay)\b[\s,.!-]*)*"
_POLITE = (
    r"(?:(?:can|could|may) (?:i|we|you) |i (?:want|need|would like|'d like|wanna) to |let me |let'?s |"
    r"please |i have to |i gotta |i need to |i'?ll |i will |we'?ll |we can )?"
)
_DET = r"(?:(?:my|the|your|that|our|this) )?"
_END = r"(?:\s+(?:please|pls|plz|again|answer|too|now))*[\s.!?]*$"
CHANGE_VERB = re.compile(
    rf"^{_PREFIX}{_POLITE}(?:change|fix|edit|correct|update|redo|re-do|go back to|back to|return to)\s+{_DET}(?P<field>.+?){_END}",
    re.I,
)
FIELD_WRONG = re.compile(
    rf"^{_PREFIX}{_DET}(?P<field>.+?)\s*(?:is|was|are|were|'s|’s)\s+"
    rf"(?:wrong|incorrect|not right|not correct|a mistake|a typo|mistyped|off|bad){_END}",
    re.I,
)
WRONG_FIELD = re.compile(
    rf"^{_PREFIX}(?:i (?:gave|typed|put|entered|said) (?:you )?)?(?:the |a )?wrong (?P<field>.+?){_END}", re.I
)
GO_BACK = re.compile(
    rf"^{_PREFIX}{_POLITE}(?:go back|back|previous( question)?|undo( that)?|back up|go back one|last question|"
    rf"go to the last question){_END}",
    re.I,
)
LAST_ANSWER = re.compile(
    r"^(it|that|this|my answer|that answer|the answer|the last one|last answer|my last answer)$", re.I
)

PAUSE = re.compile(
    rf"^{_PREFIX}{_POLITE}(?:pause(?: it| this| the form)?(?: for now)?|stop for now|stop here for now|"
    r"(?:finish|do|continue|complete) (?:it |this |the rest |the form |them )?later|(?:maybe )?later|"
    r"save (?:it|this|my answers|my progress|the form)(?: for later)?|take a break|"
    r"i'?ll (?:come back|be back|finish|do it|do this|do the rest)(?: later)?|come back later|brb|"
    r"be right back|gotta go|got to go|i (?:have|need) to go(?: now)?|stop|quit|exit|never ?mind|nvm|forget it|"
    r"cancel(?: that| this| it| the form)?|i changed my mind|i don'?t want to do this(?: now| anymore)?)"
    rf"(?:\s+(?:please|pls|thanks|thank you))?{_END}",
    re.I,
)

SKIP_WORDS = re.compile(
    r"^\s*(skip(\s+(it|this|that))?|none|no+|nope|nah|n/?a|na|no thanks?|no thank you|pass|not really|"
    r"i don'?t have (one|any|an? \w+)|don'?t have (one|any)|no \w+|nothing|not now|same|same as (above|my name|legal name)|"
    r"just my (legal |real )?name|my (legal |real )?name is fine|(that'?s|it'?s) fine)\s*[.!]*\s*$",
    re.I,
)
NONE_MEDICATIONS = re.compile(
    r"^\s*(none|no+|nope|nothing|nada|zero|n/?a|none (at all|right now|currently)|"
    r"no (meds|medications?|medicines?|drugs|pills|prescriptions?)( at all| right now| currently)?|"
    r"i (don'?t|do not) take any(thing)?( \w+)?( right now| currently| at the moment)?|"
    r"(i'?m |i am )?not (taking|on) any(thing)?( \w+)?( right now| currently)?)\s*[.!]*\s*$",
    re.I,
)
NONE_ALLERGIES = re.compile(
    r"^\s*(none|no+|nope|nothing|n/?a|nka|nkda|nkfa|none known|no known( drug| food)?( allergies)?|"
    r"no (allergies|allergy)( at all)?|not allergic( to anything)?|i'?m not allergic( to anything)?|"
    r"i am not allergic( to anything)?|i (don'?t|do not) have any( allergies)?|i have no( known)? allergies)\s*[.!]*\s*$",
    re.I,
)
UNSURE = re.compile(r"^\s*(idk|i don'?t know|not sure|no idea|dunno|i'?m not sure|\?+)\s*[.!]*\s*$", re.I)
LIST_PREFIX = re.compile(
    r"^\s*(i take|i'?m on|i am on|i'?m taking|i am taking|taking|i use|just|only|"
    r"i'?m allergic to|i am allergic to|allergic to|i have allergies to|allergies:|meds:|medications:)\s+",
    re.I,
)
LIST_SPLIT = re.compile(r"\s*(?:,|;|\n|\band\b|&|\+)\s*", re.I)
SELF_PAY_WORDS = re.compile(
    r"\b(self[- ]?pay(ing)?|no( health)? insurance|(don'?t|do not) have (any )?(health )?insurance|uninsured|"
    r"not insured|out of pocket|pay(ing)? (for )?(it )?(myself|cash)|private pay|cash pay)\b|^\s*(none|no+|nope|cash)\s*[.!]*\s*$",
    re.I,
)
CARRIER_PREFIX = re.compile(
    r"^\s*(my insurance is( with)?|i have|i'?ve got|it'?s|it is|insurance:|with|i'?m with|i am with|we have)\s+", re.I
)
MEMBER_PREFIX = re.compile(r"^\s*(my )?(member ?(id|number|#)|id|number|it'?s|it is|#)\s*(is|:)?\s*", re.I)
NAME_LEAD = re.compile(
    r"^\s*(my name is|my legal name is|legal name:|it'?s|it is|i'?m|i am|call me|you can call me|please call me|"
    r"i go by|i prefer|just|my nickname is|i like to be called|their name is|his name is|her name is|name:)\s+",
    re.I,
)
RELATIONSHIP_WORDS = (
    r"wife|husband|spouse|partner|mom|mother|dad|father|son|daughter|sister|brother|friend|aunt|uncle|"
    r"grandma|grandmother|grandpa|grandfather|grandson|granddaughter|neighbor|neighbour|boyfriend|girlfriend|"
    r"fianc[eé]e?|cousin|roommate|niece|nephew|parent|child|guardian|caregiver|stepmother|stepfather|"
    r"stepmom|stepdad|mother-in-law|father-in-law|sister-in-law|brother-in-law"
)
# Words no one's name is made of: "my mom" or "I don't know" is not a name.
NOT_NAME_WORDS = {
    "im",
    "i'm",
    "me",
    "my",
    "mine",
    "you",
    "your",
    "he",
    "she",
    "his",
    "her",
    "they",
    "their",
    "we",
    "our",
    "it",
    "its",
    "it's",
    "the",
    "an",
    "is",
    "are",
    "was",
    "not",
    "don't",
    "dont",
    "know",
    "what",
    "why",
    "how",
    "yes",
    "no",
    "none",
    "skip",
    "same",
    "idk",
    "sure",
    "ok",
    "okay",
    "please",
    "thanks",
    "thank",
    "name",
    "called",
    "call",
    "and",
    "or",
    "to",
    "nobody",
    "no-one",
    "someone",
    "anyone",
}
CONTACT_LEAD = re.compile(
    rf"^\s*(?:my\s+)?(?P<relationship>{RELATIONSHIP_WORDS})\b[,:]?\s+(?:is\s+)?(?P<rest>.+)$", re.I
)
RELATIONSHIP_LEAD = re.compile(r"^\s*((s?he|they)('?s| is| are)|it'?s|that'?s|is)?\s*(my|our)?\s+", re.I)
SUBSCRIBER_WORDS: list[tuple[str, re.Pattern[str]]] = [
    (
        "self",
        re.compile(
            r"^\s*(yes|yeah|yep|me|mine|myself|my own( plan)?|self|i am|i'?m the (holder|subscriber)|"
            r"in my name|it'?s mine|it is mine|my name|i do|/affirm)\b",
            re.I,
        ),
    ),
    ("spouse", re.compile(r"\b(spouse|wife|husband|partner)('?s)?\b", re.I)),
    ("child", re.compile(r"\b(parents?|mom|dad|mother|father|mommy|daddy|stepmom|stepdad|guardian)('?s)?\b", re.I)),
    ("other", re.compile(r"\b(other|someone else|somebody else|else'?s|employer|grand\w*|aunt|uncle)\b", re.I)),
]
YES_EXTRA = re.compile(
    r"^\s*(i (agree|consent|do)|agreed|of course|absolutely|yes please|that'?s (right|correct|me))\b", re.I
)
NO_EXTRA = re.compile(r"^\s*(i (don'?t|do not) (agree|consent)|no way|never|i disagree|not okay|not ok)\b", re.I)
NOTHING_TO_CHANGE = re.compile(
    r"^\s*(nothing|none|never ?mind|nvm|no changes?|it'?s (all )?(fine|good|right|correct)|all good|looks good|"
    r"it'?s ok(ay)?|no+|nope)\s*[.!]*\s*$",
    re.I,
)
# Words that show an answer is a sentence about insurance, not an insurer's name.
NOT_A_CARRIER = re.compile(
    r"^(health )?insurance$|\b(i|i'?m|im|my|me|is|are|was|have|has|had|do|does|don'?t|dont|not|know|it|it'?s|"
    r"at|home|card|forgot|left|sure|idk|yes|yeah|no|think|maybe)\b",
    re.I,
)
EMAIL_IN_TEXT = re.compile(r"[^\s@<>(),;:\"'\[\]]+@[^\s@<>(),;:\"'\[\]]+")
ZIP = re.compile(r"\b\d{5}(?:-\d{4})?\b")
ADDRESS_LEAD = re.compile(r"^\s*(my (home )?address is|i live at|address:|it'?s|it is|home:)\s+", re.I)
US_STATES = {
    "alabama": "AL",
    "alaska": "AK",
    "arizona": "AZ",
    "arkansas": "AR",
    "california": "CA",
    "colorado": "CO",
    "connecticut": "CT",
    "delaware": "DE",
    "florida": "FL",
    "georgia": "GA",
    "hawaii": "HI",
    "idaho": "ID",
    "illinois": "IL",
    "indiana": "IN",
    "iowa": "IA",
    "kansas": "KS",
    "kentucky": "KY",
    "louisiana": "LA",
    "maine": "ME",
    "maryland": "MD",
    "massachusetts": "MA",
    "michigan": "MI",
    "minnesota": "MN",
    "mississippi": "MS",
    "missouri": "MO",
    "montana": "MT",
    "nebraska": "NE",
    "nevada": "NV",
    "new hampshire": "NH",
    "new jersey": "NJ",
    "new mexico": "NM",
    "new york": "NY",
    "north carolina": "NC",
    "north dakota": "ND",
    "ohio": "OH",
    "oklahoma": "OK",
    "oregon": "OR",
    "pennsylvania": "PA",
    "rhode island": "RI",
    "south carolina": "SC",
    "south dakota": "SD",
    "tennessee": "TN",
    "texas": "TX",
    "utah": "UT",
    "vermont": "VT",
    "virginia": "VA",
    "washington": "WA",
    "west virginia": "WV",
    "wisconsin": "WI",
    "wyoming": "WY",
    "district of columbia": "DC",
    "puerto rico": "PR",
}
STATE_CODES = set(US_STATES.values()) | {"VI", "GU", "AS", "MP"}
# State codes that are also common English words: only read as a state in capitals or before a ZIP.
AMBIGUOUS_STATE_CODES = {"in", "me", "or", "hi", "ok", "oh", "de", "pa", "la", "ma", "al", "co", "id", "mo", "ne", "ct"}


# --- reading answers (pure functions, no backend) ------------------------------------


def words(text: str) -> int:
    """How many words an answer has."""
    return len(text.split())


def _field_of(phrase: str) -> str | None:
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
            field = _field_of(match.group("field"))
            if field is not None:
                return field
    return None


def field_slots(field: str) -> list[str]:
    """The slots an answer name covers."""
    return next((slots for key, slots, _ in FIELD_PATTERNS if key == field), [])


def is_pause_request(text: str) -> bool:
    """Whether the patient wants to stop for now ("pause", "later", "stop")."""
    return bool(PAUSE.match(text or ""))


BUTTON = re.compile(r"^/inform\s*(\{.*\})\s*$", re.S)


def choice_or_text(value: Any) -> str:
    """The choice a button sent (``/inform{"intake_choice": "skip"}``), else the answer as typed."""
    import json

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
    except Exception:  # noqa: BLE001 - a parser hiccup is just "not a number"
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
    if not re.search(r"(^|\s)\d+[A-Za-z]?\b|\bp\.?\s*o\.?\s*box\s+\d+", text, re.I):
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
    if not re.fullmatch(r"[^\W\d_]+(?:[ '’-][^\W\d_]+)*", text):
        return None
    return text


def parse_subscriber_relationship(text: str) -> str | None:
    """Whose plan it is, as the records want it: self, spouse, child (of the holder) or other."""
    text = str(text or "").strip()
    for relationship, pattern in SUBSCRIBER_WORDS:
        if pattern.search(text):
            return relationship
    return None


# --- the answers as a dict: one shape for drafts and submissions -------------------


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


def is_activation(tracker: Tracker) -> bool:
    """Whether the form was (re)started by this message: its activation follows the last user message."""
    for event in reversed(tracker.events or []):
        if event.get("event") == "user":
            return False
        if event.get("event") == "active_loop" and event.get("name") == FORM:
            return True
    return False


def audit_kwargs(tracker: Tracker) -> dict[str, str]:
    """Who is asking, for the records audit: a hash of the conversation, and the channel."""
    return {"actor": actor_of(tracker), "channel": channel_of(tracker)}


async def backend_down(dispatcher: CollectingDispatcher, exc: Exception) -> dict[str, Any]:
    """The backend-down message, and the slots that end the form unchanged."""
    return {event["name"]: event["value"] for event in await stop_form_backend_down(dispatcher, exc)}


# --- the form ---------------------------------------------------------------------


class ValidateIntakeForm(PatientFormValidator):
    """Checks each intake answer, handles go back / pause, and keeps the draft up to date."""

    def name(self) -> str:
        """The intake form's validation action."""
        return "validate_intake_form"

    def task_slots(self, tracker: Tracker) -> list[str]:
        """The intake questions that apply to the answers so far."""
        return intake_steps(tracker.slots)

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """ "Pause", "later" or "stop" end the form for now; the draft already holds every answer."""
        requested = tracker.get_slot(REQUESTED_SLOT)
        if requested and is_pause_request(latest_text(tracker)):
            return self.pause(dispatcher, tracker, requested)
        # Skip PatientFormValidator.run: its "stop" says nothing about saved answers.
        return await super(PatientFormValidator, self).run(dispatcher, tracker, domain)

    def pause(self, dispatcher: CollectingDispatcher, tracker: Tracker, requested: str) -> list[EventType]:
        """Stop here; say the answers are saved when there are any."""
        patient_id = tracker.get_slot("patient_id")
        if patient_id and tracker.get_slot(LOADED):
            logger.info("intake paused by %s at %s", patient_id, requested)
            dispatcher.utter_message(response="utter_intake_paused")
            outcome = "paused"
        else:
            dispatcher.utter_message(response="utter_form_stopped")
            outcome = "stopped"
        return [SlotSet(requested, None), SlotSet("form_outcome", outcome), SlotSet(REQUESTED_SLOT, None)]

    async def get_validation_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Validate this message's answer (or take a change request), then load or save the draft."""
        updates: dict[str, Any] = {}

        def apply(values: dict[str, Any]) -> None:
            updates.update(values)
            tracker.slots.update(values)

        # What the answers were before this message (its own answer is not one yet).
        just_said = tracker.slots_to_validate()
        before = {slot: None if slot in just_said else tracker.get_slot(slot) for slot in ANSWER_SLOTS}
        starting = is_activation(tracker)
        if starting:
            # A (re)started form begins from the saved draft, never from leftovers.
            apply({slot: None for slot in INTAKE_SLOTS})
        loaded = bool(tracker.get_slot(LOADED))
        requested = tracker.get_slot(REQUESTED_SLOT)
        change = self.change_request(dispatcher, tracker, requested) if loaded and requested in ASKED_SLOTS else None
        if change is not None:
            apply(change)
        else:
            candidates = tracker.slots_to_validate()
            if loaded and requested == EDIT and EDIT not in candidates and _field_of(latest_text(tracker)):
                # "address" or "emergency contact" read as a question or an emergency: here it names an answer.
                candidates[EDIT] = latest_text(tracker)
            for slot, value in candidates.items():
                if slot not in IDENTITY_SLOTS and (slot not in ASKED_SLOTS or not loaded or starting):
                    continue
                if slot in IDENTITY_SLOTS and tracker.get_slot("patient_id"):
                    continue  # already verified: leftovers are not checked again
                method = getattr(self, f"validate_{slot}", None)
                if method is not None:
                    if slot in ASKED_SLOTS and isinstance(value, str):
                        value = choice_or_text(value)
                    apply(await method(value, dispatcher, tracker, domain))
        patient_id = tracker.get_slot("patient_id")
        try:
            if patient_id and not tracker.get_slot(LOADED) and not tracker.get_slot("form_outcome"):
                apply(await self.start(dispatcher, tracker, patient_id))
            elif (
                loaded
                and not tracker.get_slot("form_outcome")
                and any(tracker.get_slot(slot) != before[slot] for slot in ANSWER_SLOTS)
            ):
                await self.save_draft(tracker, patient_id)
        except Exception as exc:  # noqa: BLE001 - any backend failure ends the form with a clear message
            apply(await backend_down(dispatcher, exc))
        return [SlotSet(slot, value) for slot, value in updates.items()]

    async def start(self, dispatcher: CollectingDispatcher, tracker: Tracker, patient_id: str) -> dict[str, Any]:
        """Fill the form from the patient's draft (welcome back) or start it fresh."""
        from bot.records import get_records_service

        service = get_records_service()
        who = audit_kwargs(tracker)
        patient = await call_backend(service.get_patient, patient_id, **who)
        if patient is None:
            raise LookupError("verified patient not found")
        draft = await call_backend(service.load_intake_draft, patient_id, **who)
        coverage = await call_backend(service.coverage_for, patient_id, **who)
        values: dict[str, Any] = {slot: None for slot in ASKED_SLOTS}
        resumed: dict[str, Any] = {}
        if draft is not None:
            resumed = slots_from_answers(draft.answers)
            values.update(resumed)
        if values[DOB] is None and tracker.get_slot("patient_dob"):
            values[DOB] = tracker.get_slot("patient_dob")  # just verified: nothing to ask again
        on_file = None
        if coverage is not None and coverage.active:
            on_file = {
                "carrier": coverage.carrier_code or coverage.carrier_name,
                "carrier_name": coverage.carrier_name,
                "member_id": coverage.member_id,
                "relationship": coverage.relationship,
                "subscriber_name": coverage.subscriber_name,
            }
        values.update(
            {
                LOADED: True,
                NAME_ON_FILE: patient.full_name,
                COVERAGE_ON_FILE: on_file,
                "patient_first_name": patient.first_name,
            }
        )
        if resumed:
            logger.info("intake resumed from draft for %s at %s", patient_id, next_step(values))
            dispatcher.utter_message(response="utter_intake_welcome_back", first_name=patient.first_name)
        else:
            logger.info("intake started for %s", patient_id)
            dispatcher.utter_message(response="utter_intake_start")
        return values

    async def save_draft(self, tracker: Tracker, patient_id: str) -> None:
        """Keep the answers so far, so a pause or a lost connection loses nothing."""
        from bot.records import get_records_service

        answers = answers_from_slots(tracker.slots)
        step = next_step(tracker.slots) or CONFIRMED
        await call_backend(get_records_service().save_intake_draft, patient_id, answers, step, **audit_kwargs(tracker))

    def change_request(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, requested: str
    ) -> dict[str, Any] | None:
        """Clear the answer the patient wants to change ("go back", "my email is wrong"); None if not one."""
        field = parse_change_request(latest_text(tracker))
        if field is None:
            return None
        values = tracker.slots
        steps = intake_steps(values)
        if field == PREVIOUS:
            if requested == EDIT:
                return {EDIT: None, CONFIRMED: None}
            position = steps.index(requested) if requested in steps else len(steps)
            earlier = [slot for slot in steps[:position] if values.get(slot) is not None and slot in ANSWER_SLOTS]
            if not earlier:
                dispatcher.utter_message(response="utter_intake_first_question")
                return {requested: None}
            targets = [earlier[-1]]
        else:
            targets = [slot for slot in field_slots(field) if slot in steps]
            if field == "member_id" and values.get(CARRIER) == SELF_PAY:
                targets = [CARRIER]
        answered = [slot for slot in targets if values.get(slot) is not None]
        if not answered:
            return None  # not answered yet: read the message as an answer
        logger.info("intake: patient %s changes %s", tracker.get_slot("patient_id"), ",".join(answered))
        dispatcher.utter_message(response="utter_intake_change_ok", field_text=SLOT_TEXT[answered[0]])
        cleared: dict[str, Any] = {slot: None for slot in targets}
        if CARRIER in targets:
            cleared.update({MEMBER_ID: None, SUBSCRIBER_RELATIONSHIP: None, SUBSCRIBER_NAME: None})
        return {requested: None, **cleared, CONFIRMED: None, EDIT: None}

    def reask(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, slot: str, response: str, reason: str
    ) -> dict[str, Any]:
        """Say what was wrong and ask again (the form repeats the question)."""
        logger.info("intake: %s asked again for %s (%s)", slot, tracker.get_slot("patient_id"), reason)
        dispatcher.utter_message(response=response)
        return {slot: None}

    def required_answer(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, slot: str
    ) -> dict[str, Any] | None:
        """A "skip" to a question that cannot be skipped gets a clear re-ask."""
        text = str(value or "").strip().lower()
        if re.fullmatch(r"(skip|skip (it|this|that)|pass|next)[.!]*", text):
            return self.reask(dispatcher, tracker, slot, "utter_intake_required", "skip")
        return None

    # --- each answer --------------------------------------------------------------

    async def validate_intake_legal_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A full name; "yes" takes the name on the record."""
        on_file = tracker.get_slot(NAME_ON_FILE)
        if is_plain_yes(value) and on_file:
            return {LEGAL_NAME: on_file}
        skip = self.required_answer(value, dispatcher, tracker, LEGAL_NAME)
        if skip:
            return skip
        name = parse_full_name(str(value or ""))
        if name is None:
            return self.reask(dispatcher, tracker, LEGAL_NAME, "utter_name_not_understood", "not a full name")
        return {LEGAL_NAME: name}

    async def validate_intake_preferred_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Optional: a short name, or "skip"."""
        text = str(value or "").strip()
        if SKIP_WORDS.match(text) or answer_yes_no(text, tracker) is False:
            return {PREFERRED_NAME: SKIPPED}
        if is_plain_yes(text):
            return self.reask(
                dispatcher, tracker, PREFERRED_NAME, "utter_intake_preferred_name_which", "yes without a name"
            )
        name = parse_short_name(text)
        if name is None:
            return self.reask(
                dispatcher, tracker, PREFERRED_NAME, "utter_intake_preferred_name_not_understood", "not a name"
            )
        return {PREFERRED_NAME: name}

    async def validate_intake_dob(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A date of birth that matches the verified record."""
        from bot.records import get_records_service
        from bot.timeparse import parse_date_of_birth

        dob = parse_date_of_birth(str(value or ""), get_settings().today())
        if dob is None:
            return self.reask(dispatcher, tracker, DOB, "utter_dob_not_understood", "not a date")
        verified = tracker.get_slot("patient_dob")
        if verified:
            matches = dob.isoformat() == str(verified)
        else:
            try:
                found = await call_backend(
                    get_records_service().verify_identity,
                    tracker.get_slot(NAME_ON_FILE) or "",
                    dob,
                    **audit_kwargs(tracker),
                )
            except Exception as exc:  # noqa: BLE001
                return {DOB: None, **(await backend_down(dispatcher, exc))}
            matches = found is not None and found.patient_id == tracker.get_slot("patient_id")
        if not matches:
            return self.reask(dispatcher, tracker, DOB, "utter_intake_dob_mismatch", "does not match the record")
        return {DOB: dob.isoformat()}

    async def validate_intake_mobile(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A US mobile number."""
        mobile = parse_us_phone(str(value or ""))
        if mobile is None:
            return self.reask(dispatcher, tracker, MOBILE, "utter_intake_phone_not_understood", "not a US number")
        return {MOBILE: mobile}

    async def validate_intake_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Optional: an e-mail address, or "skip"/"none"."""
        text = str(value or "").strip()
        if "@" not in text and (SKIP_WORDS.match(text) or answer_yes_no(text, tracker) is False):
            return {EMAIL: SKIPPED}
        email = parse_email(text)
        if email is None:
            return self.reask(dispatcher, tracker, EMAIL, "utter_intake_email_not_understood", "not an email")
        return {EMAIL: email}

    async def validate_intake_address(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A one-line US address."""
        skip = self.required_answer(value, dispatcher, tracker, ADDRESS)
        if skip:
            return skip
        address = parse_address(str(value or ""))
        if address is None:
            return self.reask(dispatcher, tracker, ADDRESS, "utter_intake_address_not_understood", "not an address")
        return {ADDRESS: address}

    async def validate_intake_contact_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The contact's full name; "my wife Maria Rivera, 212-555-0188" fills all three answers."""
        skip = self.required_answer(value, dispatcher, tracker, CONTACT_NAME)
        if skip:
            return skip
        text = " ".join(str(value or "").split())
        result: dict[str, Any] = {}
        phone = None
        if re.search(r"\d{3}", text):
            phone = parse_us_phone(text)
            text = re.sub(r"[+(]?\d[\d\s().-]{6,}\d", " ", text).strip(" ,.-")
        lead = CONTACT_LEAD.match(text)
        if lead:
            text = lead.group("rest")
            if tracker.get_slot(CONTACT_RELATIONSHIP) is None:
                result[CONTACT_RELATIONSHIP] = lead.group("relationship").lower()
        name = parse_full_name(text.strip(" ,."))
        if name is None:
            return self.reask(
                dispatcher, tracker, CONTACT_NAME, "utter_intake_contact_name_not_understood", "not a full name"
            )
        result[CONTACT_NAME] = name
        if phone and phone != tracker.get_slot(MOBILE) and tracker.get_slot(CONTACT_PHONE) is None:
            result[CONTACT_PHONE] = phone
        return result

    async def validate_intake_contact_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The contact's US phone number, not the patient's own."""
        phone = parse_us_phone(str(value or ""))
        if phone is None:
            return self.reask(
                dispatcher, tracker, CONTACT_PHONE, "utter_intake_phone_not_understood", "not a US number"
            )
        if phone == tracker.get_slot(MOBILE):
            return self.reask(
                dispatcher, tracker, CONTACT_PHONE, "utter_intake_contact_phone_is_yours", "patient's own number"
            )
        return {CONTACT_PHONE: phone}

    async def validate_intake_contact_relationship(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A word or two: mother, friend, neighbor."""
        relationship = parse_relationship(str(value or ""))
        if relationship is None:
            return self.reask(
                dispatcher, tracker, CONTACT_RELATIONSHIP, "utter_intake_relationship_not_understood", "unclear"
            )
        return {CONTACT_RELATIONSHIP: relationship}

    async def validate_intake_reason(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Why the patient is coming, in their words."""
        from bot.records import InvalidIntake
        from bot.records.intake import REASON_MAX, clean_text

        text = str(value or "").strip()
        skip = self.required_answer(text, dispatcher, tracker, REASON)
        if skip:
            return skip
        if (
            text.startswith("/")
            or UNSURE.match(text)
            or len(re.findall(r"[^\W\d_]", text)) < 2
            or (words(text) <= 2 and yes_or_no(text) is not None)
        ):
            return self.reask(dispatcher, tracker, REASON, "utter_intake_reason_not_understood", "no reason given")
        try:
            return {REASON: clean_text(text, "reason_for_visit", REASON_MAX)}
        except InvalidIntake:
            return self.reask(dispatcher, tracker, REASON, "utter_intake_reason_too_long", "too long")

    async def validate_intake_medications(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A list of medicines, or none."""
        items = value if isinstance(value, list) else parse_list(str(value or ""), NONE_MEDICATIONS)
        if items is None:
            return self.reask(
                dispatcher, tracker, MEDICATIONS, "utter_intake_medications_not_understood", "unclear list"
            )
        return {MEDICATIONS: items}

    async def validate_intake_allergies(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A list of allergies, or "none" / "no known allergies" / "NKDA"."""
        items = value if isinstance(value, list) else parse_list(str(value or ""), NONE_ALLERGIES)
        if items is None:
            return self.reask(dispatcher, tracker, ALLERGIES, "utter_intake_allergies_not_understood", "unclear list")
        return {ALLERGIES: items}

    async def validate_intake_insurance_carrier(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The insurer (by name, or the one on file), or self-pay."""
        from bot.records import get_records_service

        text = str(value or "").strip()
        reset = {MEMBER_ID: None, SUBSCRIBER_RELATIONSHIP: None, SUBSCRIBER_NAME: None}
        on_file = tracker.get_slot(COVERAGE_ON_FILE)
        bare_no = bool(re.fullmatch(r"(no+|nope|nah)[.!]*", text, re.I))
        if SELF_PAY_WORDS.match(text) and not (on_file and bare_no):
            return {CARRIER: SELF_PAY, **reset}
        if on_file:
            answer = answer_yes_no(text, tracker)
            if answer is True:
                return self.keep_coverage(on_file)
            if answer is False and words(text) <= 3:
                # "No, it changed": ask for the new insurer without the offer.
                return {CARRIER: None, COVERAGE_ON_FILE: None}
        if is_plain_yes(text) or UNSURE.match(text) or text.startswith("/"):
            return self.reask(dispatcher, tracker, CARRIER, "utter_intake_carrier_not_understood", "no insurer named")
        service = get_records_service()
        try:
            codes = entity_values(tracker, "insurance") if text == latest_text(tracker).strip() else []
            carrier = await call_backend(service.carrier, codes[0]) if len(set(codes)) == 1 else None
            if carrier is None:
                carrier = await call_backend(service.match_carrier, text)
        except Exception as exc:  # noqa: BLE001
            return {CARRIER: None, **(await backend_down(dispatcher, exc))}
        if carrier is not None:
            if not carrier.accepted:
                dispatcher.utter_message(
                    response="utter_intake_carrier_not_accepted", carrier_name=carrier.display_name
                )
            return {CARRIER: carrier.code, **reset}
        name = CARRIER_PREFIX.sub("", " ".join(text.split())).strip(" .!")
        if (
            not 2 <= len(name) <= 60
            or words(name) > 6
            or not re.search(r"[^\W\d_]{2}", name)
            or NOT_A_CARRIER.search(name)
        ):
            return self.reask(dispatcher, tracker, CARRIER, "utter_intake_carrier_not_understood", "no insurer named")
        logger.info("intake: insurer not on the clinic's list, kept as written")
        return {CARRIER: name, **reset}

    @staticmethod
    def keep_coverage(on_file: Mapping[str, Any]) -> dict[str, Any]:
        """Take the insurance on record: carrier, member id and plan holder."""
        from bot.records import InvalidIntake
        from bot.records.intake import normalize_member_id

        try:
            member_id = normalize_member_id(on_file.get("member_id"))
        except InvalidIntake:
            member_id = None
        relationship = (
            on_file.get("relationship") if on_file.get("relationship") in ("self", "spouse", "child", "other") else None
        )
        subscriber = on_file.get("subscriber_name") if relationship not in (None, "self") else None
        if relationship not in (None, "self") and not subscriber:
            relationship = None
        return {
            CARRIER: on_file.get("carrier"),
            MEMBER_ID: member_id,
            SUBSCRIBER_RELATIONSHIP: relationship,
            SUBSCRIBER_NAME: subscriber,
        }

    async def validate_intake_member_id(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The member id as printed on the card."""
        from bot.records import InvalidIntake
        from bot.records.intake import normalize_member_id

        text = MEMBER_PREFIX.sub("", str(value or "").strip()).strip(" .!")
        if not re.search(r"\d", text):
            return self.reask(dispatcher, tracker, MEMBER_ID, "utter_intake_member_id_not_understood", "no digits")
        try:
            return {MEMBER_ID: normalize_member_id(text)}
        except InvalidIntake:
            return self.reask(
                dispatcher, tracker, MEMBER_ID, "utter_intake_member_id_not_understood", "not a member id"
            )

    async def validate_intake_subscriber_relationship(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Whose plan it is: the patient's, a spouse's, a parent's or someone else's."""
        text = str(value or "").strip()
        relationship = text if text in ("self", "spouse", "child", "other") else parse_subscriber_relationship(text)
        if relationship is None:
            return self.reask(
                dispatcher, tracker, SUBSCRIBER_RELATIONSHIP, "utter_intake_subscriber_not_understood", "unclear"
            )
        return {SUBSCRIBER_RELATIONSHIP: relationship, SUBSCRIBER_NAME: None}

    async def validate_intake_subscriber_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The plan holder's full name."""
        name = parse_full_name(str(value or ""))
        if name is None:
            return self.reask(dispatcher, tracker, SUBSCRIBER_NAME, "utter_name_not_understood", "not a full name")
        return {SUBSCRIBER_NAME: name}

    async def validate_intake_consent_treatment(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Yes goes on; no ends the form politely (we cannot treat without consent)."""
        answer = answer_yes_no(value, tracker)
        if answer is None:
            return self.reask(dispatcher, tracker, CONSENT_TREATMENT, "utter_yes_or_no", "not yes or no")
        if answer is False:
            logger.info("intake: %s declined consent to treatment; nothing submitted", tracker.get_slot("patient_id"))
            dispatcher.utter_message(response="utter_intake_no_consent", **(await safe_clinic_values()))
            return {CONSENT_TREATMENT: None, "form_outcome": "no_consent", REQUESTED_SLOT: None}
        return {CONSENT_TREATMENT: True}

    async def validate_intake_consent_text(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Yes or no to text messages."""
        answer = answer_yes_no(value, tracker)
        if answer is None:
            return self.reask(dispatcher, tracker, CONSENT_TEXT, "utter_yes_or_no", "not yes or no")
        return {CONSENT_TEXT: answer}

    async def validate_intake_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Yes sends (after a last full check); no asks what to change."""
        from bot.records import IntakeAnswers, InvalidIntake

        answer = answer_yes_no(value, tracker)
        if answer is None:
            return self.reask(dispatcher, tracker, CONFIRMED, "utter_yes_or_no", "not yes or no")
        if answer is False:
            return {CONFIRMED: False}
        try:
            IntakeAnswers.from_dict(answers_from_slots(tracker.slots)).validated(get_settings().today())
        except InvalidIntake as exc:
            slots = field_for_error(exc.field) or [CONFIRMED]
            logger.warning("intake of %s failed the final check at %s", tracker.get_slot("patient_id"), exc.field)
            dispatcher.utter_message(
                response="utter_intake_fix_answer", field_text=SLOT_TEXT.get(slots[0], "one answer")
            )
            return {**{slot: None for slot in slots}, CONFIRMED: None}
        return {CONFIRMED: True}

    async def validate_intake_edit(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Which answer to change ("my email", "insurance"); "nothing" shows the summary again."""
        text = str(value or "").strip()
        if NOTHING_TO_CHANGE.match(text):
            return {EDIT: None, CONFIRMED: None}
        keys = {key for key, _slots, _pattern in FIELD_PATTERNS}
        field = text if text in keys else (_field_of(text) or parse_change_request(text))
        targets = [slot for slot in field_slots(field) if slot in intake_steps(tracker.slots)] if field else []
        if not targets:
            return self.reask(dispatcher, tracker, EDIT, "utter_intake_edit_not_understood", "no answer named")
        dispatcher.utter_message(response="utter_intake_change_ok", field_text=SLOT_TEXT[targets[0]])
        cleared = {slot: None for slot in targets}
        if CARRIER in targets:
            cleared.update({MEMBER_ID: None, SUBSCRIBER_RELATIONSHIP: None, SUBSCRIBER_NAME: None})
        return {**cleared, EDIT: None, CONFIRMED: None}


# --- questions that need data -----------------------------------------------------


class ActionAskIntakeInsuranceCarrier(Action):
    """Asks about insurance, offering the one on record when there is one."""

    def name(self) -> str:
        """Found by the form before ``utter_ask_intake_form_intake_insurance_carrier``."""
        return "action_ask_intake_form_intake_insurance_carrier"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """ "We have Aetna on file. Is that still your insurance?" or the open question."""
        on_file = tracker.get_slot(COVERAGE_ON_FILE)
        if isinstance(on_file, dict) and on_file.get("carrier_name"):
            dispatcher.utter_message(
                response="utter_ask_intake_insurance_on_file", carrier_name=on_file["carrier_name"]
            )
        else:
            dispatcher.utter_message(response="utter_ask_intake_form_intake_insurance_carrier")
        return []


class ActionAskIntakeConfirmed(Action):
    """Reads all answers back before anything is submitted."""

    def name(self) -> str:
        """Found by the form before ``utter_ask_intake_form_intake_confirmed``."""
        return "action_ask_intake_form_intake_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """The summary in short lines, with yes/no buttons."""
        from bot.records import get_records_service

        carrier = tracker.get_slot(CARRIER)
        carrier_name = str(carrier or "")
        if carrier and carrier != SELF_PAY:
            try:
                info = await call_backend(get_records_service().carrier, carrier)
            except Exception as exc:  # noqa: BLE001
                return await stop_form_backend_down(dispatcher, exc)
            if info is not None:
                carrier_name = info.display_name
        dispatcher.utter_message(
            response="utter_ask_intake_form_intake_confirmed", summary_text=summary_text(tracker.slots, carrier_name)
        )
        return []


# --- the end of the form ------------------------------------------------------------


def clear_intake() -> list[EventType]:
    """Forget the form's answers and identity answers (the draft keeps what is needed)."""
    return [SlotSet(slot, None) for slot in INTAKE_SLOTS + IDENTITY_SLOTS + ["form_outcome", REQUESTED_SLOT]]


class ActionSubmitIntake(Action):
    """Submits a confirmed intake; after a pause, a stop or a no it only tidies up."""

    def name(self) -> str:
        """Runs when the intake form ends."""
        return "action_submit_intake"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Store the confirmed answers as the patient's next intake version, or nothing."""
        from bot.records import IntakeAnswers, InvalidIntake, get_records_service

        done = clear_intake()
        patient_id = tracker.get_slot("patient_id")
        if locked_out(tracker, dispatcher) or tracker.get_slot("form_outcome"):
            return done
        if tracker.get_slot(CONFIRMED) is not True or not patient_id:
            return done
        try:
            answers = IntakeAnswers.from_dict(answers_from_slots(tracker.slots))
            submission = await call_backend(
                get_records_service().submit_intake,
                patient_id,
                answers,
                channel_of(tracker),
                actor=audit_kwargs(tracker)["actor"],
            )
        except InvalidIntake as exc:
            # Each answer was checked as it came, so this is a bug, not the patient's fault.
            logger.error("intake of %s refused by the records service at %s", patient_id, exc.field)
            dispatcher.utter_message(response="utter_intake_not_sent", **(await safe_clinic_values()))
            return done
        except Exception as exc:  # noqa: BLE001 - any backend failure gets the same clear answer
            logger.error("intake submission failed: %s", type(exc).__name__)
            await tell_backend_down(dispatcher)
            return done
        logger.info("intake version %d submitted for %s", submission.version, patient_id)
        first_name = tracker.get_slot("patient_first_name") or "and welcome"
        dispatcher.utter_message(response="utter_intake_done", first_name=first_name)
        return done


class ActionPauseIntake(Action):
    """Ends the intake form for now when the patient leaves (goodbye); the draft stays."""

    def name(self) -> str:
        """Used by the rule for "goodbye" during the intake form."""
        return "action_pause_intake"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Say the answers are saved (when there are any) and clear the form's slots."""
        if tracker.get_slot("patient_id") and tracker.get_slot(LOADED):
            logger.info("intake paused by %s on goodbye", tracker.get_slot("patient_id"))
            dispatcher.utter_message(response="utter_intake_paused")
        else:
            dispatcher.utter_message(response="utter_form_stopped")
        return clear_intake()
