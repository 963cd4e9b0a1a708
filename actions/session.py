"""Session start: a new session begins clean and knows the clinic's facts.

Rasa starts a new session after the idle time in ``domain/session.yml``; no slot is
carried over, so a verified identity ends with the session (only a front-desk
hold of the chat is kept, until staff hand it back). The clinic's name,
phone and address are loaded into slots here, once per session, so any response
in the domain can say them.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import safe_clinic_values


class ActionSessionStart(Action):
    """Starts a session with the clinic facts and no carried-over identity."""

    def name(self) -> str:
        """Rasa's session start hook."""
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Emit SessionStarted, the clinic slots and action_listen; a staff hold outlives the session."""
        values = await safe_clinic_values()
        # A person from the front desk may answer later than the idle timeout:
        # the chat stays theirs until they hand it back (no patient data carried).
        held = (
            [SlotSet("staff_holds", True), SlotSet("handoff_id", tracker.get_slot("handoff_id"))]
            if tracker.get_slot("staff_holds") is True
            else []
        )
        return [
            SessionStarted(),
            *[SlotSet(name, value) for name, value in values.items()],
            *held,
            ActionExecuted("action_listen"),
        ]


FORM_WORKING_SLOTS = [
    "visit_type",
    "visit_reason",
    "provider",
    "time_preference",
    "slot_choice",
    "offered_slots",
    "booking_confirmed",
    "patient_full_name",
    "patient_dob",
    "is_new_patient",
    "patient_mobile",
    "appointment_choice",
    "offered_appointments",
    "cancel_confirmed",
    "reschedule_confirmed",
    "callback_name",
    "callback_phone",
    "callback_best_time",
    "callback_reason",
    "refill_medication",
    "refill_pharmacy",
    "form_outcome",
    "requested_slot",
]


def _all_working_slots() -> list:
    """Every form's working slots, including the intake form's."""
    from actions.intake.slots import INTAKE_SLOTS

    return FORM_WORKING_SLOTS + [slot for slot in INTAKE_SLOTS if slot not in FORM_WORKING_SLOTS]


class ActionStopForm(Action):
    """Stops the open form at the patient's request and forgets its half-given answers."""

    def name(self) -> str:
        """Used by rules after ``action_deactivate_loop``."""
        return "action_stop_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Say nothing was booked or changed; clear the working slots (identity stays)."""
        dispatcher.utter_message(response="utter_form_stopped")
        return [SlotSet(name, None) for name in _all_working_slots()]


class ActionClearFormSlots(Action):
    """Quietly forgets a stopped form's answers (after an emergency message)."""

    def name(self) -> str:
        """Used by the emergency rules inside forms."""
        return "action_clear_form_slots"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Clear the working slots so nothing half-given is reused later."""
        return [SlotSet(name, None) for name in _all_working_slots()]


# Kept when the patient turns an open form into a cancellation: who they are
# and which appointment they already picked are not asked twice.
KEPT_FOR_CANCEL = ("patient_full_name", "patient_dob", "appointment_choice", "offered_appointments")


class ActionSwitchToCancel(Action):
    """ "I just want to cancel it" inside another form: the cancel form takes over."""

    def name(self) -> str:
        """Used by rules after ``action_deactivate_loop``, before ``cancel_form``."""
        return "action_switch_to_cancel"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Forget the other form's answers; keep the identity answers and the chosen appointment."""
        # A slot mapping may have taken "I just want to cancel it" as the answer to the open question.
        taken_now = set()
        for event in reversed(tracker.events):
            if event.get("event") == "user":
                break
            if event.get("event") == "slot":
                taken_now.add(event.get("name"))
        return [
            SlotSet(name, None) for name in _all_working_slots() if name not in KEPT_FOR_CANCEL or name in taken_now
        ]
