"""Gives a text the clinic sent first its answer: "1", "yes", "can I come Friday instead" after a reminder.

The SMS connector marks a reply that came after a clinic text (a reminder, a
waitlist offer, a follow-up offer) with ``{"outreach": {"outbox_id": ...}}``
(see ``channels/sms.py``). When such a reply reads as an answer (its intent is
one of :data:`ANSWER_INTENTS`), this policy predicts ``action_outreach_answer``,
which checks the text against the signed sender and acts on it. It does the
same for the reply to the action's own follow-up question ("Cancel your visit
...? Reply YES or NO"), kept in the slot ``outreach_step``.

Safety first: it abstains for a red flag or an emergency, a medical question,
a request for a person, while staff hold the chat and while a form is active;
any other message ("what are your hours?") goes to the rules and the text
stays open. Priority above the RulePolicy; the conversation guard (8) wins.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa.core.policies.policy import PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.policies.form_answer import red_flag
from bot.policies.staff_hold import AUTOMATIC_ACTIONS, awaits_answer, holds
from bot.policies.untrained import UntrainedPolicy

logger = logging.getLogger(__name__)

OUTREACH_ANSWER_PRIORITY = 7  # above RulePolicy (6); below the conversation guard (8)
ANSWER_ACTION = "action_outreach_answer"
OUTREACH_METADATA = "outreach"
STEP_SLOT = "outreach_step"
# What an answer to a clinic text is classified as ("1" is /affirm, "cant make it, cancel" cancel_appointment).
ANSWER_INTENTS = frozenset(
    {
        "affirm",
        "deny",
        "inform",
        "cancel_appointment",
        "reschedule_appointment",
        "book_appointment",
        "thank",
        "nlu_fallback",
        "out_of_scope",
    }
)


# Never an answer, even right after the action's question: safety and a person come first.
NEVER_ANSWERS = frozenset({"report_emergency", "ask_medical_advice", "request_human"})
BARE_NUMBER = re.compile(r"\s*#?\d{1,2}\s*[.)]?\s*")


def outreach_outbox_id(metadata: dict[str, Any] | None) -> int | None:
    """The clinic text a message answers, from the connector's metadata, or None."""
    value = ((metadata or {}).get(OUTREACH_METADATA) or {}).get("outbox_id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def asked_last(tracker: DialogueStateTracker) -> bool:
    """Whether the answer action was the last thing the assistant did before the latest message."""
    seen_user = False
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            if seen_user:
                return False
            seen_user = True
        elif isinstance(event, ActionExecuted) and seen_user:
            if event.action_name in (ACTION_LISTEN_NAME, *AUTOMATIC_ACTIONS):
                continue
            return event.action_name == ANSWER_ACTION
    return False


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False)
class OutreachAnswerPolicy(UntrainedPolicy):
    """Predicts ``action_outreach_answer`` for an answer to a clinic text, and listens after it."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Priority above the RulePolicy; intents that always go to the rules."""
        return {"priority": OUTREACH_ANSWER_PRIORITY}

    def answers_text(self, tracker: DialogueStateTracker) -> bool:
        """Whether the latest message answers a clinic text (or the answer action's own question)."""
        latest = tracker.latest_message
        if latest is None or holds(tracker) or tracker.active_loop_name or not awaits_answer(tracker):
            return False
        intent = (latest.intent or {}).get("name")
        if red_flag(latest.entities or []) or intent in NEVER_ANSWERS:
            return False
        if outreach_outbox_id(latest.metadata) is not None:
            return intent in ANSWER_INTENTS
        if not tracker.get_slot(STEP_SLOT) or not asked_last(tracker):
            return False
        # "Reply 1 to confirm ...": a bare number answers the question, whatever the classifier made of it.
        return intent in ANSWER_INTENTS or BARE_NUMBER.fullmatch(latest.text or "") is not None

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        """The answer action for an answer; listen right after it; abstain otherwise."""
        probabilities = self._default_predictions(domain)
        if tracker.latest_action_name == ANSWER_ACTION:
            probabilities[domain.index_for_action(ACTION_LISTEN_NAME)] = 1.0
            return self._prediction(probabilities)
        if not self.answers_text(tracker):
            return self._prediction(probabilities)
        logger.debug("reply taken as the answer to a clinic text")
        probabilities[domain.index_for_action(ANSWER_ACTION)] = 1.0
        return self._prediction(probabilities)
