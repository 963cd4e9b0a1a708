"""Identity verification inside forms: match, failures, lock-out."""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from actions.appointments import ValidateIdentityForm
from actions.identity import clean_full_name
from tests.actions.conftest import make_tracker, slot_events, texts


async def answer_dob(domain: dict[str, Any], dob: str, attempts: float = 0) -> tuple:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        {
            "patient_full_name": "Ana Souza",
            "patient_dob": dob,
            "requested_slot": "patient_dob",
            "verification_attempts": attempts,
        },
        text=dob,
        active_loop="identity_form",
        just_set=["patient_dob"],
    )
    events = await ValidateIdentityForm().run(dispatcher, tracker, domain)
    return dispatcher, slot_events(events)


async def test_right_name_and_date_of_birth_verify(clinic_db: str, domain: dict[str, Any]) -> None:
    dispatcher, slots = await answer_dob(domain, "November 2, 1978")
    assert slots["patient_id"] == "P-1002"
    assert slots["patient_first_name"] == "Ana"
    assert slots["requested_slot"] is None


async def test_wrong_date_of_birth_counts_a_failure(clinic_db: str, domain: dict[str, Any]) -> None:
    dispatcher, slots = await answer_dob(domain, "11/03/1978")
    assert "patient_id" not in slots or slots["patient_id"] is None
    assert slots["verification_attempts"] == 1
    assert texts(dispatcher) == ["utter_verification_failed"]


async def test_third_failure_locks_verification(clinic_db: str, domain: dict[str, Any]) -> None:
    dispatcher, slots = await answer_dob(domain, "01/01/1970", attempts=2)
    assert slots["identity_locked"] is True
    assert slots["requested_slot"] is None
    assert texts(dispatcher) == ["utter_verification_locked"]


async def test_unreadable_date_of_birth_is_re_asked(clinic_db: str, domain: dict[str, Any]) -> None:
    dispatcher, slots = await answer_dob(domain, "a long time ago")
    assert slots["patient_dob"] is None
    assert texts(dispatcher) == ["utter_dob_not_understood"]


async def test_locked_conversation_asks_nothing_more(clinic_db: str, domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker({"identity_locked": True}, text="show my appointments", intent="list_appointments")
    required = await ValidateIdentityForm().required_slots([], dispatcher, tracker, domain)
    assert required == []


def test_name_cleaning() -> None:
    assert clean_full_name("my name is jordan rivera") == "jordan rivera"
    assert clean_full_name("Rivera, Jordan") == "Jordan Rivera"
    assert clean_full_name("Seán O'Neil-Brady") == "Seán O'Neil-Brady"
    assert clean_full_name("jordan") is None
    assert clean_full_name("03/14/1990") is None
    assert clean_full_name("x" * 500) is None
