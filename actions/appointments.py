"""A verified patient's existing appointments: list, cancel and reschedule.

Nothing about an appointment is said before the patient is verified, and
nothing is changed before the patient confirms.
"""

from __future__ import annotations

import abc
import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend_guard import BACKEND_DOWN_SLOTS, backend_down_events, backend_guard
from actions.common import (
    SlotKey,
    call_backend,
    format_short_when,
    format_when,
    sentence_start,
    with_article,
    yes_or_no,
)
from actions.identity import (
    GRANT_SLOT,
    PatientFormValidator,
    acting_patient_id,
    granted_patient,
    locked_out,
    reset_form_slots,
)
from actions.outreach import record_visit_answer
from actions.slot_offering import (
    SlotOfferingValidator,
    offer_new_times,
    provider_names,
    slot_summary,
)

logger = logging.getLogger(__name__)

CANCEL_SLOTS = ["appointment_choice", "offered_appointments", "cancel_confirmed"]
RESCHEDULE_SLOTS = [
    "appointment_choice",
    "offered_appointments",
    "time_preference",
    "slot_choice",
    "offered_slots",
    "reschedule_confirmed",
    "visit_type",
    "provider",
]
IDENTITY_WORKING_SLOTS = ["patient_full_name", "patient_dob"]
ORDINAL_WORDS = {
    "1": 0,
    "first": 0,
    "one": 0,
    "2": 1,
    "second": 1,
    "two": 1,
    "3": 2,
    "third": 2,
    "three": 2,
    "4": 3,
    "fourth": 3,
    "5": 4,
    "fifth": 4,
    "last": -1,
}


async def upcoming_for(patient_id: str) -> list[Any]:
    """The verified patient's upcoming appointments."""
    from bot.scheduling import get_scheduling_service

    return await call_backend(get_scheduling_service().upcoming_appointments, patient_id)


def appointment_label(appointment: Any) -> str:
    """A button label: "Thu Dec 3, 10:00 AM - follow-up with Dr. Grace Kim"."""
    what = f"{appointment.visit_type_name.lower()} with {appointment.provider_name}"
    return f"{format_short_when(appointment.start)} - {what}"


def pick_appointment(text: str, offered: list[str], appointments: list[Any]) -> str | None:
    """Map an id, "the first one" or a weekday to one of the offered appointment ids."""
    text = (text or "").strip()
    if text in offered:
        return text
    words = re.findall(r"[a-z0-9]+", text.lower())
    for word in words:
        if word in ORDINAL_WORDS and len(words) <= 4:
            index = ORDINAL_WORDS[word]
            if index < len(offered):
                return offered[index]
    matches = [
        a.appointment_id
        for a in appointments
        if a.appointment_id in offered
        and (
            a.start.strftime("%A").lower() in words
            or a.start.strftime("%a").lower() in words
            or a.provider_id in words
            or a.visit_type_name.lower() in text.lower()
        )
    ]
    if len(matches) == 1:
        return matches[0]
    if len(offered) == 1 and yes_or_no(text) is True:
        return offered[0]
    return None


class AppointmentChoiceValidator(PatientFormValidator):
    """Shared validation of ``appointment_choice`` for cancel and reschedule (abstract)."""

    async def validate_appointment_choice(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept one of the patient's own upcoming appointments (or the one a clinic text was about)."""
        patient_id = tracker.get_slot("patient_id") or granted_patient(tracker, value)
        if not patient_id:
            return {"appointment_choice": None}
        async with backend_guard(self.name(), dispatcher) as guard:
            appointments = await upcoming_for(patient_id)
        if guard.failed:
            return dict(BACKEND_DOWN_SLOTS)
        offered = tracker.get_slot("offered_appointments") or [a.appointment_id for a in appointments]
        chosen = pick_appointment(str(value or ""), offered, appointments)
        appointment = next((a for a in appointments if a.appointment_id == chosen), None)
        if appointment is None:
            dispatcher.utter_message(response="utter_appointment_choice_not_understood")
            return {"appointment_choice": None}
        return self.chosen(appointment)

    def chosen(self, appointment: Any) -> dict[str, Any]:
        """Slots to set once an appointment is chosen."""
        return {"appointment_choice": appointment.appointment_id}

    def granted(self, tracker: Tracker) -> bool:
        """A clinic text about the chosen visit stands in for identity, for that visit only."""
        return granted_patient(tracker, tracker.get_slot("appointment_choice")) is not None


class ValidateIdentityForm(PatientFormValidator):
    """Identity only: used before listing appointments."""

    def name(self) -> str:
        """The identity form's validation action."""
        return "validate_identity_form"

    def task_slots(self, tracker: Tracker) -> list[str]:
        """Nothing besides identity."""
        return []


class ValidateCancelForm(AppointmentChoiceValidator):
    """Identity, which appointment, and a confirmation."""

    def name(self) -> str:
        """The cancel form's validation action."""
        return "validate_cancel_form"

    def task_slots(self, tracker: Tracker) -> list[str]:
        """Which appointment, then yes or no."""
        return ["appointment_choice", "cancel_confirmed"]

    async def validate_cancel_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Only a clear yes or no counts."""
        answer = yes_or_no(value)
        if answer is None:
            dispatcher.utter_message(response="utter_yes_or_no")
        return {"cancel_confirmed": answer}


class ValidateRescheduleForm(SlotOfferingValidator, AppointmentChoiceValidator):
    """Identity, which appointment, a new time, and a confirmation."""

    confirm_slot = "reschedule_confirmed"

    def name(self) -> str:
        """The reschedule form's validation action."""
        return "validate_reschedule_form"

    def task_slots(self, tracker: Tracker) -> list[str]:
        """Which appointment, when, which slot, then yes or no."""
        return ["appointment_choice", "time_preference", "slot_choice", "reschedule_confirmed"]

    def chosen(self, appointment: Any) -> dict[str, Any]:
        """Search new slots for the same visit type and provider."""
        return {
            "appointment_choice": appointment.appointment_id,
            "visit_type": appointment.visit_type,
            "provider": appointment.provider_id,
        }

    async def validate_provider(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A provider named while rescheduling re-offers slots with that provider."""
        return {"provider": value, "offered_slots": None, "slot_choice": None, "reschedule_confirmed": None}

    async def validate_reschedule_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Yes moves it; no keeps it; a new "when" searches again."""
        answer = await self.confirmation_or_new_time(value, dispatcher, tracker)
        return {"reschedule_confirmed": answer} if isinstance(answer, bool) else answer


class ActionAskAppointmentChoice(Action):
    """Shows the patient's upcoming appointments as buttons (or says there are none)."""

    def name(self) -> str:
        """Asked by the cancel and reschedule forms."""
        return "action_ask_appointment_choice"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """List the verified patient's own upcoming appointments only."""
        async with backend_guard(self.name(), dispatcher) as guard:
            appointments = await upcoming_for(tracker.get_slot("patient_id"))
        if guard.failed:
            return backend_down_events()
        if not appointments:
            dispatcher.utter_message(response="utter_no_upcoming_appointments")
            return [SlotSet("form_outcome", "no_appointments"), SlotSet("requested_slot", None)]
        buttons = [
            {"title": appointment_label(a), "payload": '/inform{"appointment_choice":"' + a.appointment_id + '"}'}
            for a in appointments[:5]
        ]
        dispatcher.utter_message(response="utter_ask_appointment_choice", buttons=buttons)
        return [SlotSet("offered_appointments", [a.appointment_id for a in appointments[:5]])]


async def _appointment_by_id(patient_id: str | None, appointment_id: str) -> Any | None:
    """One of the patient's own upcoming appointments, by id."""
    if not patient_id:
        return None
    return next((a for a in await upcoming_for(patient_id) if a.appointment_id == appointment_id), None)


class ConfirmChosenAppointment(Action, abc.ABC):
    """Reads back the chosen appointment before changing it (abstract base)."""

    @abc.abstractmethod
    async def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker, appointment: Any) -> None:
        """Ask the yes/no question about ``appointment``."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Find the patient's chosen appointment again; stop the form if it is gone."""
        async with backend_guard(self.name(), dispatcher) as guard:
            appointment = await _appointment_by_id(acting_patient_id(tracker), tracker.get_slot("appointment_choice"))
            if appointment is not None:
                await self.ask(dispatcher, tracker, appointment)
                return []
        if guard.failed:
            return backend_down_events()
        dispatcher.utter_message(response="utter_appointment_changed_meanwhile")
        return [SlotSet("form_outcome", "gone"), SlotSet("requested_slot", None)]


class ActionAskCancelConfirmed(ConfirmChosenAppointment):
    """Reads back the appointment before cancelling it."""

    def name(self) -> str:
        """Asked by the cancel form."""
        return "action_ask_cancel_confirmed"

    async def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker, appointment: Any) -> None:
        """ "Cancel your follow-up with Dr. Kim on ...?" with yes/no buttons."""
        dispatcher.utter_message(
            response="utter_ask_cancel_confirmed",
            visit_type_name=appointment.visit_type_name.lower(),
            provider_name=appointment.provider_name,
            when_text=format_when(appointment.start),
        )


class ActionAskRescheduleConfirmed(ConfirmChosenAppointment):
    """Reads back the old and the new time before moving anything."""

    def name(self) -> str:
        """Asked by the reschedule form."""
        return "action_ask_reschedule_confirmed"

    async def ask(self, dispatcher: CollectingDispatcher, tracker: Tracker, appointment: Any) -> None:
        """ "Move your follow-up from ... to ... with ...?" with yes/no buttons."""
        dispatcher.utter_message(
            response="utter_ask_reschedule_confirmed",
            visit_type_name=appointment.visit_type_name.lower(),
            old_when_text=format_when(appointment.start),
            **slot_summary(tracker.get_slot("slot_choice"), await provider_names()),
        )


class ActionCancelAppointment(Action):
    """Cancels the confirmed appointment."""

    def name(self) -> str:
        """Runs when the cancel form is complete."""
        return "action_cancel_appointment"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Cancel, or keep it when the patient said no."""
        from bot.scheduling import SchedulingError, get_scheduling_service

        done = reset_form_slots(CANCEL_SLOTS + IDENTITY_WORKING_SLOTS) + [SlotSet(GRANT_SLOT, None)]
        if locked_out(tracker, dispatcher) or tracker.get_slot("form_outcome"):
            return done
        if tracker.get_slot("cancel_confirmed") is not True:
            dispatcher.utter_message(response="utter_cancel_kept")
            return done
        async with backend_guard(self.name(), dispatcher, refusals=(SchedulingError,)) as guard:
            appointment = await call_backend(
                get_scheduling_service().cancel,
                appointment_id=tracker.get_slot("appointment_choice"),
                patient_id=acting_patient_id(tracker),
            )
        if guard.refusal is not None:
            dispatcher.utter_message(response="utter_appointment_changed_meanwhile")
            return done
        if guard.failed:
            return done
        logger.info("appointment %s cancelled", appointment.appointment_id)
        await record_visit_answer(tracker, "cancelled")
        dispatcher.utter_message(
            response="utter_cancel_done",
            visit_type_name=appointment.visit_type_name.lower(),
            provider_name=appointment.provider_name,
            when_text=format_when(appointment.start),
        )
        return done


class ActionRescheduleAppointment(Action):
    """Moves the confirmed appointment to the chosen slot."""

    def name(self) -> str:
        """Runs when the reschedule form is complete."""
        return "action_reschedule_appointment"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Move it (new slot taken before the old one is freed, in one transaction)."""
        from bot.scheduling import SchedulingError, SlotUnavailable, get_scheduling_service

        # A clinic text's grant covers this one move at most (actions/identity.py granted_patient).
        done = reset_form_slots(RESCHEDULE_SLOTS + IDENTITY_WORKING_SLOTS) + [SlotSet(GRANT_SLOT, None)]
        if locked_out(tracker, dispatcher) or tracker.get_slot("form_outcome"):
            return done
        appointment_id = tracker.get_slot("appointment_choice")
        patient_id = acting_patient_id(tracker)
        if tracker.get_slot("reschedule_confirmed") is not True:
            old_when = "its current time"
            async with backend_guard(self.name()):  # only the wording depends on it
                appointment = await _appointment_by_id(patient_id, appointment_id)
                if appointment is not None:
                    old_when = format_when(appointment.start)
            dispatcher.utter_message(response="utter_reschedule_kept", old_when_text=old_when)
            return done
        key = SlotKey.decode(tracker.get_slot("slot_choice"))
        if key is None:
            dispatcher.utter_message(response="utter_default")
            return done
        async with backend_guard(self.name(), dispatcher, refusals=(SchedulingError,)) as guard:
            moved = await call_backend(
                get_scheduling_service().reschedule,
                appointment_id=appointment_id,
                patient_id=patient_id,
                new_start=key.start,
                new_provider_id=key.provider_id,
            )
        if isinstance(guard.refusal, SlotUnavailable):
            return offer_new_times(dispatcher, guard.refusal, "reschedule_form", "reschedule_confirmed")
        if guard.refusal is not None:
            dispatcher.utter_message(response="utter_appointment_changed_meanwhile")
            return done
        if guard.failed:
            return done
        logger.info("appointment %s rescheduled", moved.appointment_id)
        await record_visit_answer(tracker, "moved")
        dispatcher.utter_message(
            response="utter_reschedule_done",
            visit_type_name=moved.visit_type_name.lower(),
            when_text=format_when(moved.start),
            provider_name=moved.provider_name,
        )
        return done


class ActionListAppointments(Action):
    """Lists a verified patient's upcoming appointments."""

    def name(self) -> str:
        """Runs after the identity form."""
        return "action_list_appointments"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Tell the verified patient what is booked; nothing for anyone else."""
        done = reset_form_slots(IDENTITY_WORKING_SLOTS)
        patient_id = tracker.get_slot("patient_id")
        if locked_out(tracker, dispatcher) or tracker.get_slot("form_outcome") or not patient_id:
            return done
        async with backend_guard(self.name(), dispatcher) as guard:
            appointments = await upcoming_for(patient_id)
        if guard.failed:
            return done
        if not appointments:
            dispatcher.utter_message(response="utter_no_upcoming_appointments")
            return done
        lines = "\n".join(
            f"- {format_when(a.start)}. {sentence_start(with_article(a.visit_type_name.lower()))}"
            f" with {a.provider_name}."
            for a in appointments
        )
        dispatcher.utter_message(response="utter_list_appointments", appointments_text=lines)
        return done
