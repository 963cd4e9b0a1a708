"""Call-back requests: a person from the clinic calls the patient back.

Used when billing staff should call, and for a person outside opening hours
(reason ``handoff``). The request becomes a staff work item that remembers the
conversation; the patient is told when to expect the call (from the clinic's
opening hours). A verified patient is not asked for their name again.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend_guard import backend_guard
from actions.common import (
    actor_of,
    call_backend,
    channel_of,
    mobile_from_text,
    safe_clinic_values,
)
from actions.form_answers import TakesDirectAnswers
from actions.handoff import callback_when_text, clinic_now
from actions.identity import clean_full_name, is_stop_request

logger = logging.getLogger(__name__)

CALLBACK_SLOTS = ["callback_name", "callback_phone", "callback_best_time", "callback_reason", "form_outcome"]


class ValidateCallbackForm(TakesDirectAnswers, FormValidationAction):
    """Name (unless verified), phone and best time for a call back."""

    def name(self) -> str:
        """The call-back form's validation action."""
        return "validate_callback_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        """A verified patient's name is known already."""
        if tracker.get_slot("form_outcome"):
            return []
        if tracker.get_slot("patient_id"):
            return ["callback_phone", "callback_best_time"]
        return ["callback_name", "callback_phone", "callback_best_time"]

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Let the patient stop at any question."""
        if is_stop_request(tracker) and tracker.get_slot("requested_slot"):
            dispatcher.utter_message(response="utter_callback_stopped")
            return [SlotSet("form_outcome", "stopped"), SlotSet("requested_slot", None)]
        return await super().run(dispatcher, tracker, domain)

    async def validate_callback_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A first and last name."""
        name = clean_full_name(value)
        if name is None:
            dispatcher.utter_message(response="utter_name_not_understood")
        return {"callback_name": name}

    async def validate_callback_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A US phone number, stored in E.164."""
        phone = mobile_from_text(value)
        if phone is None:
            dispatcher.utter_message(response="utter_mobile_not_understood")
        return {"callback_phone": phone}

    async def validate_callback_best_time(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Any short free text ("mornings", "after 3", "anytime")."""
        text = re.sub(r"\s+", " ", str(value or "")).strip()
        if not text or len(text) > 200:
            dispatcher.utter_message(response="utter_ask_callback_best_time")
            return {"callback_best_time": None}
        return {"callback_best_time": text}


class ActionSubmitCallback(Action):
    """Creates the staff work item and tells the patient when to expect the call."""

    def name(self) -> str:
        """Runs when the call-back form is complete."""
        return "action_submit_callback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Queue the call back; nothing is stored when the patient stopped."""
        from bot.records import get_records_service

        done = [SlotSet(name, None) for name in CALLBACK_SLOTS]
        if tracker.get_slot("form_outcome"):
            return done
        service = get_records_service()
        patient_id = tracker.get_slot("patient_id")
        async with backend_guard(self.name(), dispatcher) as guard:
            name = tracker.get_slot("callback_name")
            if patient_id and not name:
                patient = await call_backend(
                    service.get_patient, patient_id, actor=actor_of(tracker), channel=channel_of(tracker)
                )
                name = patient.full_name if patient else None
            request = await call_backend(
                service.create_callback_request,
                name=name or "unknown",
                phone=tracker.get_slot("callback_phone"),
                reason=tracker.get_slot("callback_reason") or "other",
                best_time=tracker.get_slot("callback_best_time"),
                patient_id=patient_id,
                actor=actor_of(tracker),
                channel=channel_of(tracker),
                conversation_id=tracker.sender_id,
            )
        if guard.failed:
            return done
        logger.info("callback request %s queued", request.work_item_id)
        when = "within one business day"
        async with backend_guard(self.name()):  # the request is stored; only the wording is vaguer
            when = callback_when_text(await call_backend(clinic_now))
        dispatcher.utter_message(response="utter_callback_queued", callback_when=when, **(await safe_clinic_values()))
        return done
