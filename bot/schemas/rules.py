"""The phrase-rule files (``bot/safety/red_flags.yml``, ``bot/safety/medical_advice.yml``) as a schema.

The schema checks the shape (sections, keys, lists, windows, categories); the
pattern language inside the phrases is checked when the rules compile.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pydantic import Field, root_validator, validator

from bot.schemas.base import FileModel

SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
DEFAULT_CATEGORIES = ("crisis", "medical")  # red flags' priority order when a file declares none

if TYPE_CHECKING:
    Window = int
    MinLength = int
else:
    from pydantic import conint

    Window = conint(strict=True, ge=0, le=20)
    MinLength = conint(strict=True, ge=4, le=30)

Phrases = list[str]


class Flag(FileModel):
    """One flag: its category and the phrases that raise it."""

    category: str
    description: str | None = None
    patterns: Phrases = Field(
        [], description="phrases in the rule language: words, a|b, (x y|z), @list, w?, pre*, ...N"
    )
    alone: Phrases = Field([], description="plain phrases that raise the flag only when they are the whole message")


class Negation(FileModel):
    """Cues that negate a match ("no chest pain") and what stops them."""

    window: Window = 5
    cues: Phrases = []
    pseudo_before: Phrases = []
    pseudo_after: Phrases = []
    pseudo_after_window: Window = 3
    breakers: Phrases = []


class History(FileModel):
    """Phrases that make a match past history ("had a seizure last year") unless something says now."""

    applies_to: list[str] = []
    before_window: Window = 5
    after_window: Window = 4
    before: Phrases = []
    after: Phrases = []
    acute: Phrases = []


class Typos(FileModel):
    """Long words a one-letter slip may be read as, and real words that are never slips."""

    min_length: MinLength = 6
    words: Phrases = []
    not_typos: Phrases = []


class RuleFile(FileModel):
    """A phrase-rule file: word lists, flags, and the negation, history, spelling and typo settings."""

    version: int | None = None
    categories: list[str] = Field([], description="the file's categories, highest priority first")
    words: dict[str, Phrases] = Field({}, description="named word lists, used in patterns as @name")
    flags: dict[str, Flag]
    ignore: Phrases = []
    negation: Negation = Negation()
    history: History = History()
    gap_stops: Phrases = []
    alone_fillers: Phrases = []
    spellings: dict[str, str] = Field({}, description="variant: the one word it is read as")
    typos: Typos = Typos()

    @validator("categories", each_item=True)
    def _category_name(cls, name: str) -> str:
        """Categories are codes."""
        if not SNAKE.match(name):
            raise ValueError("categories must be lower_snake_case names")
        return name

    @validator("words")
    def _word_lists(cls, words: dict[str, list[str]]) -> dict[str, list[str]]:
        """Lists have lower_snake_case names, hold words, and never refer to another list."""
        for name, entries in words.items():
            if not SNAKE.match(name):
                raise ValueError(f"word list name {name!r} must be lower_snake_case")
            if not entries or not all(entry.strip() for entry in entries):
                raise ValueError(f"words.{name} must be a list of words")
            if any(entry.strip().startswith("@") for entry in entries):
                raise ValueError(f"words.{name} cannot refer to another list")
        return words

    @validator("flags")
    def _flag_ids(cls, flags: dict[str, Flag]) -> dict[str, Flag]:
        """At least one flag, each with a lower_snake_case id."""
        if not flags:
            raise ValueError("no flags defined")
        for flag_id in flags:
            if not SNAKE.match(flag_id):
                raise ValueError(f"flag id {flag_id!r} must be lower_snake_case")
        return flags

    @root_validator(skip_on_failure=True)
    def _known_categories(cls, values: dict[str, Any]) -> dict[str, Any]:
        """Flags and history name only the file's categories."""
        categories = list(values["categories"] or DEFAULT_CATEGORIES)
        for flag_id, flag in values["flags"].items():
            if flag.category not in categories:
                raise ValueError(f"flags.{flag_id}: needs a category of {categories}, not {flag.category!r}")
        unknown = set(values["history"].applies_to) - set(categories)
        if unknown:
            raise ValueError(f"history.applies_to has unknown {sorted(unknown)}")
        return values

    @property
    def priority(self) -> tuple[str, ...]:
        """The categories, highest priority first."""
        return tuple(self.categories) or DEFAULT_CATEGORIES
