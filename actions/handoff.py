"""A way to a person: when asked, after two misunderstood messages in a row, or
after a verification lock-out.

During the clinic's opening hours (clinic data, at ``settings.now()``) the chat
is handed to the front desk: a ``handoff`` work item with a short summary
(what the patient wanted, what is done, what is missing: step names and the
record id, never what the patient wrote), and the assistant stays quiet in the
chat (slot ``staff_holds``, read by ``bot.policies.staff_hold``) until staff
hand it back on the staff page. Outside opening hours the patient can leave a
call-back request and is told when to expect the call.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend_guard import backend_guard
from actions.common import (
    actor_of,
    call_backend,
    channel_of,
    format_time,
    format_when,
    latest_intent,
    safe_clinic_values,
)

logger = logging.getLogger(__name__)

SUMMARY_MAX = 500

# What a patient wanted, in the front desk's words (by intent, then by form).
TOPICS: dict[str, str] = {
    "book_appointment": "book a visit",
    "reschedule_appointment": "move a visit",
    "cancel_appointment": "cancel a visit",
    "list_appointments": "see their appointments",
    "start_intake": "fill in the intake form",
    "ask_insurance_accepted": "an insurance question",
    "ask_visit_cost": "what a visit costs",
    "ask_billing": "a bill or a charge",
    "ask_next_steps": "their after-visit instructions",
    "ask_test_results": "test results",
    "request_refill": "a prescription refill",
    "ask_clinic_hours": "opening hours",
    "ask_clinic_location": "directions to the clinic",
}
FORM_TOPICS: dict[str, str] = {
    "booking_form": "book a visit",
    "cancel_form": "cancel a visit",
    "reschedule_form": "move a visit",
    "intake_form": "fill in the intake form",
    "refill_form": "a prescription refill",
    "callback_form": "a call back",
}
# The steps of each form staff may want to know about: (slot, label). Labels only, never values.
FORM_STEPS: dict[str, list[tuple[str, str]]] = {
    "booking_form": [
        ("visit_type", "visit type"),
        ("provider", "provider"),
        ("time_preference", "preferred time"),
        ("slot_choice", "time slot"),
        ("patient_mobile", "mobile number"),
        ("booking_confirmed", "confirmation"),
    ],
    "cancel_form": [("appointment_choice", "which appointment"), ("cancel_confirmed", "confirmation")],
    "reschedule_form": [
        ("appointment_choice", "which appointment"),
        ("time_preference", "preferred time"),
        ("slot_choice", "new time slot"),
        ("reschedule_confirmed", "confirmation"),
    ],
    "refill_form": [("refill_medication", "medication"), ("refill_pharmacy", "pharmacy")],
    "callback_form": [("callback_phone", "phone number"), ("callback_best_time", "best time")],
}
GENERIC_INTENTS = {
    "affirm",
    "deny",
    "inform",
    "greet",
    "goodbye",
    "thank",
    "bot_challenge",
    "request_human",
    "out_of_scope",
    "nlu_fallback",
    "report_emergency",
}


@dataclass(frozen=True)
class ClinicNow:
    """Whether the front desk is staffed now, and when it opens next."""

    is_open: bool
    next_open: dt.datetime | None
    closes_at: dt.time | None


def clinic_now() -> ClinicNow:
    """Read the clinic's hours and closures and compare them with the clinic's clock (blocking)."""
    from bot.scheduling import get_scheduling_service
    from bot.scheduling.hours import is_open_at, next_opening
    from bot.settings import get_settings

    service = get_scheduling_service()
    clinic = service.clinic_info()
    now = get_settings().now()
    is_open = is_open_at(clinic, now, service.is_open_on)
    closes_at = None
    if is_open:
        closes_at = next(
            (end for start, end in clinic.hours_on(now.weekday()) if start <= now.time().replace(tzinfo=None) < end),
            None,
        )
    return ClinicNow(is_open, None if is_open else next_opening(clinic, now, service.is_open_on), closes_at)


def next_open_text(state: ClinicNow) -> str:
    """How a patient is told when the clinic opens again: "Thursday, December 3 at 8:00 AM"."""
    return format_when(state.next_open) if state.next_open else "on our next business day"


def callback_when_text(state: ClinicNow) -> str:
    """When a call back can be expected, from the clinic's hours."""
    if state.is_open:
        return "within one business day"
    if state.next_open is None:
        return "on our next business day"
    return f"after we open on {format_when(state.next_open)}"


def misunderstood_in_a_row(tracker: Tracker) -> int:
    """How many user messages in a row (this one included) got the fallback answer."""
    turns: list[bool] = []
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


def _last_bot_action(tracker: Tracker) -> str | None:
    """The last action before the latest user message (skipping listen and slot extraction)."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen_user = True
        elif (
            seen_user
            and event.get("event") == "action"
            and event.get("name") not in ("action_listen", "action_extract_slots")
        ):
            return event.get("name")
    return None


def _topic(tracker: Tracker, form: str | None) -> str:
    """What the patient came for: the open form, else their latest request."""
    if form in FORM_TOPICS:
        return FORM_TOPICS[form]
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if intent in TOPICS:
                return TOPICS[intent]
    return "not said"


def _why(tracker: Tracker) -> str:
    """Why the patient is talking to a person."""
    if tracker.get_slot("identity_locked") and not tracker.get_slot("patient_id"):
        return "identity check locked after 3 failed tries"
    if _last_bot_action(tracker) == "action_offer_person":  # offered after two misunderstood messages
        return "the assistant did not understand them twice"
    return "asked for a person"


def handoff_summary(tracker: Tracker) -> str:
    """A short note for the front desk: wanted, done, missing; step names and record id only."""
    form = tracker.active_loop_name
    patient_id = tracker.get_slot("patient_id")
    done: list[str] = []
    missing: list[str] = []
    if patient_id:
        done.append(f"identity verified ({patient_id})")
    elif tracker.get_slot("identity_locked"):
        done.append("identity check locked")
        missing.append("identity")
    else:
        missing.append("identity (not verified)")
    if form == "intake_form":
        from actions.intake.slots import ANSWER_SLOTS

        given = sum(1 for slot in ANSWER_SLOTS if tracker.get_slot(slot) not in (None, ""))
        done.append(f"{given} of {len(ANSWER_SLOTS)} intake answers")
        if given < len(ANSWER_SLOTS):
            missing.append("the rest of the intake answers")
    for slot, label in FORM_STEPS.get(form or "", []):
        (done if tracker.get_slot(slot) not in (None, "") else missing).append(label)
    summary = (
        f"Wanted: {_topic(tracker, form)}. Why a person: {_why(tracker)}. "
        f"Done: {', '.join(done) or 'nothing yet'}. Missing: {', '.join(missing) or 'nothing'}."
    )
    return summary[:SUMMARY_MAX]


def _offer_callback(dispatcher: CollectingDispatcher, state: ClinicNow, values: dict[str, Any]) -> list[EventType]:
    """Outside opening hours: the patient may leave a call-back request."""
    dispatcher.utter_message(response="utter_offer_callback_closed", next_open_text=next_open_text(state), **values)
    return [SlotSet("callback_reason", "handoff")]


class ActionFallback(Action):
    """Re-asks helpfully; the second miss in a row offers a person."""

    def name(self) -> str:
        """Triggered by ``nlu_fallback`` and ``out_of_scope`` outside forms."""
        return "action_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Say what the assistant can do, or offer a person after two misses."""
        if misunderstood_in_a_row(tracker) >= 2:
            dispatcher.utter_message(response="utter_still_not_understood")
            return [SlotSet("callback_reason", "handoff"), FollowupAction("action_offer_person")]
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        dispatcher.utter_message(response="utter_out_of_scope" if intent == "out_of_scope" else "utter_default")
        return []


class ActionOfferPerson(Action):
    """Offers a person: the front desk in this chat when open, a call back when closed."""

    def name(self) -> str:
        """Run after two misunderstood messages in a row."""
        return "action_offer_person"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Ask first: the patient did not ask for a person themselves."""
        values = await safe_clinic_values()
        async with backend_guard(self.name()) as guard:
            state = await call_backend(clinic_now)
        if guard.failed:  # no hours: the phone is still a way to a person
            dispatcher.utter_message(response="utter_handoff_unavailable", **values)
            return []
        if state.is_open:
            dispatcher.utter_message(response="utter_offer_person_open", **values)
            return [SlotSet("callback_reason", "handoff")]
        return _offer_callback(dispatcher, state, values)


class ActionHandoff(Action):
    """Hands the chat to the front desk when the clinic is open; offers a call back when closed."""

    def name(self) -> str:
        """Triggered by ``request_human`` (and a yes to an offered person)."""
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Create the handoff item and go quiet, or offer (or start) the call back."""
        from bot.records import get_records_service

        values = await safe_clinic_values()
        async with backend_guard(self.name()) as guard:
            state = await call_backend(clinic_now)
        if guard.failed:  # no hours: the phone is still a way to a person
            dispatcher.utter_message(response="utter_handoff_unavailable", **values)
            return []
        if not state.is_open:
            if latest_intent(tracker) == "affirm":  # a yes to the offered person: the call back it is
                return [SlotSet("callback_reason", "handoff"), FollowupAction("callback_form")]
            return _offer_callback(dispatcher, state, values)
        async with backend_guard(self.name()) as guard:
            item = await call_backend(
                get_records_service().create_handoff,
                conversation_id=tracker.sender_id,
                summary=handoff_summary(tracker),
                patient_id=tracker.get_slot("patient_id"),
                actor=actor_of(tracker),
                channel=channel_of(tracker),
            )
        if guard.failed:  # the phone still works
            dispatcher.utter_message(response="utter_handoff_unavailable", **values)
            return []
        logger.info("conversation handed to the front desk as %s", item.work_item_id)
        closes = format_time(state.closes_at) if state.closes_at else "closing time"
        dispatcher.utter_message(response="utter_handoff_started", closes_at_text=closes, **values)
        events: list[EventType] = [SlotSet("staff_holds", True), SlotSet("handoff_id", item.work_item_id)]
        if tracker.active_loop_name:
            from actions.session import _all_working_slots

            # The open form stops; its half-given answers are in the summary's step names only.
            events = [ActiveLoop(None)] + [SlotSet(name, None) for name in _all_working_slots()] + events
        return events
