"""Two misunderstood messages in a row offer a person; one does not."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionFallback, ActionPrepareHandoff
from tests.actions.conftest import make_tracker, slot_events, texts


def user(intent: str) -> Dict[str, Any]:
    return {"event": "user", "text": "...", "parse_data": {"intent": {"name": intent}}}


def fallback() -> Dict[str, Any]:
    return {"event": "action", "name": "action_fallback"}


async def run_fallback(events: List[Dict[str, Any]], domain: Dict[str, Any]):
    dispatcher = CollectingDispatcher()
    result = await ActionFallback().run(dispatcher, make_tracker(events=events), domain)
    return dispatcher, result


async def test_first_miss_re_asks(domain: Dict[str, Any]) -> None:
    dispatcher, events = await run_fallback([user("nlu_fallback"), fallback(), user("greet"), user("nlu_fallback")], domain)
    assert texts(dispatcher) == ["utter_default"] and events == []
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(intent="out_of_scope", events=[user("greet"), user("out_of_scope")])
    await ActionFallback().run(dispatcher, tracker, domain)
    assert texts(dispatcher) == ["utter_out_of_scope"]


async def test_second_miss_in_a_row_offers_a_person(domain: Dict[str, Any]) -> None:
    dispatcher, events = await run_fallback([user("out_of_scope"), fallback(), user("nlu_fallback")], domain)
    assert texts(dispatcher) == ["utter_still_not_understood"]
    assert slot_events(events)["callback_reason"] == "handoff"
    assert {"event": "followup", "name": "utter_offer_person"} in [
        {k: e.get(k) for k in ("event", "name")} for e in events
    ]


async def test_asking_for_a_person_marks_the_call_back_as_handoff(domain: Dict[str, Any]) -> None:
    events = await ActionPrepareHandoff().run(CollectingDispatcher(), make_tracker(), domain)
    assert slot_events(events)["callback_reason"] == "handoff"
