"""A socket.io client that drives the web chat like the widget does, for end-to-end tests."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from typing import Any

import socketio

TIMEOUT = 90  # generous: the machine is shared; every wait ends as soon as its condition holds


class WebChatClient:
    """One browser tab's socket.io connection, driven like the widget drives it."""

    def __init__(self, url: str, origin: str | None = None) -> None:
        """Connect later to ``url``, sending ``origin`` as the page's Origin header."""
        self.url = url
        self.origin = origin
        self.client = socketio.AsyncClient(reconnection=False)
        self.session_id: str | None = None
        self.inbox: list[dict[str, Any]] = []
        self._arrived = asyncio.Condition()
        self._turn_done = 0
        self._confirm: asyncio.Future[str] = asyncio.get_event_loop().create_future()

        @self.client.on("session_confirm")
        async def _confirmed(session_id: str) -> None:
            if not self._confirm.done():
                self._confirm.set_result(session_id)

        @self.client.on("bot_uttered")
        async def _bot(message: dict[str, Any]) -> None:
            async with self._arrived:
                self.inbox.append(message)
                self._arrived.notify_all()

        @self.client.on("bot_typing")
        async def _typing(event: dict[str, Any]) -> None:
            if not event.get("typing"):
                async with self._arrived:
                    self._turn_done += 1
                    self._arrived.notify_all()

    async def open(self, session_id: str | None = None) -> str:
        """Connect and ask for a session (proposing ``session_id``); the id the server confirms."""
        headers = {"Origin": self.origin} if self.origin else {}
        await self.client.connect(self.url, socketio_path="/socket.io", transports=["websocket"], headers=headers)
        await self.client.emit("session_request", {"session_id": session_id})
        self.session_id = await asyncio.wait_for(self._confirm, TIMEOUT)
        return self.session_id

    async def say(self, text: str, session_id: str | None = None) -> list[dict[str, Any]]:
        """Send a message and return the bot messages of that turn (until typing stops)."""
        start, done = len(self.inbox), self._turn_done
        await self.client.emit("user_uttered", {"message": text, "session_id": session_id or self.session_id})
        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(lambda: self._turn_done > done), TIMEOUT)
        return self.inbox[start:]

    async def wait_for_messages(self, count: int) -> None:
        """Wait until ``count`` bot messages have arrived in all."""
        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(lambda: len(self.inbox) >= count), TIMEOUT)

    async def close(self) -> None:
        """Disconnect (a closed tab or a dropped connection)."""
        await self.client.disconnect()


def conversation_of(session_id: str) -> str:
    """The conversation id the server derives from an issued session id."""
    return "webchat:" + session_id.split(".")[0]


def send_out_of_band(rasa_url: str, conversation_id: str, response: str) -> None:
    """Send a response to a conversation from outside it, as the staff page will.

    Rasa's HTTP API with ``output_channel=latest`` uses the conversation's input
    channel's ``get_output_channel()``, the same path as
    ``send_text_message(conversation_id, text)`` from the staff page.
    """
    request = urllib.request.Request(
        f"{rasa_url}/conversations/{conversation_id}/execute?output_channel=latest",
        data=json.dumps({"name": response}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
        assert answer.status == 200
