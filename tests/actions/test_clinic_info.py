"""Clinic hours and location come from clinic data."""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from actions.clinic_info import ActionClinicHours, ActionClinicLocation
from actions.session import ActionSessionStart
from tests.actions.conftest import make_tracker, slot_events


async def test_hours(clinic_db: str, domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    await ActionClinicHours().run(dispatcher, make_tracker(), domain)
    message = dispatcher.messages[0]
    assert message["hours_text"] == ("Monday to Friday 8:00 AM to 5:00 PM; Saturday 9:00 AM to 12:00 PM; closed Sunday")


async def test_location(clinic_db: str, domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    await ActionClinicLocation().run(dispatcher, make_tracker(), domain)
    assert dispatcher.messages[0]["clinic_address"] == "120 Maple Grove Ave, Springfield"
    assert dispatcher.messages[0]["clinic_phone"] == "(555) 010-2000"


async def test_session_start_loads_clinic_facts_and_carries_nothing(clinic_db: str, domain: dict[str, Any]) -> None:
    events = await ActionSessionStart().run(CollectingDispatcher(), make_tracker({"patient_id": "P-1001"}), domain)
    assert events[0]["event"] == "session_started"
    slots = slot_events(events)
    assert slots["clinic_name"] == "Maple Grove Family Clinic"
    assert "patient_id" not in slots
    assert (events[-1]["event"], events[-1]["name"]) == ("action", "action_listen")
