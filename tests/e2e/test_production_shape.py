"""The production shape: PostgreSQL for both stores, Redis conversation locks,
a shared action-server secret, and two Rasa instances serving one conversation."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import uuid
from collections.abc import Iterator

import pytest

from bot.scheduling.sql import SqlSchedulingService
from tests.e2e.harness import Conversation, RunningAssistant, free_port, start_assistant
from tests.e2e.webchat_client import WebChatClient, conversation_of, send_out_of_band
from tests.fixtures_db import NOW, create_pg_database, drop_pg_database

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


@pytest.fixture(scope="module")
def two_instances(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningAssistant, RunningAssistant]]:
    """Action server + Rasa instance A, and Rasa instance B, on shared stores."""
    clinic_url = create_pg_database()
    tracker_url = create_pg_database()
    action_port = free_port()
    shared = {
        "CLINIC_DATABASE_URL": clinic_url,
        "TRACKER_STORE_URL": tracker_url,
        "REDIS_URL": "redis://127.0.0.1:6379/5",
        "ACTION_SERVER_TOKEN": "shared-" + uuid.uuid4().hex,
        "ACTION_PORT": str(action_port),
        "CHANNEL_ID_SECRET": "shape-" + uuid.uuid4().hex,  # web chat session ids valid on both instances
    }
    first = start_assistant(tmp_path_factory.mktemp("instance-a"), shared)
    second = None
    try:
        second = start_assistant(tmp_path_factory.mktemp("instance-b"), shared, command="rasa-server")
        yield first, second
    finally:
        if second is not None:
            second.stop()
        first.stop()
        drop_pg_database(clinic_url)
        drop_pg_database(tracker_url)


def test_one_conversation_across_two_instances(two_instances) -> None:
    first, second = two_instances
    sender = "shape-" + uuid.uuid4().hex
    a, b = Conversation(first.rasa_url, sender), Conversation(second.rasa_url, sender)
    a.say("i need an appointment")
    b.say("follow up")
    assert "Who would you like to see" in b.text
    a.say("dr okafor")
    b.say("next thursday in the afternoon")
    assert b.buttons, b.text
    b.click(0)
    a.say("Jordan Rivera")
    b.say("03/14/1990")
    assert "Shall I book it?" in b.text
    a.say("yes")
    assert "You're booked!" in a.text
    booked = SqlSchedulingService(first.clinic_database_url).upcoming_appointments("P-1001", now=NOW)
    assert [x.provider_id for x in booked if x.start.date() == dt.date(2026, 12, 10)] == ["okafor"]


def test_simultaneous_messages_of_one_conversation_are_serialised(two_instances) -> None:
    first, second = two_instances
    sender = "lock-" + uuid.uuid4().hex
    a, b = Conversation(first.rasa_url, sender), Conversation(second.rasa_url, sender)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        futures = [pool.submit(a.say, "what are your hours"), pool.submit(b.say, "where are you located")]
        replies = [f.result(timeout=60) for f in futures]
    assert all(replies)
    events = a.tracker()["events"]
    users = [e for e in events if e["event"] == "user"]
    assert len(users) == 2
    # Each message got its own complete turn: user, action, bot, listen - never interleaved.
    names = [e.get("name") for e in events if e["event"] == "action"]
    assert names.count("action_clinic_hours") == 1 and names.count("action_clinic_location") == 1


def test_insurance_and_next_steps_on_postgresql(two_instances) -> None:
    first, second = two_instances
    chat = Conversation(second.rasa_url)
    chat.say("do you take cigna")
    assert "Yes, we take Cigna" in chat.text
    chat.say("what do i need to do after my visit")
    chat.say("Jordan Rivera")
    chat.say("03/14/1990")
    assert "acute bronchitis" in chat.text and "chest X-ray" in chat.text
    chat.say("i need a refill on my inhaler")
    chat.say("cvs on main")
    assert "refill request for inhaler" in chat.text


def test_intake_pause_and_resume_on_postgresql(two_instances) -> None:
    from tests.e2e.test_intake import ANSWERS, answer_until

    first, second = two_instances
    chat = Conversation(first.rasa_url)
    chat.say("i want to fill out my intake form")
    chat.say("Ana Souza")
    chat.say("11/02/1978")
    answer_until(chat, {**ANSWERS, "date of birth": "11/02/1978"}, stop_at="home address")
    chat.say("pause")
    later = Conversation(second.rasa_url)  # another conversation, on the other instance
    later.say("i want to finish my intake")
    later.say("Ana Souza")
    later.say("11/02/1978")
    assert "welcome back" in later.text.lower()
    assert "home address" in later.text.lower()


async def test_web_chat_moves_between_instances_and_out_of_band_messages_find_its_socket(two_instances) -> None:
    first, second = two_instances
    tab = WebChatClient(first.rasa_url)
    session_id = await tab.open()
    assert "Maple Grove" in "\n".join(m.get("text") or "" for m in await tab.say("hello"))
    await tab.close()
    # The reconnect lands on the other instance: it accepts the id the first one issued.
    moved = WebChatClient(second.rasa_url)
    assert await moved.open(session_id) == session_id
    visit_question = await moved.say("i need an appointment")
    assert any(b["title"] == "Follow-up" for m in visit_question for b in (m.get("quick_replies") or []))
    # A staff message sent through the first instance reaches the socket held by the second (Redis).
    before = len(moved.inbox)
    send_out_of_band(first.rasa_url, conversation_of(session_id), "utter_goodbye")
    await moved.wait_for_messages(before + 1)
    assert moved.inbox[before].get("text")
    await moved.close()
