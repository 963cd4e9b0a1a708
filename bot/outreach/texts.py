"""The words of the texts the clinic sends first, from ``domain/outreach.yml``.

Content staff edit them there with the other responses; the worker fills the
placeholders and shapes the buttons as numbered choices exactly as the SMS
channel shapes a reply (:func:`bot.sms_text.numbered_choices`), so "reply 2"
means the same in a reminder as in a conversation.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.outreach.models import KIND_FOLLOW_UP, KIND_NOTES_READY, KIND_REMINDER, KIND_WAITLIST_OFFER
from bot.paths import DOMAIN_PATH
from bot.sms_text import numbered_choices

OUTREACH_DOMAIN_FILE = DOMAIN_PATH / "outreach.yml"

RESPONSE_OF_KIND = {
    KIND_REMINDER: "utter_outreach_reminder",
    KIND_WAITLIST_OFFER: "utter_outreach_waitlist_offer",
    KIND_FOLLOW_UP: "utter_outreach_follow_up",
    KIND_NOTES_READY: "utter_outreach_notes_ready",
}


_PLACEHOLDER = re.compile(r"{([^\n{}]+?)}")  # the same placeholders as Rasa's responses


@dataclass(frozen=True)
class OutgoingText:
    """One text's words and its buttons (title and payload, as in the domain)."""

    text: str
    buttons: tuple[dict[str, str], ...]

    def sms_body(self) -> str:
        """The text as sent: words, then the buttons as numbered choices."""
        return numbered_choices(self.text, list(self.buttons))


@functools.lru_cache(maxsize=4)
def _responses(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return dict((yaml.safe_load(handle) or {}).get("responses") or {})


def _variation(name: str, path: Path) -> dict[str, Any]:
    """The SMS variation of a response, else its first one."""
    variations = _responses(path).get(name) or []
    if not variations:
        raise LookupError(f"response {name} is missing from {path.name}")
    for variation in variations:
        if variation.get("channel") == "sms":
            return dict(variation)
    return dict(variations[0])


def buttons_of(kind: str, path: Path = OUTREACH_DOMAIN_FILE) -> tuple[dict[str, str], ...]:
    """The buttons a text of ``kind`` offers (its numbered answers)."""
    variation = _variation(RESPONSE_OF_KIND[kind], path)
    return tuple(
        {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))} for b in variation.get("buttons") or []
    )


def outgoing_text(kind: str, values: Mapping[str, str], path: Path = OUTREACH_DOMAIN_FILE) -> OutgoingText:
    """The text of ``kind`` filled with ``values``; a placeholder without a value is an error, never sent blank."""
    variation = _variation(RESPONSE_OF_KIND[kind], path)
    template = str(variation.get("text") or "")

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values or values[name] in (None, ""):
            raise KeyError(f"{RESPONSE_OF_KIND[kind]}: no value for {{{name}}}")
        return str(values[name])

    return OutgoingText(_PLACEHOLDER.sub(fill, template), buttons_of(kind, path))
