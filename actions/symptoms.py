"""Symptoms in the patient's own words: a reason to be seen, never an alarm.

"I have a rash on my arm" or "my back has hurt for a week" (intent
``describe_symptoms``) is acknowledged and answered with an offer to book a
sick visit. The complaint is kept as the visit's reason, so the booking form
does not ask what the visit is for. The answer says when to call the clinic or
911 if it gets worse, and gives no medical advice. Real emergencies never get
here: the red-flag rules turn them into ``report_emergency`` first.
"""

from __future__ import annotations

import logging

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import latest_intent, latest_text, safe_clinic_values

logger = logging.getLogger(__name__)

SICK_VISIT = "sick_visit"
MAX_REASON_CHARS = 500


def complaint_of(tracker: Tracker) -> str | None:
    """The latest message as a visit reason (typed text only, never a button payload)."""
    text = latest_text(tracker).strip()
    if not text or text.startswith("/"):
        return None
    return text[:MAX_REASON_CHARS]


# "can I come in, my back hurts" reads as a booking request first and a
# complaint second: a complaint this high in the ranking is still the reason.
COMPLAINT_IN_RANKING = 0.2


def describes_symptoms(tracker: Tracker) -> bool:
    """Whether the latest message describes a complaint (the classifier's verdict, taught by examples)."""
    if latest_intent(tracker) == "describe_symptoms":
        return True
    ranking = (tracker.latest_message or {}).get("intent_ranking") or []
    return any(
        entry.get("name") == "describe_symptoms" and (entry.get("confidence") or 0.0) >= COMPLAINT_IN_RANKING
        for entry in ranking
    )


class ActionOfferSickVisit(Action):
    """Acknowledges a described complaint and offers a sick visit with it as the reason."""

    def name(self) -> str:
        """Triggered by ``describe_symptoms`` outside a form."""
        return "action_offer_sick_visit"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Keep the complaint for the booking; say when to call if it gets worse."""
        logger.info("symptoms described: sick visit offered")
        dispatcher.utter_message(response="utter_offer_sick_visit")
        dispatcher.utter_message(response="utter_symptoms_safety_net", **(await safe_clinic_values()))
        return [SlotSet("visit_reason", complaint_of(tracker))]


class ActionStartSickVisit(Action):
    """After "yes" to the offer: the booking form starts with a sick visit and the kept reason."""

    def name(self) -> str:
        """Runs right before the booking form, by rule."""
        return "action_start_sick_visit"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Fill the visit type; the reason slot was set with the offer."""
        return [SlotSet("visit_type", SICK_VISIT)]


class ActionSickVisitDeclined(Action):
    """After "no" to the offer: nothing is booked, and the kept complaint is forgotten."""

    def name(self) -> str:
        """Runs after a "no" to the sick-visit offer, by rule."""
        return "action_sick_visit_declined"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Say how to come back to it; clear the reason."""
        dispatcher.utter_message(response="utter_sick_visit_declined", **(await safe_clinic_values()))
        return [SlotSet("visit_reason", None)]
