"""Dialogue policy: when the conversation store cannot be read, say so instead of starting over.

``ClinicSQLTrackerStore.retrieve`` returns a stand-in conversation with the
slot ``conversation_unavailable`` set when the database cannot be read (Rasa's
fail-safe wrapper would otherwise hand over an empty conversation, and the
patient would silently start from the beginning). On such a conversation this
policy answers once with ``utter_conversation_unavailable`` (with the clinic's
phone when it is known) and then listens. It abstains everywhere else.

It needs a priority above RulePolicy's (6) so that no rule runs on the empty
stand-in::

    policies:
      - name: bot.policies.conversation_guard.ConversationGuardPolicy
        priority: 8
"""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from bot.stores.tracker_store import UNAVAILABLE_SLOT

ANSWER_WITH_PHONE = "utter_conversation_unavailable"
ANSWER_WITHOUT_PHONE = "utter_conversation_unavailable_no_phone"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class ConversationGuardPolicy(Policy):
    """Answers "I can't reach your conversation right now" on a stand-in conversation."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Above RulePolicy (6) and any staff-hold policy, so nothing else acts on the stand-in."""
        return {"priority": 8}

    def train(self, training_trackers: list[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        """Nothing to learn; persist an empty resource so the policy loads like any other."""
        with self._model_storage.write_to(self._resource):
            pass
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        """Answer once per message on a stand-in conversation, then listen; abstain otherwise."""
        probabilities = self._default_predictions(domain)
        if not tracker.get_slot(UNAVAILABLE_SLOT):
            return self._prediction(probabilities)
        if self._answered_since_last_message(tracker):
            name = ACTION_LISTEN_NAME
        else:
            name = ANSWER_WITH_PHONE if tracker.get_slot("clinic_phone") else ANSWER_WITHOUT_PHONE
        probabilities[domain.index_for_action(name)] = 1.0
        return self._prediction(probabilities)

    @staticmethod
    def _answered_since_last_message(tracker: DialogueStateTracker) -> bool:
        """Whether the unavailable answer already went out for the latest message."""
        for event in reversed(tracker.events):
            if isinstance(event, UserUttered):
                return False
            if isinstance(event, ActionExecuted) and event.action_name in (ANSWER_WITH_PHONE, ANSWER_WITHOUT_PHONE):
                return True
        return False
