"""A reply to a form's question fills it, whatever the intent classifier calls it.

Slot mappings skip replies whose intent has its own rule inside forms
(``thank``, ``goodbye``, ...): "thanks" must not become a name. But the
classifier never sees the question, so "Tyler Brooks" can come out as
``thank``. ``bot.policies.form_answer`` then gives the turn to the form when
the reply has the shape of the answer asked for (``bot.answer_shapes``), and
this mixin fills the slot the mapping skipped, for the validators to check.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import latest_text
from bot.answer_shapes import ANSWER_SLOTS, fits
from bot.settings import get_settings

# Actions Rasa runs by itself between a message and the form.
AUTOMATIC_ACTIONS = ("action_extract_slots", "action_listen")


def form_answers_directly(tracker: Tracker) -> bool:
    """Whether the form runs right after the patient's message (no rule answered it first).

    Rasa marks the form's own run in the tracker it sends to the validator, so
    that action is not an answer in between.
    """
    form = (tracker.active_loop or {}).get("name")
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return True
        name = event.get("name")
        if event.get("event") == "action" and name not in AUTOMATIC_ACTIONS and name != form:
            return False
    return False


def direct_answer(tracker: Tracker) -> dict[str, Any]:
    """``{slot: text}`` for the asked slot when the reply is its answer and no mapping took it."""
    slot = tracker.get_slot("requested_slot")
    if slot not in ANSWER_SLOTS or slot in tracker.slots_to_validate():
        return {}
    text = latest_text(tracker).strip()
    if not form_answers_directly(tracker) or not fits(slot, text, get_settings().today()):
        return {}
    return {slot: text}


class TakesDirectAnswers:
    """Mixin for form validators: the asked slot takes the reply the mappings skipped."""

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """The usual ``extract_<slot>`` events, plus the direct answer to the asked slot."""
        events: list[EventType] = await super().get_extraction_events(dispatcher, tracker, domain)  # type: ignore[misc]
        already = {event.get("name") for event in events}
        return events + [SlotSet(slot, value) for slot, value in direct_answer(tracker).items() if slot not in already]
