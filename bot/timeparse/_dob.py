"""Date-of-birth answers ("3/14/1990", "March 14 1990", "03141990", "mar 14 90")."""

from __future__ import annotations

from datetime import date

from . import _calendar as cal
from ._lexicon import MONTHS, ORDINAL_SUFFIXES
from ._tokens import NUM, Token, tokenize

MAX_AGE_YEARS = 110


def _full_year(year: int, width: int, month: int, day: int, today: date) -> int | None:
    """Expand a two-digit year to the most recent century that gives an age of 0-110."""
    if width != 2:
        return year
    for century in (2000, 1900, 1800):
        candidate = cal.safe_date(century + year, month, day)
        if candidate is not None and candidate <= today and _age_ok(candidate, today):
            return century + year
    return None


def _age_ok(born: date, today: date) -> bool:
    """True when someone born then would be 0-110 years old today."""
    return born <= today and today.year - born.year <= MAX_AGE_YEARS


def _checked(year: int | None, month: int, day: int, width: int, today: date) -> date | None:
    """A birth date if it exists, is not in the future, and is within 110 years."""
    if year is None or not 1 <= month <= 12:
        return None
    full = _full_year(year, width, month, day, today)
    if full is None:
        return None
    born = cal.safe_date(full, month, day)
    if born is None or not _age_ok(born, today):
        return None
    return born


def _from_numeric(token: Token, today: date) -> date | None:
    """ "3/14/1990", "14.03.1990", "1990-03-14" (US month-first unless impossible)."""
    parts, widths = token.parts, token.widths
    if len(parts) != 3 or len(set(token.seps)) != 1 or ":" in token.seps:
        return None
    if widths[0] == 4:
        return _checked(parts[0], parts[1], parts[2], 4, today)
    if max(widths[:2]) > 2 or widths[2] not in (2, 4):
        return None
    month, day = parts[0], parts[1]
    if month > 12 >= day:
        month, day = day, month
    return _checked(parts[2], month, day, widths[2], today)


def _from_digits(token: Token, today: date) -> date | None:
    """ "03141990" (MMDDYYYY), "19900314" (YYYYMMDD), "031490" (MMDDYY)."""
    text = token.raw
    if len(text) == 8:
        found = _checked(int(text[4:]), int(text[:2]), int(text[2:4]), 4, today)
        if found is None:
            found = _checked(int(text[:4]), int(text[4:6]), int(text[6:]), 4, today)
        return found
    if len(text) == 6:
        return _checked(int(text[4:]), int(text[:2]), int(text[2:4]), 2, today)
    return None


def _number(tokens: list[Token], i: int) -> tuple[int, int, int] | None:
    """(value, width, next index) of a number at ``i``, skipping an ordinal suffix."""
    if i >= len(tokens) or not tokens[i].is_plain_number:
        return None
    token = tokens[i]
    j = i + 1
    if j < len(tokens) and tokens[j].is_word and tokens[j].raw in ORDINAL_SUFFIXES:
        j += 1
    return token.value, token.widths[0], j


def _skip(tokens: list[Token], i: int, words: tuple[str, ...]) -> int:
    """Skip commas, dots and the given filler words."""
    while i < len(tokens) and (tokens[i].text in words or tokens[i].text in (",", ".", "-")):
        i += 1
    return i


def _from_words(tokens: list[Token], i: int, today: date) -> date | None:
    """ "March 14 1990", "14 March 1990", "14th of March, 1990", "14 de marzo de 1990"."""
    token = tokens[i]
    if token.is_word and token.text in MONTHS:
        day = _number(tokens, _skip(tokens, i + 1, ("the",)))
        if day is None or day[1] > 2:
            return None
        year = _number(tokens, _skip(tokens, day[2], ("of",)))
        if year is None or year[1] not in (2, 4):
            return None
        return _checked(year[0], MONTHS[token.text], day[0], year[1], today)
    day = _number(tokens, i)
    if day is None or day[1] > 2:
        return None
    j = _skip(tokens, day[2], ("of",))
    if j >= len(tokens) or tokens[j].text not in MONTHS:
        return None
    year = _number(tokens, _skip(tokens, j + 1, ("of",)))
    if year is None or year[1] not in (2, 4):
        return None
    return _checked(year[0], MONTHS[tokens[j].text], day[0], year[1], today)


def parse_date_of_birth(text: str, today: date) -> date | None:
    """Read a birth date from a patient's reply; None when absent, impossible or in the future."""
    tokens = tokenize(text or "")
    for i, token in enumerate(tokens):
        found: date | None = None
        if token.kind == NUM and token.seps:
            found = _from_numeric(token, today)
        elif token.is_plain_number and token.widths[0] in (6, 8):
            found = _from_digits(token, today)
        if found is None and (token.is_word or token.is_plain_number):
            found = _from_words(tokens, i, today)
        if found is not None:
            return found
    return None
