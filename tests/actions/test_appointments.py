"""Listing, cancelling and moving appointments through rasa-sdk."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from actions.appointments import (
    ActionAskAppointmentChoice,
    ActionCancelAppointment,
    ActionListAppointments,
    ActionRescheduleAppointment,
)
from actions.common import SlotKey
from bot.scheduling import get_scheduling_service
from tests.actions.conftest import make_tracker, slot_events, texts


async def test_list_needs_a_verified_patient(clinic_db: str, domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    await ActionListAppointments().run(dispatcher, make_tracker({}), domain)
    assert dispatcher.messages == []


async def test_list_shows_only_the_patients_own(clinic_db: str, domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    await ActionListAppointments().run(dispatcher, make_tracker({"patient_id": "P-1002"}), domain)
    message = dispatcher.messages[0]
    assert message["response"] == "utter_list_appointments"
    assert "Dr. Grace Kim" in message["appointments_text"]
    dispatcher = CollectingDispatcher()
    await ActionListAppointments().run(dispatcher, make_tracker({"patient_id": "P-1001"}), domain)
    assert texts(dispatcher) == ["utter_no_upcoming_appointments"]


async def test_ask_appointment_choice_without_appointments_ends_the_form(
    clinic_db: str, domain: dict[str, Any]
) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionAskAppointmentChoice().run(dispatcher, make_tracker({"patient_id": "P-1001"}), domain)
    assert texts(dispatcher) == ["utter_no_upcoming_appointments"]
    assert slot_events(events)["requested_slot"] is None


async def test_cancel_only_after_yes(clinic_db: str, domain: dict[str, Any]) -> None:
    service = get_scheduling_service()
    appointment = service.upcoming_appointments("P-1002")[0]
    dispatcher = CollectingDispatcher()
    slots = {"patient_id": "P-1002", "appointment_choice": appointment.appointment_id, "cancel_confirmed": False}
    await ActionCancelAppointment().run(dispatcher, make_tracker(slots), domain)
    assert texts(dispatcher) == ["utter_cancel_kept"]
    assert service.get_appointment(appointment.appointment_id, "P-1002").status == "booked"
    dispatcher = CollectingDispatcher()
    await ActionCancelAppointment().run(dispatcher, make_tracker({**slots, "cancel_confirmed": True}), domain)
    assert texts(dispatcher) == ["utter_cancel_done"]
    assert service.get_appointment(appointment.appointment_id, "P-1002").status == "cancelled"


async def test_cannot_cancel_another_patients_appointment(clinic_db: str, domain: dict[str, Any]) -> None:
    service = get_scheduling_service()
    appointment = service.upcoming_appointments("P-1002")[0]
    dispatcher = CollectingDispatcher()
    slots = {"patient_id": "P-1001", "appointment_choice": appointment.appointment_id, "cancel_confirmed": True}
    await ActionCancelAppointment().run(dispatcher, make_tracker(slots), domain)
    assert texts(dispatcher) == ["utter_appointment_changed_meanwhile"]
    assert service.get_appointment(appointment.appointment_id, "P-1002").status == "booked"


async def test_reschedule_moves_to_the_chosen_slot(clinic_db: str, domain: dict[str, Any]) -> None:
    service = get_scheduling_service()
    appointment = service.upcoming_appointments("P-1002")[0]
    new = service.search_slots(
        "follow_up", provider_id="kim", start_date=dt.date(2026, 12, 9), end_date=dt.date(2026, 12, 9)
    )[0]
    dispatcher = CollectingDispatcher()
    slots = {
        "patient_id": "P-1002",
        "appointment_choice": appointment.appointment_id,
        "slot_choice": SlotKey(new.start, "kim").encode(),
        "reschedule_confirmed": True,
        "visit_type": "follow_up",
    }
    await ActionRescheduleAppointment().run(dispatcher, make_tracker(slots), domain)
    assert texts(dispatcher) == ["utter_reschedule_done"]
    upcoming = service.upcoming_appointments("P-1002")
    assert [a.start for a in upcoming] == [new.start]


async def test_cancel_with_the_database_down_says_so_and_changes_nothing(
    clinic_db: str, domain: dict[str, Any]
) -> None:
    from bot.scheduling import SqlSchedulingService, set_scheduling_service

    appointment = get_scheduling_service().upcoming_appointments("P-1002")[0]
    set_scheduling_service(SqlSchedulingService("postgresql://postgres@127.0.0.1:1/nothing"))
    dispatcher = CollectingDispatcher()
    slots = {"patient_id": "P-1002", "appointment_choice": appointment.appointment_id, "cancel_confirmed": True}
    events = await ActionCancelAppointment().run(dispatcher, make_tracker(slots), domain)
    assert texts(dispatcher) == ["utter_backend_down"]
    assert slot_events(events)["form_outcome"] is None  # the next form starts clean
    set_scheduling_service(None)
    assert get_scheduling_service().get_appointment(appointment.appointment_id, "P-1002").status == "booked"
