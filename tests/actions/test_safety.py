"""The emergency answer depends on what the red-flag check found."""

from __future__ import annotations

from typing import Any

from rasa_sdk.executor import CollectingDispatcher

from actions.safety import ActionEmergency, ActionEmergencyCheckAnswer
from tests.actions.conftest import make_tracker, texts


async def test_crisis_gets_988(clinic_db: str, domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text="...", intent="report_emergency", entities=[{"entity": "red_flag", "value": "crisis"}])
    await ActionEmergency().run(dispatcher, tracker, domain)
    assert texts(dispatcher) == ["utter_emergency_crisis"]
    assert "988" in domain["responses"]["utter_emergency_crisis"][0]["text"]


async def test_a_red_flag_gets_911_at_once(clinic_db: str, domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    entities = [{"entity": "red_flag", "value": "medical"}]
    await ActionEmergency().run(dispatcher, make_tracker(intent="report_emergency", entities=entities), domain)
    assert texts(dispatcher) == ["utter_emergency"]
    assert "911" in domain["responses"]["utter_emergency"][0]["text"]


async def test_classifier_only_gets_the_check_question_and_no_flag(clinic_db: str, domain: dict[str, Any]) -> None:
    from bot.records import get_records_service

    dispatcher = CollectingDispatcher()
    await ActionEmergency().run(dispatcher, make_tracker(text="Brandon Hughes", intent="report_emergency"), domain)
    assert texts(dispatcher) == ["utter_emergency_check"]
    check = domain["responses"]["utter_emergency_check"][0]
    assert check["text"] == "Is this happening now, and is it severe? If it is, call 911 now."
    assert [b["payload"] for b in check["buttons"]] == ["/affirm", "/deny"]
    assert get_records_service().open_work_items("emergency") == []


def after(response: str, intent: str) -> Any:
    """A tracker where the assistant's last message was ``response`` and the patient answered ``intent``."""
    events = [
        {"event": "user", "text": "...", "parse_data": {}},
        {"event": "action", "name": "action_emergency"},
        {"event": "bot", "text": "...", "metadata": {"utter_action": response}},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "yes", "parse_data": {}},
    ]
    return make_tracker(text="yes", intent=intent, events=events)


async def test_yes_to_the_check_gets_911_and_flags_staff(clinic_db: str, domain: dict[str, Any]) -> None:
    from bot.records import get_records_service

    dispatcher = CollectingDispatcher()
    await ActionEmergencyCheckAnswer().run(dispatcher, after("utter_emergency_check", "affirm"), domain)
    assert texts(dispatcher) == ["utter_emergency"]
    [flag] = get_records_service().open_work_items("emergency")
    assert flag.category == "medical"


async def test_no_to_the_check_reassures(clinic_db: str, domain: dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    await ActionEmergencyCheckAnswer().run(dispatcher, after("utter_emergency_check", "deny"), domain)
    assert texts(dispatcher) == ["utter_emergency_check_declined", "utter_anything_else"]


async def test_no_after_a_real_emergency_answer_repeats_it(clinic_db: str, domain: dict[str, Any]) -> None:
    for response in ("utter_emergency", "utter_emergency_crisis"):
        for intent in ("affirm", "deny"):
            dispatcher = CollectingDispatcher()
            await ActionEmergencyCheckAnswer().run(dispatcher, after(response, intent), domain)
            assert texts(dispatcher) == [response]


async def test_an_emergency_is_flagged_for_staff_with_rule_ids_only(clinic_db: str, domain: dict[str, Any]) -> None:
    from bot.records import get_records_service

    tracker = make_tracker(
        text="my chest hurts", intent="report_emergency", entities=[{"entity": "red_flag", "value": "medical"}]
    )
    tracker.latest_message["red_flag"] = {"category": "medical", "flags": ["chest_pain"]}
    await ActionEmergency().run(CollectingDispatcher(), tracker, domain)
    [flag] = get_records_service().open_work_items("emergency")
    assert (flag.conversation_id, flag.category, flag.flags) == ("test", "medical", "chest_pain")


async def test_the_answer_goes_out_even_when_flagging_fails(
    clinic_db: str, domain: dict[str, Any], monkeypatch: Any
) -> None:
    from bot.records import get_records_service

    def broken(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("database down")

    monkeypatch.setattr(get_records_service(), "flag_emergency", broken)
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(intent="report_emergency", entities=[{"entity": "red_flag", "value": "crisis"}])
    await ActionEmergency().run(dispatcher, tracker, domain)
    assert texts(dispatcher) == ["utter_emergency_crisis"]


async def test_a_yes_in_words_after_the_check_gets_911(clinic_db: str, domain: dict[str, Any]) -> None:
    tracker = after("utter_emergency_check", "describe_symptoms")
    tracker.latest_message["text"] = "yes it's happening right now and it's bad"
    dispatcher = CollectingDispatcher()
    await ActionEmergencyCheckAnswer().run(dispatcher, tracker, domain)
    assert texts(dispatcher) == ["utter_emergency"]


async def test_a_complaint_after_the_check_is_offered_a_visit(clinic_db: str, domain: dict[str, Any]) -> None:
    for text, said in (("no, it's just an itchy rash", ["utter_emergency_check_declined"]), ("it's an itchy rash", [])):
        tracker = after("utter_emergency_check", "describe_symptoms")
        tracker.latest_message["text"] = text
        dispatcher = CollectingDispatcher()
        events = await ActionEmergencyCheckAnswer().run(dispatcher, tracker, domain)
        assert texts(dispatcher) == said
        assert events == [{"event": "followup", "name": "action_offer_sick_visit", "timestamp": None}]


async def test_describing_it_again_after_the_check_gets_911(clinic_db: str, domain: dict[str, Any]) -> None:
    tracker = after("utter_emergency_check", "report_emergency")
    dispatcher = CollectingDispatcher()
    await ActionEmergency().run(dispatcher, tracker, domain)
    assert texts(dispatcher) == ["utter_emergency"]
