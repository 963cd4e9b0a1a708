"""A patient who wants a person gets the phone number or a call back."""

from __future__ import annotations

from tests.e2e.harness import Conversation


def test_asking_for_a_person_leads_to_a_call_back(chat: Conversation) -> None:
    chat.say("can i talk to a real person please")
    assert "(555) 010-2000" in chat.text and "call you back" in chat.text
    chat.say("yes")
    assert "full name" in chat.text
    chat.say("Maria Lopez")
    chat.say("212 555 0199")
    chat.say("after 3pm")
    assert "call you within one business day" in chat.text


def test_two_misunderstood_messages_in_a_row_offer_a_person(chat: Conversation) -> None:
    chat.say("zxqv blorp")
    assert "didn't quite get that" in chat.text
    chat.say("qwpoe zzkr flim")
    assert "still not getting it" in chat.text and "call you back" in chat.text
