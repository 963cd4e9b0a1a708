"""Two requests in one message: how a message is cut into parts, and which part is answered second."""

from __future__ import annotations

from typing import Any

import pytest

from bot.second_request import Plan, answerable_now, other_requests, plan_message, request_parts


@pytest.mark.parametrize(
    "text, parts",
    [
        ("Do you take Cigna? and can I come Saturday", ["Do you take Cigna?", "can I come Saturday"]),
        ("i need a sick visit and do you take aetna", ["i need a sick visit", "do you take aetna"]),
        ("what are your hours. where are you located", ["what are your hours.", "where are you located"]),
        ("book me with dr kim and also what does a visit cost", ["book me with dr kim", "what does a visit cost"]),
        ("i have a rash on my arm, do you take aetna?", ["i have a rash on my arm", "do you take aetna?"]),
        ("my knee and my back hurt", []),
        ("my knee, my back and my neck hurt", []),
        ("hello", []),
        ("", []),
    ],
)
def test_request_parts(text: str, parts: list) -> None:
    assert request_parts(text) == parts


def parse(name: str, confidence: float, text: str = "part") -> dict[str, Any]:
    return {"text": text, "intent": {"name": name, "confidence": confidence}, "entities": []}


def test_the_first_other_confident_request_is_second() -> None:
    parts = [
        parse("ask_insurance_accepted", 0.9, "Do you take Cigna?"),
        parse("book_appointment", 0.8, "can I come Saturday"),
    ]
    assert other_requests("ask_insurance_accepted", parts) == [parts[1]]
    assert other_requests("book_appointment", parts) == [parts[0]]


def test_no_second_request_for_chitchat_unsure_parts_or_an_emergency() -> None:
    assert other_requests("book_appointment", [parse("greet", 0.99), parse("book_appointment", 0.9)]) == []
    assert other_requests("book_appointment", [parse("ask_clinic_hours", 0.3)]) == []
    assert other_requests("book_appointment", [parse("ask_clinic_hours", 0.9), parse("ask_clinic_hours", 0.8)]) == [
        parse("ask_clinic_hours", 0.9)
    ]


def test_answerable_in_the_state_the_first_left() -> None:
    assert answerable_now("book_appointment", None)
    assert answerable_now("ask_clinic_hours", "intake_form")
    assert answerable_now("ask_insurance_accepted", "booking_form")
    assert not answerable_now("ask_insurance_accepted", "intake_form")
    assert not answerable_now("cancel_appointment", "booking_form")


def test_a_quick_question_is_answered_before_a_request_that_asks_back() -> None:
    whole = parse("describe_symptoms", 0.8, "i have a rash, do you take aetna?")
    parts = [
        parse("describe_symptoms", 0.9, "i have a rash,"),
        parse("ask_insurance_accepted", 0.95, "do you take aetna?"),
    ]
    assert plan_message(whole, parts, form_active=False) == Plan(whole, before=parts[1])
    # Inside a form the order stays: the form's rules answer the question and ask again.
    assert plan_message(whole, parts, form_active=True) == Plan(whole, after=(parts[1],))


def test_a_message_unreadable_as_a_whole_is_answered_part_by_part() -> None:
    text = "do you take cigna and are you open saturday? I need a sick visit"
    whole = parse("nlu_fallback", 0.35, text)
    parts = [
        parse("ask_insurance_accepted", 0.97, "do you take cigna"),
        parse("ask_clinic_hours", 0.98, "are you open saturday?"),
        parse("book_appointment", 0.91, "I need a sick visit"),
    ]
    plan = plan_message(whole, parts, form_active=False)
    assert plan.whole == {**parts[0], "text": text}
    assert plan.after == (parts[1], parts[2]) and plan.before is None


def test_one_request_or_an_emergency_is_answered_alone() -> None:
    whole = parse("book_appointment", 0.9, "book me in")
    assert plan_message(whole, [], form_active=False) == Plan(whole)
    emergency = parse("report_emergency", 1.0, "chest pain. and what are your hours")
    assert plan_message(emergency, [parse("ask_clinic_hours", 0.9)], form_active=False) == Plan(emergency)
