"""The emergency answer depends on what the red-flag check found."""

from __future__ import annotations

from typing import Any, Dict

from rasa_sdk.executor import CollectingDispatcher

from actions.safety import ActionEmergency
from tests.actions.conftest import make_tracker, texts


async def test_crisis_gets_988(domain: Dict[str, Any]) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text="...", intent="report_emergency", entities=[{"entity": "red_flag", "value": "crisis"}])
    await ActionEmergency().run(dispatcher, tracker, domain)
    assert texts(dispatcher) == ["utter_emergency_crisis"]
    assert "988" in domain["responses"]["utter_emergency_crisis"][0]["text"]


async def test_medical_or_classifier_only_gets_911(domain: Dict[str, Any]) -> None:
    for entities in ([{"entity": "red_flag", "value": "medical"}], []):
        dispatcher = CollectingDispatcher()
        await ActionEmergency().run(dispatcher, make_tracker(intent="report_emergency", entities=entities), domain)
        assert texts(dispatcher) == ["utter_emergency"]
    assert "911" in domain["responses"]["utter_emergency"][0]["text"]
