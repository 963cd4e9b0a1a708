"""CI fails when understanding regresses below the floors in tests/nlu/floors.yml.

The trained model (models/clinic.tar.gz, trained first when missing or stale,
as `make test` does) parses the held-out split and the safety sets through its
whole NLU pipeline once per run; each test holds one kind of figure to its
floors. Figures and definitions come from `bot.nlu_eval` (what `make eval`
prints with the message texts); failures here list example ids only, because
CI logs must not carry message texts.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.nlu_eval.datasets import EMERGENCY_SETS, ORDINARY_SETS, FloorsFile, load_floors
from bot.nlu_eval.metrics import Evaluation, check_floors, evaluate, failure_summary, load_eval_data
from bot.nlu_eval.model import NluModel, ensure_model

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def floors() -> FloorsFile:
    """The floors file, checked against its schema."""
    return load_floors()


@pytest.fixture(scope="module")
def evaluation() -> Iterator[Evaluation]:
    """One evaluation of the project's model on every set, shared by the tests of this module."""
    model = NluModel(ensure_model())
    try:
        yield evaluate(model, load_eval_data())
    finally:
        model.close()


def assert_floors(evaluation: Evaluation, floors: FloorsFile, kind: str) -> None:
    """Every floor of one kind is met; otherwise the figures and worst confusions are the message."""
    checks = [check for check in check_floors(evaluation, floors.floors) if check.kind == kind]
    assert checks, f"tests/nlu/floors.yml sets no {kind} floor"
    failed = [check.name for check in checks if not check.ok]
    assert not failed, f"Below the {kind} floor: {', '.join(failed)}\n" + failure_summary(evaluation, checks)


def test_every_evaluation_set_is_present(evaluation: Evaluation) -> None:
    """The held-out split, the validation split and the four safety sets exist and parse."""
    assert not evaluation.problems, "\n".join(evaluation.problems)
    assert evaluation.heldout is not None and evaluation.heldout.total > 0
    assert set(evaluation.emergency) == set(EMERGENCY_SETS)
    assert set(evaluation.ordinary) == set(ORDINARY_SETS)


def test_floors_cover_both_emergency_sets_and_both_ordinary_sets(floors: FloorsFile) -> None:
    """No set escapes its floor, and the safety floors are never loosened past the issue's limits."""
    assert set(floors.floors.red_flag_recall) == set(EMERGENCY_SETS)
    assert set(floors.floors.max_false_alarm_rate) == set(ORDINARY_SETS)
    assert all(value == 1.0 for value in floors.floors.red_flag_recall.values())
    assert all(value <= 0.02 for value in floors.floors.max_false_alarm_rate.values())


def test_the_validation_split_is_apart_from_the_test_split(evaluation: Evaluation) -> None:
    """The threshold is chosen on validation messages that are not also test messages."""
    shared = evaluation.leaks["validation in held-out split"]
    assert not shared, f"validation examples also in the held-out split: {', '.join(shared[:20])}"


def test_intent_accuracy_on_the_held_out_split(evaluation: Evaluation, floors: FloorsFile) -> None:
    """Overall intent accuracy on messages never trained on."""
    assert_floors(evaluation, floors, "intent accuracy")


def test_recall_of_single_intents(evaluation: Evaluation, floors: FloorsFile) -> None:
    """Intents with a floor of their own (out_of_scope, greet) are understood."""
    assert_floors(evaluation, floors, "intent recall")


def test_every_emergency_gets_the_911_or_crisis_answer_from_the_rules(
    evaluation: Evaluation, floors: FloorsFile
) -> None:
    """Red-flag recall on both emergency sets, counting only the rules' outright answer."""
    assert_floors(evaluation, floors, "red-flag recall")


def test_ordinary_messages_rarely_get_the_911_answer(evaluation: Evaluation, floors: FloorsFile) -> None:
    """False alarms on ordinary messages and ordinary symptom descriptions."""
    assert_floors(evaluation, floors, "false alarms")
