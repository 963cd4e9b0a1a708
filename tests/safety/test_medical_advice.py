"""The no-medical-advice rule check (bot/safety/medical_advice.py and its YAML)."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from bot.safety.medical_advice import detect_medical_advice
from bot.safety.red_flags import RedFlagMatcher, RedFlagRulesError

PHRASINGS = Path(__file__).with_name("medical_advice_phrasings.yml")


def _phrasings() -> dict[str, list[str]]:
    data = YAML(typ="safe", pure=True).load(PHRASINGS.read_text(encoding="utf-8"))
    return {key: [str(t) for t in value] for key, value in data.items() if isinstance(value, list)}


SETS = _phrasings()


@pytest.mark.parametrize("text", SETS["advice"])
def test_medical_questions_are_caught(text: str) -> None:
    assert detect_medical_advice(text).kind == "advice"


@pytest.mark.parametrize("text", SETS["urgent"])
def test_urgent_medical_questions_are_urgent(text: str) -> None:
    assert detect_medical_advice(text).kind == "urgent"


@pytest.mark.parametrize("text", SETS["not_advice"])
def test_clinic_messages_are_not_medical_questions(text: str) -> None:
    assert detect_medical_advice(text).kind is None


def test_urgency_words_alone_are_not_a_question() -> None:
    assert detect_medical_advice("it's urgent, i need an appointment today").kind is None


def test_the_result_names_rules_never_words() -> None:
    result = detect_medical_advice("can i take advil with my xanax")
    assert result.flags == ("take_or_not",)
    assert result.span is not None and result.asks_for_advice


def test_a_rules_file_with_an_undeclared_category_is_refused(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yml"
    rules.write_text(
        "version: 1\ncategories: [advice]\nflags:\n  x:\n    category: urgent\n    patterns: ['dose']\n",
        encoding="utf-8",
    )
    with pytest.raises(RedFlagRulesError, match="category"):
        RedFlagMatcher.load(rules)
