"""Token access shared by the date and time grammar rules."""

from __future__ import annotations

from datetime import date

from ._items import DateSpan, Item
from ._lexicon import NUMBER_WORDS
from ._tokens import PUNCT, Token

_UNIT_WORDS = frozenset(
    {
        "day",
        "days",
        "week",
        "weeks",
        "month",
        "months",
        "year",
        "years",
        "min",
        "mins",
        "minute",
        "minutes",
        "kids",
        "children",
        "people",
        "times",
        "pills",
        "dollars",
        "fortnight",
        "fortnights",
        "x",
    }
)
_MERIDIEM_RAW = {"am": "am", "pm": "pm", "p": "pm", "a": "am"}


class ScannerBase:
    """One message's tokens, the clinic's today, and the findings collected so far."""

    def __init__(self, tokens: list[Token], today: date) -> None:
        """Keep the tokens and the clinic's today; nothing is scanned yet."""
        self.toks = tokens
        self.n = len(tokens)
        self.today = today
        self.items: list[Item] = []
        self._neg_until = -1
        # Looked up constantly by every matcher, so precomputed once per message.
        self._words = [t.text if t.is_word else "" for t in tokens]
        self._raws = [t.raw for t in tokens]

    def w(self, i: int) -> str:
        """Canonical word at ``i`` ("" for numbers, punctuation or past the end)."""
        return self._words[i] if 0 <= i < self.n else ""

    def raw(self, i: int) -> str:
        """Surface text at ``i`` after normalisation ("" past the end)."""
        return self._raws[i] if 0 <= i < self.n else ""

    def tok(self, i: int) -> Token | None:
        """Token at ``i`` or None past either end."""
        return self.toks[i] if 0 <= i < self.n else None

    def is_punct(self, i: int, chars: str | frozenset[str] = ",.") -> bool:
        """True when ``i`` is one of the given punctuation marks."""
        token = self.tok(i)
        return token is not None and token.kind == PUNCT and token.text in chars

    def skip(self, i: int, *words: str) -> int:
        """Advance past any run of the given canonical words."""
        while i < self.n and self.w(i) in words:
            i += 1
        return i

    def plain_number(self, i: int) -> int | None:
        """Value of a digits-only token at ``i``."""
        token = self.tok(i)
        if token is not None and token.is_plain_number:
            return token.value
        return None

    def number(self, i: int) -> int | None:
        """Value of a digits-only token or an English/Spanish number word at ``i``."""
        value = self.plain_number(i)
        if value is not None:
            return value
        return NUMBER_WORDS.get(self.raw(i)) if self.tok(i) and self.toks[i].is_word else None

    def meridiem(self, i: int) -> str | None:
        """ "am"/"pm" written right after a clock ("3pm", "3 p", "10a")."""
        word = self.raw(i)
        if word in ("am", "pm", "p"):
            return _MERIDIEM_RAW[word]
        if word == "a" and (i + 1 >= self.n or not self.toks[i + 1].is_word or self.w(i + 1) in ("or", "to", "and")):
            return "am"
        return None

    def add(self, item: Item) -> None:
        """Record a finding."""
        self.items.append(item)

    def _day(self, start: int, end: int, day: date, **extra: object) -> None:
        """Record a single-day span."""
        self.add(DateSpan(start, end, day, day, **extra))  # type: ignore[arg-type]

    def _unit_follows(self, j: int) -> bool:
        """True when a number is followed by a unit ("2 weeks"), so it is not a clock."""
        return self.w(j) in _UNIT_WORDS or self.raw(j) in _UNIT_WORDS

    def _dash_is_time(self, i: int) -> bool:
        """Decide whether a "9-11" token is a time range rather than a month-day date."""
        token = self.toks[i]
        if len(token.parts) != 2 or max(token.widths) > 2 or token.parts[0] > 23:
            return False
        if self.meridiem(i + 1) or self.w(i + 1) in ("hrs", "oclock", "in", "ish"):
            return True
        before = self.w(i - 1)
        if before in (
            "between",
            "from",
            "at",
            "around",
            "after",
            "before",
            "until",
            "by",
            "anytime",
            "morning",
            "afternoon",
            "evening",
            "mornings",
            "afternoons",
            "evenings",
            "tonight",
            "night",
            "lunch",
            "time",
            "times",
            "hours",
        ):
            return True
        first, second = token.parts
        no_leading_zero = all(len(str(p)) == w for p, w in zip(token.parts, token.widths, strict=False))
        # "1-3", "11-1", "10-12": two clock hours; "12-09" and "12-15" stay dates.
        return no_leading_zero and 1 <= first <= 12 and 1 <= second <= 12 and first != second
