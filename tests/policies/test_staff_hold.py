"""The staff-hold policy: quiet while staff have the chat, except for emergencies."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.paths import DOMAIN_PATH
from bot.policies.staff_hold import StaffHoldPolicy


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(DOMAIN_PATH)


@pytest.fixture
def policy(tmp_path: Path) -> StaffHoldPolicy:
    return StaffHoldPolicy.create(
        StaffHoldPolicy.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("staff_hold"),
        ExecutionContext(GraphSchema({}), "test"),
    )


def user(intent: str) -> UserUttered:
    return UserUttered("...", {"name": intent, "confidence": 1.0})


def tracker(domain: Domain, held: bool | None, tail: list[Event]) -> DialogueStateTracker:
    events: list[Event] = [ActionExecuted("action_listen")]
    if held is not None:
        events.append(SlotSet("staff_holds", held))
    return DialogueStateTracker.from_events("c1", events + tail, domain.slots)


def predicted(policy: StaffHoldPolicy, domain: Domain, state: DialogueStateTracker) -> str | None:
    prediction = policy.predict_action_probabilities(state, domain)
    if max(prediction.probabilities) == 0:
        return None
    return domain.action_names_or_texts[prediction.probabilities.index(max(prediction.probabilities))]


@pytest.mark.parametrize("intent", ["greet", "request_human", "book_appointment", "affirm", "nlu_fallback"])
def test_listens_after_any_message_while_held(policy: StaffHoldPolicy, domain: Domain, intent: str) -> None:
    state = tracker(domain, True, [ActionExecuted("action_listen"), user(intent)])
    prediction = policy.predict_action_probabilities(state, domain)
    assert predicted(policy, domain, state) == "action_listen"
    assert prediction.policy_priority > 6 and prediction.is_no_user_prediction  # outranks the RulePolicy


def test_slot_extraction_does_not_count_as_an_answer(policy: StaffHoldPolicy, domain: Domain) -> None:
    state = tracker(
        domain, True, [ActionExecuted("action_listen"), user("inform"), ActionExecuted("action_extract_slots")]
    )
    assert predicted(policy, domain, state) == "action_listen"


def test_emergencies_are_left_to_the_rules(policy: StaffHoldPolicy, domain: Domain) -> None:
    state = tracker(domain, True, [ActionExecuted("action_listen"), user("report_emergency")])
    assert predicted(policy, domain, state) is None


@pytest.mark.parametrize("held", [None, False])
def test_abstains_when_nobody_holds_the_chat(policy: StaffHoldPolicy, domain: Domain, held: bool | None) -> None:
    state = tracker(domain, held, [ActionExecuted("action_listen"), user("greet")])
    assert predicted(policy, domain, state) is None


def test_abstains_after_a_bot_action(policy: StaffHoldPolicy, domain: Domain) -> None:
    """After the emergency answer the rules decide what comes next (listen)."""
    state = tracker(
        domain,
        True,
        [
            ActionExecuted("action_listen"),
            user("report_emergency"),
            ActionExecuted("action_emergency"),
            BotUttered("Call 911"),
        ],
    )
    assert predicted(policy, domain, state) is None


def test_training_is_a_no_op(policy: StaffHoldPolicy, domain: Domain) -> None:
    assert policy.train([], domain) is not None
