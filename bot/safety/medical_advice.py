"""Questions the assistant must not answer: a diagnosis, a dose, whether to take a drug.

The patterns live in ``bot/safety/medical_advice.yml`` (content staff edit it)
and use the red-flag rule language and matcher, so typos, Spanish, negation
("I'm not asking for a diagnosis") and clinic phrases that only look medical
("how much does a sick visit cost", "flu shot") are handled the same way.
A question is ``urgent`` when it also carries an urgency cue ("fever of 104",
"took too many", "getting worse"); urgency words alone are not a question.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bot.safety.red_flags import DEFAULT_MAX_CHARS, RedFlagMatcher

RULES_FILE = Path(__file__).resolve().parent / "medical_advice.yml"
Kind = Literal["advice", "urgent"]


@dataclass(frozen=True)
class MedicalAdviceResult:
    """Whether a message asks for medical advice (``kind``), and which rules said so."""

    kind: Kind | None
    flags: tuple[str, ...] = ()
    span: tuple[int, int] | None = None

    @property
    def asks_for_advice(self) -> bool:
        """True when the assistant must answer with its no-medical-advice message."""
        return self.kind is not None


def medical_advice_rules(path: Path | None = None) -> RedFlagMatcher:
    """The compiled rules (cached per file content, like the red-flag rules)."""
    return RedFlagMatcher.load(path or RULES_FILE)


def detect_medical_advice(
    text: str, matcher: RedFlagMatcher | None = None, max_chars: int = DEFAULT_MAX_CHARS
) -> MedicalAdviceResult:
    """Check one message: a medical question (``advice``), an urgent one (``urgent``), or none."""
    mentions = (matcher or medical_advice_rules()).scan(text, max_chars)
    found = [m for m in mentions if m.status == "found"]
    questions = [m for m in found if m.category == "advice"]
    if not questions:
        return MedicalAdviceResult(None)
    urgent = any(m.category == "urgent" for m in found)
    flags = tuple(dict.fromkeys(m.flag_id for m in found))
    return MedicalAdviceResult("urgent" if urgent else "advice", flags, (questions[0].start, questions[0].end))
