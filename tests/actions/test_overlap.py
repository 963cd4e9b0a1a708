"""A patient who already has a visit at the chosen time is told so and offered other times."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from actions.appointments import ActionRescheduleAppointment
from actions.booking import ActionBookAppointment
from actions.common import SlotKey
from actions.slot_offering import ActionAskSlotChoice
from bot.scheduling import get_scheduling_service
from tests.actions.conftest import make_tracker, slot_events, texts
from tests.actions.test_wording import sentence

SATURDAY = dt.date(2026, 12, 5)
ANA = "P-1002"  # seeded with a follow-up with Dr. Kim on Saturday, December 5 at 10:00 AM
CONFLICT = (
    "You already have a visit at that time: your follow-up visit with Dr. Grace Kim on Saturday,"
    " December 5 at 10:00 AM. I haven't booked anything new. Would you like a different time?"
    " Here are some."
)


def ana_visits() -> list:
    return [(a.provider_id, a.start) for a in get_scheduling_service().upcoming_appointments(ANA)]


def followups(events: list) -> list:
    return [e.get("name") for e in events if e.get("event") == "followup"]


async def test_booking_over_an_own_visit_is_refused_plainly(clinic_db: str, domain: dict[str, Any]) -> None:
    before = ana_visits()
    kim_visit = next(start for provider, start in before if provider == "kim")
    assert kim_visit.date() == SATURDAY
    choice = SlotKey(kim_visit, "patel").encode()
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        {
            "visit_type": "sick_visit",
            "provider": "patel",
            "slot_choice": choice,
            "patient_id": ANA,
            "booking_confirmed": True,
            "time_preference": "saturday at 10",
        }
    )
    events = await ActionBookAppointment().run(dispatcher, tracker, domain)
    assert [sentence(domain, m) for m in dispatcher.messages] == [CONFLICT]
    slots = slot_events(events)
    assert (slots["slot_choice"], slots["offered_slots"], slots["booking_confirmed"]) == (None, None, None)
    assert followups(events) == ["booking_form"]
    assert ana_visits() == before  # nothing stored

    # The form then offers other times: none of them overlaps Ana's visit.
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        {"visit_type": "sick_visit", "provider": "patel", "patient_id": ANA, "time_preference": "saturday at 10"}
    )
    events = await ActionAskSlotChoice().run(dispatcher, tracker, domain)
    offered = [SlotKey.decode(k) for k in slot_events(events)["offered_slots"]]
    assert offered and all(k.start.date() == SATURDAY for k in offered)
    assert all(
        not (kim_visit - dt.timedelta(minutes=20) < k.start < kim_visit + dt.timedelta(minutes=20)) for k in offered
    )
    assert texts(dispatcher) == ["utter_offer_slots"]


async def test_rescheduling_onto_an_own_visit_is_refused_plainly(clinic_db: str, domain: dict[str, Any]) -> None:
    service = get_scheduling_service()
    kim_visit = next(a for a in service.upcoming_appointments(ANA) if a.provider_id == "kim")
    slot = service.search_slots(
        "sick_visit", provider_id="patel", start_date=dt.date(2026, 12, 4), end_date=dt.date(2026, 12, 4)
    )[0]
    sick = service.book(ANA, "patel", "sick_visit", slot.start)
    before = ana_visits()
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        {
            "patient_id": ANA,
            "appointment_choice": sick.appointment_id,
            "visit_type": "sick_visit",
            "provider": "patel",
            "slot_choice": SlotKey(kim_visit.start, "patel").encode(),
            "reschedule_confirmed": True,
        }
    )
    events = await ActionRescheduleAppointment().run(dispatcher, tracker, domain)
    assert [sentence(domain, m) for m in dispatcher.messages] == [CONFLICT]
    assert followups(events) == ["reschedule_form"]
    assert slot_events(events)["slot_choice"] is None
    assert ana_visits() == before
    assert service.get_appointment(sick.appointment_id, ANA).status == "booked"
