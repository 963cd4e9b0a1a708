"""The web chat connector (socket.io) against the connector contract, like the SMS and portal ones.

The adapter drives the socket the way the widget does (``tests/e2e/webchat_client.py``):
one connection per patient with a server-issued session, from an allowed
page origin. Unauthenticated means a page on an origin outside
``WEBCHAT_ALLOWED_ORIGINS``, which cannot connect at all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from tests.channels.contract import ChannelAdapter, ConnectorContract, Reply
from tests.e2e.harness import RunningAssistant
from tests.e2e.webchat_client import WebChatClient, conversation_of

pytestmark = pytest.mark.e2e

ALLOWED_ORIGIN = "https://portal.example-clinic.org"  # in WEBCHAT_ALLOWED_ORIGINS of the channel assistant
FOREIGN_ORIGIN = "https://evil.example"


class WebChatAdapter(ChannelAdapter):
    """Patients in browser tabs: one socket.io connection each, on one event loop."""

    channel = "socketio"
    conversation_prefix = "webchat"
    supports_redelivery = False

    def __init__(self, assistant: RunningAssistant) -> None:
        """Talk to this running assistant's socket.io server."""
        super().__init__(assistant)
        self.loop = asyncio.new_event_loop()
        self.clients: dict[str, WebChatClient] = {}

    def _run(self, coroutine: Any) -> Any:
        """Run one client step on the adapter's loop."""
        return self.loop.run_until_complete(coroutine)

    def _client(self, origin: str) -> WebChatClient:
        """A new tab on a page of ``origin`` (built inside the loop, as its futures need)."""

        async def make() -> WebChatClient:
            return WebChatClient(self.assistant.rasa_url, origin=origin)

        return self._run(make())

    def new_sender(self) -> str:
        """A new tab: connect and get a session id from the server."""
        client = self._client(ALLOWED_ORIGIN)
        session_id = self._run(client.open())
        self.clients[session_id] = client
        return session_id

    def conversation_key(self, sender: str) -> str:
        """The issued session id (random part and its signature)."""
        return sender

    def conversation_id(self, sender: str) -> str:
        """``webchat:`` and the random part of the session id, as the connector sets it."""
        return conversation_of(sender)

    @staticmethod
    def _reply(messages: list) -> Reply:
        """The bot messages of one turn as a contract reply."""
        return Reply(
            status=200,
            texts=[m.get("text") for m in messages if m.get("text")],
            choices=[b.get("title") for m in messages for b in (m.get("quick_replies") or m.get("buttons") or [])],
            raw=messages,
        )

    def send(self, sender: str, text: str, delivery_id: str | None = None) -> Reply:
        """Type ``text`` in the sender's tab."""
        return self._reply(self._run(self.clients[sender].say(text)))

    def send_unauthenticated(self, sender: str, text: str) -> Reply:
        """The same session, but from a page on a foreign origin: the connection is refused."""
        client = self._client(FOREIGN_ORIGIN)
        try:
            self._run(client.open(sender))
        except Exception as refused:  # noqa: BLE001 - socketio's ConnectionError: the origin check
            return Reply(status=403, raw=type(refused).__name__)
        reply = self._reply(self._run(client.say(text, session_id=sender)))
        self._run(client.close())
        return reply

    def choose(self, sender: str, reply: Reply, index: int) -> Reply:
        """Tap quick reply ``index``: the widget sends its payload."""
        buttons = [b for m in reply.raw for b in (m.get("quick_replies") or m.get("buttons") or [])]
        return self._reply(self._run(self.clients[sender].say(buttons[index]["payload"])))

    def close(self) -> None:
        """Close every tab and the loop."""
        for client in self.clients.values():
            try:
                self._run(client.close())
            except Exception:  # noqa: BLE001 - already gone
                pass
        self.loop.close()


class TestWebChatContract(ConnectorContract):
    """Every contract test, through the socket.io connector the widget uses."""

    @pytest.fixture
    def adapter(self, channel_assistant: RunningAssistant) -> Iterator[ChannelAdapter]:
        """Browser tabs on the clinic's allowed page."""
        adapter = WebChatAdapter(channel_assistant)
        try:
            yield adapter
        finally:
            adapter.close()
