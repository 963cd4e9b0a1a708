"""The outreach-answer policy and the reading of answers to a reminder (no model, no server)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from actions.outreach import numbered_answer, reminder_choice, yes_no_choice
from bot.paths import DOMAIN_PATH
from bot.policies.outreach_answer import OutreachAnswerPolicy

ANSWER = {"outreach": {"outbox_id": 7}}


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(DOMAIN_PATH)


@pytest.fixture
def policy(tmp_path: Path) -> OutreachAnswerPolicy:
    return OutreachAnswerPolicy.create(
        OutreachAnswerPolicy.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("outreach_answer"),
        ExecutionContext(GraphSchema({}), "test"),
    )


def user(intent: str, metadata: dict | None = None, entities: list | None = None) -> UserUttered:
    return UserUttered("...", {"name": intent, "confidence": 1.0}, entities or [], metadata=metadata)


def predicted(policy: OutreachAnswerPolicy, domain: Domain, events: list[Event]) -> str | None:
    state = DialogueStateTracker.from_events("c1", [ActionExecuted("action_listen"), *events], domain.slots)
    prediction = policy.predict_action_probabilities(state, domain)
    if max(prediction.probabilities) == 0:
        return None
    return domain.action_names_or_texts[prediction.probabilities.index(max(prediction.probabilities))]


@pytest.mark.parametrize("intent", ["affirm", "deny", "cancel_appointment", "reschedule_appointment", "inform"])
def test_an_answer_to_a_clinic_text_goes_to_the_answer_action(
    policy: OutreachAnswerPolicy, domain: Domain, intent: str
) -> None:
    assert predicted(policy, domain, [user(intent, ANSWER)]) == "action_outreach_answer"


@pytest.mark.parametrize("intent", ["report_emergency", "ask_clinic_hours", "request_human", "ask_medical_advice"])
def test_other_messages_are_left_to_the_rules(policy: OutreachAnswerPolicy, domain: Domain, intent: str) -> None:
    assert predicted(policy, domain, [user(intent, ANSWER)]) is None


def test_red_flags_holds_forms_and_plain_messages_are_left_alone(policy: OutreachAnswerPolicy, domain: Domain) -> None:
    flag = [{"entity": "red_flag", "value": "chest pain", "start": 0, "end": 3}]
    assert predicted(policy, domain, [user("affirm", ANSWER, flag)]) is None
    assert predicted(policy, domain, [SlotSet("staff_holds", True), user("affirm", ANSWER)]) is None
    assert predicted(policy, domain, [ActiveLoop("booking_form"), user("affirm", ANSWER)]) is None
    assert predicted(policy, domain, [user("affirm")]) is None  # no clinic text: the rules answer


def test_the_reply_to_its_own_question_comes_back_and_it_listens_after(
    policy: OutreachAnswerPolicy, domain: Domain
) -> None:
    asked = [
        user("cancel_appointment", ANSWER),
        ActionExecuted("action_outreach_answer"),
        BotUttered("Cancel your visit ...? Reply YES to cancel or NO to keep it."),
        SlotSet("outreach_step", "confirm_cancel"),
    ]
    assert predicted(policy, domain, asked) == "action_listen"
    assert predicted(policy, domain, [*asked, ActionExecuted("action_listen"), user("affirm")]) == (
        "action_outreach_answer"
    )
    later = [*asked, ActionExecuted("action_listen"), user("greet"), ActionExecuted("utter_greet")]
    assert predicted(policy, domain, [*later, ActionExecuted("action_listen"), user("affirm")]) is None


@pytest.mark.parametrize(
    "intent, text, step, choice",
    [
        ("affirm", "/affirm", None, "confirm"),
        ("affirm", "I'll be there", None, "confirm"),
        ("inform", "confirmed", None, "confirm"),
        ("reschedule_appointment", "/reschedule_appointment", None, "move"),
        ("inform", "can I come thursday instead", None, "move"),
        ("reschedule_appointment", "need to reschedule", None, "move"),
        ("cancel_appointment", "/cancel_appointment", None, "ask_cancel"),
        ("inform", "cant make it, cancel please", None, "ask_cancel"),
        ("deny", "no I can't come", None, "move_or_cancel"),
        ("affirm", "yes", "confirm_cancel", "cancel_now"),
        ("deny", "no", "confirm_cancel", "keep"),
        ("inform", "hmm", "confirm_cancel", "unclear"),
        ("nlu_fallback", "purple", None, "unclear"),
    ],
)
def test_reminder_answers(intent: str, text: str, step: str | None, choice: str) -> None:
    assert reminder_choice(intent, text, step) == choice


def test_offer_answers() -> None:
    assert yes_no_choice("affirm", "/affirm") is True
    assert yes_no_choice("deny", "/deny") is False
    assert yes_no_choice("inform", "yes please") is True
    assert yes_no_choice("inform", "maybe") is None


def test_a_bare_number_picks_the_texts_own_choice() -> None:
    assert numbered_answer("reminder", "inform", "3") == ("cancel_appointment", "/cancel_appointment")
    assert numbered_answer("waitlist_offer", "inform", "2") == ("deny", "/deny")
    assert numbered_answer("reminder", "inform", "9") == ("inform", "9")
    assert numbered_answer("reminder", "affirm", "yes") == ("affirm", "yes")


def test_a_bare_number_after_its_question_comes_back_whatever_its_intent(
    policy: OutreachAnswerPolicy, domain: Domain
) -> None:
    asked = [
        user("nlu_fallback", ANSWER),
        ActionExecuted("action_outreach_answer"),
        SlotSet("outreach_step", "answer"),
        ActionExecuted("action_listen"),
    ]
    number = UserUttered("1", {"name": "greet", "confidence": 0.5})
    assert predicted(policy, domain, [*asked, number]) == "action_outreach_answer"
    emergency = UserUttered("1", {"name": "report_emergency", "confidence": 1.0})
    assert predicted(policy, domain, [*asked, emergency]) is None
