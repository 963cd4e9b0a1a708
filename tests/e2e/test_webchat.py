"""The web chat path over socket.io, as the widget uses it, against the real assistant.

The connector (``channels.webchat``) checks the page's Origin, issues the
session ids itself, namespaces the conversation id and answers unusable input
without the model.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import socketio

from channels.kit import EMPTY_REPLY, TOO_LONG_REPLY
from tests.e2e.harness import RunningAssistant, get_json
from tests.e2e.webchat_client import WebChatClient, conversation_of, send_out_of_band

pytestmark = pytest.mark.e2e


def _texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or "" for m in messages)


def _user_texts(assistant: RunningAssistant, conversation_id: str) -> list[str]:
    tracker = get_json(f"{assistant.rasa_url}/conversations/{conversation_id}/tracker")
    return [e.get("text") or "" for e in tracker["events"] if e["event"] == "user"]


async def test_the_server_issues_the_session_and_a_reconnect_with_it_continues_the_conversation(
    assistant: RunningAssistant,
) -> None:
    tab = WebChatClient(assistant.rasa_url)
    session_id = await tab.open()
    assert session_id and len(session_id) == 65
    hello = await tab.say("hello")
    assert "Maple Grove" in _texts(hello)
    visit_question = await tab.say("i need an appointment")
    buttons = [b for m in visit_question for b in (m.get("quick_replies") or [])]
    assert any(b["title"] == "Follow-up" for b in buttons), visit_question  # buttons arrive as quick replies
    await tab.close()

    # A page reload: a new connection that holds the issued id continues the same form.
    reloaded = WebChatClient(assistant.rasa_url)
    assert await reloaded.open(session_id) == session_id
    provider_question = await reloaded.say("follow up")
    assert "Who would you like to see" in _texts(provider_question)
    await reloaded.close()
    conversation = conversation_of(session_id)
    assert _user_texts(assistant, conversation)[-3:] == ["hello", "i need an appointment", "follow up"]


@pytest.mark.parametrize(
    "made_up",
    [
        "victim-picks-this",
        "OWN_CONVERSATION",  # the victim's conversation id itself
        "OWN_RANDOM_PART",  # the random half of the victim's session id
        "OWN_RANDOM_PART_WRONG_MAC",
        "OWN_SESSION_ID_IN_MESSAGE_ONLY",  # an attacker's own session, the victim's id in each message
    ],
)
async def test_a_made_up_session_id_does_not_reach_another_personsconversation_of(
    assistant: RunningAssistant, made_up: str
) -> None:
    victim = WebChatClient(assistant.rasa_url)
    victim_session = await victim.open()
    await victim.say("hello")
    victim_conversation = conversation_of(victim_session)
    random_part = victim_session.split(".")[0]
    proposal = {
        "victim-picks-this": uuid.uuid4().hex,
        "OWN_CONVERSATION": victim_conversation,
        "OWN_RANDOM_PART": random_part,
        "OWN_RANDOM_PART_WRONG_MAC": random_part + "." + "0" * 32,
        "OWN_SESSION_ID_IN_MESSAGE_ONLY": None,
    }[made_up]
    attacker = WebChatClient(assistant.rasa_url)
    attacker_session = await attacker.open(proposal)
    assert attacker_session not in {proposal, victim_session}
    before = len(victim.inbox)
    secret_word = f"attacker-{uuid.uuid4().hex[:8]}"
    reply = await attacker.say(f"hi {secret_word}", session_id=victim_session)
    assert reply  # the attacker got its own answer ...
    assert len(victim.inbox) == before  # ... and nothing reached the victim's socket
    assert not any(secret_word in text for text in _user_texts(assistant, victim_conversation))
    assert any(secret_word in text for text in _user_texts(assistant, conversation_of(attacker_session)))
    await attacker.close()
    await victim.close()


async def test_a_page_on_a_disallowed_origin_cannot_connect(assistant: RunningAssistant) -> None:
    stranger = WebChatClient(assistant.rasa_url, origin="https://evil.example")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await stranger.open()
    assert not stranger.client.connected
    if getattr(stranger.client.eio, "http", None) is not None:  # the refused handshake's HTTP session
        await stranger.client.eio.http.close()
    # The assistant's own page (an origin from WEBCHAT_ALLOWED_ORIGINS' default) connects.
    own_page = WebChatClient(assistant.rasa_url, origin=assistant.rasa_url)
    assert await own_page.open()
    await own_page.close()


async def test_oversize_and_empty_input_get_a_clear_answer_without_the_model(assistant: RunningAssistant) -> None:
    tab = WebChatClient(assistant.rasa_url)
    session_id = await tab.open()
    too_long = "my story " * 400  # 3,600 characters
    assert [m["text"] for m in await tab.say(too_long)] == [TOO_LONG_REPLY]
    assert [m["text"] for m in await tab.say("   \u200b  ")] == [EMPTY_REPLY]
    hello = await tab.say("hello")  # the conversation goes on normally
    assert "Maple Grove" in _texts(hello)
    assert _user_texts(assistant, conversation_of(session_id)) == ["hello"]
    await tab.close()


async def test_out_of_band_messages_reach_the_patients_socket_only(assistant: RunningAssistant) -> None:
    patient, other = WebChatClient(assistant.rasa_url), WebChatClient(assistant.rasa_url)
    patient_session = await patient.open()
    await other.open()
    await patient.say("hello")
    await other.say("hello")
    patient_before, other_before = len(patient.inbox), len(other.inbox)
    # What the staff page will do: get_output_channel().send_text_message(conversation_id, text).
    # Rasa's HTTP API reaches the same output channel ("latest" = the conversation's channel).
    send_out_of_band(assistant.rasa_url, conversation_of(patient_session), "utter_goodbye")
    await patient.wait_for_messages(patient_before + 1)
    assert patient.inbox[patient_before].get("text")
    assert len(other.inbox) == other_before  # the other patient's socket got nothing
    welcome = await other.say("thanks")  # and its own conversation goes on as before
    assert welcome and len(other.inbox) == other_before + len(welcome)
    await patient.close()
    await other.close()


async def test_web_chat_logs_carry_no_message_text(assistant: RunningAssistant) -> None:
    tab = WebChatClient(assistant.rasa_url)
    await tab.open()
    marker = f"zebra{uuid.uuid4().hex[:10]}"
    await tab.say(f"hello {marker}")
    assert [m["text"] for m in await tab.say(marker * 300)] == [TOO_LONG_REPLY]
    await tab.close()
    assert marker not in assistant.logs()
