"""The production shape: PostgreSQL for both stores, Redis conversation locks
and web chat behind a password, a shared action-server secret, and two Rasa
instances serving one conversation.

Redis is a throwaway ``redis-server --requirepass`` of this module's own, so
a test may also publish onto the web chat channel what an attacker with access
to Redis would: a pickle that creates a file when loaded.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import uuid
from collections.abc import Iterator

import pytest

from bot.scheduling.sql import SqlSchedulingService
from channels.webchat import REDIS_CHANNEL
from tests.channels.test_socketio_json import attack_pickle
from tests.e2e.harness import Conversation, RunningAssistant, free_port, start_assistant
from tests.e2e.webchat_client import WebChatClient, conversation_of, send_out_of_band
from tests.fixtures_db import NOW, create_pg_database, drop_pg_database
from tests.throwaway_redis import ThrowawayRedis

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]


@pytest.fixture(scope="module")
def redis_server() -> Iterator[ThrowawayRedis]:
    """A Redis of this module's own, with a password as production requires."""
    server = ThrowawayRedis(password="shape-" + uuid.uuid4().hex)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def two_instances(
    tmp_path_factory: pytest.TempPathFactory, redis_server: ThrowawayRedis
) -> Iterator[tuple[RunningAssistant, RunningAssistant]]:
    """Action server + Rasa instance A, and Rasa instance B, on shared stores."""
    clinic_url = create_pg_database()
    tracker_url = create_pg_database()
    action_port = free_port()
    shared = {
        "CLINIC_DATABASE_URL": clinic_url,
        "TRACKER_STORE_URL": tracker_url,
        "REDIS_URL": redis_server.url,
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


async def test_a_pickle_published_to_the_web_chat_channel_runs_nothing(
    two_instances, redis_server: ThrowawayRedis, tmp_path
) -> None:
    import redis

    first, second = two_instances
    tabs = [WebChatClient(first.rasa_url), WebChatClient(second.rasa_url)]
    for tab in tabs:
        await tab.open()  # a connection starts the instance's Redis listener
    marker = tmp_path / "created-by-a-pickle"
    publisher = redis.Redis.from_url(redis_server.url)
    try:
        listeners = 0
        for _ in range(100):  # each instance subscribes when its first socket connects
            listeners = publisher.pubsub_numsub(REDIS_CHANNEL)[0][1]
            if listeners >= 2:
                break
            await asyncio.sleep(0.1)
        assert listeners == 2
        assert publisher.publish(REDIS_CHANNEL, attack_pickle(marker)) == 2  # both instances received it
    finally:
        publisher.close()
    # Both instances still answer, and still carry web chat between them.
    for tab in tabs:
        assert any(m.get("text") for m in await tab.say("what are your hours"))
    before = len(tabs[1].inbox)
    send_out_of_band(first.rasa_url, conversation_of(tabs[1].session_id or ""), "utter_goodbye")
    await tabs[1].wait_for_messages(before + 1)
    for tab in tabs:
        await tab.close()
    assert not marker.exists()
    for instance in (first, second):
        assert "not a JSON socket.io message" in instance.logs()
