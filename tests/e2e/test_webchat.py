"""The web chat path: Rasa's socket.io connector, as the chat page uses it."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, Dict, List

import socketio

from tests.e2e.harness import RunningAssistant


async def _say(url: str, session_id: str, texts: List[str]) -> List[List[Dict[str, Any]]]:
    """Connect like the page does, send each text, collect the replies per text."""
    client = socketio.AsyncClient()
    replies: List[Dict[str, Any]] = []
    confirmed = asyncio.Event()

    @client.on("session_confirm")
    async def _confirm(_: Any) -> None:
        confirmed.set()

    @client.on("bot_uttered")
    async def _bot(message: Dict[str, Any]) -> None:
        replies.append(message)

    await client.connect(url, socketio_path="/socket.io", transports=["websocket"])
    await client.emit("session_request", {"session_id": session_id})
    await asyncio.wait_for(confirmed.wait(), 10)
    turns = []
    for text in texts:
        start = len(replies)
        await client.emit("user_uttered", {"message": text, "session_id": session_id})
        for _ in range(100):
            await asyncio.sleep(0.1)
            if len(replies) > start:
                await asyncio.sleep(0.5)  # let every message of the turn arrive
                break
        turns.append(replies[start:])
    await client.disconnect()
    return turns


async def test_chat_over_socketio_keeps_the_conversation_across_reconnects(assistant: RunningAssistant) -> None:
    session_id = uuid.uuid4().hex
    (hello,) = await _say(assistant.rasa_url, session_id, ["hello"])
    assert any("Maple Grove" in (m.get("text") or "") for m in hello)
    (visit_question,) = await _say(assistant.rasa_url, session_id, ["i need an appointment"])
    buttons = [b for m in visit_question for b in (m.get("quick_replies") or [])]
    assert any(b["title"] == "Follow-up" for b in buttons), visit_question  # buttons arrive as quick replies
    # A new connection with the same session id (a page reload) continues the same form.
    (provider_question,) = await _say(assistant.rasa_url, session_id, ["follow up"])
    assert any("Who would you like to see" in (m.get("text") or "") for m in provider_question)
