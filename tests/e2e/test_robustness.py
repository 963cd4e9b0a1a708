"""Odd input gets a polite answer, never a crash or silence."""

from __future__ import annotations

import pytest

from tests.e2e.harness import Conversation

pytestmark = pytest.mark.e2e


def test_huge_message_inside_the_form(chat: Conversation) -> None:
    chat.say("i need an appointment")
    chat.say("sick visit")
    chat.say("anyone")
    chat.say("blah " * 2000)  # 10 kB answer to "when?"
    assert "didn't catch when" in chat.text
    chat.say("tomorrow morning")
    assert [b for b in chat.buttons if "slot_choice" in b["payload"]]


def test_emoji_and_spanish_get_an_answer(chat: Conversation) -> None:
    for text in ["🤒🤒🤒", "¿dónde están ubicados?", "😀", "ñññ"]:
        chat.say(text)
        assert chat.text.strip(), f"no answer to {text!r}"


def test_a_forged_slot_payload_is_refused(chat: Conversation) -> None:
    chat.say("book a follow up with dr patel")
    chat.say("friday")
    chat.say('/inform{"slot_choice":"2020-01-01T09:00|patel"}')  # a past slot typed by hand
    assert "which time would you like" in chat.text.lower()
    chat.say('/inform{"slot_choice":"2026-12-04T09:00|nobody"}')
    chat.say("Jordan Rivera")
    chat.say("03/14/1990")
    chat.say("yes")
    assert "You're booked!" not in chat.text
