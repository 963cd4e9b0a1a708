"""Maps a message the assistant sent back to the domain response that produced it.

Conversation tests name responses (``says: utter_offer_slots``) instead of
quoting their words, so content staff can reword a response without breaking a
test. The matcher reads ``responses:`` of the whole domain (every file of
``domain/``, merged as Rasa merges them) when the tests run and turns every
text variant into a pattern: literal words must match exactly (whitespace may
differ), ``{placeholders}`` match anything and are captured (``appointment_id``
of ``utter_booking_done``, for instance), ``{{``/``}}`` are literal braces as
in Rasa's own interpolation. Variants for another channel
(``channel: sms``) are left out: the tests talk over the REST channel.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rasa.shared.core.domain import Domain

from bot.paths import DOMAIN_PATH

# Rasa's interpolation (rasa/core/nlg/interpolator.py): "{name}" with no newline
# or brace inside is a placeholder; "{{" and "}}" are literal braces.
_TOKEN = re.compile(r"\{\{|\}\}|\{([^\n{}]+?)\}")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Template:
    """One text variant of a response, compiled to a pattern."""

    response: str
    text: str
    pattern: re.Pattern[str]
    placeholders: tuple[str, ...]
    literal_length: int  # characters that must match literally: more is more specific


@dataclass(frozen=True)
class Match:
    """Which response(s) a message text came from, and the placeholder values it carried."""

    text: str
    responses: tuple[str, ...]  # every equally specific match (identical templates exist)
    values: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The response name to show in a failure message (``?`` when none matched)."""
        return self.responses[0] if self.responses else "?"

    def is_(self, response: str) -> bool:
        """Whether this message could have been produced by ``response``."""
        return response in self.responses


def compile_template(response: str, text: str) -> Template:
    """A template's pattern: literals escaped, whitespace runs loose, placeholders captured."""
    text = text.strip()
    parts: list[str] = []
    names: list[str] = []
    literal = 0
    position = 0

    def add_literal(chunk: str) -> None:
        nonlocal literal
        for index, piece in enumerate(_SPACE.split(chunk)):
            if index:
                parts.append(r"\s+")
            parts.append(re.escape(piece))
            literal += len(piece)

    for token in _TOKEN.finditer(text):
        add_literal(text[position : token.start()])
        if token.group(0) in ("{{", "}}"):
            add_literal(token.group(0)[0])
        else:
            name = token.group(1).strip()
            group = re.sub(r"\W", "_", name)
            if group and not group[0].isalpha():
                group = "p_" + group
            if group in names:
                parts.append(r"(?:.*?)")
            else:
                names.append(group)
                parts.append(f"(?P<{group}>.*?)")
        position = token.end()
    add_literal(text[position:])
    pattern = re.compile(r"\s*" + "".join(parts) + r"\s*", re.DOTALL)
    return Template(response, text, pattern, tuple(names), literal)


class ResponseMatcher:
    """Every REST text variant of every response in a domain, ready to match messages."""

    def __init__(self, responses: dict[str, Any]) -> None:
        """Compile the ``responses:`` mapping of a domain."""
        self.templates: list[Template] = []
        self.names: set[str] = set(responses)
        for name, variants in responses.items():
            for variant in variants or []:
                if not isinstance(variant, dict) or variant.get("channel"):
                    continue  # SMS (and any other channel's) variants are not sent on REST
                text = variant.get("text")
                if isinstance(text, str) and text.strip():
                    self.templates.append(compile_template(name, text))

    @classmethod
    def from_domain(cls, path: Path = DOMAIN_PATH) -> ResponseMatcher:
        """Read ``responses:`` from a domain file or folder (the project's ``domain/`` by default) now."""
        return cls(Domain.load(path).responses)

    def match(self, text: str) -> Match:
        """The most specific response(s) whose template produces ``text``; none gives ``?``."""
        best: list[tuple[Template, re.Match[str]]] = []
        for template in self.templates:
            found = template.pattern.fullmatch(text)
            if not found:
                continue
            if not best or template.literal_length > best[0][0].literal_length:
                best = [(template, found)]
            elif template.literal_length == best[0][0].literal_length:
                best.append((template, found))
        if not best:
            return Match(text, ())
        responses = tuple(dict.fromkeys(template.response for template, _ in best))
        values = {k: v for k, v in best[0][1].groupdict().items() if v is not None}
        return Match(text, responses, values)

    def match_all(self, messages: Iterable[dict[str, Any]]) -> list[Match]:
        """A match for every bot message that has text (REST channel message dicts)."""
        return [self.match(m["text"]) for m in messages if isinstance(m.get("text"), str)]
