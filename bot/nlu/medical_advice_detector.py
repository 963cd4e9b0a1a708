"""Rasa graph component: questions asking for a diagnosis, a dose or whether to take a drug.

The assistant must never answer those, whatever the classifier thinks they are
(a dose question reads much like an after-visit question). This component runs
``bot.safety.medical_advice`` (rules staff edit in ``bot/safety/medical_advice.yml``)
on every parsed message and, when it matches, sets the intent
``ask_medical_advice`` with an entity ``medical_advice`` of value ``advice`` or
``urgent``. The intent has no training examples: only these rules produce it,
so what counts as a medical question is predictable and editable.

Pipeline entry: after FallbackClassifier and BEFORE the RedFlagDetector, so a
red flag still wins ("chest pain, should I take aspirin?" is an emergency)::

    - name: FallbackClassifier
    - name: bot.nlu.medical_advice_detector.MedicalAdviceDetector
    - name: bot.nlu.red_flag_detector.RedFlagDetector

Safety first: a medical question the classifier calls ``report_emergency``
(and no red-flag rule matched) is answered as an urgent one (nurse line, and
911 if it feels like an emergency) rather than dropped to a plain answer
(``urgent_when``). And a plain (not urgent) question the classifier is
confident is about the patient's own visit ("how often should I use the
inhaler she gave me", ``ask_next_steps``) keeps that intent, because the
clinician's own instructions answer it (``defer_to``, ``defer_confidence``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.red_flag_detector import RedFlagConfigError, RedFlagDetector
from bot.safety.medical_advice import RULES_FILE, detect_medical_advice
from bot.safety.red_flags import RedFlagMatcher

MEDICAL_ADVICE_KEY = "medical_advice"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class MedicalAdviceDetector(RedFlagDetector):
    """Forces ``ask_medical_advice`` (entity ``medical_advice``: advice or urgent) on a medical question."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The defaults; see the module docstring."""
        return {
            "rules_file": None,
            "intent": "ask_medical_advice",
            "entity": "medical_advice",
            "max_text_chars": 100_000,
            "defer_to": ["ask_next_steps", "ask_test_results", "request_refill"],
            "defer_confidence": 0.6,
            "urgent_when": ["report_emergency"],
        }

    def __init__(self, config: dict[str, Any]) -> None:
        """Checks the extra options on top of the red-flag detector's."""
        super().__init__(config)
        defer_to = self._config["defer_to"]
        urgent_when = self._config["urgent_when"]
        for key, value in (("defer_to", defer_to), ("urgent_when", urgent_when)):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise RedFlagConfigError(f"{self.__class__.__name__}: '{key}' must be a list of intents.")
        confidence = self._config["defer_confidence"]
        if not isinstance(confidence, (int, float)) or not 0 <= confidence <= 1:
            raise RedFlagConfigError(f"{self.__class__.__name__}: 'defer_confidence' must be from 0 to 1.")
        self._defer_to = set(defer_to)
        self._urgent_when = set(urgent_when)
        self._defer_confidence = float(confidence)

    @staticmethod
    def bundled_rules() -> RedFlagMatcher:
        """The rules used when ``rules_file`` is not set: bot/safety/medical_advice.yml."""
        return RedFlagMatcher.load(Path(RULES_FILE))

    def process(self, messages: list[Message]) -> list[Message]:
        """Checks each message and, on a medical question, sets the intent and entity."""
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text.strip():
                continue
            original = message.get(INTENT) or {}
            name = original.get(INTENT_NAME_KEY)
            result = detect_medical_advice(text, self._matcher, self._max_chars)
            if result.kind is None:
                continue
            kind = "urgent" if name in self._urgent_when else result.kind
            message.set(
                MEDICAL_ADVICE_KEY,
                {"kind": kind, "flags": list(result.flags), "classifier_intent": dict(original) or None},
                add_to_output=True,
            )
            confident = float(original.get(PREDICTED_CONFIDENCE_KEY) or 0.0) >= self._defer_confidence
            if kind == "advice" and name in self._defer_to and confident:
                continue
            self._force(message, kind, result.span, text)
        return messages
