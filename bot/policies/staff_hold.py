"""Keeps the assistant quiet in a chat a person from the front desk has taken over.

While the slot ``staff_holds`` is true (set by ``action_handoff``, reset when
staff hand the chat back on the staff page), every user message is answered
with ``action_listen``: the message is stored in the tracker, so staff see it,
and nothing is said. Emergencies are the exception: a message whose intent is
``report_emergency`` (the RedFlagDetector sets it on red-flag phrases) is left
to the rules, which answer it at once. Listed in ``config.yml`` with a
priority above the RulePolicy so its prediction wins.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.core.policies.policy import PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.policies.untrained import UntrainedPolicy

logger = logging.getLogger(__name__)

HOLD_SLOT = "staff_holds"
# Intents the assistant still answers while staff hold the chat.
ALWAYS_ANSWERED = ("report_emergency",)
# Actions Rasa runs itself after a user message, before any prediction.
AUTOMATIC_ACTIONS = ("action_extract_slots",)
STAFF_HOLD_PRIORITY = 7  # above RulePolicy (6)


def awaits_answer(tracker: DialogueStateTracker) -> bool:
    """Whether the latest event that counts is a user message nobody has answered yet."""
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return True
        if isinstance(event, ActionExecuted) and event.action_name not in AUTOMATIC_ACTIONS:
            return False
    return False


def holds(tracker: DialogueStateTracker) -> bool:
    """Whether a person from the front desk has this chat right now."""
    return tracker.get_slot(HOLD_SLOT) is True


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False)
class StaffHoldPolicy(UntrainedPolicy):
    """Predicts ``action_listen`` after each user message while staff hold the chat."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Priority above the RulePolicy; no featurizer settings needed."""
        return {"priority": STAFF_HOLD_PRIORITY}

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        """Listen during a hold, except for emergencies; abstain otherwise."""
        probabilities = self._default_predictions(domain)
        if not holds(tracker) or not awaits_answer(tracker):
            return self._prediction(probabilities)
        intent = (tracker.latest_message.intent or {}).get("name") if tracker.latest_message else None
        if intent in ALWAYS_ANSWERED:
            logger.info("conversation held by staff: emergency answered by the assistant")
            return self._prediction(probabilities)
        probabilities[domain.index_for_action(ACTION_LISTEN_NAME)] = 1.0
        # "No user prediction": the answer does not depend on what was said, so it
        # outranks every policy that reads the message.
        return self._prediction(probabilities, is_no_user_prediction=True)
