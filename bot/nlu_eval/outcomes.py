"""What one parse means for the patient, and what it would be at another fallback threshold.

A parse is the dict ``Agent.parse_message`` returns for the whole NLU pipeline
(classifier, FallbackClassifier, medical-advice rules, red-flag rules). The
answer follows from it the way the rules in ``data/rules/`` and
``actions/safety.py`` act on it (see DESIGN.md, "NLU intents"):

- ``report_emergency`` with a ``red_flag`` entity: the 911 answer (``medical``)
  or the crisis answer, 988 and 911 (``crisis``): the red-flag RULES fired;
- ``report_emergency`` without it: only the classifier said so, and the
  patient gets a check question (911 advice stated conditionally);
- ``ask_medical_advice``: the care-team answer (message the care team, book, call);
- ``describe_symptoms`` or ``book_appointment``: an offer to book;
- ``nlu_fallback`` or ``out_of_scope``: "here is what I can do".
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any

EMERGENCY_INTENT = "report_emergency"
MEDICAL_ADVICE_INTENT = "ask_medical_advice"
FALLBACK_INTENT = "nlu_fallback"
OUT_OF_SCOPE_INTENT = "out_of_scope"
RED_FLAG_ENTITY = "red_flag"
MEDICAL_ADVICE_ENTITY = "medical_advice"
OFFER_TO_BOOK_INTENTS = frozenset({"describe_symptoms", "book_appointment"})

Parse = Mapping[str, Any]


class Answer(str, Enum):
    """The kind of answer a message gets, as far as understanding decides it."""

    EMERGENCY_911 = "911 answer"
    CRISIS = "crisis answer (988 and 911)"
    EMERGENCY_CHECK = "emergency check question"
    CARE_TEAM = "care-team answer (no medical advice)"
    OFFER_TO_BOOK = "offer to book"
    WHAT_I_CAN_DO = "here is what I can do"
    OTHER = "another answer"

    @property
    def is_alarm(self) -> bool:
        """The red-flag rules fired: 911 (or 988 and 911) is said outright."""
        return self in (Answer.EMERGENCY_911, Answer.CRISIS)

    @property
    def is_care_offer(self) -> bool:
        """The patient is offered a visit or the care team."""
        return self in (Answer.OFFER_TO_BOOK, Answer.CARE_TEAM)


def intent_of(parse: Parse) -> str:
    """The final intent name of a parse."""
    return str((parse.get("intent") or {}).get("name"))


def entity_value(parse: Parse, entity: str) -> str | None:
    """The value of the first entity of that type, if any."""
    for found in parse.get("entities") or []:
        if found.get("entity") == entity:
            return str(found.get("value"))
    return None


def red_flag_category(parse: Parse) -> str | None:
    """``medical`` or ``crisis`` when the red-flag rules fired (the entity the actions read)."""
    value = entity_value(parse, RED_FLAG_ENTITY)
    return value if value in ("medical", "crisis") else None


def answer_for(parse: Parse) -> Answer:
    """The kind of answer the patient gets for this parse."""
    intent = intent_of(parse)
    if intent == EMERGENCY_INTENT:
        category = red_flag_category(parse)
        if category == "crisis":
            return Answer.CRISIS
        return Answer.EMERGENCY_911 if category else Answer.EMERGENCY_CHECK
    if intent == MEDICAL_ADVICE_INTENT:
        return Answer.CARE_TEAM
    if intent in OFFER_TO_BOOK_INTENTS:
        return Answer.OFFER_TO_BOOK
    if intent in (FALLBACK_INTENT, OUT_OF_SCOPE_INTENT):
        return Answer.WHAT_I_CAN_DO
    return Answer.OTHER


def scored_intent(gold: str, predicted: str) -> str:
    """The prediction as scored: ``nlu_fallback`` for a gold ``out_of_scope`` is right (same answer)."""
    if gold == OUT_OF_SCOPE_INTENT and predicted == FALLBACK_INTENT:
        return OUT_OF_SCOPE_INTENT
    return predicted


def classifier_ranking(parse: Parse) -> list[tuple[str, float]]:
    """The intent classifier's own ranking, without what FallbackClassifier and the rules put on top."""
    forced = {FALLBACK_INTENT}
    if entity_value(parse, MEDICAL_ADVICE_ENTITY) is not None:
        forced.add(MEDICAL_ADVICE_INTENT)
    if red_flag_category(parse) is not None:
        forced.add(EMERGENCY_INTENT)
    return [
        (str(entry.get("name")), float(entry.get("confidence") or 0.0))
        for entry in parse.get("intent_ranking") or []
        if entry.get("name") not in forced
    ]


def intent_at_threshold(parse: Parse, threshold: float, ambiguity_threshold: float) -> str:
    """The final intent had FallbackClassifier run with ``threshold``: no retraining needed.

    FallbackClassifier learns nothing, so the classifier's confidences are the
    same at any threshold; only its verdict and what the rules did after it can
    change. A red flag wins at any threshold; a medical question forced by its
    rules stays forced; one the rules deferred to the classifier (a confident
    question about the patient's own visit) is forced once the classifier's
    verdict becomes ``nlu_fallback`` (MedicalAdviceDetector then no longer defers).
    """
    if red_flag_category(parse) is not None:
        return EMERGENCY_INTENT
    if entity_value(parse, MEDICAL_ADVICE_ENTITY) is not None:
        return MEDICAL_ADVICE_INTENT
    ranking = classifier_ranking(parse)
    if not ranking:
        return intent_of(parse)
    name, confidence = ranking[0]
    ambiguous = len(ranking) >= 2 and confidence - ranking[1][1] < ambiguity_threshold
    if confidence < threshold or ambiguous:
        name = FALLBACK_INTENT
    if name == FALLBACK_INTENT and (parse.get("medical_advice") or {}).get("kind") is not None:
        return MEDICAL_ADVICE_INTENT
    return name
