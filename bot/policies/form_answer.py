"""Gives a form's question its answer: "Tyler Brooks" fills the name, whatever the classifier says.

Inside a form, rules answer some intents themselves ("thanks" gets "you're
welcome", "bye" stops the form). The intent classifier never sees the question
the form asked, so a name can come out as ``thank`` or ``goodbye`` and a date
of birth as ``inform`` or anything else. This policy looks at the question
(``requested_slot``) and the reply: when the reply has the shape of the answer
asked for (a name, a date, a phone number, a pick among offered times;
``bot.answer_shapes``), it predicts the form, which fills and checks the slot
(``actions.form_answers``).

It stays out of the way for a red flag (the emergency rules win) and for
anything without the asked shape ("talk to a person", "bye", "I just want to
cancel it"; "stop" and "never mind" are handled by the forms themselves). For
free answers such as medicines, which have no shape, a clear way out or a
confident question of the patient's own ("what time do you close?") is left
to the rules. Priority above the RulePolicy.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.core.policies.policy import PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from bot.answer_shapes import ANSWER_SLOTS, fits, looks_like_question
from bot.policies.staff_hold import awaits_answer, holds
from bot.policies.untrained import UntrainedPolicy

logger = logging.getLogger(__name__)

FORM_ANSWER_PRIORITY = 7  # above RulePolicy (6); StaffHoldPolicy (7) acts only when this one abstains
# Intents that leave a free answer to the rules when the classifier is this sure.
OTHER_REQUEST_CONFIDENCE = 0.7
SMALL_TALK = frozenset({"thank", "greet", "bot_challenge"})
# Shapes that everyday sentences can have too (a day, a number): a clear way out wins.
LOOSE_SHAPES = frozenset({"when", "choice"})
CLEAR_WAY_OUT = 0.8
ANSWER_INTENTS = frozenset({"inform", "describe_symptoms", "deny", "affirm", "nlu_fallback"})


def red_flag(entities: list[dict[str, Any]]) -> bool:
    """Whether the rule-based red-flag check matched the message."""
    return any(entity.get("entity") == "red_flag" for entity in entities)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False)
class FormAnswerPolicy(UntrainedPolicy):
    """Predicts the active form when the reply is the answer to the form's question."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Priority above the RulePolicy; which intents always leave the turn to the rules."""
        return {
            "priority": FORM_ANSWER_PRIORITY,
            "ways_out": ["request_human", "goodbye", "cancel_appointment"],
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        featurizer: Any | None = None,
    ) -> None:
        """Nothing to learn: the decision reads the question and the reply."""
        super().__init__(config, model_storage, resource, execution_context, featurizer)
        self._ways_out = frozenset(self.config.get("ways_out") or [])

    def takes_answer(self, tracker: DialogueStateTracker) -> bool:
        """Whether the latest reply answers the form's open question."""
        from bot.settings import get_settings

        slot = tracker.get_slot("requested_slot")
        if not tracker.active_loop_name or slot not in ANSWER_SLOTS or holds(tracker):
            return False
        if not awaits_answer(tracker) or tracker.latest_message is None:
            return False
        intent = tracker.latest_message.intent or {}
        if red_flag(tracker.latest_message.entities or []):
            return False
        text = tracker.latest_message.text or ""
        if ANSWER_SLOTS[slot] == "free":
            # Free text has no shape to go by: the classifier's clear verdicts count.
            name = intent.get("name")
            if name in self._ways_out:
                return False
            # "thanks" is not a medicine; "what are your hours?" is a question of its own,
            # but "CVS on Main Street" answers "which pharmacy?" however it was classified.
            confident = (intent.get("confidence") or 0.0) >= OTHER_REQUEST_CONFIDENCE
            if confident and (name in SMALL_TALK or (name not in ANSWER_INTENTS and looks_like_question(text))):
                return False
        elif ANSWER_SLOTS[slot] in LOOSE_SHAPES and intent.get("name") in self._ways_out:
            # "ok bye, talk tomorrow" mentions a day but leaves; "soonest you have" (a
            # goodbye at 0.65) does not.
            if (intent.get("confidence") or 0.0) >= CLEAR_WAY_OUT:
                return False
        # A name, a date, a number or a time is the answer, whatever the classifier
        # made of it ("Tasha Green" read as goodbye, "soonest you have" as goodbye).
        return fits(slot, text, get_settings().today())

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        """The form's action when the reply answers it; abstain otherwise."""
        probabilities = self._default_predictions(domain)
        if not self.takes_answer(tracker):
            return self._prediction(probabilities)
        loop = tracker.active_loop_name
        logger.debug("reply taken as the answer to %s", tracker.get_slot("requested_slot"))
        probabilities[domain.index_for_action(loop)] = 1.0
        return self._prediction(probabilities)
