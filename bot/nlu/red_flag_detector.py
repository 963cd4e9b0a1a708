"""Rasa graph component: the rule-based red-flag check on every message.

A patient who types "my chest hurts and my left arm is numb" in the middle of a
booking form must get emergency advice, whatever the intent classifier makes
of the sentence. This component runs `bot.safety.red_flags` (phrases staff edit
in `bot/safety/red_flags.yml`) on every parsed message and, on a red flag,
overrides the classifier's verdict, `nlu_fallback` included. Because Rasa parses
every user message with the whole NLU pipeline, the check runs in every
dialogue state, inside forms too.

Pipeline entry: LAST among the intent classifiers, after FallbackClassifier::

    - name: LogisticRegressionClassifier
    - name: FallbackClassifier
      threshold: 0.3
    - name: bot.nlu.red_flag_detector.RedFlagDetector
      # every option is optional; these are the defaults
      rules_file: null            # null: the bundled bot/safety/red_flags.yml
      intent: report_emergency    # the intent a red flag forces
      entity: red_flag            # the entity that carries the category
      max_text_chars: 100000      # longer messages are read up to this length

Why after FallbackClassifier: Rasa runs intent classifiers in pipeline order,
each seeing the verdict of those before it, and FallbackClassifier replaces a
low-confidence or ambiguous verdict by `nlu_fallback`. Placed after it, this
component sees the final verdict and is the last word: a red flag always ends
as the emergency intent, however unsure the classifier was.

On a red flag the message gets:

- `intent`: `{"name": "report_emergency", "confidence": 1.0}`, and the same at
  the top of `intent_ranking`; the classifier's ranking stays below it (minus
  its own `report_emergency` entry), so nothing it said is lost;
- an entity `{"entity": "red_flag", "value": "medical" | "crisis", "start",
  "end", "text", "extractor": "RedFlagDetector"}` over the first matching
  words, so rules and stories can tell a crisis (988-style support, a person)
  from a medical emergency (call 911). The domain must declare the entity;
- `red_flag` in the parse data: `{"category", "flags", "negated",
  "not_current", "classifier_intent"}`, flag ids only (never message text), for
  logs, the tracker and `python -m bot.safety.evaluate`.

No downgrade, by design: when the classifier predicts `report_emergency` and
the rule check finds nothing, or finds every symptom negated ("no chest pain,
just need an appt"), the classifier's verdict stands (safety first: a false
alarm costs a reassuring message). `red_flag` then records what was negated,
and no `red_flag` entity is added; the dialogue should treat
`report_emergency` without the entity as a medical emergency.

Training data passes through unchanged: the rules need no training.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TEXT,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.safety.red_flags import RedFlagMatcher, RedFlagResult, RedFlagRulesError

logger = logging.getLogger(__name__)

RED_FLAG_KEY = "red_flag"


class RedFlagConfigError(InvalidConfigException):
    """The component's options or rules file are wrong; raised at model load, not per message."""


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class RedFlagDetector(GraphComponent, IntentClassifier):
    """Forces the emergency intent, with a `red_flag` entity, when a red-flag rule matches."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The defaults; see the module docstring for what each option does."""
        return {
            "rules_file": None,
            "intent": "report_emergency",
            "entity": "red_flag",
            "max_text_chars": 100_000,
        }

    @staticmethod
    def supported_languages() -> list[str] | None:
        """Any: the rules carry English and Spanish phrases, whatever the pipeline's language."""
        return None

    @staticmethod
    def required_packages() -> list[str]:
        """spaCy provides the rule matchers."""
        return ["spacy"]

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RedFlagDetector:
        """Builds the component; the rules compile here so a bad rules file fails at load."""
        return cls(config)

    def __init__(self, config: dict[str, Any]) -> None:
        """Checks the options and loads the (cached) compiled rules."""
        self._config = {**self.get_default_config(), **config}
        for key in ("intent", "entity"):
            if not isinstance(self._config[key], str) or not self._config[key]:
                raise RedFlagConfigError(f"{self.__class__.__name__}: '{key}' must be a name.")
        self._intent: str = self._config["intent"]
        self._entity: str = self._config["entity"]
        max_chars = self._config["max_text_chars"]
        if not isinstance(max_chars, int) or isinstance(max_chars, bool) or max_chars < 1:
            raise RedFlagConfigError(f"{self.__class__.__name__}: 'max_text_chars' must be a whole number >= 1.")
        self._max_chars: int = max_chars
        rules_file = self._config["rules_file"]
        if rules_file is not None and not isinstance(rules_file, str):
            raise RedFlagConfigError(f"{self.__class__.__name__}: 'rules_file' must be a path.")
        try:
            self._matcher = RedFlagMatcher.load(Path(rules_file)) if rules_file else self.bundled_rules()
        except RedFlagRulesError as error:
            raise RedFlagConfigError(str(error)) from error

    def _force(self, message: Message, value: str | None, span: tuple[int, int] | None, text: str) -> None:
        """Put this component's intent on top of the ranking (the classifier's stays below) and add its entity."""
        forced = {INTENT_NAME_KEY: self._intent, PREDICTED_CONFIDENCE_KEY: 1.0}
        ranking = [
            dict(entry) for entry in message.get(INTENT_RANKING_KEY) or [] if entry.get(INTENT_NAME_KEY) != self._intent
        ]
        message.set(INTENT, forced, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [dict(forced)] + ranking, add_to_output=True)
        start, end = span if span is not None else (0, len(text))
        entity = {
            ENTITY_ATTRIBUTE_TYPE: self._entity,
            ENTITY_ATTRIBUTE_START: start,
            ENTITY_ATTRIBUTE_END: end,
            ENTITY_ATTRIBUTE_VALUE: value,
            ENTITY_ATTRIBUTE_TEXT: text[start:end],
            EXTRACTOR: self.__class__.__name__,
        }
        message.set(ENTITIES, (message.get(ENTITIES) or []) + [entity], add_to_output=True)

    @staticmethod
    def bundled_rules() -> RedFlagMatcher:
        """The rules used when ``rules_file`` is not set: bot/safety/red_flags.yml."""
        return RedFlagMatcher.default()

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Passes training data through: the rules need no training."""
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Checks each message and, on a red flag, forces the emergency intent and entity."""
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text.strip():
                continue
            result = self._matcher.detect(text, self._max_chars)
            if result.category is None and not result.negated and not result.not_current:
                continue
            original = message.get(INTENT)
            message.set(RED_FLAG_KEY, self._details(result, original), add_to_output=True)
            if result.category is not None:
                self._override(message, result, text, original)
        return messages

    @staticmethod
    def _details(result: RedFlagResult, original: dict[str, Any] | None) -> dict[str, Any]:
        """What the check found, by flag id only, plus the classifier's own verdict."""
        return {
            "category": result.category,
            "flags": list(result.matched_phrase_ids),
            "negated": list(result.negated),
            "not_current": list(result.not_current),
            "classifier_intent": dict(original) if isinstance(original, dict) else None,
        }

    def _override(
        self,
        message: Message,
        result: RedFlagResult,
        text: str,
        original: dict[str, Any] | None,
    ) -> None:
        """Sets the emergency intent on top of the ranking and adds the category entity."""
        self._force(message, result.category, result.span, text)
        logger.info(
            "Red flag %s (%s): intent %s overridden by %s.",
            result.category,
            ", ".join(result.matched_phrase_ids),
            (original or {}).get(INTENT_NAME_KEY),
            self._intent,
        )
