"""Web chat when a turn fails: a plain message, a "Send again" button, no lost socket, no message text logged.

The end-to-end test runs a real assistant with ``REDIS_URL`` on a throwaway,
password-protected ``redis-server``, stops that Redis in the middle of a chat,
as an outage would, and drives the socket the way the widget does.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from sanic import Blueprint

from bot.stores.errors import LockUnavailable
from bot.stores.tracker_store import TurnNotStored
from channels.kit import FAILED_REPLY
from channels.webchat import RETRY_TITLE, STORE_DOWN_FALLBACK, WebChatInput
from tests.e2e.harness import RunningAssistant, start_assistant
from tests.e2e.webchat_client import WebChatClient
from tests.throwaway_redis import ThrowawayRedis

CLINIC_PHONE = "(555) 010-2000"  # the demo clinic's, from bot/seed_data/demo_clinic.yml


@pytest.fixture(scope="module")
def redis_server() -> Iterator[ThrowawayRedis]:
    """The Redis this module stops and starts again."""
    server = ThrowawayRedis(password="webchat-failures-secret")
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory, redis_server: ThrowawayRedis) -> Iterator[RunningAssistant]:
    """Both servers, with Redis locks and web chat through that Redis."""
    running = start_assistant(tmp_path_factory.mktemp("webchat-failures"), {"REDIS_URL": redis_server.url})
    try:
        yield running
    finally:
        running.stop()


async def test_the_failure_answer_names_the_outage_and_the_log_never_holds_the_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    channel = WebChatInput(allowed_origins=["*"])
    not_served = Blueprint("not_registered_anywhere")  # no Rasa agent yet: the plain fallback text
    with caplog.at_level(logging.INFO, logger="channels.webchat"):
        outage = LockUnavailable("conversation lock: Redis failed to issue a ticket (ConnectionError)")
        assert await channel._failure_reply(outage, "webchat:abc", not_served) == STORE_DOWN_FALLBACK
        unwritten = TurnNotStored("write failed: OperationalError")  # a BaseException: Rasa's wrapper lets it by
        assert await channel._failure_reply(unwritten, "webchat:abc", not_served) == STORE_DOWN_FALLBACK
        try:
            raise ValueError("I was born on 03/14/1990 and my knee hurts")
        except ValueError as bug:
            assert await channel._failure_reply(bug, "webchat:abc", not_served) == FAILED_REPLY
    assert "webchat:abc failed: conversation lock or store unavailable (LockUnavailable)" in caplog.text
    assert "failed (ValueError at test_webchat_failures.py:" in caplog.text
    assert "03/14/1990" not in caplog.text and "knee" not in caplog.text


@pytest.mark.e2e
async def test_lock_store_down_gets_a_message_and_a_retry_that_works_once_it_is_back(
    assistant: RunningAssistant, redis_server: ThrowawayRedis
) -> None:
    tab = WebChatClient(assistant.rasa_url)
    await tab.open()
    assert "is open" in "\n".join(m.get("text") or "" for m in await tab.say("what are your hours"))

    redis_server.stop()
    try:
        failed = await tab.say("where are you located")
    finally:
        redis_server.start()
    assert len(failed) == 1, failed
    assert "can't open our conversation right now" in failed[0]["text"] and CLINIC_PHONE in failed[0]["text"]
    assert failed[0]["quick_replies"] == [
        {"content_type": "text", "title": RETRY_TITLE, "payload": "where are you located"}
    ]

    again = await tab.say(failed[0]["quick_replies"][0]["payload"])  # the widget sends the payload on a tap
    assert any("We're at" in (m.get("text") or "") for m in again), again
    await tab.close()

    logs = assistant.logs()
    assert "conversation lock or store unavailable (LockUnavailable)" in logs
    assert "where are you located" not in logs
