"""What counts as the answer to a form's question (shared by the policy and the validators)."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.answer_shapes import fits, is_stop_request, looks_like_name

TODAY = dt.date(2026, 12, 2)


@pytest.mark.parametrize(
    "text",
    ["Tyler Brooks", "Tasha Green", "Brandon Hughes", "my name is ana souza", "Rivera, Jordan", "Seán O'Neil-Brady"],
)
def test_names_are_names(text: str) -> None:
    assert looks_like_name(text)


@pytest.mark.parametrize(
    "text", ["thank you", "ok bye", "talk to a person", "never mind", "what are your hours", "Tyler", "03/14/1990"]
)
def test_phrases_are_not_names(text: str) -> None:
    assert not looks_like_name(text)


@pytest.mark.parametrize(
    "text, slot, expected",
    [
        ("03/14/1990", "patient_dob", True),
        ("march 14 1990", "patient_dob", True),
        ("thanks", "patient_dob", False),
        ("555-201-9999", "patient_mobile", True),
        ("(555) 201 9999", "callback_phone", True),
        ("call me maybe", "patient_mobile", False),
        ("lisinopril 10 mg", "intake_medications", True),
        ("never mind", "intake_medications", False),
        ("/affirm", "intake_medications", False),
        ("ok thanks, the first one", "slot_choice", True),
        ("10 am works, thank you", "slot_choice", True),
        ("thanks!", "slot_choice", False),
        ("Tyler Brooks", "visit_type", False),  # not a free-answer slot: the rules decide
        ("Tyler Brooks", None, False),
    ],
)
def test_fits(text: str, slot: str, expected: bool) -> None:
    assert fits(slot, text, TODAY) is expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("never mind", True),
        ("actually never mind", True),
        ("nevermind, i'll call instead", True),
        ("nah forget it", True),
        ("stop!", True),
        ("no thanks", True),
        ("actually stop, I'll do it later", True),
        ("forget it, none of those work", True),
        ("no, stop. I don't want to book", True),
        ("never mind, I'll keep it", True),
        ("stop, can I do friday instead", False),
        ("I want to stop smoking", False),
        ("stop the bleeding", False),
        ("never", False),
    ],
)
def test_stop_requests(text: str, expected: bool) -> None:
    assert is_stop_request(text) is expected
