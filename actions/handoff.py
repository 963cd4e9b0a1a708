"""A way to a person: after two misunderstood messages in a row, or when asked.

For now the person is reached by phone or by a call back (a staff work item
with the reason ``handoff``); a live hand-over of the chat to the front desk
comes with the staff page.
"""

from __future__ import annotations

from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

def misunderstood_in_a_row(tracker: Tracker) -> int:
    """How many user messages in a row (this one included) got the fallback answer."""
    turns: List[bool] = []
    for event in tracker.events:
        if event.get("event") == "user":
            turns.append(False)
        elif event.get("event") == "action" and event.get("name") == "action_fallback" and turns:
            turns[-1] = True
    count = 1  # the message being answered now
    for missed in reversed(turns[:-1]):
        if not missed:
            break
        count += 1
    return count


class ActionFallback(Action):
    """Re-asks helpfully; the second miss in a row offers a person."""

    def name(self) -> Text:
        """Triggered by ``nlu_fallback`` and ``out_of_scope`` outside forms."""
        return "action_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Say what the assistant can do, or offer a person after two misses."""
        if misunderstood_in_a_row(tracker) >= 2:
            dispatcher.utter_message(response="utter_still_not_understood")
            return [SlotSet("callback_reason", "handoff"), FollowupAction("utter_offer_person")]
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        dispatcher.utter_message(response="utter_out_of_scope" if intent == "out_of_scope" else "utter_default")
        return []


class ActionPrepareHandoff(Action):
    """Notes that a call back, if the patient wants one, is a hand-off to a person."""

    def name(self) -> Text:
        """Triggered by ``request_human``."""
        return "action_prepare_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Set the call-back reason; the rules then offer the options."""
        return [SlotSet("callback_reason", "handoff")]
