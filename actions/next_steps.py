"""After a visit: what the doctor said, results still coming, refills.

Only for a verified patient: the identity form runs first, then
``action_after_identity`` does what the patient asked for. The summary is told
in short plain messages (every sentence comes from clinic data or
``domain/``, both checked for reading grade 6 or below), ending with what to
do next and an offer to book the follow-up when one is due.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.appointments import ActionListAppointments
from actions.backend_guard import backend_guard
from actions.common import actor_of, call_backend, channel_of, format_date
from actions.form_answers import direct_answer
from actions.identity import is_stop_request, locked_out, reset_form_slots

logger = logging.getLogger(__name__)

IDENTITY_TASKS = ("list_appointments", "ask_next_steps", "ask_test_results", "request_refill")
REFILL_SLOTS = ["refill_medication", "refill_pharmacy", "form_outcome"]


def request_parse(tracker: Tracker) -> dict[str, Any]:
    """What the patient asked that sent them through the identity check (latest first), as parsed."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            parse = event.get("parse_data") or {}
            if (parse.get("intent") or {}).get("name") in IDENTITY_TASKS:
                return parse
    return {}


def task_after_identity(tracker: Tracker) -> str | None:
    """The request that sent the patient through the identity check (latest first)."""
    return (request_parse(tracker).get("intent") or {}).get("name")


def requested(tracker: Tracker, entity: str) -> list[dict[str, Any]]:
    """The ``entity`` mentions in that request, negated ones ("not Dr. Patel") left out."""
    return [
        e
        for e in request_parse(tracker).get("entities") or []
        if e.get("entity") == entity and e.get("role") != "not" and e.get("value")
    ]


def asked_about(tracker: Tracker, entity: str) -> list[str]:
    """Values of ``entity`` in the request: whose advice the patient asked about."""
    return [str(e["value"]) for e in requested(tracker, entity)]


def date_range_text(first: dt.date, last: dt.date) -> str:
    """ "Monday, December 7" or "between Monday, December 7 and Wednesday, December 9"."""
    if first == last:
        return f"by {format_date(first)}"
    return f"between {format_date(first)} and {format_date(last)}"


def refill_medicine_named(tracker: Tracker) -> list[EventType]:
    """ "a refill of my lisinopril": the medicine, in the patient's words, so the form does not ask it."""
    named = [str(e["text"]) for e in requested(tracker, "medicine") if e.get("text")]
    return [SlotSet("refill_medication", named[0][:120])] if named else []


async def tell_next_steps(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """The latest visit's summary in short messages, ending with what to do next."""
    from bot.records import get_records_service

    patient_id = tracker.get_slot("patient_id")
    visit = await call_backend(
        get_records_service().latest_visit, patient_id, actor=actor_of(tracker), channel=channel_of(tracker)
    )
    if asked_about(tracker, "outside_clinician"):
        # "what did my cardiologist say?": never answer with the notes of another visit.
        dispatcher.utter_message(response="utter_next_steps_outside_clinician")
        return []
    if visit is None:
        dispatcher.utter_message(response="utter_no_visit_on_record")
        return []
    providers = [p for p in asked_about(tracker, "provider") if p != "any"]
    if providers and visit.provider_id not in providers:
        dispatcher.utter_message(
            response="utter_next_steps_other_provider",
            provider_name=visit.provider_name,
            visit_date_text=format_date(visit.visit_date),
        )
        return []
    dispatcher.utter_message(
        response="utter_next_steps_intro",
        provider_name=visit.provider_name,
        visit_date_text=format_date(visit.visit_date),
    )
    dispatcher.utter_message(response="utter_next_steps_diagnosis", diagnosis_text=visit.diagnosis_plain)
    for instruction in visit.instructions:
        dispatcher.utter_message(response="utter_next_steps_instruction", instruction_text=instruction)
    for result in visit.pending_results:
        dispatcher.utter_message(
            response="utter_result_pending",
            test_name=result.test,
            expected_text=date_range_text(result.expected_from, result.expected_by),
        )
    follow_up = visit.follow_up
    if follow_up is not None and (follow_up.due_date is None or follow_up.due_date >= _today()):
        dispatcher.utter_message(response="utter_offer_follow_up", follow_up_text=follow_up.text)
    else:
        dispatcher.utter_message(response="utter_next_steps_end")
    return []


def _today() -> dt.date:
    """The clinic's today."""
    from bot.settings import get_settings

    return get_settings().today()


async def tell_test_results(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """Results still pending, with their expected dates; the clinic calls with results."""
    from bot.records import get_records_service

    pending = await call_backend(
        get_records_service().pending_results,
        tracker.get_slot("patient_id"),
        actor=actor_of(tracker),
        channel=channel_of(tracker),
    )
    if not pending:
        dispatcher.utter_message(response="utter_no_results_pending")
        return []
    for result in pending:
        dispatcher.utter_message(
            response="utter_result_pending",
            test_name=result.test,
            expected_text=date_range_text(result.expected_from, result.expected_by),
        )
    dispatcher.utter_message(response="utter_results_how_you_hear")
    return []


class ActionAfterIdentity(Action):
    """Does what the patient asked for once they are verified."""

    def name(self) -> str:
        """Runs when the identity form is complete."""
        return "action_after_identity"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """List appointments, tell next steps or results, or start a refill request."""
        done = reset_form_slots(["patient_full_name", "patient_dob"])
        if locked_out(tracker, dispatcher) or tracker.get_slot("form_outcome") or not tracker.get_slot("patient_id"):
            return done
        task = task_after_identity(tracker)
        async with backend_guard(self.name(), dispatcher) as guard:
            if task == "ask_next_steps":
                return done + await tell_next_steps(dispatcher, tracker)
            if task == "ask_test_results":
                return done + await tell_test_results(dispatcher, tracker)
        if guard.failed:
            return done
        if task == "request_refill":
            return done + refill_medicine_named(tracker) + [FollowupAction("refill_form")]
        return await ActionListAppointments().run(dispatcher, tracker, domain)


class ValidateRefillForm(Action):
    """Medication and pharmacy for a refill request (free text, kept short)."""

    def name(self) -> str:
        """The refill form's validation action."""
        return "validate_refill_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Validate the slot just answered; "stop" ends the form without storing anything."""
        requested = tracker.get_slot("requested_slot")
        if is_stop_request(tracker) and requested:
            dispatcher.utter_message(response="utter_refill_stopped")
            return [SlotSet("form_outcome", "stopped"), SlotSet("requested_slot", None)]
        answered = direct_answer(tracker)
        events: list[EventType] = [SlotSet(slot, value) for slot, value in answered.items()]
        for slot in ("refill_medication", "refill_pharmacy"):
            value = answered.get(slot, tracker.get_slot(slot))
            if value is None:
                continue
            text = re.sub(r"\s+", " ", str(value)).strip()
            if not 2 <= len(text) <= 120 or not re.search(r"[^\W\d_]", text):
                dispatcher.utter_message(response=f"utter_{slot}_not_understood")
                events.append(SlotSet(slot, None))
            elif text != value:
                events.append(SlotSet(slot, text))
        return events


class ActionSubmitRefill(Action):
    """Records the refill request as a staff work item."""

    def name(self) -> str:
        """Runs when the refill form is complete."""
        return "action_submit_refill"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Queue the refill for the care team; say when to expect an answer."""
        from bot.records import get_records_service

        done = [SlotSet(name, None) for name in REFILL_SLOTS]
        if tracker.get_slot("form_outcome") or not tracker.get_slot("patient_id"):
            return done
        async with backend_guard(self.name(), dispatcher) as guard:
            request = await call_backend(
                get_records_service().create_refill_request,
                tracker.get_slot("patient_id"),
                tracker.get_slot("refill_medication"),
                tracker.get_slot("refill_pharmacy"),
                actor=actor_of(tracker),
                channel=channel_of(tracker),
            )
        if guard.failed:
            return done
        logger.info("refill request %s queued", request.work_item_id)
        dispatcher.utter_message(response="utter_refill_queued", medication_text=request.medication)
        return done


__all__ = ["ActionAfterIdentity", "ActionSubmitRefill", "ValidateRefillForm", "task_after_identity"]
