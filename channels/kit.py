"""Connector kit: the parts every channel connector shares.

A connector (SMS, patient portal, web chat, the next one a developer adds) uses
these so that each channel gets the same safety rules:

* the conversation id is set by the connector, namespaced by channel and opaque
  (:func:`conversation_id`): never a raw phone number or record id, and no
  caller of one channel can name a conversation of another;
* a verified identity travels from the channel to the actions in signed
  message metadata (:func:`identity_metadata`, from ``bot/channel_identity.py``);
  actions trust it only when the signature holds and the message came in on
  that channel;
* oversize and empty input get a clear answer instead of reaching the model
  (:func:`check_text`);
* text-only channels turn buttons into numbered choices and map a digit answer
  back to the button (:func:`numbered_choices`, :func:`choice_from_digit`) and
  split long replies on sentence boundaries (:func:`split_message`).

See "Adding a channel connector" in the README.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from bot.channel_identity import (  # noqa: F401 - part of the kit's interface
    CHANNEL_IDENTITY_KEY,
    ChannelNotConfigured,
    channel_secret,
    identity_metadata,
    keyed_hash,
    proven_identity,
)
from bot.settings import Settings
from bot.sms_text import choice_from_digit, numbered_choices, split_message  # noqa: F401 - part of the kit's interface

MAX_MESSAGE_CHARS = 2000
"""Longest patient message passed on to the assistant (a long story fits; 10 kB does not)."""

TOO_LONG_REPLY = "That message is too long for me to read. Please send it in shorter parts, or call us if it is easier."
EMPTY_REPLY = "I didn't get any text. What can I help you with?"

_CONTROL = re.compile(r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200b\u2028\u2029]")


def credential(credentials: dict[str, Any] | None, key: str) -> str | None:
    """A stripped value from credentials.yml (None: missing or empty, so the setting stays in force)."""
    value = (credentials or {}).get(key)
    return (str(value).strip() or None) if value else None


def conversation_id(channel: str, channel_key: str, settings: Settings | None = None) -> str:
    """The conversation id for a caller of ``channel``: ``<channel>:<opaque hex>``."""
    return f"{channel}:{keyed_hash(channel_key, f'conversation:{channel}', settings)}"


@dataclass(frozen=True)
class TextCheck:
    """The outcome of :func:`check_text`: the text to pass on, or the answer to give."""

    text: str | None
    reply: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the text should go to the assistant."""
        return self.text is not None


def clean_text(text: str) -> str:
    """NFC-normalised text without control or zero-width characters, trimmed."""
    return _CONTROL.sub(" ", unicodedata.normalize("NFC", text)).strip()


def check_text(text: str | None, limit: int = MAX_MESSAGE_CHARS) -> TextCheck:
    """Pass on a usable message; answer empty or oversize input without the model."""
    if text is None:
        return TextCheck(None, EMPTY_REPLY)
    cleaned = clean_text(str(text))
    if not cleaned:
        return TextCheck(None, EMPTY_REPLY)
    if len(cleaned) > limit:
        return TextCheck(None, TOO_LONG_REPLY)
    return TextCheck(cleaned)


FAILED_REPLY = (
    "Sorry, something went wrong on our side and I could not answer that. "
    "Please send it again in a few minutes, or call us."
)
"""What a patient hears when the assistant failed on a message (nothing was half-done)."""


async def last_bot_buttons(tracker_store: Any, conversation: str) -> list[dict[str, Any]]:
    """Buttons of the assistant's last turn in ``conversation``, read from the shared tracker store.

    A text-only channel shows them as numbers; reading them from the store (not
    from memory) makes a digit answer work on whichever Rasa instance gets it.
    """
    from rasa.shared.core.events import BotUttered, UserUttered

    tracker = await tracker_store.retrieve(conversation) if tracker_store is not None else None
    if tracker is None:
        return []
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            return []
        if isinstance(event, BotUttered) and (event.data or {}).get("buttons"):
            return list(event.data["buttons"])
    return []


async def last_proven_identity(tracker_store: Any, conversation: str, kind: str) -> dict[str, Any]:
    """What the channel ``kind`` last proved in ``conversation`` (e.g. the SMS sender's number), or {}.

    Out-of-band senders (staff replies, reminders) use it to reach the person
    behind an opaque conversation id without a second copy of their number.
    """
    tracker = await tracker_store.retrieve_full_tracker(conversation) if tracker_store is not None else None
    if tracker is None:
        return {}
    from rasa.shared.core.events import UserUttered

    for event in reversed(tracker.events):
        if isinstance(event, UserUttered) and event.input_channel == kind:
            proven = proven_identity(event.metadata, event.input_channel, kind)
            if proven:
                return proven
    return {}
