"""A described complaint is a reason to be seen: the offer, the yes, the no, and the form."""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from actions.booking import ValidateBookingForm
from actions.symptoms import ActionOfferSickVisit, ActionSickVisitDeclined, ActionStartSickVisit
from tests.actions.conftest import make_tracker, slot_events, texts

COMPLAINT = "i have had a rash on my arm for a week, it itches like crazy"


async def test_a_complaint_gets_the_offer_and_is_kept_as_the_reason(clinic_db: str, domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionOfferSickVisit().run(
        dispatcher, make_tracker(text=COMPLAINT, intent="describe_symptoms"), domain
    )
    assert texts(dispatcher) == ["utter_offer_sick_visit", "utter_symptoms_safety_net"]
    assert dispatcher.messages[1]["clinic_phone"] == "(555) 010-2000"
    assert slot_events(events) == {"visit_reason": COMPLAINT}
    offer = domain["responses"]["utter_offer_sick_visit"][0]
    assert [b["payload"] for b in offer["buttons"]] == ["/affirm", "/deny"]
    assert "911" not in offer["text"]


async def test_yes_makes_it_a_sick_visit_and_no_forgets_it(clinic_db: str, domain: dict[str, Any]) -> None:
    events = await ActionStartSickVisit().run(CollectingDispatcher(), make_tracker(text="yes", intent="affirm"), domain)
    assert slot_events(events) == {"visit_type": "sick_visit"}
    dispatcher = CollectingDispatcher()
    events = await ActionSickVisitDeclined().run(dispatcher, make_tracker(text="no", intent="deny"), domain)
    assert texts(dispatcher) == ["utter_sick_visit_declined"]
    assert slot_events(events) == {"visit_reason": None}


async def test_inside_the_booking_form_a_complaint_answers_what_the_visit_is_for(
    clinic_db: str, domain: dict[str, Any]
) -> None:
    tracker = make_tracker(
        slots={"requested_slot": "visit_type", "visit_type": "my knee hurts when i climb stairs"},
        text="my knee hurts when i climb stairs",
        intent="describe_symptoms",
        active_loop="booking_form",
        just_set=["visit_type"],
    )
    dispatcher = CollectingDispatcher()
    result = await ValidateBookingForm().validate_visit_type(
        tracker.get_slot("visit_type"), dispatcher, tracker, domain
    )
    assert result == {"visit_type": "sick_visit", "visit_reason": "my knee hurts when i climb stairs"}
    assert texts(dispatcher) == []


async def test_a_booking_request_with_a_complaint_is_not_asked_what_it_is_for(
    clinic_db: str, domain: dict[str, Any]
) -> None:
    text = "my back has been hurting for a week, can I come in?"
    tracker = make_tracker(slots={}, text=text, intent="book_appointment", active_loop="booking_form")
    tracker.latest_message["intent_ranking"] = [
        {"name": "book_appointment", "confidence": 0.55},
        {"name": "describe_symptoms", "confidence": 0.4},
    ]
    assert await ValidateBookingForm().extract_visit_type(CollectingDispatcher(), tracker, domain) == {
        "visit_type": "sick_visit"
    }
    plain = make_tracker(
        slots={}, text="can I book an appointment", intent="book_appointment", active_loop="booking_form"
    )
    plain.latest_message["intent_ranking"] = [{"name": "book_appointment", "confidence": 0.95}]
    assert await ValidateBookingForm().extract_visit_type(CollectingDispatcher(), plain, domain) == {}


async def test_yes_to_the_offer_does_not_overwrite_the_reason(clinic_db: str, domain: dict[str, Any]) -> None:
    tracker = make_tracker(
        slots={"visit_type": "sick_visit", "visit_reason": COMPLAINT},
        text="yes please book it for me",
        intent="affirm",
        active_loop="booking_form",
        just_set=["visit_type"],
    )
    result = await ValidateBookingForm().validate_visit_type("sick_visit", CollectingDispatcher(), tracker, domain)
    assert result == {"visit_type": "sick_visit"}
