"""Web chat message ids: a resend of a message (same ``message_id``) is answered once, never run twice.

The widget gives every message a random id and its "Send again" button carries
the failed message's id (``channels/webchat.py``). These tests drive the
socket like the widget does, against a real assistant, and count the turns in
the stored conversation through Rasa's HTTP API.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from channels.webchat import RETRY_TITLE
from tests.e2e.harness import RunningAssistant, get_json, start_assistant
from tests.e2e.test_widget_browser import _bot_texts, _demo, _open_chat, _send, chromium, new_tab  # noqa: F401
from tests.e2e.webchat_client import TIMEOUT, WebChatClient, conversation_of
from tests.throwaway_redis import ThrowawayRedis

pytestmark = pytest.mark.e2e


async def say_with_id(tab: WebChatClient, text: str, message_id: Any) -> list[dict[str, Any]]:
    """Send a message carrying ``message_id`` as the widget does; the bot messages of that turn."""
    start, done = len(tab.inbox), tab._turn_done
    await tab.client.emit("user_uttered", {"message": text, "session_id": tab.session_id, "message_id": message_id})
    async with tab._arrived:
        await asyncio.wait_for(tab._arrived.wait_for(lambda: tab._turn_done > done), TIMEOUT)
    return tab.inbox[start:]


def user_events(assistant: RunningAssistant, conversation_id: str) -> list[dict[str, Any]]:
    """The stored ``user`` events of a conversation."""
    tracker = get_json(f"{assistant.rasa_url}/conversations/{conversation_id}/tracker")
    return [e for e in tracker["events"] if e["event"] == "user"]


def turns_with_id(assistant: RunningAssistant, conversation_id: str, message_id: str) -> int:
    """How many stored user messages carry ``message_id``."""
    return sum(1 for e in user_events(assistant, conversation_id) if e.get("message_id") == message_id)


def shown(messages: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """What the patient sees of bot messages: texts and button titles."""
    return [(m.get("text") or "", [b["title"] for b in m.get("quick_replies") or []]) for m in messages]


async def test_the_same_message_id_twice_is_stored_once_and_gets_the_same_answer(
    assistant: RunningAssistant,
) -> None:
    tab = WebChatClient(assistant.rasa_url)
    conversation = conversation_of(await tab.open())
    message_id = secrets.token_hex(16)
    first = await say_with_id(tab, "what are your hours", message_id)
    assert "is open" in "\n".join(m.get("text") or "" for m in first), first
    again = await say_with_id(tab, "what are your hours", message_id)  # a resend: the widget's retry
    assert shown(again) == shown(first)
    assert turns_with_id(assistant, conversation, message_id) == 1

    # A new id is a new message, even with the same words.
    other_id = secrets.token_hex(16)
    third = await say_with_id(tab, "what are your hours", other_id)
    assert "is open" in "\n".join(m.get("text") or "" for m in third), third
    assert turns_with_id(assistant, conversation, other_id) == 1
    assert [e["text"] for e in user_events(assistant, conversation)] == ["what are your hours"] * 2
    await tab.close()


async def test_a_resend_on_another_connection_of_the_same_session_is_recognised(assistant: RunningAssistant) -> None:
    tab = WebChatClient(assistant.rasa_url)
    session_id = await tab.open()
    message_id = secrets.token_hex(16)
    first = await say_with_id(tab, "where are you located", message_id)
    await tab.close()
    reloaded = WebChatClient(assistant.rasa_url)  # a page reload, then the same message sent again
    assert await reloaded.open(session_id) == session_id
    again = await say_with_id(reloaded, "where are you located", message_id)
    assert shown(again) == shown(first)
    assert turns_with_id(assistant, conversation_of(session_id), message_id) == 1
    await reloaded.close()


@pytest.mark.parametrize(
    "malformed",
    ["", "has space", "semi;colon", "x" * 65, "ünïcode", 12345, ["list"], {"id": "x"}, None],
    ids=["empty", "space", "semicolon", "too-long", "non-ascii", "number", "list", "object", "null"],
)
async def test_a_malformed_message_id_is_ignored_and_the_message_answered(
    assistant: RunningAssistant, malformed: Any
) -> None:
    tab = WebChatClient(assistant.rasa_url)
    conversation = conversation_of(await tab.open())
    reply = await say_with_id(tab, "what are your hours", malformed)
    assert "is open" in "\n".join(m.get("text") or "" for m in reply), reply
    again = await say_with_id(tab, "what are your hours", malformed)  # no id: a new message each time
    assert "is open" in "\n".join(m.get("text") or "" for m in again), again
    stored = user_events(assistant, conversation)
    assert len(stored) == 2
    assert all(e.get("message_id") != malformed for e in stored)
    await tab.close()


@pytest.fixture(scope="module")
def redis_server() -> Iterator[ThrowawayRedis]:
    """The Redis the failure test stops and starts again."""
    server = ThrowawayRedis(password="webchat-resend-secret")
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def redis_assistant(
    tmp_path_factory: pytest.TempPathFactory, redis_server: ThrowawayRedis
) -> Iterator[RunningAssistant]:
    """Both servers, with the conversation locks (and web chat) in that Redis."""
    running = start_assistant(tmp_path_factory.mktemp("webchat-resend"), {"REDIS_URL": redis_server.url})
    try:
        yield running
    finally:
        running.stop()


async def test_a_failed_turn_resent_with_its_id_is_answered_once(
    redis_assistant: RunningAssistant, redis_server: ThrowawayRedis
) -> None:
    tab = WebChatClient(redis_assistant.rasa_url)
    conversation = conversation_of(await tab.open())
    assert "is open" in "\n".join(m.get("text") or "" for m in await say_with_id(tab, "what are your hours", "a1"))

    message_id = secrets.token_hex(16)
    redis_server.stop()  # the conversation lock cannot be taken: the turn fails
    try:
        failed = await say_with_id(tab, "where are you located", message_id)
    finally:
        redis_server.start()
    assert len(failed) == 1, failed
    assert "can't open our conversation right now" in failed[0]["text"]
    retry = failed[0]["quick_replies"]
    assert retry == [
        {"content_type": "text", "title": RETRY_TITLE, "payload": "where are you located", "message_id": message_id}
    ]
    assert turns_with_id(redis_assistant, conversation, message_id) == 0

    # The widget's "Send again": the payload with the button's id. Seen before, not stored: it runs now.
    again = await say_with_id(tab, retry[0]["payload"], retry[0]["message_id"])
    assert any("We're at" in (m.get("text") or "") for m in again), again
    assert turns_with_id(redis_assistant, conversation, message_id) == 1
    # Tapped twice (or sent from a second tab): the stored answer again, still one turn.
    twice = await say_with_id(tab, retry[0]["payload"], retry[0]["message_id"])
    assert shown(twice) == shown(again)
    assert turns_with_id(redis_assistant, conversation, message_id) == 1
    await tab.close()

    logs = redis_assistant.logs()
    assert "where are you located" not in logs


@pytest.mark.browser
def test_the_widget_gives_each_message_an_id_and_send_again_reuses_it(
    redis_assistant: RunningAssistant,
    redis_server: ThrowawayRedis,
    new_tab: Any,  # noqa: F811 - the browser fixture imported above
) -> None:
    tab = new_tab()
    page = tab.page
    page.goto(_demo(redis_assistant))
    _open_chat(page)
    _send(page, "what are your hours")
    redis_server.stop()  # the next turn fails
    try:
        _send(page, "where are you located")
    finally:
        redis_server.start()
    assert "can't open our conversation right now" in _bot_texts(page)[-1]
    retry_id = page.evaluate(
        "() => { const k = Object.keys(sessionStorage).find(k => k.startsWith('clinic-chat:'));"
        " const h = JSON.parse(sessionStorage.getItem(k)).history;"
        " return h.filter(e => e.buttons && e.buttons.length).pop().buttons[0].messageId; }"
    )
    before = page.locator(".cc-log .cc-bot").count()
    page.get_by_role("button", name=RETRY_TITLE).click()
    page.wait_for_function(
        "n => document.querySelectorAll('.cc-log .cc-bot').length > n && document.querySelector('.cc-typing').hidden",
        arg=before,
    )
    assert any("We're at" in text for text in _bot_texts(page)[before:])
    session = page.evaluate(
        "() => { const k = Object.keys(sessionStorage).find(k => k.startsWith('clinic-chat:'));"
        " return JSON.parse(sessionStorage.getItem(k)).sessionId; }"
    )
    stored = user_events(redis_assistant, conversation_of(session))
    assert [e["text"] for e in stored] == ["what are your hours", "where are you located"]  # the failed one once
    ids = [e.get("message_id") or "" for e in stored]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids) and len(set(ids)) == 2, ids
    assert ids[1] == retry_id  # "Send again" resent the failed message with its own id
    assert not tab.errors, tab.errors
