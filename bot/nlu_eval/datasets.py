"""The evaluation data: held-out and validation splits, the safety sets, the floors file.

Every message gets a stable id (``<file>#<n>``, or ``<file>:<group>#<n>``) so a
report can point at an example without quoting it: ids go to JSON reports and
test failures, texts only to the terminal.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, confloat, validator

from bot.settings import PROJECT_ROOT

NLU_TESTS = PROJECT_ROOT / "tests" / "nlu"
SAFETY_TESTS = PROJECT_ROOT / "tests" / "safety"
HELDOUT_DIR = NLU_TESTS / "heldout"
VALIDATION_DIR = NLU_TESTS / "validation"
TRAINING_DIR = PROJECT_ROOT / "data" / "nlu"
FLOORS_FILE = NLU_TESTS / "floors.yml"

# Message sets by the name the floors file uses for them.
EMERGENCY_SETS: dict[str, Path] = {
    "emergency_phrasings": SAFETY_TESTS / "emergency_phrasings.yml",
    "emergencies_firsthand": NLU_TESTS / "emergencies_firsthand.yml",
}
ORDINARY_SETS: dict[str, Path] = {
    "ordinary_messages": SAFETY_TESTS / "ordinary_messages.yml",
    "ordinary_symptoms": NLU_TESTS / "ordinary_symptoms.yml",
}


class DataError(ValueError):
    """An evaluation file is missing or not in the expected format."""


@dataclass(frozen=True)
class Example:
    """One test message: its id, its text and, for labelled splits, the gold intent."""

    id: str
    text: str
    intent: str | None = None
    group: str | None = None  # e.g. the red-flag category in emergency_phrasings.yml


def _read_yaml(path: Path) -> Any:
    """Reads a YAML file with the safe loader."""
    from ruamel.yaml import YAML

    if not path.is_file():
        raise DataError(f"{path.relative_to(PROJECT_ROOT)} does not exist.")
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


def load_labelled(directory: Path) -> list[Example]:
    """Every example of a split in Rasa NLU YAML (``*.yml`` in the folder), in file order."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    files = sorted(directory.glob("*.yml")) + sorted(directory.glob("*.yaml"))
    if not files:
        raise DataError(f"no *.yml files in {directory.relative_to(PROJECT_ROOT)}.")
    examples: list[Example] = []
    for path in files:
        data = RasaYAMLReader().read(str(path))
        for number, message in enumerate(data.intent_examples, start=1):
            examples.append(Example(f"{path.name}#{number}", str(message.get("text")), str(message.get("intent"))))
    return examples


def load_message_set(path: Path) -> list[Example]:
    """A ``version: 1`` file: a ``messages:`` list of strings, or lists by group (tests/safety/*.yml)."""
    data = _read_yaml(path)
    name = path.relative_to(PROJECT_ROOT)
    if not isinstance(data, dict):
        raise DataError(f"{name}: expected 'messages:' or lists by group.")
    if "messages" in data:
        if not isinstance(data["messages"], list):
            raise DataError(f"{name}: 'messages:' must be a list of strings.")
        return [Example(f"{path.name}#{n}", str(text)) for n, text in enumerate(data["messages"], start=1)]
    return [
        Example(f"{path.name}:{group}#{n}", str(text), group=str(group))
        for group, texts in data.items()
        if group != "version"
        for n, text in enumerate(texts or [], start=1)
    ]


def normalise(text: str) -> str:
    """The form two messages are compared in: case, accents, spacing and end punctuation ignored."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", folded).strip(" .!?,;:")


def training_texts(directory: Path = TRAINING_DIR) -> set[str]:
    """The normalised text of every training example in data/nlu."""
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

    texts: set[str] = set()
    for path in sorted(directory.rglob("*.yml")):
        data = RasaYAMLReader().read(str(path))
        texts.update(normalise(str(m.get("text"))) for m in data.intent_examples)
    return texts


def overlap(examples: Iterable[Example], texts: set[str]) -> list[str]:
    """Ids of the examples whose text is also in ``texts`` (a split that leaks into training)."""
    return [example.id for example in examples if normalise(example.text) in texts]


Share = confloat(ge=0.0, le=1.0)


class Floors(BaseModel):
    """What CI holds the assistant to (tests/nlu/test_quality_floors.py fails below these)."""

    intent_accuracy: Share  # type: ignore[valid-type]
    intent_recall: dict[str, Share] = Field(default_factory=dict)  # type: ignore[valid-type]
    red_flag_recall: dict[str, Share]  # type: ignore[valid-type]
    max_false_alarm_rate: dict[str, Share]  # type: ignore[valid-type]

    class Config:
        extra = "forbid"

    @validator("red_flag_recall")
    def _known_emergency_sets(cls, value: dict[str, float]) -> dict[str, float]:
        """Only the emergency sets this module knows."""
        unknown = set(value) - set(EMERGENCY_SETS)
        if unknown:
            raise ValueError(f"unknown emergency sets {sorted(unknown)}; known: {sorted(EMERGENCY_SETS)}")
        return value

    @validator("max_false_alarm_rate")
    def _known_ordinary_sets(cls, value: dict[str, float]) -> dict[str, float]:
        """Only the ordinary-message sets this module knows."""
        unknown = set(value) - set(ORDINARY_SETS)
        if unknown:
            raise ValueError(f"unknown ordinary sets {sorted(unknown)}; known: {sorted(ORDINARY_SETS)}")
        return value


class Targets(BaseModel):
    """The issue's goals: printed by ``python -m bot.nlu_eval targets``, never a test."""

    intent_accuracy: Share  # type: ignore[valid-type]
    intent_recall: dict[str, Share] = Field(default_factory=dict)  # type: ignore[valid-type]
    symptoms_911_rate_max: Share  # type: ignore[valid-type]
    symptoms_offer_rate_min: Share  # type: ignore[valid-type]
    parse_ms_mean_max: float = Field(gt=0)
    training_seconds_max: float = Field(gt=0)

    class Config:
        extra = "forbid"


class FloorsFile(BaseModel):
    """tests/nlu/floors.yml: the one place where the quality floors and targets are written."""

    version: int
    floors: Floors
    targets: Targets

    class Config:
        extra = "forbid"


def load_floors(path: Path = FLOORS_FILE) -> FloorsFile:
    """Reads and checks the floors file."""
    from pydantic import ValidationError

    try:
        return FloorsFile.parse_obj(_read_yaml(path))
    except ValidationError as error:
        raise DataError(f"{path.relative_to(PROJECT_ROOT)}: {error}") from error
