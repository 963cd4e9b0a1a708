"""Emergencies are answered at once, in any state, and stop the open form."""

from __future__ import annotations

import pytest

from tests.e2e.harness import Conversation, RunningAssistant

pytestmark = pytest.mark.e2e


def test_emergency_in_the_middle_of_booking(chat: Conversation) -> None:
    chat.say("i need an appointment")
    chat.say("follow up")
    chat.say("anyone")
    chat.say("my chest hurts really bad and my left arm is numb")
    assert "Call 911 now" in chat.text
    assert "When would you like" not in chat.text
    assert chat.tracker()["active_loop"] in ({}, None) or not chat.tracker()["active_loop"].get("name")
    chat.say("ok")
    assert "When would you like" not in chat.text  # it does not go back to booking by itself


def test_crisis_gets_the_988_lifeline(chat: Conversation) -> None:
    chat.say("i dont want to be here anymore, thinking of ending it all")
    assert "988" in chat.text and "911" in chat.text


def test_negated_symptoms_are_not_an_emergency(chat: Conversation) -> None:
    chat.say("no chest pain or trouble breathing, just a bad cough, need an appt")
    assert "911" not in chat.text


def test_a_dose_question_gets_no_medical_advice_and_the_options(chat: Conversation) -> None:
    chat.say("how much tylenol can i give my 3 year old")
    assert "can't give medical advice" in chat.text
    assert "(555) 010-2000" in chat.text
    titles = [b["title"] for b in chat.buttons]
    assert "Message the care team" in titles and "Book a visit" in titles


def test_an_urgent_sounding_question_points_to_the_nurse_line_and_911(chat: Conversation) -> None:
    chat.say("I accidentally took two doses of my blood pressure pill, what do i do")
    assert "nurse line" in chat.text and "911" in chat.text


def test_a_spanish_medical_question_gets_the_same_answer(chat: Conversation) -> None:
    chat.say("puedo tomar ibuprofeno con mi medicina?")
    assert "can't give medical advice" in chat.text


def test_a_medical_question_inside_the_booking_form_is_answered_and_booking_goes_on(chat: Conversation) -> None:
    chat.say("i need an appointment")
    chat.say("follow up")
    chat.say("should i stop taking my metformin?")
    assert "can't give medical advice" in chat.text
    assert "Who would you like to see" in chat.text or "anyone" in chat.text.lower()
    chat.say("anyone")
    assert "When would you like" in chat.text


def test_a_red_flag_wins_over_a_medical_question(chat: Conversation) -> None:
    chat.say("crushing chest pain, should i take an aspirin?")
    assert "Call 911 now" in chat.text
    assert "can't give medical advice" not in chat.text


def test_an_emergency_is_flagged_for_staff(chat: Conversation, assistant: RunningAssistant) -> None:
    from bot.records import SqlRecordsService

    chat.say("i want to book a visit")
    chat.say("im having a seizure")
    assert "911" in chat.text
    flags = [
        item
        for item in SqlRecordsService(assistant.clinic_database_url).open_work_items("emergency")
        if item.conversation_id == chat.sender
    ]
    assert len(flags) == 1 and flags[0].category == "medical" and flags[0].channel == "rest"
    assert all(part.replace("_", "").isalnum() for part in flags[0].flags.split(", "))  # rule ids, not words
