"""The connector contract: what every channel connector must do, run against a real assistant.

A connector joins the suite with a :class:`ChannelAdapter` (how a patient on
that channel sends a message, picks a choice, and what a forged request looks
like) and a test class that subclasses :class:`ConnectorContract` and provides
the ``adapter`` fixture::

    class TestSmsContract(ConnectorContract):
        @pytest.fixture
        def adapter(self, channel_assistant) -> ChannelAdapter:
            return SmsAdapter(channel_assistant)

The contract then checks, through the connector's real endpoint on a running
Rasa server: an unknown sender is answered; empty and 10 kB texts get the
kit's messages without reaching a conversation; control characters are
stripped while emoji and non-Latin text pass through intact; choices are
offered and picking one the channel's way fills the form; a redelivered
message is processed once (when the channel has delivery ids); a request
without valid credentials is refused and touches no conversation.

The web chat (socket.io) adapter (``tests/channels/test_webchat_contract.py``)
sends ``user_uttered`` on a socket with a server-issued session, reads
``bot_uttered`` events into a :class:`Reply`, answers choices with the button
payload, has no delivery ids (``supports_redelivery = False``), and sends
unauthenticated requests from an origin outside ``WEBCHAT_ALLOWED_ORIGINS``.
"""

from __future__ import annotations

import abc
import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

from channels import kit
from tests.e2e.harness import RunningAssistant, get_json

CHANNEL_ID_SECRET = "contract-suite-channel-secret"
UNICODE_TEXT = "hola 👋 necesito una cita, por favor. 你好 Здравствуйте"


@dataclass
class Reply:
    """What a patient (or an API caller) got back from one request."""

    status: int
    texts: list[str] = field(default_factory=list)
    choices: list[str] = field(default_factory=list)
    raw: Any = None

    @property
    def text(self) -> str:
        """All texts joined."""
        return "\n".join(self.texts)


class ChannelAdapter(abc.ABC):
    """How the contract suite talks to one connector like its real callers do."""

    #: The channel name (the tracker's input channel, and by default the conversation id prefix).
    channel: str = ""
    #: The conversation id prefix, when it differs from the channel name (web chat: "webchat").
    conversation_prefix: str = ""
    #: Whether the channel has delivery ids, so a redelivery can be recognised.
    supports_redelivery: bool = True

    def __init__(self, assistant: RunningAssistant) -> None:
        """Talk to this running assistant."""
        self.assistant = assistant

    @abc.abstractmethod
    def new_sender(self) -> str:
        """A caller nobody has seen before (a phone number, a record id, a browser session)."""

    @abc.abstractmethod
    def conversation_key(self, sender: str) -> str:
        """What the connector derives the conversation id from (number, token subject, session)."""

    @abc.abstractmethod
    def send(self, sender: str, text: str, delivery_id: str | None = None) -> Reply:
        """Send ``text`` as ``sender``, with valid credentials (``delivery_id`` for a redelivery)."""

    @abc.abstractmethod
    def send_unauthenticated(self, sender: str, text: str) -> Reply:
        """Send ``text`` as ``sender`` without valid credentials (forged or missing)."""

    @abc.abstractmethod
    def choose(self, sender: str, reply: Reply, index: int) -> Reply:
        """Pick choice ``index`` (0-based) of ``reply`` the way a patient of this channel does."""

    def conversation_id(self, sender: str) -> str:
        """The conversation the connector must use for ``sender``."""
        return kit.conversation_id(self.channel, self.conversation_key(sender), channel_settings())

    def tracker(self, sender: str) -> dict[str, Any]:
        """The sender's conversation, through Rasa's HTTP API (on in the demo)."""
        conversation = urllib.parse.quote(self.conversation_id(sender), safe=":")
        return get_json(f"{self.assistant.rasa_url}/conversations/{conversation}/tracker")

    def user_events(self, sender: str) -> list[dict[str, Any]]:
        """The sender's messages as the assistant stored them."""
        return [e for e in self.tracker(sender).get("events") or [] if e.get("event") == "user"]

    def slot(self, sender: str, name: str) -> Any:
        """A slot of the sender's conversation."""
        return (self.tracker(sender).get("slots") or {}).get(name)


def channel_settings() -> Any:
    """Settings with the suite's channel secret, to compute conversation ids like the server."""
    from bot.settings import load_settings

    return load_settings({"CHANNEL_ID_SECRET": CHANNEL_ID_SECRET, "CLINIC_DOTENV": "0"})


def http(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple:
    """(status, lower-cased headers, body bytes) of one request, errors included."""
    request = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


class ConnectorContract:
    """The behaviour every connector owes its patients; subclass and provide ``adapter``."""

    @pytest.fixture
    def adapter(self) -> ChannelAdapter:
        """Overridden by each connector's test class."""
        raise NotImplementedError

    def test_unknown_sender_is_answered(self, adapter: ChannelAdapter) -> None:
        sender = adapter.new_sender()
        reply = adapter.send(sender, "hi")
        assert reply.status == 200
        assert "Maple Grove Family Clinic" in reply.text
        users = adapter.user_events(sender)
        assert [e["text"] for e in users] == ["hi"]
        assert users[0]["input_channel"] == adapter.channel
        assert adapter.conversation_id(sender).startswith(f"{adapter.conversation_prefix or adapter.channel}:")
        assert adapter.conversation_key(sender) not in adapter.conversation_id(sender)

    def test_empty_text_gets_the_kit_answer_and_reaches_no_conversation(self, adapter: ChannelAdapter) -> None:
        sender = adapter.new_sender()
        for empty in ("", "   ", "\u200b\n\t"):
            reply = adapter.send(sender, empty)
            assert reply.status == 200
            assert reply.text == kit.EMPTY_REPLY
        assert adapter.user_events(sender) == []

    def test_oversize_text_gets_the_kit_answer_and_reaches_no_conversation(self, adapter: ChannelAdapter) -> None:
        sender = adapter.new_sender()
        reply = adapter.send(sender, "I need help with my appointment. " * 320)  # about 10 kB
        assert reply.status == 200
        assert reply.text == kit.TOO_LONG_REPLY
        assert adapter.user_events(sender) == []

    def test_emoji_and_non_latin_text_pass_through_intact(self, adapter: ChannelAdapter) -> None:
        sender = adapter.new_sender()
        reply = adapter.send(sender, UNICODE_TEXT)
        assert reply.status == 200 and reply.texts
        assert [e["text"] for e in adapter.user_events(sender)] == [UNICODE_TEXT]

    def test_control_characters_are_stripped(self, adapter: ChannelAdapter) -> None:
        sender = adapter.new_sender()
        reply = adapter.send(sender, "hi\u0000 there\u0007")
        assert reply.status == 200 and reply.texts
        assert [e["text"] for e in adapter.user_events(sender)] == ["hi  there"]

    def test_choices_are_offered_and_picking_one_fills_the_form(self, adapter: ChannelAdapter) -> None:
        sender = adapter.new_sender()
        reply = adapter.send(sender, "I want to book an appointment")
        assert "What is the visit for" in reply.text
        assert reply.choices[:2] == ["Sick visit", "Follow-up"]
        reply = adapter.choose(sender, reply, 1)
        assert reply.status == 200
        assert "Who would you like to see" in reply.text
        assert adapter.slot(sender, "visit_type") == "follow_up"

    def test_a_redelivered_message_is_processed_once(self, adapter: ChannelAdapter) -> None:
        if not adapter.supports_redelivery:
            pytest.skip(f"{adapter.channel} has no delivery ids")
        sender = adapter.new_sender()
        delivery = uuid.uuid4().hex
        first = adapter.send(sender, "what are your opening hours", delivery_id=delivery)
        again = adapter.send(sender, "what are your opening hours", delivery_id=delivery)
        assert first.status == again.status == 200
        assert "open" in first.text
        assert again.texts in (first.texts, [])
        assert [e["text"] for e in adapter.user_events(sender)] == ["what are your opening hours"]

    def test_a_request_without_valid_credentials_is_refused_and_reaches_no_conversation(
        self, adapter: ChannelAdapter
    ) -> None:
        sender = adapter.new_sender()
        reply = adapter.send_unauthenticated(sender, "I want to cancel my appointment")
        assert reply.status in (401, 403)
        assert "cancel" not in json.dumps(reply.raw if isinstance(reply.raw, (dict, list)) else str(reply.raw))
        assert adapter.user_events(sender) == []
