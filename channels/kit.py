"""Connector kit: the parts every channel connector shares.

A connector (SMS, patient portal, web chat, the next one a developer adds) uses
these so that each channel gets the same safety rules:

* the conversation id is set by the connector, namespaced by channel and opaque
  (:func:`conversation_id`): never a raw phone number or record id, and no
  caller of one channel can name a conversation of another;
* a verified identity travels from the channel to the actions in message
  metadata under :data:`CHANNEL_IDENTITY_KEY` (:func:`identity_metadata`);
  actions trust it only when the message came in on that channel;
* oversize and empty input get a clear answer instead of reaching the model
  (:func:`check_text`);
* text-only channels turn buttons into numbered choices and map a digit answer
  back to the button (:func:`numbered_choices`, :func:`choice_from_digit`) and
  split long replies on sentence boundaries (:func:`split_message`).

See "Adding a channel connector" in the README.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Text, Tuple

from bot.settings import Settings, get_settings

MAX_MESSAGE_CHARS = 2000
"""Longest patient message passed on to the assistant (a long story fits; 10 kB does not)."""

CHANNEL_IDENTITY_KEY = "channel_identity"
"""Message metadata key under which a connector passes what the channel proves."""

TOO_LONG_REPLY = (
    "That message is too long for me to read. "
    "Please send it in shorter parts, or call us if it is easier."
)
EMPTY_REPLY = "I didn't get any text. What can I help you with?"

_CONTROL = re.compile(r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200b\u2028\u2029]")
_SECRET_FILE = "channel_id_secret"


class ChannelNotConfigured(RuntimeError):
    """A setting the channel needs is missing; the message names it (never a value)."""


def channel_secret(settings: Optional[Settings] = None) -> bytes:
    """The key for opaque ids: ``CHANNEL_ID_SECRET``, or in the demo one kept under ``var/``.

    The demo key is made once and stored with owner-only permissions, so ids stay
    the same across restarts and across several Rasa instances on one machine.
    Outside the demo the setting is required (ids must match on every instance).
    """
    settings = settings or get_settings()
    if settings.channel_id_secret:
        return settings.channel_id_secret.encode("utf-8")
    if not settings.demo_mode:
        raise ChannelNotConfigured(
            "CHANNEL_ID_SECRET is not set: SMS and portal conversation ids cannot be made"
        )
    path = Path(settings.var_dir) / _SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
    return path.read_text(encoding="utf-8").strip().encode("utf-8")


def keyed_hash(value: Text, purpose: Text, settings: Optional[Settings] = None) -> Text:
    """An opaque, stable stand-in for ``value`` (a phone number, a record id).

    ``purpose`` keeps hashes of the same value apart when they serve different
    jobs (a conversation id is not an opt-out key).
    """
    digest = hmac.new(channel_secret(settings), f"{purpose}\x00{value}".encode("utf-8"), hashlib.sha256)
    return digest.hexdigest()[:32]


def conversation_id(channel: Text, channel_key: Text, settings: Optional[Settings] = None) -> Text:
    """The conversation id for a caller of ``channel``: ``<channel>:<opaque hex>``."""
    return f"{channel}:{keyed_hash(channel_key, f'conversation:{channel}', settings)}"


def identity_metadata(kind: Text, **proven: Any) -> Dict[Text, Any]:
    """Metadata that tells the actions what the channel itself has proven.

    ``kind`` is the channel name; the actions accept it only when the message's
    input channel is that same channel. Examples:
    ``identity_metadata("portal", record_id="P-1001")`` (a verified portal patient),
    ``identity_metadata("sms", phone="+15555550123")`` (the sender's number).
    """
    return {CHANNEL_IDENTITY_KEY: {"kind": kind, **proven}}


@dataclass(frozen=True)
class TextCheck:
    """The outcome of :func:`check_text`: the text to pass on, or the answer to give."""

    text: Optional[Text]
    reply: Optional[Text] = None

    @property
    def ok(self) -> bool:
        """Whether the text should go to the assistant."""
        return self.text is not None


def clean_text(text: Text) -> Text:
    """NFC-normalised text without control or zero-width characters, trimmed."""
    return _CONTROL.sub(" ", unicodedata.normalize("NFC", text)).strip()


def check_text(text: Optional[Text], limit: int = MAX_MESSAGE_CHARS) -> TextCheck:
    """Pass on a usable message; answer empty or oversize input without the model."""
    if text is None:
        return TextCheck(None, EMPTY_REPLY)
    cleaned = clean_text(str(text))
    if not cleaned:
        return TextCheck(None, EMPTY_REPLY)
    if len(cleaned) > limit:
        return TextCheck(None, TOO_LONG_REPLY)
    return TextCheck(cleaned)


def numbered_choices(text: Text, buttons: Sequence[Dict[Text, Any]]) -> Text:
    """``text`` followed by the buttons as "1) Yes" lines, and how to answer."""
    if not buttons:
        return text
    lines = [text.rstrip()] if text and text.strip() else []
    lines += [f"{number}) {button.get('title', '')}" for number, button in enumerate(buttons, 1)]
    lines.append("Reply with a number." if len(buttons) > 1 else "Reply 1 for that.")
    return "\n".join(lines)


def choice_from_digit(reply: Text, buttons: Sequence[Dict[Text, Any]]) -> Optional[Text]:
    """The payload of the button a bare number answer picks ("2", " 2. "), or None."""
    match = re.fullmatch(r"\s*#?(\d{1,2})\s*[.)]?\s*", reply or "")
    if not match or not buttons:
        return None
    index = int(match.group(1))
    if not 1 <= index <= len(buttons):
        return None
    button = buttons[index - 1]
    return str(button.get("payload") or button.get("title") or "")


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def split_message(text: Text, limit: int) -> List[Text]:
    """Split ``text`` into parts of at most ``limit`` characters, at sentence ends where possible.

    Line breaks are kept; lines and sentences stay whole when they fit; a
    sentence longer than ``limit`` is split at a space, a word longer than that is cut.
    """
    text = (text or "").strip()
    if len(text) <= limit:
        return [text] if text else []
    pieces: List[Tuple[Text, Text]] = []  # (separator before it, piece)
    for line in text.split("\n"):
        separator = "\n"
        for sentence in (s.strip() for s in _SENTENCE_END.split(line)):
            while len(sentence) > limit:
                cut = sentence.rfind(" ", 0, limit + 1)
                cut = cut if cut > 0 else limit
                pieces.append((separator, sentence[:cut].rstrip()))
                separator = " "
                sentence = sentence[cut:].lstrip()
            if sentence:
                pieces.append((separator, sentence))
                separator = " "
    parts: List[Text] = []
    for separator, piece in pieces:
        if parts and len(parts[-1]) + len(separator) + len(piece) <= limit:
            parts[-1] = f"{parts[-1]}{separator}{piece}"
        else:
            parts.append(piece)
    return parts


FAILED_REPLY = (
    "Sorry, something went wrong on our side and I could not answer that. "
    "Please send it again in a few minutes, or call us."
)
"""What a patient hears when the assistant failed on a message (nothing was half-done)."""


async def last_bot_buttons(tracker_store: Any, conversation: Text) -> List[Dict[Text, Any]]:
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


async def proven_identity(tracker_store: Any, conversation: Text, kind: Text) -> Dict[Text, Any]:
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
            proven = (event.metadata or {}).get(CHANNEL_IDENTITY_KEY) or {}
            if proven.get("kind") == kind:
                return dict(proven)
    return {}
