"""How names and US mobile numbers are cleaned and compared.

Identity checks compare a folded key of the first and last name (case,
accents, punctuation and extra spaces ignored; "Rivera, Jordan" reads as
"Jordan Rivera"; middle names ignored), always together with the date of
birth. Mobile numbers are stored in E.164 (``+15555550123``); only US/NANP
numbers are accepted for now.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.records.errors import InvalidPatientData

NAME_MAX = 200
# Letters separated by single runs of separators; the groups cannot overlap, so no backtracking blow-up.
_NAME_ALLOWED = re.compile(r"^[^\W\d_]+(?:[ \-'’.,]+[^\W\d_]+)*\.?$")
_SURNAME_PARTICLES = {"da", "de", "del", "della", "der", "di", "du", "la", "le", "st", "van", "von"}
_SUFFIXES = {"jr", "sr", "ii", "iii", "iv"}
_PHONE_ALLOWED = re.compile(r"^\+?[\d\s().\-]+$")


def fold(text: str) -> str:
    """Lower-case, accent-free, punctuation-free words separated by single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    stripped = stripped.replace("'", "").replace("’", "")
    words = re.sub(r"[^\w]+|_", " ", stripped.casefold())
    return " ".join(words.split())


@dataclass(frozen=True)
class PersonName:
    """A full name split for storage and comparison."""

    full_name: str
    first_name: str
    last_name: str
    key: str


def _natural_order(raw: str) -> str:
    """Collapse whitespace and turn "Last, First Middle" into "First Middle Last"."""
    text = " ".join(raw.split())
    if text.count(",") == 1:
        last, first = (part.strip() for part in text.split(","))
        if last and first and fold(first) not in _SUFFIXES:
            text = f"{first} {last}"
    return text.replace(",", " ").strip()


def _smart_case(text: str) -> str:
    """Title-case name parts typed all in lower or upper case; keep deliberate casing (McGregor, de la)."""
    words = []
    for index, word in enumerate(text.split(" ")):
        parts = []
        for part in word.split("-"):
            if index > 0 and part.islower() and fold(part) in _SURNAME_PARTICLES:
                parts.append(part)
            elif part.islower() or part.isupper():
                parts.append(part.title())
            else:
                parts.append(part)
        words.append("-".join(parts))
    return " ".join(words)


def parse_name(raw: str) -> PersonName:
    """Validate and split a full name; raises InvalidPatientData(field="full_name")."""
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidPatientData("full_name", "a name is required")
    if len(raw) > NAME_MAX:
        raise InvalidPatientData("full_name", "too long")
    text = _natural_order(unicodedata.normalize("NFC", raw))
    if not _NAME_ALLOWED.match(text):
        raise InvalidPatientData("full_name", "only letters, spaces, hyphens and apostrophes")
    text = " ".join(_smart_case(text).split())
    words = text.split(" ")
    while len(words) > 1 and fold(words[-1]) in _SUFFIXES:
        words = words[:-1]
    folded = fold(" ".join(words)).split(" ")
    if not folded or not folded[0]:
        raise InvalidPatientData("full_name", "a name is required")
    first_name = words[0]
    last_start = len(words) - 1
    while last_start > 1 and fold(words[last_start - 1]) in _SURNAME_PARTICLES:
        last_start -= 1
    last_name = " ".join(words[last_start:]) if len(words) > 1 else words[0]
    key = f"{folded[0]} {folded[-1]}"
    return PersonName(full_name=text, first_name=first_name, last_name=last_name, key=key)


def name_key(raw: str) -> str | None:
    """The comparison key of a name as someone typed it, or None if it is not a name."""
    try:
        return parse_name(raw).key
    except InvalidPatientData:
        return None


def normalize_us_mobile(raw: str) -> str:
    """A US (NANP) phone number in E.164, e.g. ``+15555550123``; raises InvalidPatientData."""
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidPatientData("mobile", "a mobile number is required")
    text = raw.strip()
    if not _PHONE_ALLOWED.match(text) or "+" in text[1:]:
        raise InvalidPatientData("mobile", "only digits, spaces and ( ) - . are allowed")
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        if len(digits) != 11 or not digits.startswith("1"):
            raise InvalidPatientData("mobile", "only US numbers (+1) are supported")
        digits = digits[1:]
    elif len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) != 10:
        raise InvalidPatientData("mobile", "a US number has 10 digits")
    area, exchange = digits[:3], digits[3:6]
    if area[0] in "01" or exchange[0] in "01":
        raise InvalidPatientData("mobile", "not a valid US number")
    if area[1:] == "11" or exchange[1:] == "11":
        raise InvalidPatientData("mobile", "not a valid US number (service code)")
    return "+1" + digits
