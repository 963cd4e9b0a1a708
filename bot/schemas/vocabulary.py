"""The clinic vocabulary files (``bot/nlu/clinic_terms.yml``, ``bot/nlu/us_insurers.yml``) as schemas.

The schemas check the shape and the codes; folding, alias ownership and typo
words are checked when the vocabulary compiles.
"""

from __future__ import annotations

import re

from pydantic import Field, validator

from bot.schemas.base import FileModel

SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
Phrases = list[str]


class TermValue(FileModel):
    """One canonical value (the code actions receive) and the ways patients say it."""

    name: str | None = Field(None, description="for people reading the file; the bot does not use it")
    aliases: Phrases = []
    typos: Phrases = Field([], description="words of 4+ letters where one slip is still understood")


class TermEntity(FileModel):
    """An entity the assistant extracts (provider, visit_type, insurance)."""

    titles: Phrases = Field([], description='provider only: "dr patel" also matches with every other title')
    ignore: Phrases = []
    values: dict[str, TermValue]

    @validator("values")
    def _value_codes(cls, values: dict[str, TermValue]) -> dict[str, TermValue]:
        """Values are codes the actions use."""
        for code in values:
            if not SNAKE.match(code):
                raise ValueError(f"value {code!r} must be lower_snake_case")
        return values


class TermNegation(FileModel):
    """Cues that give a provider mention the role "not", and words that break them."""

    cues: Phrases = []
    breakers: Phrases = []


class ClinicTermsFile(FileModel):
    """The clinic's own words for its providers, visit types and insurance plans."""

    version: int | None = None
    entities: dict[str, TermEntity]
    not_typos: Phrases = []
    negation: TermNegation = TermNegation()

    @validator("entities")
    def _entity_names(cls, entities: dict[str, TermEntity]) -> dict[str, TermEntity]:
        """Entity names are codes."""
        for name in entities:
            if not SNAKE.match(name):
                raise ValueError(f"entity name {name!r} must be lower_snake_case")
        return entities


class InsurersFile(FileModel):
    """US carriers and plans as patients write them: name -> other spellings."""

    version: int | None = None
    carriers: dict[str, Phrases | None] = Field(description="the carrier's name patients read: its other spellings")
    typos: Phrases = []
    not_typos: Phrases = []
    ignore: Phrases = Field([], description="phrases with a carrier's word that are not about insurance")
