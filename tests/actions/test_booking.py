"""The booking form's validation and the booking action, run through rasa-sdk."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from actions.booking import ActionBookAppointment, ValidateBookingForm
from actions.common import SlotKey
from actions.slot_offering import ActionAskSlotChoice
from bot.scheduling import get_scheduling_service
from tests.actions.conftest import make_tracker, slot_events, texts

FORM = "booking_form"


async def validate(domain: dict[str, Any], slots: dict[str, Any], text: str, requested: str, **kw: Any):
    dispatcher = CollectingDispatcher()
    kw.setdefault("just_set", [requested])
    tracker = make_tracker({**slots, "requested_slot": requested}, text=text, active_loop=FORM, **kw)
    events = await ValidateBookingForm().run(dispatcher, tracker, domain)
    return dispatcher, slot_events(events)


async def test_visit_type_from_free_text_keeps_the_reason(clinic_db: str, domain: dict[str, Any]) -> None:
    dispatcher, slots = await validate(
        domain,
        {"visit_type": "my daughter has a fever and sore throat"},
        "my daughter has a fever and sore throat",
        "visit_type",
        entities=[{"entity": "visit_type", "value": "sick_visit"}],
    )
    assert slots["visit_type"] == "sick_visit"
    assert "fever" in slots["visit_reason"]
    assert slots["requested_slot"] == "provider"


async def test_unknown_visit_type_is_re_asked(clinic_db: str, domain: dict[str, Any]) -> None:
    dispatcher, slots = await validate(domain, {"visit_type": "hmm"}, "hmm", "visit_type")
    assert slots["visit_type"] is None
    assert "utter_visit_type_not_understood" in texts(dispatcher)


async def test_unknown_provider_lists_the_real_ones(clinic_db: str, domain: dict[str, Any]) -> None:
    dispatcher, slots = await validate(
        domain, {"visit_type": "follow_up", "provider": "dr house"}, "dr house", "provider"
    )
    assert slots["provider"] is None
    message = dispatcher.messages[0]
    assert message["response"] == "utter_provider_not_found"
    assert "Dr. Grace Kim" in message["providers_text"]


async def test_provider_who_does_not_offer_the_visit(clinic_db: str, domain: dict[str, Any]) -> None:
    dispatcher, slots = await validate(
        domain, {"visit_type": "skin_check", "provider": "romero"}, "dr romero", "provider"
    )
    assert slots["provider"] is None
    assert dispatcher.messages[0]["response"] == "utter_provider_does_not_offer"
    assert "Dr. Grace Kim" in dispatcher.messages[0]["alternatives_text"]


async def test_time_preference_finds_real_slots(clinic_db: str, domain: dict[str, Any]) -> None:
    base = {"visit_type": "sick_visit", "provider": "any"}
    dispatcher, slots = await validate(
        domain, {**base, "time_preference": "tomorrow morning"}, "tomorrow morning", "time_preference"
    )
    offered = [SlotKey.decode(s) for s in slots["offered_slots"]]
    assert 1 <= len(offered) <= 3
    assert all(k.start.date() == dt.date(2026, 12, 3) and k.start.hour < 12 for k in offered)
    assert slots["requested_slot"] == "slot_choice"


async def test_past_and_nonsense_times_are_re_asked(clinic_db: str, domain: dict[str, Any]) -> None:
    base = {"visit_type": "sick_visit", "provider": "any"}
    dispatcher, slots = await validate(
        domain, {**base, "time_preference": "last monday"}, "last monday", "time_preference"
    )
    assert slots["time_preference"] is None and texts(dispatcher) == ["utter_time_in_past"]
    dispatcher, slots = await validate(domain, {**base, "time_preference": "🤷"}, "🤷", "time_preference")
    assert slots["time_preference"] is None and texts(dispatcher) == ["utter_time_not_understood"]


async def test_closed_day_says_so(clinic_db: str, domain: dict[str, Any]) -> None:
    base = {"visit_type": "sick_visit", "provider": "any"}
    dispatcher, slots = await validate(domain, {**base, "time_preference": "sunday"}, "sunday", "time_preference")
    assert slots["time_preference"] is None
    assert texts(dispatcher) == ["utter_closed_that_day"]


async def test_pick_by_number_and_by_time(clinic_db: str, domain: dict[str, Any]) -> None:
    offered = ["2026-12-03T09:00|patel", "2026-12-03T10:40|okafor", "2026-12-03T11:20|patel"]
    base = {"visit_type": "sick_visit", "provider": "any", "time_preference": "tomorrow", "offered_slots": offered}
    _, slots = await validate(domain, {**base, "slot_choice": "2"}, "2", "slot_choice")
    assert slots["slot_choice"] == offered[1]
    _, slots = await validate(domain, {**base, "slot_choice": "the 11:20 one"}, "the 11:20 one", "slot_choice")
    assert slots["slot_choice"] == offered[2]


async def test_correction_to_another_provider_clears_the_offer(clinic_db: str, domain: dict[str, Any]) -> None:
    offered = ["2026-12-08T09:00|patel"]
    slots_before = {
        "visit_type": "follow_up",
        "provider": "kim",
        "time_preference": "next tuesday",
        "offered_slots": offered,
        "slot_choice": offered[0],
        "patient_id": "P-1001",
        "booking_confirmed": "actually make it dr kim",
    }
    events = [
        {"event": "slot", "name": "provider", "value": "patel"},
        {"event": "user", "text": "actually make it dr kim"},
        {"event": "slot", "name": "provider", "value": "kim"},
        {"event": "slot", "name": "booking_confirmed", "value": "actually make it dr kim"},
    ]
    dispatcher, slots = await validate(
        domain,
        slots_before,
        "actually make it dr kim",
        "booking_confirmed",
        entities=[{"entity": "provider", "value": "kim"}],
        events=events,
    )
    assert slots["provider"] == "kim"
    assert slots["slot_choice"] is None and slots["offered_slots"] is None
    assert slots["requested_slot"] == "slot_choice"


async def test_ask_slot_choice_offers_buttons(clinic_db: str, domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker({"visit_type": "vaccination", "provider": "romero", "time_preference": "friday"})
    events = await ActionAskSlotChoice().run(dispatcher, tracker, domain)
    buttons = dispatcher.messages[0]["buttons"]
    assert 1 <= len(buttons) <= 3
    assert all("Romero" in b["title"] and "Fri Dec 4" in b["title"] for b in buttons)
    assert slot_events(events)["offered_slots"]


async def test_booking_writes_one_appointment(clinic_db: str, domain: dict[str, Any]) -> None:
    slot = get_scheduling_service().search_slots(
        "follow_up", provider_id="patel", start_date=dt.date(2026, 12, 4), end_date=dt.date(2026, 12, 4)
    )[0]
    choice = SlotKey(slot.start, "patel").encode()
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        {"visit_type": "follow_up", "slot_choice": choice, "patient_id": "P-1001", "booking_confirmed": True}
    )
    await ActionBookAppointment().run(dispatcher, tracker, domain)
    assert texts(dispatcher) == ["utter_booking_done"]
    upcoming = get_scheduling_service().upcoming_appointments("P-1001")
    assert [a.start for a in upcoming if a.provider_id == "patel"] == [slot.start]


async def test_slot_taken_meanwhile_reopens_the_form(clinic_db: str, domain: dict[str, Any]) -> None:
    service = get_scheduling_service()
    slot = service.search_slots(
        "follow_up", provider_id="patel", start_date=dt.date(2026, 12, 4), end_date=dt.date(2026, 12, 4)
    )[0]
    service.book(patient_id="P-1002", provider_id="patel", visit_type="follow_up", start=slot.start)
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        {
            "visit_type": "follow_up",
            "slot_choice": SlotKey(slot.start, "patel").encode(),
            "patient_id": "P-1001",
            "booking_confirmed": True,
        }
    )
    events = await ActionBookAppointment().run(dispatcher, tracker, domain)
    assert texts(dispatcher) == ["utter_slot_taken"]
    assert {"event": "followup", "name": "booking_form"} in [{k: e.get(k) for k in ("event", "name")} for e in events]
    assert service.upcoming_appointments("P-1001") == []


async def test_database_down_gives_a_clear_message(clinic_db: str, domain: dict[str, Any], monkeypatch) -> None:
    from bot.scheduling import SqlSchedulingService, set_scheduling_service

    set_scheduling_service(SqlSchedulingService("postgresql://postgres@127.0.0.1:1/nothing"))
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        {
            "visit_type": "follow_up",
            "slot_choice": "2026-12-04T09:00|patel",
            "patient_id": "P-1001",
            "booking_confirmed": True,
        }
    )
    await ActionBookAppointment().run(dispatcher, tracker, domain)
    assert texts(dispatcher) == ["utter_backend_down"]


async def test_only_the_weekdays_the_patient_can_do(clinic_db: str, domain: dict[str, Any]) -> None:
    base = {"visit_type": "follow_up", "provider": "patel"}
    _, slots = await validate(domain, {**base, "time_preference": "mondays only"}, "mondays only", "time_preference")
    offered = [SlotKey.decode(s) for s in slots["offered_slots"]]
    assert offered and all(k.start.weekday() == 0 for k in offered)


async def test_as_soon_as_possible_offers_the_earliest(clinic_db: str, domain: dict[str, Any]) -> None:
    base = {"visit_type": "sick_visit", "provider": "any"}
    _, slots = await validate(domain, {**base, "time_preference": "asap pls"}, "asap pls", "time_preference")
    offered = [SlotKey.decode(s) for s in slots["offered_slots"]]
    assert offered and offered[0].start.date() <= dt.date(2026, 12, 3)


async def test_a_when_said_up_front_is_kept(clinic_db: str, domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        {"provider": "patel", "requested_slot": None},
        text="can i see dr patel friday morning",
        intent="book_appointment",
        active_loop=FORM,
        just_set=["provider"],
    )
    slots = slot_events(await ValidateBookingForm().run(dispatcher, tracker, domain))
    assert slots["time_preference"] == "can i see dr patel friday morning"
    assert slots["requested_slot"] == "visit_type"


async def test_a_date_of_birth_is_not_taken_for_a_when(clinic_db: str, domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        {
            "visit_type": "follow_up",
            "provider": "any",
            "time_preference": "friday",
            "slot_choice": "2026-12-04T09:00|patel",
            "requested_slot": "patient_dob",
            "patient_full_name": "Ana Souza",
            "patient_dob": "11/02/1978",
        },
        text="11/02/1978",
        active_loop=FORM,
        just_set=["patient_dob"],
    )
    slots = slot_events(await ValidateBookingForm().run(dispatcher, tracker, domain))
    assert "time_preference" not in slots
    assert slots["patient_id"] == "P-1002"


async def test_a_slot_that_was_not_offered_is_refused(clinic_db: str, domain: dict[str, Any]) -> None:
    offered = ["2026-12-03T09:00|patel"]
    base = {"visit_type": "sick_visit", "provider": "any", "time_preference": "tomorrow", "offered_slots": offered}
    dispatcher, slots = await validate(
        domain, {**base, "slot_choice": "2026-12-03T09:00|kim"}, "/inform", "slot_choice"
    )
    assert slots["slot_choice"] is None
    assert texts(dispatcher) == ["utter_slot_choice_not_understood"]
    _, slots = await validate(domain, {**base, "slot_choice": offered[0]}, "/inform", "slot_choice")
    assert slots["slot_choice"] == offered[0]


async def test_times_found_before_a_provider_was_named_are_searched_again(
    clinic_db: str, domain: dict[str, Any]
) -> None:
    # "can I get seen thursday next week?" found times for anyone; then "with dr patel please".
    offered = ["2026-12-10T08:00|romero", "2026-12-10T09:00|patel", "2026-12-10T10:00|patel"]
    slots_before = {
        "visit_type": "sick_visit",
        "provider": "patel",
        "time_preference": "thursday next week",
        "offered_slots": offered,
    }
    dispatcher, slots = await validate(
        domain,
        slots_before,
        "yes, with dr patel please",
        "provider",
        entities=[{"entity": "provider", "value": "patel"}],
    )
    assert slots["provider"] == "patel"
    assert slots["offered_slots"] is None and slots["slot_choice"] is None
    # "anyone" keeps the times already found for anyone.
    dispatcher, slots = await validate(domain, {**slots_before, "provider": "any"}, "anyone", "provider")
    assert slots["provider"] == "any" and "offered_slots" not in slots
