"""Emergencies are answered at once, in any state, and stop the open form."""

from __future__ import annotations

from tests.e2e.harness import Conversation


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
