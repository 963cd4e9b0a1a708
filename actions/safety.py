"""Emergencies: the right help at once, in any state.

A message is an emergency when the rule-based red-flag check (bot/safety/)
matched it: thoughts of suicide or self-harm get the 988 Suicide and Crisis
Lifeline and 911; a medical emergency gets 911. A message that only the intent
classifier calls ``report_emergency`` gets a short check first ("Is this
happening now, and is it severe? If it is, call 911 now."): an ordinary
message must never get an alarm, and a "yes" gets the 911 answer at once.
The rules stop any open form first, and nothing is booked afterwards unless
the patient asks again. The conversation is flagged
for staff (a work item of kind ``emergency``, first on the staff page) after
the answer has gone out.
"""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend_guard import backend_guard
from actions.common import actor_of, call_backend, channel_of, latest_intent, latest_text, yes_or_no

logger = logging.getLogger(__name__)


def red_flag_category(tracker: Tracker) -> str | None:
    """``crisis`` or ``medical`` when the rule check matched the latest message."""
    for entity in (tracker.latest_message or {}).get("entities") or []:
        if entity.get("entity") == "red_flag" and entity.get("value") in ("crisis", "medical"):
            return str(entity["value"])
    return None


CHECK_RESPONSE = "utter_emergency_check"
EMERGENCY_RESPONSES = {"crisis": "utter_emergency_crisis", "medical": "utter_emergency"}


def last_bot_response(tracker: Tracker) -> str | None:
    """The response name of the assistant's latest message before the patient's latest one."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_user:
                return None
            seen_user = True
        elif event.get("event") == "bot" and seen_user:
            return (event.get("metadata") or {}).get("utter_action")
    return None


async def answer_emergency(dispatcher: CollectingDispatcher, tracker: Tracker, category: str, how: str) -> None:
    """The emergency answer for the category, then the flag for staff."""
    logger.warning("emergency answered (category: %s, by %s)", category, how)
    dispatcher.utter_message(response=EMERGENCY_RESPONSES[category])
    await flag_for_staff(tracker, category)


class ActionEmergency(Action):
    """Says "call 988" for a crisis and "call 911" for a medical emergency; checks first when unsure."""

    def name(self) -> str:
        """Triggered by ``report_emergency`` in every state."""
        return "action_emergency"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Answer a red flag at once; ask the check question when only the classifier said so."""
        category = red_flag_category(tracker)
        if category is not None:
            await answer_emergency(dispatcher, tracker, category, "rules")
            return []
        if last_bot_response(tracker) == CHECK_RESPONSE:
            # Asked "is it happening now and severe?", the patient described it again.
            await answer_emergency(dispatcher, tracker, "medical", "patient confirmed")
            return []
        logger.info("possible emergency (classifier only): check question asked")
        dispatcher.utter_message(response=CHECK_RESPONSE)
        return []


class ActionEmergencyCheckAnswer(Action):
    """The patient's yes or no right after ``action_emergency``."""

    def name(self) -> str:
        """Triggered by affirm or deny right after ``action_emergency``, by rule."""
        return "action_emergency_check_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Yes to the check: the 911 answer. No: reassurance. After a real answer: say it again."""
        previous = last_bot_response(tracker)
        intent = latest_intent(tracker)
        said = {"affirm": True, "deny": False}.get(intent, yes_or_no(latest_text(tracker)))
        if previous == CHECK_RESPONSE:
            if said is True:
                await answer_emergency(dispatcher, tracker, "medical", "patient confirmed")
                return []
            if said is False:
                logger.info("possible emergency: patient said it is not one")
                dispatcher.utter_message(response="utter_emergency_check_declined")
                if intent == "describe_symptoms":  # "no, it's just a bad rash": still a reason to be seen
                    return [FollowupAction("action_offer_sick_visit")]
                dispatcher.utter_message(response="utter_anything_else")
                return []
            # Neither yes nor no: a complaint described without saying it is severe now.
            return [FollowupAction("action_offer_sick_visit")]
        # A yes or no after the emergency answer itself: repeat it, never reassure.
        category = next((c for c, r in EMERGENCY_RESPONSES.items() if r == previous), "medical")
        dispatcher.utter_message(response=EMERGENCY_RESPONSES[category])
        return []


async def flag_for_staff(tracker: Tracker, category: str) -> None:
    """Put the conversation on the staff page's list; the answer has already gone out."""
    from bot.records import get_records_service

    details = (tracker.latest_message or {}).get("red_flag") or {}
    flags = [str(f) for f in details.get("flags") or []]
    # The patient has the answer already; a failure only means staff miss one flag.
    async with backend_guard("flag_for_staff"):
        await call_backend(
            get_records_service().flag_emergency,
            tracker.sender_id,
            category,
            flags,
            tracker.get_slot("patient_id"),
            actor=actor_of(tracker),
            channel=channel_of(tracker),
        )


class ActionMedicalAdvice(Action):
    """Says kindly that the assistant gives no medical advice, and what the patient can do."""

    def name(self) -> str:
        """Triggered by ``ask_medical_advice`` (set by the rule check), in any state."""
        return "action_medical_advice"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Urgent-sounding questions point to the nurse line and 911; others get the options."""
        urgent = any(
            entity.get("entity") == "medical_advice" and entity.get("value") == "urgent"
            for entity in (tracker.latest_message or {}).get("entities") or []
        )
        logger.info("medical-advice question answered (%s)", "urgent" if urgent else "not urgent")
        dispatcher.utter_message(response="utter_medical_advice_urgent" if urgent else "utter_medical_advice")
        return []
