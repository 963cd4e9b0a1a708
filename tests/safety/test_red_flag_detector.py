"""The Rasa component: a red flag overrides any intent, nlu_fallback included, on every message.

Unit tests drive `process` the way Rasa's graph does; the last tests train a
tiny NLU model (WhitespaceTokenizer, CountVectorsFeaturizer,
LogisticRegressionClassifier, FallbackClassifier, RedFlagDetector) in a temp
folder and parse through `Agent`, proving the component registers, runs after
the fallback classifier and wins over it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.red_flag_detector import RedFlagDetector
from tests.safety.helpers import train_tiny_model


def build(tmp_path: Path, **config: Any) -> RedFlagDetector:
    """Creates the component the way Rasa's graph does: defaults merged with the config."""
    return RedFlagDetector.create(
        {**RedFlagDetector.get_default_config(), **config},
        LocalModelStorage(tmp_path),
        Resource("red_flag_detector"),
        ExecutionContext(GraphSchema({}), "test-model"),
    )


@pytest.fixture(scope="module")
def detector(tmp_path_factory: pytest.TempPathFactory) -> RedFlagDetector:
    """One component with the default config and the bundled rules."""
    return build(tmp_path_factory.mktemp("storage"))


def classified(
    text: str,
    intent: str = "book_appointment",
    confidence: float = 0.8,
    entities: list[dict[str, Any]] | None = None,
) -> Message:
    """A message as it leaves the classifiers: intent, ranking and maybe entities set."""
    ranking = [
        {"name": intent, "confidence": confidence},
        {"name": "greet", "confidence": round(1 - confidence, 3)},
    ]
    data: dict[str, Any] = {"text": text, "intent": {"name": intent, "confidence": confidence}}
    data["intent_ranking"] = ranking
    if entities is not None:
        data["entities"] = entities
    return Message(data=data)


def run(detector: RedFlagDetector, message: Message) -> Message:
    """Runs `process` on one message."""
    [processed] = detector.process([message])
    return processed


def test_a_medical_red_flag_overrides_the_intent_and_adds_the_entity(
    detector: RedFlagDetector,
) -> None:
    """The classifier said booking; the rule check makes it an emergency and says which kind."""
    text = "hi, i need an appointment but my chest hurts really bad right now"
    message = run(detector, classified(text))
    assert message.get("intent") == {"name": "report_emergency", "confidence": 1.0}
    assert message.get("intent_ranking") == [
        {"name": "report_emergency", "confidence": 1.0},
        {"name": "book_appointment", "confidence": 0.8},
        {"name": "greet", "confidence": 0.2},
    ]
    [entity] = message.get("entities")
    assert entity == {
        "entity": "red_flag",
        "start": 33,
        "end": 44,
        "value": "medical",
        "text": "chest hurts",
        "extractor": "RedFlagDetector",
    }
    assert text[entity["start"] : entity["end"]] == entity["text"]
    assert message.get("red_flag") == {
        "category": "medical",
        "flags": ["chest_pain"],
        "negated": [],
        "not_current": [],
        "classifier_intent": {"name": "book_appointment", "confidence": 0.8},
    }
    output = message.as_dict(only_output_properties=True)
    assert {"intent", "intent_ranking", "entities", "red_flag"} <= set(output)


def test_a_crisis_is_told_apart_from_a_medical_emergency(detector: RedFlagDetector) -> None:
    """The entity value lets the dialogue answer a crisis differently."""
    message = run(detector, classified("i don't want to be here anymore", "deny", 0.9))
    assert message.get("intent")["name"] == "report_emergency"
    assert [(e["entity"], e["value"]) for e in message.get("entities")] == [("red_flag", "crisis")]


def test_nlu_fallback_is_overridden(detector: RedFlagDetector) -> None:
    """A low-confidence message that the fallback classifier gave up on is still an emergency."""
    message = run(detector, classified("cant breath", "nlu_fallback", 0.3))
    assert message.get("intent") == {"name": "report_emergency", "confidence": 1.0}
    assert message.get("intent_ranking")[1]["name"] == "nlu_fallback"
    assert message.get("red_flag")["classifier_intent"]["name"] == "nlu_fallback"


def test_the_classifiers_own_emergency_entry_is_not_repeated(detector: RedFlagDetector) -> None:
    """When the classifier already ranked report_emergency, the ranking holds it once, on top."""
    message = run(detector, classified("my throat is closing", "report_emergency", 0.7))
    names = [entry["name"] for entry in message.get("intent_ranking")]
    assert names == ["report_emergency", "greet"]


def test_a_negated_symptom_does_not_downgrade_the_classifier(detector: RedFlagDetector) -> None:
    """Safety first: the rules never take an emergency away; they only record what was negated."""
    message = run(detector, classified("no chest pain, just need an appt", "report_emergency", 0.6))
    assert message.get("intent") == {"name": "report_emergency", "confidence": 0.6}
    assert message.get("entities") is None
    assert message.get("red_flag")["negated"] == ["chest_pain"]
    assert message.get("red_flag")["category"] is None


def test_an_ordinary_message_is_left_alone(detector: RedFlagDetector) -> None:
    """No red flag, no negated flag: the message leaves exactly as it came."""
    before = classified("results of my chest x-ray", "ask_test_results", 0.9)
    expected = dict(before.data)
    message = run(detector, before)
    assert message.data == expected


def test_entities_from_earlier_extractors_are_kept(detector: RedFlagDetector) -> None:
    """The red_flag entity is appended to what other extractors found."""
    earlier = {"entity": "provider", "start": 0, "end": 6, "value": "kim", "extractor": "X"}
    message = run(detector, classified("dr kim, my son is having a seizure", entities=[earlier]))
    assert message.get("entities")[0] == earlier
    assert message.get("entities")[1]["value"] == "medical"


@pytest.mark.parametrize("text", ["", "   ", None, "\U0001f642"])
def test_empty_or_missing_text_is_passed_through(detector: RedFlagDetector, text: Any) -> None:
    """Odd input never raises and is never flagged."""
    message = run(detector, Message(data={"text": text}))
    assert message.get("intent") is None and message.get("entities") is None


def test_a_message_without_a_classifier_verdict_still_gets_the_intent(
    detector: RedFlagDetector,
) -> None:
    """Even in a pipeline with no classifier before it, a red flag sets the intent."""
    message = run(detector, Message(data={"text": "i want to kill myself"}))
    assert message.get("intent") == {"name": "report_emergency", "confidence": 1.0}
    assert message.get("intent_ranking") == [{"name": "report_emergency", "confidence": 1.0}]


def test_a_batch_is_processed_message_by_message(detector: RedFlagDetector) -> None:
    """Each message of a batch gets its own verdict."""
    texts = ["hello", "he's not breathing", "book me in"]
    processed = detector.process([classified(t, "greet", 0.9) for t in texts])
    assert [m.get("intent")["name"] for m in processed] == ["greet", "report_emergency", "greet"]


def test_training_data_passes_through_untouched(detector: RedFlagDetector) -> None:
    """Nothing to learn: training data goes through as it came."""
    data = TrainingData([Message(data={"text": "i can't breathe", "intent": "report_emergency"})])
    assert detector.process_training_data(data) is data
    assert data.training_examples[0].get("entities") is None


def test_options_rename_the_intent_and_entity_and_bound_the_text(tmp_path: Path) -> None:
    """Intent and entity names and the read limit come from the config."""
    custom = build(tmp_path, intent="emergency", entity="danger", max_text_chars=30)
    message = run(custom, classified("i can't breathe"))
    assert message.get("intent")["name"] == "emergency"
    assert message.get("entities")[0]["entity"] == "danger"
    late = run(custom, classified("x " * 20 + "i can't breathe"))
    assert late.get("intent")["name"] == "book_appointment"


def test_a_custom_rules_file_is_used(tmp_path: Path) -> None:
    """Staff can point the component at their own rules file."""
    rules = tmp_path / "rules.yml"
    rules.write_text(
        "flags:\n  fall:\n    category: medical\n    patterns: [fell down the stairs]\n",
        encoding="utf-8",
    )
    component = build(tmp_path, rules_file=str(rules))
    assert run(component, classified("grandpa fell down the stairs")).get("intent")["name"] == ("report_emergency")
    assert run(component, classified("my chest hurts")).get("intent")["name"] == "book_appointment"


@pytest.mark.parametrize(
    "config",
    [
        {"intent": ""},
        {"entity": 3},
        {"max_text_chars": 0},
        {"max_text_chars": True},
        {"rules_file": 5},
        {"rules_file": "/nonexistent/red_flags.yml"},
    ],
)
def test_bad_config_fails_at_load(tmp_path: Path, config: dict[str, Any]) -> None:
    """A wrong option or rules file stops the model from loading instead of silently missing."""
    with pytest.raises(InvalidConfigException):
        build(tmp_path, **config)


# ------------------------------------------------------------------- inside Rasa


@pytest.fixture(scope="module")
def trained_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A model whose fallback threshold lets the classifier's verdict through."""
    return train_tiny_model(tmp_path_factory.mktemp("rasa_project"), 0.3)


@pytest.fixture(scope="module")
def fallback_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A model whose fallback threshold is so high that the classifier always gives up."""
    return train_tiny_model(tmp_path_factory.mktemp("rasa_project_fallback"), 0.99)


async def parse(model: str, text: str) -> dict[str, Any]:
    """Parses one message through the trained model, as the Rasa server does."""
    from rasa.core.agent import Agent

    return await Agent.load(model).parse_message(text)


@pytest.mark.model
async def test_inside_rasa_a_red_flag_wins_over_the_classifier(trained_model: str) -> None:
    """The tiny classifier reads a booking; the parse result is the emergency, with its entity."""
    text = "I want to book an appointment, my chest hurts and my left arm is numb"
    parsed = await parse(trained_model, text)
    assert parsed["red_flag"]["classifier_intent"]["name"] == "book_appointment"
    assert parsed["intent"] == {"name": "report_emergency", "confidence": 1.0}
    assert [(e["entity"], e["value"], e["extractor"]) for e in parsed["entities"]] == [
        ("red_flag", "medical", "RedFlagDetector")
    ]

    parsed = await parse(trained_model, "my chest hurts and my left arm is numb")
    assert parsed["red_flag"]["classifier_intent"]["name"] != "report_emergency"
    assert parsed["intent"]["name"] == "report_emergency"
    assert parsed["entities"][0]["value"] == "medical"


@pytest.mark.model
async def test_inside_rasa_ordinary_messages_keep_the_classifiers_intent(
    trained_model: str,
) -> None:
    """Without a red flag the component changes nothing."""
    parsed = await parse(trained_model, "I want to book an appointment")
    assert parsed["intent"]["name"] == "book_appointment"
    assert parsed["entities"] == []
    assert "red_flag" not in parsed


@pytest.mark.model
async def test_inside_rasa_nlu_fallback_is_overridden(fallback_model: str) -> None:
    """When FallbackClassifier has given up, a red flag still ends as report_emergency."""
    ordinary = await parse(fallback_model, "I want to book an appointment")
    assert ordinary["intent"]["name"] == "nlu_fallback"

    parsed = await parse(fallback_model, "my chest hurts and my left arm is numb")
    assert parsed["red_flag"]["classifier_intent"]["name"] == "nlu_fallback"
    assert parsed["intent"] == {"name": "report_emergency", "confidence": 1.0}
    assert parsed["intent_ranking"][1]["name"] == "nlu_fallback"
    assert [(e["entity"], e["value"]) for e in parsed["entities"]] == [("red_flag", "medical")]

    crisis = await parse(fallback_model, "i want to end my life")
    assert crisis["intent"]["name"] == "report_emergency"
    assert crisis["entities"][0]["value"] == "crisis"
