"""Booking a visit: the booking form's validation, its confirmation and the booking.

The form asks what the visit is for, whom to see and when, offers real open
slots, identifies the patient (registering a new one), confirms, and books.
Corrections ("actually make it Dr. Kim", "Friday instead") are taken at any
question and only redo what they affect.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend_guard import BACKEND_DOWN_SLOTS, backend_down_events, backend_guard
from actions.common import (
    SlotKey,
    actor_of,
    call_backend,
    channel_of,
    entity_values,
    format_when,
    latest_intent,
    mobile_from_text,
    safe_clinic_values,
    with_article,
    yes_or_no,
)
from actions.form_answers import form_answers_directly
from actions.identity import PatientFormValidator, locked_out, reset_form_slots
from actions.slot_offering import (
    SlotOfferingValidator,
    offer_new_times,
    provider_names,
    slot_summary,
    visit_type_names,
)
from actions.symptoms import SICK_VISIT, complaint_of, describes_symptoms
from actions.waitlist import OffersWaitlist, start_waitlist_form
from bot.log_privacy import patient_ref

logger = logging.getLogger(__name__)

BOOKING_SLOTS = [
    "visit_type",
    "visit_reason",
    "provider",
    "time_preference",
    "slot_choice",
    "offered_slots",
    "patient_full_name",
    "patient_dob",
    "is_new_patient",
    "patient_mobile",
    "booking_confirmed",
    "waitlist_offered",
    "waitlist_answer",
]


class ValidateBookingForm(OffersWaitlist, SlotOfferingValidator, PatientFormValidator):
    """Validates the booking form's answers and decides what to ask next."""

    confirm_slot = "booking_confirmed"

    def name(self) -> str:
        """The form's validation action."""
        return "validate_booking_form"

    def task_slots(self, tracker: Tracker) -> list[str]:
        """Visit, provider, time and slot; identity is inserted after the slot."""
        return ["visit_type", "provider", "time_preference", "slot_choice", "booking_confirmed"]

    def identity_position(self, slots: list[str], identity: list[str]) -> list[str]:
        """Ask who the patient is after they picked a slot, before confirming."""
        return slots[:4] + identity + ["is_new_patient", "patient_mobile"] + slots[4:]

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """Ask "are you new?" and the mobile only when the records have no match."""
        slots = await super().required_slots(domain_slots, dispatcher, tracker, domain)
        unmatched = (
            not tracker.get_slot("patient_id")
            and tracker.get_slot("patient_full_name")
            and tracker.get_slot("patient_dob")
        )
        if not unmatched:
            slots = [s for s in slots if s not in ("is_new_patient", "patient_mobile")]
        elif tracker.get_slot("is_new_patient") is not True:
            slots = [s for s in slots if s != "patient_mobile"]
        return slots

    async def extract_visit_type(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """ "can I come in? my back has hurt for a week": a complaint is a sick visit, not a question to ask."""
        if tracker.get_slot("visit_type") or entity_values(tracker, "visit_type"):
            return {}
        if not form_answers_directly(tracker) or not complaint_of(tracker) or not describes_symptoms(tracker):
            return {}
        return {"visit_type": SICK_VISIT}

    async def validate_visit_type(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept a known visit type; keep a free-text reason and ask for the type."""
        async with backend_guard(self.name(), dispatcher) as guard:
            known = await visit_type_names()
        if guard.failed:
            return dict(BACKEND_DOWN_SLOTS)
        result: dict[str, Any] = {}
        text = str(value or "").strip()
        code = text if text in known else next((v for v in entity_values(tracker, "visit_type") if v in known), None)
        complaint = complaint_of(tracker) if latest_intent(tracker) not in ("affirm", "deny") else None
        if complaint and (code is None or len(complaint.split()) > 2):
            result["visit_reason"] = complaint
        if code is None and SICK_VISIT in known and describes_symptoms(tracker):
            code = SICK_VISIT  # "my knee hurts" answers "what is the visit for?"
        if code is None:
            dispatcher.utter_message(response="utter_visit_type_not_understood")
            return {**result, "visit_type": None}
        offers_made = tracker.get_slot("slot_choice") or tracker.get_slot("offered_slots")
        changed = offers_made and code != self._previous(tracker, "visit_type")
        result["visit_type"] = code
        provider = tracker.get_slot("provider")
        if provider and provider != "any":
            offer = await self._provider_offers(provider, code, dispatcher)
            if offer is not None:
                return {**result, **offer}
        if changed:
            result.update({"offered_slots": None, "slot_choice": None, "booking_confirmed": None})
        return result

    async def validate_provider(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Accept a known provider or "any"; a change re-offers slots."""
        async with backend_guard(self.name(), dispatcher) as guard:
            names = await provider_names()
        if guard.failed:
            return dict(BACKEND_DOWN_SLOTS)
        text = str(value or "").strip()
        code = text if text in names or text == "any" else None
        if code is None:
            code = next((v for v in entity_values(tracker, "provider") if v in names or v == "any"), None)
        if code is None and re.search(
            r"\b(any|anyone|anybody|whoever|no pref|doesn'?t matter|dont care|don'?t mind)\b", text, re.I
        ):
            code = "any"
        if code is None:
            dispatcher.utter_message(response="utter_provider_not_found", providers_text=", ".join(names.values()))
            return {"provider": None}
        visit_type = tracker.get_slot("visit_type")
        if code != "any" and visit_type:
            offer = await self._provider_offers(code, visit_type, dispatcher)
            if offer is not None:
                return offer
        result: dict[str, Any] = {"provider": code}
        previous = self._previous(tracker, "provider")
        # Times found before a provider was named ("thursday next week" in the first
        # message) were searched for anyone: search again for this provider.
        searched_for = previous if previous is not None else "any"
        if searched_for != code and (tracker.get_slot("slot_choice") or tracker.get_slot("offered_slots")):
            result.update({"offered_slots": None, "slot_choice": None, "booking_confirmed": None})
        return result

    async def _provider_offers(
        self, provider: str, visit_type: str, dispatcher: CollectingDispatcher
    ) -> dict[str, Any] | None:
        """None if the provider offers the visit type, else the re-ask to return."""
        from bot.scheduling import get_scheduling_service

        async with backend_guard(self.name(), dispatcher) as guard:
            offering = await call_backend(get_scheduling_service().providers_for, visit_type)
        if guard.failed:
            return dict(BACKEND_DOWN_SLOTS)
        ids = [p.provider_id for p in offering]
        if provider in ids:
            return None
        names = await provider_names()
        types = await visit_type_names()
        alternatives = ", ".join(p.display_name for p in offering)
        dispatcher.utter_message(
            response="utter_provider_does_not_offer",
            provider_name=names.get(provider, provider),
            alternatives_text=(
                f"For {with_article(types.get(visit_type, 'visit'))} you can see {alternatives},"
                " or anyone available. Who would you like?"
            ),
        )
        return {"provider": None, "offered_slots": None, "slot_choice": None, "booking_confirmed": None}

    @staticmethod
    def _previous(tracker: Tracker, slot: str) -> Any | None:
        """The value a slot had before the latest user message (to spot corrections)."""
        seen_user = False
        for event in reversed(tracker.events):
            if event.get("event") == "user":
                seen_user = True
                continue
            if seen_user and event.get("event") == "slot" and event.get("name") == slot:
                return event.get("value")
        return None

    async def validate_is_new_patient(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A new patient gives a mobile number; otherwise this was a failed verification."""
        answer = yes_or_no(value)
        if answer is None:
            dispatcher.utter_message(response="utter_yes_or_no")
            return {"is_new_patient": None}
        if answer:
            return {"is_new_patient": True}
        result = await self.record_failed_attempt(dispatcher, tracker)
        return {**result, "is_new_patient": None}

    async def validate_patient_mobile(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Register the new patient once a valid US mobile number is given."""
        from bot.records import InvalidPatientData, PatientAlreadyExists, get_records_service

        mobile = mobile_from_text(value)
        if mobile is None:
            dispatcher.utter_message(response="utter_mobile_not_understood")
            return {"patient_mobile": None}
        refusals = (InvalidPatientData, PatientAlreadyExists)
        async with backend_guard(self.name(), dispatcher, refusals=refusals) as guard:
            patient = await call_backend(
                get_records_service().register_patient,
                tracker.get_slot("patient_full_name"),
                dt.date.fromisoformat(tracker.get_slot("patient_dob")),
                mobile,
                actor=actor_of(tracker),
                channel=channel_of(tracker),
            )
        if guard.refusal is not None:
            dispatcher.utter_message(response="utter_name_not_understood")
            return {"patient_mobile": None, "patient_full_name": None, "patient_dob": None, "is_new_patient": None}
        if guard.failed:
            return dict(BACKEND_DOWN_SLOTS)
        logger.info("new patient registered: %s", patient_ref(patient.patient_id))
        return {
            "patient_mobile": mobile,
            "patient_id": patient.patient_id,
            "patient_first_name": patient.first_name,
        }

    async def on_no_match(
        self, name: str, dob_iso: str, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        """No record: keep name and date of birth and ask whether this is a new patient."""
        return {"patient_full_name": name, "patient_dob": dob_iso, "is_new_patient": None}

    async def validate_booking_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Yes books; no asks for another time; a new "when" searches again."""
        others = set(tracker.slots_to_validate()) - {"booking_confirmed"}
        if others & {"provider", "visit_type"}:
            return {"booking_confirmed": None}
        answer = await self.confirmation_or_new_time(value, dispatcher, tracker)
        if answer is True:
            return {"booking_confirmed": True}
        if answer is False:
            dispatcher.utter_message(response="utter_booking_declined")
            return {"booking_confirmed": None, "time_preference": None, "offered_slots": None, "slot_choice": None}
        return answer


class ActionAskBookingConfirmed(Action):
    """Reads the booking back before anything is stored."""

    def name(self) -> str:
        """Asked by the booking form for ``booking_confirmed``."""
        return "action_ask_booking_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Say visit type, provider and time, with yes/no buttons."""
        async with backend_guard(self.name(), dispatcher) as guard:
            names = await provider_names()
            types = await visit_type_names()
        if guard.failed:
            return backend_down_events()
        summary = slot_summary(tracker.get_slot("slot_choice"), names)
        dispatcher.utter_message(
            response="utter_ask_booking_confirmed",
            visit_text=with_article(types.get(tracker.get_slot("visit_type"), "visit")),
            **summary,
        )
        return []


class ActionBookAppointment(Action):
    """Books the confirmed slot; a slot taken meanwhile offers new times."""

    def name(self) -> str:
        """Runs when the booking form is complete."""
        return "action_book_appointment"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Book, or explain why not; never leaves half a booking behind."""
        from bot.scheduling import SchedulingError, get_scheduling_service

        if tracker.get_slot("form_outcome") == "waitlist":
            return reset_form_slots(BOOKING_SLOTS) + start_waitlist_form(tracker)
        if locked_out(tracker, dispatcher) or tracker.get_slot("form_outcome"):
            return reset_form_slots(BOOKING_SLOTS)
        if tracker.get_slot("booking_confirmed") is not True:
            return reset_form_slots(BOOKING_SLOTS)
        key = SlotKey.decode(tracker.get_slot("slot_choice"))
        patient_id = tracker.get_slot("patient_id")
        if key is None or not patient_id:
            dispatcher.utter_message(response="utter_default")
            return reset_form_slots(BOOKING_SLOTS)
        async with backend_guard(self.name(), dispatcher, refusals=(SchedulingError,)) as guard:
            appointment = await call_backend(
                get_scheduling_service().book,
                patient_id=patient_id,
                provider_id=key.provider_id,
                visit_type=tracker.get_slot("visit_type"),
                start=key.start,
                reason=tracker.get_slot("visit_reason"),
                channel=channel_of(tracker),
            )
        if guard.refusal is not None:
            return offer_new_times(dispatcher, guard.refusal, "booking_form", "booking_confirmed")
        if guard.failed:
            return reset_form_slots(BOOKING_SLOTS)
        logger.info("appointment %s booked for %s", appointment.appointment_id, patient_ref(patient_id))
        clinic = await safe_clinic_values()
        bring = "your insurance card, a photo ID and a list of the medicines you take"
        dispatcher.utter_message(
            response="utter_booking_done",
            visit_type_name=appointment.visit_type_name.lower(),
            provider_name=appointment.provider_name,
            when_text=format_when(appointment.start),
            appointment_id=appointment.appointment_id,
            bring_text=bring,
            **clinic,
        )
        if appointment.visit_type == "new_patient":
            dispatcher.utter_message(response="utter_offer_intake")
        return reset_form_slots(BOOKING_SLOTS)
