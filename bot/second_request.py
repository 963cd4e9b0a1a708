"""Two requests in one message: "Do you take Cigna? and can I come Saturday".

Rasa reads one intent per message, so the second request would be dropped.
After the message has been answered as a whole, its parts are read one by one
(`request_parts`); when a part asks for something else that the assistant can
answer (`REQUEST_INTENTS`, read confidently), that part is handled next, as
the rest of the same message, so both get an answer. The launcher
(`bot.rasa_server`) wires this into Rasa's message handling.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

# Intents worth answering as a second request (chit-chat, "yes", "thanks" are not).
REQUEST_INTENTS = frozenset(
    {
        "book_appointment", "reschedule_appointment", "cancel_appointment", "list_appointments",
        "start_intake", "ask_insurance_accepted", "ask_visit_cost", "ask_billing", "ask_next_steps",
        "ask_test_results", "request_refill", "ask_clinic_hours", "ask_clinic_location",
        "describe_symptoms", "request_human",
    }
)
# A message with one of these as a whole gets only that answer.
WHOLE_MESSAGE_ONLY = frozenset({"report_emergency", "ask_medical_advice"})
# Questions that rules answer inside any form, and those answered inside these forms too.
ANSWERED_IN_ANY_FORM = frozenset({"ask_clinic_hours", "ask_clinic_location"})
ANSWERED_IN_FORMS = {
    "booking_form": frozenset({"ask_insurance_accepted", "ask_visit_cost"}),
    "reschedule_form": frozenset({"ask_insurance_accepted", "ask_visit_cost"}),
}
MIN_CONFIDENCE = 0.4  # a short part ("can I come Saturday") reads less surely than a whole message
MAX_PARTS = 4

SENTENCE_END = re.compile(r"(?<=[.?!;])\s+|\n+")
OPENERS = (
    r"can|could|do|does|did|what|what's|whats|when|where|how|is|are|will|would|i\s+need|i\s+want|"
    r"i'd\s+like|i\s+would\s+like|i\s+also|also|book|cancel|reschedule|tell\s+me|please"
)
LEADING_JOINER = re.compile(r"^(?:and|also|plus|but|oh)\s+", re.IGNORECASE)
JOINER = re.compile(rf"(?:,\s*|\s+)(?:and|also|plus|but)\s+(?=(?:{OPENERS})\b)", re.IGNORECASE)


def request_parts(text: str) -> list[str]:
    """The parts of a message that could each be a request: sentences, and clauses joined by "and can ..."."""
    parts: list[str] = []
    for sentence in SENTENCE_END.split(text or ""):
        parts.extend(LEADING_JOINER.sub("", piece.strip(" ,")) for piece in JOINER.split(sentence))
    parts = [part for part in parts if re.search(r"\w", part)]
    return parts[:MAX_PARTS] if len(parts) > 1 else []


def second_request(whole_intent: str | None, parsed_parts: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    """The first part asking for something other than the whole message's answer, or None."""
    if whole_intent in WHOLE_MESSAGE_ONLY:
        return None
    for parse in parsed_parts:
        intent = parse.get("intent") or {}
        name = intent.get("name")
        if name in REQUEST_INTENTS and name != whole_intent and (intent.get("confidence") or 0.0) >= MIN_CONFIDENCE:
            return parse
    return None


def answerable_now(intent: str, active_loop: str | None) -> bool:
    """Whether the second request can be answered in the dialogue state the first one left."""
    if active_loop is None:
        return True
    return intent in ANSWERED_IN_ANY_FORM or intent in ANSWERED_IN_FORMS.get(active_loop, frozenset())
