"""Emergencies: the right help at once, in any state.

A message is an emergency when the rule-based red-flag check (bot/safety/)
matched it, or when the intent classifier says ``report_emergency``. Thoughts
of suicide or self-harm get the 988 Suicide and Crisis Lifeline and 911; a
medical emergency gets 911. The rules stop any open form first, and nothing is
booked afterwards unless the patient asks again. The conversation is flagged
for staff (a work item of kind ``emergency``, first on the staff page) after
the answer has gone out.
"""

from __future__ import annotations

import logging
from typing import List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import actor_of, call_backend, channel_of

logger = logging.getLogger(__name__)


def red_flag_category(tracker: Tracker) -> Optional[str]:
    """``crisis`` or ``medical`` when the rule check matched the latest message."""
    for entity in (tracker.latest_message or {}).get("entities") or []:
        if entity.get("entity") == "red_flag" and entity.get("value") in ("crisis", "medical"):
            return str(entity["value"])
    return None


class ActionEmergency(Action):
    """Says "call 988" for a crisis and "call 911" for a medical emergency."""

    def name(self) -> Text:
        """Triggered by ``report_emergency`` in every state."""
        return "action_emergency"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Answer at once; log the category and conversation, never the words."""
        category = red_flag_category(tracker)
        logger.warning("emergency answered (category: %s, by %s)", category or "medical",
                       "rules" if category else "classifier")
        if category == "crisis":
            dispatcher.utter_message(response="utter_emergency_crisis")
        else:
            dispatcher.utter_message(response="utter_emergency")
        await flag_for_staff(tracker, category or "medical")
        return []


async def flag_for_staff(tracker: Tracker, category: str) -> None:
    """Put the conversation on the staff page's list; the answer has already gone out."""
    from bot.records import get_records_service

    details = (tracker.latest_message or {}).get("red_flag") or {}
    flags = [str(f) for f in details.get("flags") or []]
    try:
        await call_backend(
            get_records_service().flag_emergency,
            tracker.sender_id,
            category,
            flags,
            tracker.get_slot("patient_id"),
            actor=actor_of(tracker),
            channel=channel_of(tracker),
        )
    except Exception as exc:  # noqa: BLE001 - the patient has the answer; staff miss one flag
        logger.error("emergency could not be flagged for staff: %s", type(exc).__name__)


class ActionMedicalAdvice(Action):
    """Says kindly that the assistant gives no medical advice, and what the patient can do."""

    def name(self) -> Text:
        """Triggered by ``ask_medical_advice`` (set by the rule check), in any state."""
        return "action_medical_advice"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Urgent-sounding questions point to the nurse line and 911; others get the options."""
        urgent = any(
            entity.get("entity") == "medical_advice" and entity.get("value") == "urgent"
            for entity in (tracker.latest_message or {}).get("entities") or []
        )
        logger.info("medical-advice question answered (%s)", "urgent" if urgent else "not urgent")
        dispatcher.utter_message(response="utter_medical_advice_urgent" if urgent else "utter_medical_advice")
        return []
