"""The response matcher and the conversation files (fast: no assistant needed)."""

from __future__ import annotations

import pydantic
import pytest
import yaml

from tests.conversations.matcher import ResponseMatcher, compile_template
from tests.conversations.report import cause, summary_lines
from tests.conversations.runner import Result
from tests.conversations.spec import Conversation, load_all

RESPONSES = yaml.safe_load(
    """
utter_offer_slots:
  - text: "Here are the first open times {when_text}. Which one works for you?"
utter_booking_done:
  - text: "You're booked! {visit_type_name} with {provider_name} on {when_text}.
      Your appointment number is {appointment_id}."
  - text: "Booked: {visit_type_name}, number {appointment_id}."
    channel: sms
utter_default:
  - text: "Sorry, I didn't quite get that."
  - text: "Sorry, could you say that another way?"
utter_ask_identity_form_patient_full_name:
  - text: "First I need to check who you are. What is your full name?"
utter_ask_cancel_form_patient_full_name:
  - text: "First I need to check who you are. What is your full name?"
utter_next_steps_instruction:
  - text: "{instruction_text}"
utter_braces:
  - text: "Type {{yes}} to go on, {name}."
utter_multiline:
  - text: |
      Line one.
      Line two {x}.
utter_image_only:
  - image: "https://example.org/x.png"
"""
)


@pytest.fixture
def matcher() -> ResponseMatcher:
    return ResponseMatcher(RESPONSES)


def test_placeholders_are_wildcards_and_values_are_captured(matcher: ResponseMatcher) -> None:
    found = matcher.match("Here are the first open times for Thursday, December 3. Which one works for you?")
    assert found.responses == ("utter_offer_slots",)
    assert found.values == {"when_text": "for Thursday, December 3"}
    done = matcher.match(
        "You're booked! Sick visit with Dr. Amina Patel on Thu, Dec 3 at 2:00 PM. Your appointment number is A-12345."
    )
    assert done.name == "utter_booking_done" and done.values["appointment_id"] == "A-12345"


def test_an_empty_placeholder_and_an_unfilled_one_still_match(matcher: ResponseMatcher) -> None:
    assert matcher.match("Here are the first open times . Which one works for you?").is_("utter_offer_slots")
    assert matcher.match("Here are the first open times {when_text}. Which one works for you?").is_("utter_offer_slots")


def test_every_text_variant_counts_and_channel_variants_do_not(matcher: ResponseMatcher) -> None:
    assert matcher.match("Sorry, could you say that another way?").name == "utter_default"
    assert matcher.match("Booked: Sick visit, number A-1.").name != "utter_booking_done"


def test_literal_words_must_match(matcher: ResponseMatcher) -> None:
    assert not matcher.match("Here are some open times for Friday. Which one works for you?").is_("utter_offer_slots")
    assert not matcher.match("Sorry, I didn't quite get that. Really.").is_("utter_default")


def test_the_most_specific_template_wins_over_a_bare_placeholder(matcher: ResponseMatcher) -> None:
    assert matcher.match("Sorry, I didn't quite get that.").responses == ("utter_default",)
    assert matcher.match("Rest and drink fluids.").responses == ("utter_next_steps_instruction",)


def test_identical_templates_all_match(matcher: ResponseMatcher) -> None:
    found = matcher.match("First I need to check who you are. What is your full name?")
    assert set(found.responses) == {
        "utter_ask_identity_form_patient_full_name",
        "utter_ask_cancel_form_patient_full_name",
    }
    assert found.is_("utter_ask_cancel_form_patient_full_name")


def test_double_braces_are_literal_and_whitespace_is_loose(matcher: ResponseMatcher) -> None:
    assert matcher.match("Type {yes} to go on, Ana.").name == "utter_braces"
    assert matcher.match("Line one. Line two here.\n").name == "utter_multiline"
    assert matcher.match("  Line one.\n\nLine two here.").name == "utter_multiline"


def test_unknown_text_matches_nothing_but_a_bare_placeholder(matcher: ResponseMatcher) -> None:
    assert matcher.match("Something nobody wrote").responses == ("utter_next_steps_instruction",)
    without = ResponseMatcher({k: v for k, v in RESPONSES.items() if k != "utter_next_steps_instruction"})
    found = without.match("Something nobody wrote")
    assert found.responses == () and found.name == "?"


def test_match_all_skips_messages_without_text(matcher: ResponseMatcher) -> None:
    found = matcher.match_all([{"image": "x"}, {"text": "Sorry, I didn't quite get that."}])
    assert [m.name for m in found] == ["utter_default"]


def test_template_specificity_counts_literal_characters() -> None:
    assert compile_template("a", "{x}").literal_length == 0
    assert compile_template("a", "Hi {x}!").literal_length == 3


def test_every_response_in_the_real_domain_matches_its_own_text() -> None:
    """Every REST variant in domain/, filled with sample values, comes back as its own name."""
    import re

    real = ResponseMatcher.from_domain()
    for template in real.templates:
        sample = re.sub(r"\{([^\n{}]+?)\}", "SAMPLE", template.text).replace("{{", "{").replace("}}", "}")
        assert real.match(sample).is_(template.response), template.response


def test_the_conversation_files_load() -> None:
    conversations = load_all()
    assert len(conversations) >= 150
    assert len({c.id for c in conversations}) == len(conversations)
    topics = {c.source for c in conversations}
    for topic in (
        "booking",
        "symptoms",
        "rescheduling_cancelling",
        "insurance_costs",
        "next_steps",
        "out_of_scope_smalltalk",
        "forms_and_interruptions",
        "safety",
        "multi_request",
        "dates",
    ):
        assert f"{topic}.yml" in topics, topic


def test_only_emergency_conversations_expect_the_emergency_answer() -> None:
    """A conversation that expects 911 or 988 must say so with ``emergency: true``."""
    for conversation in load_all():
        expected = {n for t in conversation.turns for n in t.says + t.says_any}
        if expected & {"utter_emergency", "utter_emergency_crisis"}:
            assert conversation.emergency, conversation.id


def test_file_format_errors_are_loud() -> None:
    base = {"id": "x", "wants": "y", "turns": [{"patient": "hi"}], "outcome": "answered"}
    Conversation.parse_obj(base)
    with pytest.raises(pydantic.ValidationError):
        Conversation.parse_obj({**base, "turns": [{"patient": "hi", "say": "utter_greet"}]})  # typo
    with pytest.raises(pydantic.ValidationError):
        Conversation.parse_obj({**base, "outcome": "booked"})  # booked needs a mapping
    with pytest.raises(pydantic.ValidationError):
        Conversation.parse_obj({**base, "turns": [{"tap": "Yes"}]})  # starts with a tap
    parsed = Conversation.parse_obj({**base, "turns": [{"patient": "hi", "says": "utter_greet"}]})
    assert parsed.turns[0].says == ["utter_greet"]


def test_summary_groups_failures_by_cause() -> None:
    results = [
        Result("a"),
        Result("b", passed=False, failure="turn 1: expected utter_offer_sick_visit, got: utter_default ('Sorry')"),
        Result("c", passed=False, failure="turn 3: expected utter_offer_sick_visit, got: utter_default ('Sorry')"),
        Result("d", passed=False, failure="turn 2: false 911: got utter_emergency ('This')", false_911=True),
    ]
    lines = summary_lines(results)
    assert lines[0].startswith("conversations: 1/4 successful (25.0%")
    assert lines[1] == "false 911 answers: 1 (target 0): d"
    assert "  [2] expected utter_offer_sick_visit, got: utter_default" in lines
    assert cause("turn 12: did not expect utter_x, got: utter_x ('hi')") == "did not expect utter_x, got: utter_x"
