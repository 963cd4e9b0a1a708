"""What an answer to a form's question looks like: a name, a date, a phone number, a time, a pick.

While a form asks for a name, "Tyler Brooks" is the answer, even though the
intent classifier, which never sees the question, may call it ``thank``.
These checks are shared by the dialogue policy that lets the form take such
answers (``bot.policies.form_answer``) and by the form validators that fill
the slot (``actions.form_answers``), so both decide the same way.
"""

from __future__ import annotations

import datetime as dt
import re

# Slots asked as free answers, by the shape their answer takes. Content: a
# slot missing here keeps the classifier's verdict (rules may interrupt).
ANSWER_SLOTS: dict[str, str] = {
    "patient_full_name": "name",
    "callback_name": "name",
    "intake_legal_name": "name",
    "intake_contact_name": "name",
    "intake_subscriber_name": "name",
    "patient_dob": "date",
    "intake_dob": "date",
    "patient_mobile": "phone",
    "callback_phone": "phone",
    "intake_mobile": "phone",
    "intake_contact_phone": "phone",
    "intake_medications": "free",
    "intake_allergies": "free",
    "refill_medication": "free",
    "refill_pharmacy": "free",
    "slot_choice": "choice",
    "appointment_choice": "choice",
    "time_preference": "when",
}

STOP_PATTERN = re.compile(
    r"^\W*(?:(?:actually|oh|ok|okay|nah|no|um+|hmm+|sorry)\W+)*"
    r"(stop|quit|exit|never\s*mind|nevermind|nvm|forget\s+(it|about\s+it|that)|cancel\s+(that|this|it)|"
    r"don'?t\s+bother|start\s+over|i\s+changed\s+my\s+mind|no\s+thanks?|no\s+thank\s+you)"
    r"(?:\W+(?:that|this|it|then|thanks?|thank\s+you|for\s+now|please|not\s+now|later|maybe\s+later|"
    r"i'?ll\s+(?:call|do\s+it|come\s+back|book|try|keep)(?:\s+(?:you|it|instead|later|myself|another\s+time|"
    r"my\s+appointment|the\s+one\s+i\s+have))*|"
    r"i\s+don'?t\s+want\s+(?:to\s+book|it|an?\s+appointment|to\s+do\s+this)(?:\s+anymore)?|"
    r"none\s+of\s+(?:those|these|them)\s+work|i\s+changed\s+my\s+mind))*"
    r"\W*$",
    re.IGNORECASE,
)
NAME_PATTERN = re.compile(r"^[^\W\d_][^\W\d_'’ .-]*(?:[ '’.-]+[^\W\d_]+)+\.?$", re.UNICODE)
NAME_PREFIX = re.compile(r"^\s*(my name is|my name's|name is|i am|i'm|im|it's|its|this is|name:)\s+", re.I)
# Words that make a two-word reply a phrase, not a name ("thank you", "ok bye").
NOT_NAME_WORDS = frozenset(
    """
    a about am an and any anyone appointment are bye can cancel could day do does doc doctor dont
    for from goodbye good great have hello help hey hi hours how human i in is it just later
    me mind my need never no not nope now of ok okay on open or person please real robot see
    so sorry speak stop sure talk thank thanks thx that the this to today tomorrow u visit
    want was we what when where who why will with yeah yep yes you your
    """.split()
)
PHONE_CHARACTERS = re.compile(r"^[\d\s()+.\-]+$")
# A pick among offered options: "the first one", "2", "the 9:00", "10 am works".
CHOICE = re.compile(
    r"\b(first|second|third|last|1st|2nd|3rd|[1-3]|one|two|three|\d{1,2}(:\d\d)?\s*(am|pm|a\.m\.|p\.m\.)|\d{1,2}:\d\d)\b",
    re.IGNORECASE,
)


def clean_full_name(text: object) -> str | None:
    """Turn an answer like "my name is jordan rivera" into "jordan rivera", or None."""
    if not isinstance(text, str):
        return None
    name = NAME_PREFIX.sub("", text.strip())
    name = re.sub(r"\s+", " ", name).strip(" .,!")
    if "," in name:  # "Rivera, Jordan"
        last, _, first = name.partition(",")
        name = f"{first.strip()} {last.strip()}"
    if not 3 <= len(name) <= 120 or not NAME_PATTERN.match(name):
        return None
    return name


def is_stop_request(text: str) -> bool:
    """Whether the reply asks to stop the form ("stop", "never mind", ...)."""
    return bool(STOP_PATTERN.match(text or ""))


def looks_like_name(text: str) -> bool:
    """A person's name, not a phrase made of everyday words ("thank you", "ok bye")."""
    name = clean_full_name(text)
    if name is None:
        return False
    words = re.split(r"[ '’.-]+", name.lower())
    return not any(word in NOT_NAME_WORDS for word in words if word)


def looks_like_phone(text: str) -> bool:
    """Only digits and phone punctuation, with 7 to 15 digits."""
    stripped = (text or "").strip()
    digits = sum(ch.isdigit() for ch in stripped)
    return bool(PHONE_CHARACTERS.match(stripped)) and 7 <= digits <= 15


QUESTION_WORDS = frozenset(
    "what when where how why who which do does did can could is are will would should may".split()
)


def looks_like_question(text: str) -> bool:
    """A question of the patient's own ("what time do you close?"), not an answer."""
    words = (text or "").strip().lower().split()
    return bool(words) and (text.strip().endswith("?") or words[0].strip(",.!") in QUESTION_WORDS)


def looks_like_choice(text: str) -> bool:
    """A pick among the options offered: an ordinal, a number or a clock time."""
    return bool(CHOICE.search(text or "")) and len((text or "").split()) <= 8


def looks_like_when(text: str, today: dt.date) -> bool:
    """A wish for a day or time the date parser understands ("soonest you have", "friday after 3")."""
    from bot.timeparse import parse_when

    noon = dt.datetime.combine(today, dt.time(12, 0))
    return parse_when(text or "", noon).understood


def looks_like_date(text: str, today: dt.date) -> bool:
    """A date the date-of-birth reader understands."""
    from bot.timeparse import parse_date_of_birth

    return parse_date_of_birth(text or "", today) is not None


def fits(slot: str | None, text: str, today: dt.date) -> bool:
    """Whether ``text`` has the shape of an answer to ``slot`` (free slots fit anything but a stop)."""
    kind = ANSWER_SLOTS.get(slot or "")
    if kind is None or not (text or "").strip() or text.startswith("/"):
        return False
    if kind == "name":
        return looks_like_name(text)
    if kind == "date":
        return looks_like_date(text, today)
    if kind == "phone":
        return looks_like_phone(text)
    if kind == "choice":
        return looks_like_choice(text)
    if kind == "when":
        return looks_like_when(text, today)
    return not is_stop_request(text)
