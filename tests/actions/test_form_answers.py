"""A reply that has the shape of the asked answer fills the slot the mappings skipped."""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from actions.booking import ValidateBookingForm
from actions.form_answers import direct_answer, form_answers_directly
from tests.actions.conftest import make_tracker, slot_events


def form_run(text: str, intent: str, slot: str, between: list[dict[str, Any]] | None = None) -> Any:
    """The tracker Rasa sends the validator: the message, what ran since, the form's own run."""
    events = [
        {"event": "user", "text": text, "parse_data": {}},
        {"event": "action", "name": "action_extract_slots"},
        *(between or []),
        {"event": "slot", "name": "requested_slot", "value": slot},
        {"event": "action", "name": "booking_form"},
    ]
    return make_tracker(
        slots={"requested_slot": slot}, text=text, intent=intent, active_loop="booking_form", events=events
    )


def test_a_name_read_as_thanks_fills_the_name() -> None:
    tracker = form_run("Tyler Brooks", "thank", "patient_full_name")
    assert form_answers_directly(tracker)
    assert direct_answer(tracker) == {"patient_full_name": "Tyler Brooks"}


def test_nothing_is_taken_after_a_rule_answered_the_message() -> None:
    hours = [{"event": "action", "name": "action_clinic_hours"}, {"event": "bot", "text": "We are open..."}]
    tracker = form_run("Tyler Brooks", "thank", "patient_full_name", between=hours)
    assert not form_answers_directly(tracker)
    assert direct_answer(tracker) == {}


def test_a_phrase_is_not_a_name_and_a_taken_slot_is_left_alone() -> None:
    assert direct_answer(form_run("thank you", "thank", "patient_full_name")) == {}
    assert direct_answer(form_run("03/14/1990", "inform", "patient_dob")) == {"patient_dob": "03/14/1990"}
    tracker = form_run("Tasha Green", "inform", "patient_full_name")
    tracker.events.append({"event": "slot", "name": "patient_full_name", "value": "Tasha Green"})
    assert direct_answer(tracker) == {}


async def test_the_booking_form_validator_extracts_it(clinic_db: str, domain: dict[str, Any]) -> None:
    tracker = form_run("Brandon Hughes", "report_emergency", "patient_full_name")
    events = await ValidateBookingForm().get_extraction_events(CollectingDispatcher(), tracker, domain)
    assert slot_events(events) == {"patient_full_name": "Brandon Hughes"}
