"""The emergency answer depends on what the red-flag check found."""

from __future__ import annotations

from typing import Any, Dict

from rasa_sdk.executor import CollectingDispatcher

from actions.safety import ActionEmergency
from tests.actions.conftest import make_tracker, texts


async def test_crisis_gets_988(clinic_db: str, domain: Dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text="...", intent="report_emergency", entities=[{"entity": "red_flag", "value": "crisis"}])
    await ActionEmergency().run(dispatcher, tracker, domain)
    assert texts(dispatcher) == ["utter_emergency_crisis"]
    assert "988" in domain["responses"]["utter_emergency_crisis"][0]["text"]


async def test_medical_or_classifier_only_gets_911(clinic_db: str, domain: Dict[str, Any]) -> None:
    for entities in ([{"entity": "red_flag", "value": "medical"}], []):
        dispatcher = CollectingDispatcher()
        await ActionEmergency().run(dispatcher, make_tracker(intent="report_emergency", entities=entities), domain)
        assert texts(dispatcher) == ["utter_emergency"]
    assert "911" in domain["responses"]["utter_emergency"][0]["text"]


async def test_an_emergency_is_flagged_for_staff_with_rule_ids_only(clinic_db: str, domain: Dict[str, Any]) -> None:
    from bot.records import get_records_service

    tracker = make_tracker(
        text="my chest hurts", intent="report_emergency", entities=[{"entity": "red_flag", "value": "medical"}]
    )
    tracker.latest_message["red_flag"] = {"category": "medical", "flags": ["chest_pain"]}
    await ActionEmergency().run(CollectingDispatcher(), tracker, domain)
    [flag] = get_records_service().open_work_items("emergency")
    assert (flag.conversation_id, flag.category, flag.flags) == ("test", "medical", "chest_pain")


async def test_the_answer_goes_out_even_when_flagging_fails(
    clinic_db: str, domain: Dict[str, Any], monkeypatch: Any
) -> None:
    from bot.records import get_records_service

    def broken(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("database down")

    monkeypatch.setattr(get_records_service(), "flag_emergency", broken)
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(intent="report_emergency", entities=[{"entity": "red_flag", "value": "crisis"}])
    await ActionEmergency().run(dispatcher, tracker, domain)
    assert texts(dispatcher) == ["utter_emergency_crisis"]
