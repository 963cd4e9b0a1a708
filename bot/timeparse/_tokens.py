"""Normalise free text once and cut it into tokens the grammar can look at by index.

Everything here is linear in the input length: one pass of simple rewrites, one
tokenising regex without nested quantifiers, and a cached per-word canonicaliser.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from ._lexicon import CANON, FUZZY_VOCAB, REWRITES

WORD = "word"
NUM = "num"
PUNCT = "punct"

# Digits joined by date/time separators stay one token ("12/9/2026", "3:30", "1-3");
# the grammar decides what the separators mean.
_TOKEN_RE = re.compile(r"\d+(?:[:/.\-]\d+)*|[a-z_]+|[,;!?()/\-~.$%#*=<>+|]")
_APOSTROPHES_RE = re.compile(r"['\u2018\u2019\u02bc`\u00b4]")


@dataclass(frozen=True)
class Token:
    """One unit of the message: a canonical word, a number group, or a punctuation mark."""

    kind: str
    text: str
    raw: str
    parts: tuple[int, ...] = ()
    widths: tuple[int, ...] = ()
    seps: str = ""

    @property
    def is_word(self) -> bool:
        """True for word tokens, the only ones with a canonical spelling."""
        return self.kind == WORD

    @property
    def is_plain_number(self) -> bool:
        """True for a run of digits with no separators ("3", "1500")."""
        return self.kind == NUM and not self.seps

    @property
    def value(self) -> int:
        """Integer value of a plain number token."""
        return self.parts[0]


def normalize(text: str) -> str:
    """Lower-case, strip accents and apply phrase rewrites so the grammar sees one spelling."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    lowered = _APOSTROPHES_RE.sub("", stripped.lower())
    for pattern, replacement in REWRITES:
        lowered = pattern.sub(replacement, lowered)
    return lowered


def _edit_distance_at_most(a: str, b: str, limit: int) -> bool:
    """Optimal-string-alignment distance check, abandoned early once past ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return False
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return False
        previous2, previous = previous, current
    return previous[-1] <= limit


@functools.lru_cache(maxsize=4096)
def canonical(word: str) -> str:
    """Map a word to its canonical spelling, forgiving one typo in long date words."""
    known = CANON.get(word)
    if known is not None:
        return known
    if len(word) < 5 or not word.isalpha():
        return word
    limit = 2 if len(word) >= 9 else 1
    matches = {
        target
        for target in FUZZY_VOCAB
        if target[0] == word[0] and (limit == 1 or target[1] == word[1]) and _edit_distance_at_most(word, target, limit)
    }
    if len(matches) == 1:
        return CANON.get(next(iter(matches)), next(iter(matches)))
    return word


_MAX_DIGITS = 12
_JUNK = Token(kind=PUNCT, text="#", raw="#")


def _number_token(raw: str) -> Token:
    """Split a digit group into its numbers and the separators between them."""
    numbers = re.split(r"[:/.\-]", raw)
    if any(len(n) > _MAX_DIGITS for n in numbers) or len(numbers) > 6:
        return _JUNK  # serial numbers, pasted IDs: never a date or a time
    seps = "".join(ch for ch in raw if ch in ":/.-")
    return Token(
        kind=NUM,
        text=raw,
        raw=raw,
        parts=tuple(int(n) for n in numbers),
        widths=tuple(len(n) for n in numbers),
        seps=seps,
    )


def _number_tokens(raw: str) -> list[Token]:
    """One token per number group; "3:30-4:30" becomes two clocks around a dash."""
    if "-" not in raw or ":" not in raw:
        return [_number_token(raw)]
    tokens: list[Token] = []
    for index, piece in enumerate(raw.split("-")):
        if index:
            tokens.append(Token(kind=PUNCT, text="-", raw="-"))
        if piece:
            tokens.append(_number_token(piece))
    return tokens


def tokenize(text: str) -> list[Token]:
    """Normalise ``text`` and return its tokens in order."""
    normalized = normalize(text)
    tokens: list[Token] = []
    for match in _TOKEN_RE.finditer(normalized):
        piece = match.group()
        if piece[0].isdigit():
            tokens.extend(_number_tokens(piece))
        elif piece[0].isalpha() or piece[0] == "_":
            tokens.append(Token(kind=WORD, text=canonical(piece), raw=piece))
        else:
            tokens.append(Token(kind=PUNCT, text=piece, raw=piece))
    return tokens


__all__ = ["Token", "tokenize", "normalize", "canonical", "WORD", "NUM", "PUNCT"]
