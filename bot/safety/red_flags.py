"""Rule-based red-flag check: does a message describe a medical emergency or a crisis?

Emergency safety cannot rest on a classifier trained on a few hundred examples:
a missed "my chest hurts and my arm is numb" inside a booking form is the one
error the assistant must not make. So every message also goes through this
check, built from phrases that clinical and content staff edit in
`red_flags.yml` (no retraining), compiled into spaCy `Matcher` and
`PhraseMatcher` patterns on a blank English vocabulary (no pre-trained
pipeline is available offline).

Two categories: `medical` (chest pain, can't breathe, stroke signs, severe
bleeding, unresponsive, seizure, overdose or poisoning, anaphylaxis, severe
burn, head injury with confusion, a baby not breathing, bleeding in pregnancy,
coughing or vomiting blood) and `crisis` (thoughts of suicide or self-harm,
direct or indirect, and overdose intent). When both are present, crisis wins.

How a message is read:

- Text is folded (lower case, accents stripped, curly quotes straightened),
  split into words and punctuation with the original offsets kept, and
  apostrophes dropped ("can't" = "cant"); `spellings` merge variants
  ("cannot", "can not" -> "cant"; "i am" -> "im"); a word of 5+ letters that
  the rules do not know and that is one slip away from exactly one word of
  `typos.words` is read as that word ("sucidal" -> "suicidal"), unless listed
  in `typos.not_typos` ("painted" is not "fainted"). Short words get their
  misspellings listed by hand ("hurst", "breth").
- A flag's patterns are tried only around words that can start them, so an
  ordinary message costs a few dictionary look-ups and a 10 kB paste stays fast.
- A match is dropped when it touches an `ignore` phrase ("chest x ray",
  "dying to", "blue cross"); it is *negated* when a cue ("no", "not",
  "denies", "without", "sin") comes at most `negation.window` words before it
  with only plain words in between (no punctuation, no breaker such as "but",
  "i", "my"): "no chest pain" and "no fever or chest pain" are negated, "no, my
  chest hurts" and "no I can't breathe" are not. A medical match is *not
  current* when it is history ("had a seizure last year", "history of heart
  attacks") and nothing in the message says it is happening now.
- When in doubt the rules flag: a false alarm costs a reassuring message, a
  miss can cost a life.

`detect_red_flags(text) -> RedFlagResult` is the entry point: `category`
("medical", "crisis" or None), `matched_phrase_ids` (the flag ids found, in
text order), `negated` and `not_current` (flag ids seen but ruled out, for
transparency), and `span` (offsets of the first words that decided the
category). `RedFlagMatcher.scan` lists every match with its status. Nothing
heavy happens at import: spaCy loads and the rules compile on the first call.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import (
    TYPE_CHECKING,
    Any,
    Literal,
    NamedTuple,
)

from pydantic import ValidationError

from bot.nlu.fuzzy import one_edit_apart
from bot.schemas.base import describe
from bot.schemas.rules import Flag, RuleFile, Typos

if TYPE_CHECKING:
    from spacy.tokens import Doc, Span
    from spacy.vocab import Vocab

DEFAULT_RULES_FILE = Path(__file__).with_name("red_flags.yml")

Category = Literal["medical", "crisis"]
Status = Literal["found", "negated", "not_current"]
CATEGORIES: tuple[Category, ...] = ("crisis", "medical")  # priority order
DEFAULT_MAX_CHARS = 100_000

_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
_WORD, _PAUSE, _STOP = 0, 1, 2
_PAUSE_WORD, _STOP_WORD, _UNKNOWN_WORD = ",", ".", "_"
_MAX_EXPANSIONS = 5000
_MAX_GAP = 8
_CONTEXT_MARGIN = 24  # tokens around a match searched for cues, history and ignore phrases
_NUMBER_WORDS = (
    "a an one two three four five six seven eight nine ten eleven twelve few couple "
    "several un una uno dos tres cuatro cinco seis siete ocho nueve diez"
).split()
_DIGITS = re.compile(r"^\d{1,4}$")
_CHAR_MAP = {
    "\u2018": "'",
    "\u2019": "'",
    "\u02bc": "'",
    "\u2032": "'",
    "`": "'",
    "\u00b4": "'",
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u201c": '"',
    "\u201d": '"',
}
_TOKEN_RE = re.compile(
    r"(?P<word>[^\W_]+(?:'[^\W_]+)*)"
    r"|(?P<gap>\.{2,}|\u2026)"  # an ellipsis joins words: "i...can't...breathe"
    r"|(?P<stop>[.!?;\u00bf\u00a1]+)"
    r"|(?P<pause>[,:()\[\]{}\"/\\|\n]|(?<![^\W_])-+|-+(?![^\W_]))"
)


class RedFlagRulesError(ValueError):
    """The rules file is unreadable or malformed; raised when it loads, never per message."""


@dataclass(frozen=True)
class RedFlagMention:
    """One place in a text where a red-flag pattern matched, and what became of it."""

    flag_id: str
    category: str  # one of the rules file's categories
    start: int
    end: int
    status: Status


@dataclass(frozen=True)
class RedFlagResult:
    """What the check concluded about one message; `category` is None when nothing was flagged."""

    category: Category | None
    matched_phrase_ids: tuple[str, ...]
    negated: tuple[str, ...] = ()
    not_current: tuple[str, ...] = ()
    span: tuple[int, int] | None = None

    @property
    def is_red_flag(self) -> bool:
        """True when the message must be handled as an emergency or a crisis."""
        return self.category is not None


# --------------------------------------------------------------------------- text


@lru_cache(maxsize=8192)
def _fold_char(char: str) -> str:
    """Folds one character to its lower-case base letter, or keeps it when that is not one."""
    if char in _CHAR_MAP:
        return _CHAR_MAP[char]
    if char == "\n":
        return char
    if char.isspace():
        return " "
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    if len(base) != 1:
        base = char
    lower = base.lower()
    return lower if len(lower) == 1 else base


def fold_text(text: str) -> str:
    """Lower-cases and strips accents keeping the length, so offsets map back to the original."""
    if text.isascii():
        return text.lower().replace("`", "'")
    return "".join(map(_fold_char, text))


def _deletions(word: str) -> set[str]:
    """The word and every way to drop one letter: two words one slip apart share one of these."""
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


class _Token(NamedTuple):
    """A word or punctuation mark with its normalised form and offsets into the original text."""

    norm: str
    start: int
    end: int
    kind: int


class _Normalizer:
    """Turns text into normalised tokens; the same steps read the rules, so both sides agree."""

    def __init__(
        self,
        single: dict[str, str],
        multi: dict[tuple[str, ...], str],
    ) -> None:
        """Keeps the spelling tables; typo tolerance is set later, once the vocabulary is known."""
        self.single = single
        self.multi = multi
        self.multi_lengths = sorted({len(k) for k in multi}, reverse=True)
        self.known: frozenset[str] = frozenset()
        self.typo_index: dict[str, tuple[str, ...]] = {}
        self.not_typos: frozenset[str] = frozenset()
        self.min_typo_length = 5
        self._typo_cache: dict[str, str] = {}
        self._typo_lock = threading.Lock()

    def word(self, raw: str) -> str:
        """Normalises one word: a listed spelling, else the word without apostrophes."""
        if raw in self.single:
            return self.single[raw]
        bare = raw.replace("'", "")
        return self.single.get(bare, bare)

    def tokens(self, text: str, fix_typos: bool = True) -> list[_Token]:
        """Splits folded text into normalised tokens, merging multi-word spellings."""
        folded = fold_text(text)
        out: list[_Token] = []
        for match in _TOKEN_RE.finditer(folded):
            kind = match.lastgroup
            if kind == "word":
                norm = self.word(match.group())
                if fix_typos and norm not in self.known:
                    norm = self.typo(norm)
                out.append(_Token(norm, match.start(), match.end(), _WORD))
            elif kind == "gap":
                continue
            elif kind == "stop":
                out.append(_Token(_STOP_WORD, match.start(), match.end(), _STOP))
            else:
                out.append(_Token(_PAUSE_WORD, match.start(), match.end(), _PAUSE))
        return self._merge(out) if self.multi else out

    def _merge(self, tokens: list[_Token]) -> list[_Token]:
        """Replaces multi-word spellings ("can not", "i am") by their one-word form."""
        merged: list[_Token] = []
        i, size = 0, len(tokens)
        while i < size:
            for length in self.multi_lengths:
                if i + length > size:
                    continue
                window = tokens[i : i + length]
                if any(t.kind != _WORD for t in window):
                    continue
                key = tuple(t.norm for t in window)
                if key in self.multi:
                    merged.append(_Token(self.multi[key], window[0].start, window[-1].end, _WORD))
                    i += length
                    break
            else:
                merged.append(tokens[i])
                i += 1
        return merged

    def merge_words(self, words: Sequence[str]) -> list[str]:
        """The multi-word spellings applied to a sequence of rule words."""
        tokens = [_Token(w, 0, 0, _WORD) for w in words]
        return [t.norm for t in self._merge(tokens)] if self.multi else list(words)

    def typo(self, word: str) -> str:
        """Reads an unknown word as the one long rule word it is one slip from, if exactly one."""
        if len(word) < self.min_typo_length or not word.isalpha() or word in self.not_typos or not self.typo_index:
            return word
        cached = self._typo_cache.get(word)
        if cached is not None:
            return cached
        owners = {
            target
            for key in _deletions(word)
            for target in self.typo_index.get(key, ())
            if one_edit_apart(word, target)
        }
        fixed = owners.pop() if len(owners) == 1 else word
        with self._typo_lock:
            if len(self._typo_cache) > 50_000:
                self._typo_cache.clear()  # bounds memory on a long-running server
            self._typo_cache[word] = fixed
        return fixed


# ----------------------------------------------------------------------- patterns


@dataclass(frozen=True)
class _Spec:
    """One token position of an expanded pattern: a set of words, prefixes, a number, or a gap."""

    lits: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    number: bool = False
    optional: bool = False
    gap: int = 0
    loose: bool = False  # a `~N` gap: commas allowed, not sentence ends

    @property
    def single_literal(self) -> str | None:
        """The word when the position accepts exactly one word and nothing else."""
        if len(self.lits) == 1 and not self.prefixes and not self.number and not self.gap:
            return next(iter(self.lits))
        return None


Atom = tuple[str, str]  # ("lit", word) | ("pre", stem) | ("num", "")


@dataclass(frozen=True)
class _Item:
    """One item of a pattern as written: alternatives of atom sequences, or a gap."""

    alternatives: tuple[tuple[Atom, ...], ...] = ()
    optional: bool = False
    gap: int = 0
    loose: bool = False


_ITEM_RE = re.compile(r"\([^()]*\)\??|[^\s()]+")


class _PatternCompiler:
    """Parses the small pattern language of red_flags.yml into spaCy token patterns."""

    def __init__(self, normalizer: _Normalizer, groups: dict[str, list[str]], source: str) -> None:
        """Keeps what parsing needs: the normaliser, the word lists and the file name for errors."""
        self.normalizer = normalizer
        self.groups = groups
        self.source = source

    def error(self, where: str, message: str) -> RedFlagRulesError:
        """An error that names the file and the place, so staff can find their typo."""
        return RedFlagRulesError(f"{self.source}: {where}: {message}")

    def atoms(self, phrase: str, where: str) -> tuple[Atom, ...]:
        """Turns one alternative ("can't", "suicid*", "#", "worst headache") into atoms."""
        atoms: list[Atom] = []
        for word in phrase.split():
            if word == "#":
                atoms.append(("num", ""))
            elif word.endswith("*"):
                stem = [t.norm for t in self.normalizer.tokens(word[:-1], fix_typos=False)]
                if len(stem) != 1 or len(stem[0]) < (2 if stem[0].isdigit() else 3):
                    raise self.error(where, f"'{word}': a prefix needs 3+ letters before '*'.")
                atoms.append(("pre", stem[0]))
            else:
                if any(c in word for c in "@?|*#") or word.startswith("..."):
                    raise self.error(where, f"'{word}' cannot be used inside this alternative.")
                words = [t.norm for t in self.normalizer.tokens(word, fix_typos=False)]
                words = [w for w in words if w not in (_PAUSE_WORD, _STOP_WORD)]
                if not words:
                    raise self.error(where, f"'{word}' has no letters or digits.")
                atoms.extend(("lit", w) for w in words)
        if not atoms:
            raise self.error(where, "empty alternative.")
        return tuple(atoms)

    def alternatives(self, body: str, where: str) -> list[tuple[Atom, ...]]:
        """Expands "a|b c|@group" into atom sequences, a word list counting as its entries."""
        alts: list[tuple[Atom, ...]] = []
        for alt in body.split("|"):
            alt = " ".join(alt.split())
            if alt.startswith("@"):
                name = alt[1:]
                if name not in self.groups:
                    raise self.error(where, f"unknown word list '@{name}'.")
                alts.extend(self.atoms(entry, f"{where} (@{name})") for entry in self.groups[name])
            else:
                alts.append(self.atoms(alt, where))
        return alts

    def items(self, pattern: str, where: str) -> list[_Item]:
        """Splits a pattern string into items, checking the syntax."""
        depth = 0
        for char in pattern:
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth not in (0, 1):
                raise self.error(where, f"unbalanced or nested parentheses in '{pattern}'.")
        if depth:
            raise self.error(where, f"unbalanced parentheses in '{pattern}'.")
        items: list[_Item] = []
        for raw in _ITEM_RE.findall(pattern):
            if raw.startswith(("...", "~")):
                loose = raw.startswith("~")
                size = raw[1:] if loose else (raw[3:] or "3")
                if not size.isdigit() or not 1 <= int(size) <= _MAX_GAP:
                    raise self.error(where, f"'{raw}': a gap is '...', '...N' or '~N' with N 1-{_MAX_GAP}.")
                if not items or items[-1].gap:
                    raise self.error(where, f"'{pattern}': a gap must follow a word.")
                items.append(_Item(gap=int(size), loose=loose))
                continue
            optional = raw.endswith("?") and len(raw) > 1
            body = raw[:-1] if optional else raw
            if body.startswith("("):
                body = body[1:-1]
            items.append(_Item(tuple(self.alternatives(body, where)), optional))
        if not items:
            raise self.error(where, "empty pattern.")
        if items[-1].gap:
            raise self.error(where, f"'{pattern}': a gap must be followed by a word.")
        if all(item.optional or item.gap for item in items):
            raise self.error(where, f"'{pattern}': every word is optional.")
        return items

    def expand(self, pattern: Any, where: str) -> list[list[_Spec]]:
        """Expands a pattern into token-spec sequences (multi-word alternatives branch)."""
        if not isinstance(pattern, (str, int)) or not str(pattern).strip():
            raise self.error(where, f"empty or non-text pattern {pattern!r}.")
        sequences: list[list[_Spec]] = [[]]
        for item in self.items(str(pattern), where):
            if item.gap:
                sequences = [seq + [_Spec(gap=item.gap, loose=item.loose)] for seq in sequences]
                continue
            singles = [alt[0] for alt in item.alternatives if len(alt) == 1]
            multis = [alt for alt in item.alternatives if len(alt) > 1]
            options: list[list[_Spec]] = []
            if singles:
                options.append([self._spec(singles, item.optional and not multis)])
            for alt in multis:
                options.append([self._spec([atom], False) for atom in alt])
            if item.optional and multis:
                options.append([])
            sequences = [seq + option for seq in sequences for option in options]
            if len(sequences) > _MAX_EXPANSIONS:
                raise self.error(where, f"'{pattern}' expands to too many variants; split it.")
        return [self._merge_spellings(seq) for seq in sequences if self._valid(seq)]

    @staticmethod
    def _valid(seq: list[_Spec]) -> bool:
        """Drops variants that start or end with a gap, or that are all optional."""
        core = [s for s in seq if not s.gap]
        return bool(core) and not seq[0].gap and not seq[-1].gap and not all(s.optional for s in core)

    @staticmethod
    def _spec(atoms: Iterable[Atom], optional: bool) -> _Spec:
        """Merges single-word alternatives into one token position."""
        lits: set[str] = set()
        prefixes: list[str] = []
        number = False
        for kind, value in atoms:
            if kind == "lit":
                lits.add(value)
            elif kind == "pre":
                prefixes.append(value)
            else:
                number = True
                lits.update(_NUMBER_WORDS)
        return _Spec(frozenset(lits), tuple(sorted(set(prefixes))), number, optional)

    def _merge_spellings(self, seq: list[_Spec]) -> list[_Spec]:
        """Applies multi-word spellings inside runs of plain words ("i am" -> "im")."""
        if not self.normalizer.multi:
            return seq
        out: list[_Spec] = []
        run: list[str] = []
        for spec in seq + [_Spec(gap=1)]:
            word = spec.single_literal if not spec.optional else None
            if word is not None:
                run.append(word)
                continue
            out.extend(_Spec(frozenset([w])) for w in self.normalizer.merge_words(run))
            run = []
            out.append(spec)
        return out[:-1]


def _token_patterns(seq: list[_Spec], gap_stops: list[str]) -> list[dict[str, Any]]:
    """Turns one expanded sequence into spaCy Matcher token dicts."""
    tokens: list[dict[str, Any]] = []
    for spec in seq:
        if spec.gap:
            stops = [w for w in gap_stops if w != _PAUSE_WORD] if spec.loose else gap_stops
            tokens.extend({"LOWER": {"NOT_IN": stops}, "OP": "?"} for _ in range(spec.gap))
            continue
        if spec.prefixes or spec.number:
            parts = []
            if spec.lits:
                parts.append("^(?:" + "|".join(map(re.escape, sorted(spec.lits))) + ")$")
            if spec.prefixes:
                parts.append("^(?:" + "|".join(map(re.escape, spec.prefixes)) + ")")
            if spec.number:
                parts.append(r"^\d+$")
            token: dict[str, Any] = {"LOWER": {"REGEX": "|".join(parts)}}
        elif len(spec.lits) == 1:
            token = {"LOWER": next(iter(spec.lits))}
        else:
            token = {"LOWER": {"IN": sorted(spec.lits)}}
        if spec.optional:
            token["OP"] = "?"
        tokens.append(token)
    return tokens


def _literal_words(seq: list[_Spec]) -> list[str] | None:
    """The words of a sequence made only of plain required words (PhraseMatcher material)."""
    words = [spec.single_literal for spec in seq if not spec.optional]
    if len(words) != len(seq) or any(w is None for w in words):
        return None
    return [w for w in words if w is not None]


@dataclass
class _Anchor:
    """Words and prefixes that can start some pattern of a matcher, to skip it cheaply."""

    words: set[str] = field(default_factory=set)
    prefixes: set[str] = field(default_factory=set)
    number: bool = False
    before: int = 0  # optional tokens a pattern may have before its anchor
    length: int = 1  # longest pattern, in tokens

    def add(self, seq: list[_Spec]) -> None:
        """Records the first required position of a sequence and its reach."""
        index = next(i for i, s in enumerate(seq) if not s.optional and not s.gap)
        first = seq[index]
        self.words.update(first.lits)
        self.prefixes.update(first.prefixes)
        self.number = self.number or first.number
        self.before = max(self.before, index)
        self.length = max(self.length, sum(s.gap or 1 for s in seq))

    def hits(self, word: str) -> bool:
        """Tells whether a pattern could start at this word."""
        return (
            word in self.words
            or (bool(self.prefixes) and word.startswith(tuple(self.prefixes)))
            or (self.number and word.isdigit())
        )


class _RuleMatcher:
    """A Matcher and a PhraseMatcher for one set of patterns, run only near their anchors."""

    def __init__(self, vocab: Vocab, gap_stops: list[str]) -> None:
        """Creates empty matchers on the shared vocabulary."""
        from spacy.matcher import Matcher, PhraseMatcher

        self.vocab = vocab
        self.gap_stops = gap_stops
        self.matcher: Matcher = Matcher(vocab)
        self.phrases: PhraseMatcher = PhraseMatcher(vocab, attr="LOWER")
        self.anchor = _Anchor()
        self.has_matcher = False
        self.has_phrases = False

    def add(self, label: str, sequences: list[list[_Spec]]) -> None:
        """Adds expanded sequences under a label, plain phrases to the PhraseMatcher."""
        from spacy.tokens import Doc

        token_patterns = []
        phrase_docs = []
        for seq in sequences:
            self.anchor.add(seq)
            words = _literal_words(seq)
            if words is not None:
                phrase_docs.append(Doc(self.vocab, words=words))
            else:
                token_patterns.append(_token_patterns(seq, self.gap_stops))
        if token_patterns:
            self.matcher.add(label, token_patterns)
            self.has_matcher = True
        if phrase_docs:
            self.phrases.add(label, phrase_docs)
            self.has_phrases = True

    def windows(self, words: Sequence[str]) -> list[tuple[int, int]]:
        """Token ranges around the places where a pattern could start, merged."""
        ranges: list[tuple[int, int]] = []
        size = len(words)
        for i, word in enumerate(words):
            if self.anchor.hits(word):
                start, end = max(0, i - self.anchor.before), min(size, i + self.anchor.length)
                if ranges and start <= ranges[-1][1]:
                    ranges[-1] = (ranges[-1][0], max(ranges[-1][1], end))
                else:
                    ranges.append((start, end))
        return ranges

    def spans(self, doc: Doc, ranges: Iterable[tuple[int, int]]) -> list[Span]:
        """All matches inside the given token ranges, with document offsets."""
        found: list[Span] = []
        for start, end in ranges:
            part = doc[start:end]
            if self.has_matcher:
                found.extend(self.matcher(part, as_spans=True))
            if self.has_phrases:
                found.extend(self.phrases(part, as_spans=True))
        return found


# -------------------------------------------------------------------------- rules


@dataclass
class _Flag:
    """One red flag: its id, category and compiled patterns."""

    flag_id: str
    category: str
    matcher: _RuleMatcher


@dataclass(frozen=True)
class _Settings:
    """Numbers and word sets from the negation and history sections."""

    negation_window: int
    breakers: frozenset[str]
    history_categories: frozenset[str]
    history_before_window: int
    history_after_window: int
    pseudo_after_window: int
    fillers: frozenset[str]


class RedFlagMatcher:
    """The rules file compiled into spaCy matchers; built once per process per file content."""

    _cache: dict[str, RedFlagMatcher] = {}
    _default: RedFlagMatcher | None = None
    _lock = threading.Lock()

    @classmethod
    def load(cls, path: Path | None = None) -> RedFlagMatcher:
        """Returns the compiled rules for a file, compiling only on first use of that content."""
        path = Path(path) if path is not None else DEFAULT_RULES_FILE
        try:
            content = path.read_bytes()
        except OSError as error:
            raise RedFlagRulesError(f"Cannot read red-flag rules file {path}: {error}") from error
        key = hashlib.sha256(content).hexdigest()
        with cls._lock:
            if key not in cls._cache:
                cls._cache[key] = cls(cls._read(content, str(path)), str(path))
            return cls._cache[key]

    @classmethod
    def default(cls) -> RedFlagMatcher:
        """The bundled rules, read once per process (edits take effect at restart)."""
        matcher = cls._default
        if matcher is None:
            matcher = cls.load()
            cls._default = matcher
        return matcher

    @staticmethod
    def _read(content: bytes, source: str) -> dict[str, Any]:
        """Parses the YAML with the same safe loader Rasa uses."""
        from ruamel.yaml import YAML
        from ruamel.yaml.error import YAMLError

        try:
            raw = YAML(typ="safe", pure=True).load(content.decode("utf-8"))
        except (YAMLError, UnicodeDecodeError) as error:
            raise RedFlagRulesError(f"{source}: not valid YAML: {error}") from error
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            raise RedFlagRulesError(f"{source}: 'the file' must be a mapping.")
        return dict(raw)

    def __init__(self, raw: dict[str, Any], source: str = "red_flags.yml") -> None:
        """Validates the rules against their schema and compiles them; spaCy is imported here, not at import."""
        import spacy

        try:
            rules = RuleFile.parse_obj(raw)
        except ValidationError as error:
            raise RedFlagRulesError(describe(error, source)) from None
        self.source = source
        # Rule files for other checks (bot/safety/medical_advice.yml) name their own
        # categories, highest priority first; red flags use crisis, then medical.
        self._categories: tuple[str, ...] = rules.priority
        self._vocab: Vocab = spacy.blank("en").vocab
        self._normalizer = self._spellings(rules.spellings, source)
        self._literals: set[str] = set()
        self._all_prefixes: set[str] = set()
        compiler = _PatternCompiler(self._normalizer, rules.words, source)

        negation, history = rules.negation, rules.history
        cue_sequences = self._expand_all(compiler, negation.cues, "negation.cues")
        cue_words = {seq[0].single_literal for seq in cue_sequences if len(seq) == 1}
        gap_stops = sorted(
            {w for w in cue_words if w}
            | set(self._words(rules.gap_stops, "gap_stops", source))
            | {_PAUSE_WORD, _STOP_WORD}
        )
        self._gap_stops = gap_stops
        self._gap_stop_set = frozenset(gap_stops)

        self._flags: list[_Flag] = []
        self._alone: dict[tuple[str, ...], _Flag] = {}
        for flag_id, spec in rules.flags.items():
            self._flags.append(self._flag(compiler, flag_id, spec, source))

        self._context = _RuleMatcher(self._vocab, gap_stops)
        for label, entries, where in [
            ("ignore", rules.ignore, "ignore"),
            ("cue", negation.cues, "negation.cues"),
            ("pseudo_before", negation.pseudo_before, "negation.pseudo_before"),
            ("pseudo_after", negation.pseudo_after, "negation.pseudo_after"),
            ("history_before", history.before, "history.before"),
            ("history_after", history.after, "history.after"),
            ("acute", history.acute, "history.acute"),
        ]:
            sequences = self._expand_all(compiler, entries, where)
            self._collect(sequences)
            if sequences:
                self._context.add(label, sequences)

        self._settings = _Settings(
            negation_window=negation.window,
            breakers=frozenset(self._words(negation.breakers, "negation.breakers", source)),
            history_categories=frozenset(self._words(history.applies_to, "history.applies_to", source)),
            history_before_window=history.before_window,
            history_after_window=history.after_window,
            pseudo_after_window=negation.pseudo_after_window,
            fillers=frozenset(self._words(rules.alone_fillers, "alone_fillers", source)),
        )
        self._configure_typos(rules.typos, source)

    # -- loading helpers

    @staticmethod
    def _spellings(section: dict[str, str], source: str) -> _Normalizer:
        """Reads `spellings` (variant: canonical word) into the normaliser's tables."""
        plain = _Normalizer({}, {})
        single: dict[str, str] = {}
        multi: dict[tuple[str, ...], str] = {}
        for variant, canonical in section.items():
            target = [t.norm for t in plain.tokens(str(canonical), fix_typos=False)]
            if len(target) != 1:
                raise RedFlagRulesError(f"{source}: spellings '{variant}' must map to one word, not '{canonical}'.")
            raw_words = fold_text(str(variant)).split()
            if len(raw_words) == 1:
                single[raw_words[0]] = target[0]
            else:
                key = tuple(plain.word(w) for w in raw_words)
                multi[key] = target[0]
        return _Normalizer(single, multi)

    def _words(self, entries: list[str], where: str, source: str) -> list[str]:
        """Reads a list of single words, normalised like message text."""
        words = []
        for entry in entries:
            tokens = [t.norm for t in self._normalizer.tokens(str(entry), fix_typos=False)]
            if len(tokens) != 1:
                raise RedFlagRulesError(f"{source}: {where} entry '{entry}' must be one word.")
            words.append(tokens[0])
        return words

    @staticmethod
    def _expand_all(compiler: _PatternCompiler, entries: list[str], where: str) -> list[list[_Spec]]:
        """Expands every pattern of a list."""
        sequences: list[list[_Spec]] = []
        for index, pattern in enumerate(entries):
            sequences.extend(compiler.expand(pattern, f"{where}[{index + 1}] '{pattern}'"))
        return sequences

    def _flag(self, compiler: _PatternCompiler, flag_id: str, spec: Flag, source: str) -> _Flag:
        """Compiles one flag (its shape and category were checked by the schema)."""
        sequences = self._expand_all(compiler, spec.patterns, f"flags.{flag_id}.patterns")
        alone = self._expand_all(compiler, spec.alone, f"flags.{flag_id}.alone")
        if not sequences and not alone:
            raise RedFlagRulesError(f"{source}: flag '{flag_id}' has no patterns.")
        self._collect(sequences + alone)
        matcher = _RuleMatcher(self._vocab, self._gap_stops)
        flag = _Flag(flag_id, spec.category, matcher)
        if sequences:
            matcher.add(flag_id, sequences)
        for seq in alone:
            for words in self._alone_variants(seq, f"flags.{flag_id}.alone", source):
                self._alone.setdefault(words, flag)
        return flag

    @staticmethod
    def _alone_variants(seq: list[_Spec], where: str, source: str) -> list[tuple[str, ...]]:
        """Every word sequence an `alone` pattern stands for (plain words only)."""
        choices: list[list[str | None]] = []
        for spec in seq:
            if spec.gap or spec.prefixes or spec.number:
                raise RedFlagRulesError(f"{source}: {where}: use plain words only (no '...', '~', '*', '#').")
            options: list[str | None] = [*sorted(spec.lits)]
            choices.append(options + [None] if spec.optional else options)
        variants = [tuple(w for w in combo if w) for combo in itertools.product(*choices)]
        if len(variants) > _MAX_EXPANSIONS:
            raise RedFlagRulesError(f"{source}: {where}: too many variants; split it.")
        return [v for v in variants if v]

    def _collect(self, sequences: list[list[_Spec]]) -> None:
        """Remembers the words and prefixes the rules use: words outside them are never kept."""
        for seq in sequences:
            for spec in seq:
                self._literals.update(spec.lits)
                self._all_prefixes.update(spec.prefixes)

    def _configure_typos(self, section: Typos, source: str) -> None:
        """Sets the known words and the long words a slip may be read as."""
        min_length = section.min_length
        targets = set(self._words(section.words, "typos.words", source))
        short = sorted(w for w in targets if len(w) < min_length or not w.isalpha())
        if short:
            raise RedFlagRulesError(f"{source}: typos.words {short} must be single words of {min_length}+ letters.")
        known = set(self._literals) | targets | set(_NUMBER_WORDS)
        known |= set(self._settings.breakers) | set(self._settings.fillers) | set(self._gap_stops)
        for words in self._alone:
            known.update(words)
        self._normalizer.known = frozenset(known)
        self._normalizer.not_typos = frozenset(self._words(section.not_typos, "typos.not_typos", source))
        self._normalizer.min_typo_length = min_length - 1
        index: dict[str, list[str]] = {}
        for word in sorted(targets):
            for key in _deletions(word):
                index.setdefault(key, []).append(word)
        self._normalizer.typo_index = {k: tuple(v) for k, v in index.items()}
        self._prefixes = tuple(sorted(self._all_prefixes))

    # -- matching

    def tokens(self, text: str) -> list[_Token]:
        """The normalised tokens of a text (exposed for tests and the evaluation report)."""
        return self._normalizer.tokens(text)

    def scan(self, text: str, max_chars: int = DEFAULT_MAX_CHARS) -> list[RedFlagMention]:
        """Every red-flag match in a text with its status (found, negated or not current)."""
        if not isinstance(text, str) or not text.strip():
            return []
        tokens = self._normalizer.tokens(text[:max_chars])
        if not tokens:
            return []
        words = [t.norm for t in tokens]
        mentions = self._alone_mentions(tokens)
        candidates = [(flag, flag.matcher.windows(words)) for flag in self._flags]
        candidates = [(flag, ranges) for flag, ranges in candidates if ranges]
        if not candidates:
            return mentions
        doc = self._doc(words)
        hits: set[tuple[int, int, int]] = set()
        for index, (flag, ranges) in enumerate(candidates):
            for span in flag.matcher.spans(doc, ranges):
                hits.add((span.start, span.end, index))
        if not hits:
            return mentions
        context = self._context_spans(doc, hits)
        masked = {i for start, end in context.get("ignore", ()) for i in range(start, end)}
        kept = sorted(
            (start, end, index) for start, end, index in hits if not any(i in masked for i in range(start, end))
        )
        acute = bool(context.get("acute"))
        for start, end, index in kept:
            flag = candidates[index][0]
            status = self._status(tokens, flag, start, end, kept, context, acute)
            mentions.append(
                RedFlagMention(flag.flag_id, flag.category, tokens[start].start, tokens[end - 1].end, status)
            )
        return sorted(mentions, key=lambda m: (m.start, -m.end))

    def detect(self, text: str, max_chars: int = DEFAULT_MAX_CHARS) -> RedFlagResult:
        """Sums the mentions up: the category to act on, and the flags found or ruled out."""
        mentions = self.scan(text, max_chars)
        found = [m for m in mentions if m.status == "found"]
        found_ids = tuple(dict.fromkeys(m.flag_id for m in found))
        ranked = sorted((c for c in CATEGORIES if c in self._categories), key=self._categories.index)
        category = next((c for c in ranked if any(m.category == c for m in found)), None)
        negated = tuple(
            dict.fromkeys(m.flag_id for m in mentions if m.status == "negated" and m.flag_id not in found_ids)
        )
        not_current = tuple(
            dict.fromkeys(m.flag_id for m in mentions if m.status == "not_current" and m.flag_id not in found_ids)
        )
        span = next(((m.start, m.end) for m in found if m.category == category), None)
        return RedFlagResult(category, found_ids, negated, not_current, span)

    def _doc(self, words: list[str]) -> Doc:
        """Builds the spaCy Doc; unknown words become "_" so the vocabulary stays bounded."""
        from spacy.tokens import Doc

        known = self._normalizer.known
        prefixes = self._prefixes
        doc_words = [
            w if w in known or _DIGITS.match(w) or (prefixes and w.startswith(prefixes)) else _UNKNOWN_WORD
            for w in words
        ]
        return Doc(self._vocab, words=doc_words)

    def _alone_mentions(self, tokens: list[_Token]) -> list[RedFlagMention]:
        """A flag whose `alone` word is the whole message, give or take "help" and "please"."""
        if not self._alone:
            return []
        content = [t for t in tokens if t.kind == _WORD and t.norm not in self._settings.fillers]
        if not content or len(content) > 6:
            return []
        flag = self._alone.get(tuple(t.norm for t in content))
        if flag is None:
            return []
        return [RedFlagMention(flag.flag_id, flag.category, content[0].start, content[-1].end, "found")]

    def _context_spans(self, doc: Doc, hits: set[tuple[int, int, int]]) -> dict[str, list[tuple[int, int]]]:
        """Cues, history markers and ignore phrases near the matches, by label."""
        size = len(doc)
        ranges: list[tuple[int, int]] = []
        for start, end, _ in sorted(hits):
            low, high = max(0, start - _CONTEXT_MARGIN), min(size, end + _CONTEXT_MARGIN)
            if ranges and low <= ranges[-1][1]:
                ranges[-1] = (ranges[-1][0], max(ranges[-1][1], high))
            else:
                ranges.append((low, high))
        context: dict[str, list[tuple[int, int]]] = {}
        for span in self._context.spans(doc, ranges):
            context.setdefault(span.label_, []).append((span.start, span.end))
        return context

    def _clean_gap(self, tokens: list[_Token], start: int, end: int) -> bool:
        """True when only plain, non-breaking words lie between two positions."""
        breakers = self._settings.breakers
        return all(t.kind == _WORD and t.norm not in breakers for t in tokens[start:end])

    def _status(
        self,
        tokens: list[_Token],
        flag: _Flag,
        start: int,
        end: int,
        kept: list[tuple[int, int, int]],
        context: dict[str, list[tuple[int, int]]],
        acute: bool,
    ) -> Status:
        """Decides whether one match is found, negated or only history."""
        if self._negated(tokens, start, end, kept, context):
            return "negated"
        if flag.category in self._settings.history_categories and not acute:
            if self._historical(tokens, start, end, context):
                return "not_current"
        return "found"

    def _negated(
        self,
        tokens: list[_Token],
        start: int,
        end: int,
        kept: list[tuple[int, int, int]],
        context: dict[str, list[tuple[int, int]]],
    ) -> bool:
        """A cue governs the match: close before it, same clause, and not a pseudo-negation."""
        window = self._settings.negation_window
        pseudo = context.get("pseudo_before", ())
        for cue_start, cue_end in context.get("cue", ()):
            if cue_end > start or start - cue_end > window:
                continue
            if any(p_start <= cue_start and cue_end <= p_end for p_start, p_end in pseudo):
                continue  # "not sure", "no idea": the cue negates nothing
            if any(
                m_start <= cue_start and cue_end <= m_end and (m_start, m_end) != (start, end)
                for m_start, m_end, _ in kept
            ):
                continue  # the cue is part of another red flag ("no puedo respirar")
            if not self._clean_gap(tokens, cue_end, start):
                continue
            if self._pseudo_after(tokens, end, context):
                return False  # "never had chest pain like this"
            return True
        return False

    def _pseudo_after(self, tokens: list[_Token], end: int, context: dict[str, list[tuple[int, int]]]) -> bool:
        """Words right after a match that undo a negation before it ("... like this", "until")."""
        reach = self._settings.pseudo_after_window
        return any(
            end <= p_start <= end + reach and self._clean_gap(tokens, end, p_start)
            for p_start, _ in context.get("pseudo_after", ())
        )

    def _historical(
        self,
        tokens: list[_Token],
        start: int,
        end: int,
        context: dict[str, list[tuple[int, int]]],
    ) -> bool:
        """The match is history ("history of ...", "... last year"), not happening now."""
        before = self._settings.history_before_window
        after = self._settings.history_after_window
        for _h_start, h_end in context.get("history_before", ()):
            if h_end <= start and start - h_end <= before and self._clean_gap(tokens, h_end, start):
                return True
        stops = self._gap_stop_set
        for h_start, _ in context.get("history_after", ()):
            if (
                end <= h_start
                and h_start - end <= after
                and all(t.kind == _WORD and t.norm not in stops for t in tokens[end:h_start])
            ):
                return True  # "had a seizure at school last year": any plain words between
        return False


def detect_red_flags(text: str) -> RedFlagResult:
    """Checks one message against the bundled rules: the category to act on, and why."""
    return RedFlagMatcher.default().detect(text)
