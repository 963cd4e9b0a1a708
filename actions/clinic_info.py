"""Clinic facts: opening hours and location, read from clinic data."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend_guard import backend_guard
from actions.common import call_backend, format_time, hours_text, safe_clinic_values
from bot.settings import get_settings


class ActionClinicHours(Action):
    """Answers "when are you open?" with the hours and whether we're open now."""

    def name(self) -> str:
        """Triggered by ``ask_clinic_hours``."""
        return "action_clinic_hours"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Say the weekly hours and today's status."""
        from bot.scheduling import get_scheduling_service

        async with backend_guard(self.name(), dispatcher) as guard:
            clinic = await call_backend(get_scheduling_service().clinic_info)
        if guard.failed:
            return []
        now = get_settings().now()
        blocks = clinic.opening_hours.get(now.weekday()) or ()
        current = now.time()
        if any(start <= current < end for start, end in blocks):
            closing = next(end for start, end in blocks if start <= current < end)
            today_text = f"We're open now, until {format_time(closing)} today."
        elif any(current < start for start, _ in blocks):
            opening = next(start for start, _ in blocks if current < start)
            today_text = f"Today we open at {format_time(opening)}."
        else:
            today_text = "We're closed for the rest of today."
        dispatcher.utter_message(
            response="utter_clinic_hours",
            clinic_name=clinic.name,
            hours_text=hours_text(clinic.opening_hours),
            today_text=today_text,
        )
        return []


class ActionClinicLocation(Action):
    """Answers "where are you?" with the address and phone number."""

    def name(self) -> str:
        """Triggered by ``ask_clinic_location``."""
        return "action_clinic_location"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        """Say the address and phone number from clinic data."""
        values = await safe_clinic_values()
        if values.get("clinic_address") == "our clinic":
            dispatcher.utter_message(response="utter_backend_down", **values)
            return []
        dispatcher.utter_message(response="utter_clinic_location", **values)
        return []
