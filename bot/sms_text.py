"""Text shapes for channels without buttons (SMS): numbered choices, digit answers, sentence splits.

Both the SMS connector's replies and the texts the clinic sends first
(:mod:`bot.outreach`) are shaped here, so a reminder's "Reply with a number"
works exactly like a reply's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

SMS_PART_LIMIT = 320
"""Longest text we send as one SMS: two concatenated segments, which every US carrier joins."""


def numbered_choices(text: str, buttons: Sequence[dict[str, Any]]) -> str:
    """``text`` followed by the buttons as "1) Yes" lines, and how to answer."""
    if not buttons:
        return text
    lines = [text.rstrip()] if text and text.strip() else []
    lines += [f"{number}) {button.get('title', '')}" for number, button in enumerate(buttons, 1)]
    lines.append("Reply with a number." if len(buttons) > 1 else "Reply 1 for that.")
    return "\n".join(lines)


def choice_from_digit(reply: str, buttons: Sequence[dict[str, Any]]) -> str | None:
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


def split_message(text: str, limit: int) -> list[str]:
    """Split ``text`` into parts of at most ``limit`` characters, at sentence ends where possible.

    Line breaks are kept; lines and sentences stay whole when they fit; a
    sentence longer than ``limit`` is split at a space, a word longer than that is cut.
    """
    text = (text or "").strip()
    if len(text) <= limit:
        return [text] if text else []
    pieces: list[tuple[str, str]] = []  # (separator before it, piece)
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
    parts: list[str] = []
    for separator, piece in pieces:
        if parts and len(parts[-1]) + len(separator) + len(piece) <= limit:
            parts[-1] = f"{parts[-1]}{separator}{piece}"
        else:
            parts.append(piece)
    return parts
