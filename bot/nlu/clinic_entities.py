"""Rule-based extraction of clinic entities: providers, visit types, insurance plans.

Patients name a provider, a kind of visit or an insurance plan in many ways
("the kids doctor", "Dr. Patle", "blue cross"); a classifier trained on a few
examples misses most of them, and staff must be able to add a word without
retraining. So this Rasa graph component reads the vocabulary in
`clinic_terms.yml` (canonical codes and their aliases) and matches it with
spaCy's rule tools on a blank English tokenizer (no pre-trained pipeline is
available to the project).

Insurance carriers the clinic has no policy on are recognised too: a broad list
of US carriers and plans (`us_insurers.yml`, the carrier's name and the ways
patients write it) gives `insurance` entities whose value is the carrier's
name ("Oscar Health"), so the bot can say "not on our list, call us to check".
The clinic's own words win: where a match from the terms file overlaps one
from the broad list, only the terms file's match is kept ("blue cross blue
shield of texas" is `bcbs`), and a typo close to a word in both files is read
as the terms file's.

Pipeline entry (after any tokenizer; it does not use Rasa's tokens)::

    - name: bot.nlu.clinic_entities.ClinicEntityExtractor
      # every option is optional; these are the defaults
      terms_file: null          # null: the bundled bot/nlu/clinic_terms.yml
      carriers_file: null       # null: the bundled bot/nlu/us_insurers.yml; false: none
      typo_tolerance: true      # one slip in words listed under `typos`
      negation_role: not        # role for negated mentions; null turns it off
      negated_entities: [provider]
      negation_window: 2        # words allowed between a cue and the mention
      entities: null            # null: all; or a subset such as [provider]
      max_text_chars: 100000    # longer messages are read up to this length

Each entity carries `entity`, `value` (the canonical code), `start`/`end`
(offsets into the original text), `text` (the words as typed) and
`extractor: ClinicEntityExtractor`. Matching ignores case, accents and curly
apostrophes; when matches overlap the longest wins; `ignore` phrases in the
terms file block false friends ("physical therapy", "my son Sam").

Negation: a `negated_entities` mention preceded by a cue from the terms file
("not", "no", "except", "anyone but", "don't want", ...) with at most
`negation_window` words in between, and no punctuation, other entity or
breaker word ("i", "want", "but", ...) in between, gets `"role": "not"`:
"anyone but Dr. Patel" gives `provider=any` and `provider=patel, role=not`,
while "No, Dr. Patel please" gives plain `provider=patel`. The domain must
declare the role (`- provider: {roles: [not]}`) for slot mappings to use it.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_ROLE,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TEXT,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.fuzzy import one_edit_apart
from bot.schemas.base import FileModel, describe
from bot.schemas.vocabulary import ClinicTermsFile, InsurersFile

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.matcher import Matcher, PhraseMatcher
    from spacy.tokens import Doc

logger = logging.getLogger(__name__)

DEFAULT_TERMS_FILE = Path(__file__).with_name("clinic_terms.yml")
DEFAULT_CARRIERS_FILE = Path(__file__).with_name("us_insurers.yml")
CARRIER_ENTITY = "insurance"

_IGNORE = "__ignore__"
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
Model = TypeVar("Model", bound=FileModel)
_MIN_TYPO_LENGTH = 4
# Characters folded to another single character so offsets stay the same.
_CHAR_MAP = {
    "\u2018": "'",
    "\u2019": "'",
    "\u02bc": "'",
    "\u2032": "'",
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
}
# spaCy keeps "dr.patel" as one token; a space in place of the dot splits it.
_DR_DOT = re.compile(r"\bdr\.(?=[^\W\d_])")


class ClinicTermsError(InvalidConfigException):
    """The terms file is unreadable or malformed; raised at model load, not per message."""


@lru_cache(maxsize=8192)
def _fold_char(char: str) -> str:
    """Folds a character to its lower-case base letter, keeping it if that is not one character."""
    if char in _CHAR_MAP:
        return _CHAR_MAP[char]
    if char.isspace():
        return " "
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    if len(base) != 1:
        base = char
    lower = base.lower()
    return lower if len(lower) == 1 else base


def fold_text(text: str) -> str:
    """Lower-cases and strips accents keeping the length, so offsets map back to the original."""
    folded = text.lower() if text.isascii() else "".join(map(_fold_char, text))
    return _DR_DOT.sub("dr ", folded)


@dataclass(frozen=True)
class ClinicMention:
    """One entity found in a text, with offsets into the original text."""

    entity: str
    value: str
    start: int
    end: int
    text: str
    negated: bool = False


@dataclass(frozen=True)
class _Terms:
    """The terms file after validation and normalisation."""

    entities: tuple[str, ...]
    aliases: dict[str, tuple[str, str]]  # folded alias -> (entity, value)
    ignore: tuple[str, ...]
    titles: dict[str, tuple[str, ...]]  # entity -> folded titles
    typos: dict[str, tuple[str, str]]  # folded word -> (entity, value)
    not_typos: frozenset[str]
    cues: tuple[str, ...]
    breakers: frozenset[str]


@dataclass(frozen=True)
class _Carriers:
    """The broad carrier list after validation: folded alias -> the carrier's name."""

    aliases: dict[str, str]
    typos: dict[str, str]  # folded word -> the carrier's name
    not_typos: frozenset[str]
    ignore: tuple[str, ...]


@dataclass(frozen=True)
class _Candidate:
    """A possible entity (or ignore phrase) over tokens [start, end)."""

    start: int
    end: int
    entity: str
    value: str
    chars: int
    fuzzy: bool = False
    broad: bool = False  # from the broad carrier list: yields to the terms file

    @property
    def is_ignore(self) -> bool:
        """Ignore phrases only block other matches; they are never reported."""
        return self.value == _IGNORE


def _phrase(raw: str, where: str, source: str) -> str:
    """Normalises one phrase from the terms file, refusing empty entries."""
    if not " ".join(raw.split()):
        raise ClinicTermsError(f"{source}: {where} has an empty or non-text entry {raw!r}.")
    return fold_text(" ".join(raw.split()))


def _phrases(raw: list[str] | None, where: str, source: str) -> list[str]:
    """Normalises a list of phrases from the terms file."""
    return [_phrase(item, where, source) for item in raw or []]


def _validated(model: type[Model], raw: Any, source: str) -> Model:
    """The file checked against its schema, or an error naming the file and the place."""
    if not isinstance(raw, dict):
        raise ClinicTermsError(f"{source}: 'the file' must be a mapping.")
    try:
        return model.parse_obj(raw)
    except ValidationError as error:
        raise ClinicTermsError(describe(error, source)) from None


def parse_terms(raw: Any, source: str) -> _Terms:
    """Validates the terms file so a staff typo fails loudly at load, naming the place."""
    top = _validated(ClinicTermsFile, raw, source)
    aliases: dict[str, tuple[str, str]] = {}
    ignore: list[str] = []
    titles: dict[str, tuple[str, ...]] = {}
    typos: dict[str, tuple[str, str]] = {}
    for entity, block in top.entities.items():
        entity_titles = tuple(_phrases(block.titles, f"{entity}.titles", source))
        titles[entity] = entity_titles
        ignore.extend(_phrases(block.ignore, f"{entity}.ignore", source))
        for value, spec in block.values.items():
            where = f"{entity}.values.{value}"
            for alias in _phrases(spec.aliases, f"{where}.aliases", source):
                for variant in _title_variants(alias, entity_titles):
                    owner = aliases.setdefault(variant, (entity, value))
                    if owner != (entity, value):
                        raise ClinicTermsError(
                            f"{source}: alias '{variant}' is listed for both "
                            f"{owner[0]}.{owner[1]} and {entity}.{value}."
                        )
            for word in _phrases(spec.typos, f"{where}.typos", source):
                if not word.isalpha() or len(word) < _MIN_TYPO_LENGTH:
                    raise ClinicTermsError(
                        f"{source}: {where}.typos entry '{word}' must be one word of {_MIN_TYPO_LENGTH}+ letters."
                    )
                typos[word] = (entity, value)
    if not aliases:
        raise ClinicTermsError(f"{source}: no aliases defined.")
    return _Terms(
        entities=tuple(top.entities),
        aliases=aliases,
        ignore=tuple(dict.fromkeys(ignore)),
        titles=titles,
        typos=typos,
        not_typos=frozenset(_phrases(top.not_typos, "not_typos", source)),
        cues=tuple(dict.fromkeys(_phrases(top.negation.cues, "negation.cues", source))),
        breakers=frozenset(_phrases(top.negation.breakers, "negation.breakers", source)),
    )


def parse_carriers(raw: Any, source: str) -> _Carriers:
    """Validates the broad carrier list so a staff typo fails loudly at load, naming the place."""
    top = _validated(InsurersFile, raw, source)
    aliases: dict[str, str] = {}
    for written, spellings in top.carriers.items():
        name = " ".join(written.split())
        where = f"carriers.{name}"
        for alias in [_phrase(name, where, source), *_phrases(spellings, where, source)]:
            owner = aliases.setdefault(alias, name)
            if owner != name:
                raise ClinicTermsError(f"{source}: alias '{alias}' is listed for both '{owner}' and '{name}'.")
    if not aliases:
        raise ClinicTermsError(f"{source}: no carriers defined.")
    typos: dict[str, str] = {}
    for word in _phrases(top.typos, "typos", source):
        if not word.isalpha() or len(word) < _MIN_TYPO_LENGTH:
            raise ClinicTermsError(f"{source}: typos entry '{word}' must be one word of {_MIN_TYPO_LENGTH}+ letters.")
        if word not in aliases:
            raise ClinicTermsError(f"{source}: typos entry '{word}' must be one of the carriers' aliases.")
        typos[word] = aliases[word]
    return _Carriers(
        aliases=aliases,
        typos=typos,
        not_typos=frozenset(_phrases(top.not_typos, "not_typos", source)),
        ignore=tuple(dict.fromkeys(_phrases(top.ignore, "ignore", source))),
    )


def _title_variants(alias: str, titles: tuple[str, ...]) -> list[str]:
    """Spells an alias that starts with a title with every title ("dr kim" -> "doctor kim")."""
    first, _, rest = alias.partition(" ")
    if not rest or first not in titles:
        return [alias]
    return [alias] + [f"{title} {rest}" for title in titles if title != first]


def _read_file(path: Path, what: str) -> bytes:
    """Reads a vocabulary file, turning an OS error into a load-time config error."""
    try:
        return path.read_bytes()
    except OSError as error:
        raise ClinicTermsError(f"Cannot read {what} {path}: {error}") from error


def _read_yaml(content: bytes, source: str) -> Any:
    """Parses YAML with Rasa's own YAML library."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        return YAML(typ="safe", pure=True).load(content.decode("utf-8"))
    except (YAMLError, UnicodeDecodeError) as error:
        raise ClinicTermsError(f"{source}: not valid YAML: {error}") from error


class ClinicVocabulary:
    """The terms file (and the broad carrier list) compiled into spaCy matchers, once per content."""

    _cache: dict[str, ClinicVocabulary] = {}
    _lock = threading.Lock()

    @classmethod
    def load(cls, path: Path | None = None, carriers_path: Path | None = DEFAULT_CARRIERS_FILE) -> ClinicVocabulary:
        """Returns the compiled vocabulary for a terms file (and carrier list, None: none), built once."""
        path = Path(path) if path is not None else DEFAULT_TERMS_FILE
        content = _read_file(path, "clinic terms file")
        carriers_content = _read_file(Path(carriers_path), "carrier list") if carriers_path is not None else b""
        key = hashlib.sha256(content + b"\0" + (carriers_content if carriers_path is not None else b"\1")).hexdigest()
        with cls._lock:
            if key not in cls._cache:
                terms = parse_terms(_read_yaml(content, str(path)), str(path))
                carriers = (
                    parse_carriers(_read_yaml(carriers_content, str(carriers_path)), str(carriers_path))
                    if carriers_path is not None
                    else None
                )
                cls._cache[key] = cls(terms, carriers)
            return cls._cache[key]

    def __init__(self, terms: _Terms, carriers: _Carriers | None = None) -> None:
        """Builds the tokenizer and matchers; spaCy is imported here, never at module import."""
        import spacy
        from spacy.matcher import Matcher, PhraseMatcher

        self.terms = terms
        self.carriers = carriers
        self._nlp: Language = spacy.blank("en")
        self._phrases: PhraseMatcher = PhraseMatcher(self._nlp.vocab, attr="LOWER")
        # match id -> (entity, value, from the broad carrier list)
        self._keys: dict[int, tuple[str, str, bool]] = {}
        by_key: dict[tuple[str, str, bool], list[str]] = {}
        for alias, (entity, value) in terms.aliases.items():
            by_key.setdefault((entity, value, False), []).append(alias)
        ignore = list(terms.ignore)
        if carriers is not None:
            for alias, name in carriers.aliases.items():
                by_key.setdefault((CARRIER_ENTITY, name, True), []).append(alias)
            ignore.extend(carriers.ignore)
        by_key.setdefault((_IGNORE, _IGNORE, False), []).extend(dict.fromkeys(ignore))
        for (entity, value, broad), phrases in by_key.items():
            if not phrases:
                continue
            label = f"carrier:{value}" if broad else f"{entity}/{value}"
            self._phrases.add(label, [self._nlp.make_doc(phrase) for phrase in phrases])
            self._keys[self._nlp.vocab.strings[label]] = (entity, value, broad)
        broad_aliases = list(carriers.aliases) if carriers is not None else []
        self._single_words = frozenset(
            phrase for phrase in [*terms.aliases, *ignore, *broad_aliases] if " " not in phrase
        )
        self._not_typos = terms.not_typos | (carriers.not_typos if carriers is not None else frozenset())
        # Typo words by length, clinic words first: a slip can only be one letter longer or shorter.
        self._typo_index: dict[int, list[tuple[str, str, str, bool]]] = {}
        typo_words: list[tuple[str, str, str, bool]] = [
            (word, entity, value, False) for word, (entity, value) in terms.typos.items()
        ]
        if carriers is not None:
            typo_words.extend((word, CARRIER_ENTITY, name, True) for word, name in carriers.typos.items())
        for item in typo_words:
            for length in (len(item[0]) - 1, len(item[0]), len(item[0]) + 1):
                self._typo_index.setdefault(length, []).append(item)
        self._titles = {
            entity: sorted(
                (tuple(t.text for t in self._nlp.make_doc(title)) for title in entity_titles),
                key=len,
                reverse=True,
            )
            for entity, entity_titles in terms.titles.items()
        }
        self._cues: Matcher = Matcher(self._nlp.vocab)
        cue_patterns = [[{"LOWER": token.text} for token in self._nlp.make_doc(cue)] for cue in terms.cues]
        if cue_patterns:
            self._cues.add("NEGATION_CUE", cue_patterns)

    @property
    def entities(self) -> tuple[str, ...]:
        """Entity types this vocabulary can produce, so a config can be checked against it."""
        if self.carriers is not None and CARRIER_ENTITY not in self.terms.entities:
            return (*self.terms.entities, CARRIER_ENTITY)
        return self.terms.entities

    def find(self, text: str, typo_tolerance: bool = True, negation_window: int = 2) -> list[ClinicMention]:
        """Finds every clinic entity in a text, longest match first, with negation marked."""
        if not text or not text.strip():
            return []
        doc, offsets = self._tokenize(text)
        candidates = self._exact_candidates(doc)
        if typo_tolerance and self._typo_index:
            candidates.extend(self._typo_candidates(doc))
        kept = self._longest_first(candidates, len(doc))
        owner: list[int | None] = [None] * len(doc)
        for index, candidate in enumerate(kept):
            for i in range(candidate.start, candidate.end):
                owner[i] = index
        cues = [(start, end) for _, start, end in self._cues(doc)] if len(self._cues) else []
        mentions = []
        for candidate in kept:
            start, end = offsets[candidate.start][0], offsets[candidate.end - 1][1]
            negated = self._is_negated(doc, candidate, cues, owner, negation_window)
            mentions.append(ClinicMention(candidate.entity, candidate.value, start, end, text[start:end], negated))
        return mentions

    def _tokenize(self, text: str) -> tuple[Doc, list[tuple[int, int]]]:
        """Tokenizes the folded text without whitespace tokens, keeping original offsets."""
        from spacy.tokens import Doc

        doc = self._nlp.make_doc(fold_text(text))
        offsets = [(t.idx, t.idx + len(t.text)) for t in doc if not t.is_space]
        if len(offsets) == len(doc):
            return doc, offsets
        words = [t.text for t in doc if not t.is_space]
        return Doc(self._nlp.vocab, words=words, spaces=[True] * len(words)), offsets

    def _exact_candidates(self, doc: Doc) -> list[_Candidate]:
        """Alias and ignore matches from the phrase matcher."""
        candidates = []
        for match_id, start, end in self._phrases(doc):
            entity, value, broad = self._keys[match_id]
            chars = doc[end - 1].idx + len(doc[end - 1].text) - doc[start].idx
            candidates.append(_Candidate(start, end, entity, value, chars, broad=broad))
        return candidates

    def _typo_candidates(self, doc: Doc) -> list[_Candidate]:
        """Words one slip from exactly one `typos` word (terms file first), with a title in front."""
        candidates = []
        for token in doc:
            word = token.text
            if (
                len(word) < _MIN_TYPO_LENGTH
                or not word.isalpha()
                or token.is_stop
                or word in self._not_typos
                or word in self._single_words
            ):
                continue
            near = [
                (entity, value, broad)
                for typo, entity, value, broad in self._typo_index.get(len(word), [])
                if one_edit_apart(word, typo)
            ]
            owners = {item for item in near if not item[2]} or set(near)
            if len(owners) != 1:
                continue
            entity, value, broad = owners.pop()
            start = self._title_start(doc, token.i, entity)
            chars = token.idx + len(word) - doc[start].idx
            candidates.append(_Candidate(start, token.i + 1, entity, value, chars, fuzzy=True, broad=broad))
        return candidates

    def _title_start(self, doc: Doc, start: int, entity: str) -> int:
        """Extends a typo match over a title before it ("dr patle"), so the span reads whole."""
        for title in self._titles.get(entity, []):
            begin = start - len(title)
            if begin >= 0 and tuple(t.text for t in doc[begin:start]) == title:
                return begin
        return start

    @staticmethod
    def _longest_first(candidates: list[_Candidate], size: int) -> list[_Candidate]:
        """Keeps non-overlapping matches, terms file before broad list, then longest first.

        Ties go to ignore, exact, then earliest. A broad-list match that overlaps a
        terms-file entity is dropped and blocks its words for shorter broad-list
        matches, so "premera blue cross" is the clinic's "blue cross" alone, not
        that plus "premera".
        """
        taken = [False] * size
        clinic = [False] * size  # tokens of kept terms-file entities
        kept = []
        ordered = sorted(
            candidates,
            key=lambda c: (c.broad, -(c.end - c.start), -c.chars, not c.is_ignore, c.fuzzy, c.start),
        )
        for candidate in ordered:
            span = range(candidate.start, candidate.end)
            if any(taken[i] for i in span):
                if candidate.broad and any(clinic[i] for i in span):
                    for i in span:
                        taken[i] = True
                continue
            for i in span:
                taken[i] = True
                clinic[i] = not candidate.broad and not candidate.is_ignore
            kept.append(candidate)
        return sorted((c for c in kept if not c.is_ignore), key=lambda c: c.start)

    def _is_negated(
        self,
        doc: Doc,
        candidate: _Candidate,
        cues: list[tuple[int, int]],
        owner: list[int | None],
        window: int,
    ) -> bool:
        """Tells whether a negation cue governs the mention (see the module docstring)."""
        for cue_start, cue_end in cues:
            if cue_end > candidate.start or candidate.start - cue_end > window:
                continue
            if all(owner[i] is not None for i in range(cue_start, cue_end)):
                continue  # the cue is part of another entity ("no preference")
            gap = doc[cue_end : candidate.start]
            if all(not t.is_punct and owner[t.i] is None and t.text not in self.terms.breakers for t in gap):
                return True
        return False


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class ClinicEntityExtractor(GraphComponent, EntityExtractorMixin):
    """Extracts providers, visit types and insurance plans (the clinic's and any US carrier)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The defaults; see the module docstring for what each option does."""
        return {
            "terms_file": None,
            "carriers_file": None,
            "typo_tolerance": True,
            "negation_role": "not",
            "negated_entities": ["provider"],
            "negation_window": 2,
            "entities": None,
            "max_text_chars": 100_000,
        }

    @staticmethod
    def supported_languages() -> list[str] | None:
        """English only: the matchers run on spaCy's blank English tokenizer."""
        return ["en"]

    @staticmethod
    def required_packages() -> list[str]:
        """spaCy provides the tokenizer and the rule matchers."""
        return ["spacy"]

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> ClinicEntityExtractor:
        """Builds the component; the vocabulary compiles here so a bad terms file fails at load."""
        return cls(config)

    def __init__(self, config: dict[str, Any]) -> None:
        """Checks the config and loads the (cached) vocabulary."""
        self._config = {**self.get_default_config(), **config}
        terms_file = self._config["terms_file"]
        self._vocabulary = ClinicVocabulary.load(Path(terms_file) if terms_file else None, self._carriers_path())
        self._typo_tolerance = self._option("typo_tolerance", bool)
        role = self._config["negation_role"]
        if role is not None and (not isinstance(role, str) or not role):
            raise InvalidConfigException(f"{self.name}: 'negation_role' must be text or null.")
        self._negation_role: str | None = role
        self._negated = frozenset(self._entity_list("negated_entities") or [])
        self._window = self._option("negation_window", int)
        self._max_chars = self._option("max_text_chars", int)
        if self._window < 0 or self._max_chars < 1:
            raise InvalidConfigException(f"{self.name}: 'negation_window' must be >= 0 and 'max_text_chars' >= 1.")
        wanted = self._entity_list("entities")
        self._entities = frozenset(wanted if wanted is not None else self._vocabulary.entities)

    def _carriers_path(self) -> Path | None:
        """The broad carrier list to load: the bundled one (null), none (false) or a path."""
        carriers_file = self._config["carriers_file"]
        if carriers_file is None:
            return DEFAULT_CARRIERS_FILE
        if carriers_file is False:
            return None
        if not isinstance(carriers_file, str) or not carriers_file:
            raise InvalidConfigException(
                f"{self.name}: 'carriers_file' must be a path, null (the bundled list) or false."
            )
        return Path(carriers_file)

    def _option(self, key: str, kind: type) -> Any:
        """Reads one typed option, refusing wrong types instead of misbehaving later."""
        value = self._config[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise InvalidConfigException(f"{self.name}: '{key}' must be {kind.__name__}.")
        return value

    def _entity_list(self, key: str) -> list[str] | None:
        """Reads a list of entity names that the vocabulary must know."""
        value = self._config[key]
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InvalidConfigException(f"{self.name}: '{key}' must be a list of entity names.")
        unknown = set(value) - set(self._vocabulary.entities)
        if unknown:
            raise InvalidConfigException(
                f"{self.name}: '{key}' names entities {sorted(unknown)} that the terms "
                f"file does not define ({', '.join(self._vocabulary.entities)})."
            )
        return value

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Passes training data through: the vocabulary needs no training."""
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Appends the clinic entities found in each message's text to its entities."""
        for message in messages:
            entities = self.add_extractor_name(self.extract(message.get(TEXT)))
            message.set(ENTITIES, message.get(ENTITIES, []) + entities, add_to_output=True)
        return messages

    def extract(self, text: str | None) -> list[dict[str, Any]]:
        """Returns Rasa entity dicts for one text; usable outside a pipeline (actions, tests)."""
        if not isinstance(text, str) or not text:
            return []
        if len(text) > self._max_chars:
            logger.debug("Message of %d characters read up to %d.", len(text), self._max_chars)
            text = text[: self._max_chars]
        entities = []
        for mention in self._vocabulary.find(text, self._typo_tolerance, self._window):
            if mention.entity not in self._entities:
                continue
            entity: dict[str, Any] = {
                ENTITY_ATTRIBUTE_TYPE: mention.entity,
                ENTITY_ATTRIBUTE_START: mention.start,
                ENTITY_ATTRIBUTE_END: mention.end,
                ENTITY_ATTRIBUTE_VALUE: mention.value,
                ENTITY_ATTRIBUTE_TEXT: mention.text,
            }
            if mention.negated and self._negation_role and mention.entity in self._negated:
                entity[ENTITY_ATTRIBUTE_ROLE] = self._negation_role
            entities.append(entity)
        return entities
