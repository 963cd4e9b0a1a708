"""Two requests in one message: "Do you take Cigna? and can I come Saturday".

Rasa reads one intent per message, so the second request would be dropped.
The parts of a message are read one by one (`request_parts`); when a part asks
for something else that the assistant can answer (`REQUEST_INTENTS`, read
confidently), it is handled as well, before or after the message itself
(`plan_message`), so both get an answer. The launcher (`bot.rasa_server`)
wires this into Rasa's message handling.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# Intents worth answering as a second request (chit-chat, "yes", "thanks" are not).
REQUEST_INTENTS = frozenset(
    {
        "book_appointment",
        "reschedule_appointment",
        "cancel_appointment",
        "list_appointments",
        "start_intake",
        "ask_insurance_accepted",
        "ask_visit_cost",
        "ask_billing",
        "ask_next_steps",
        "ask_test_results",
        "request_refill",
        "ask_clinic_hours",
        "ask_clinic_location",
        "describe_symptoms",
        "request_human",
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
# Requests that end with a question back to the patient, and questions answered at once.
ASKS_BACK = frozenset(
    {
        "book_appointment",
        "reschedule_appointment",
        "cancel_appointment",
        "list_appointments",
        "start_intake",
        "ask_next_steps",
        "ask_test_results",
        "request_refill",
        "describe_symptoms",
        "request_human",
    }
)
QUICK_ANSWERS = frozenset(
    {"ask_insurance_accepted", "ask_visit_cost", "ask_billing", "ask_clinic_hours", "ask_clinic_location"}
)
MIN_CONFIDENCE = 0.4  # a short part ("can I come Saturday") reads less surely than a whole message
MAX_PARTS = 4

SENTENCE_END = re.compile(r"(?<=[.?!;])\s+|\n+")
OPENERS = (
    r"can|could|do|does|did|what|what's|whats|when|where|how|is|are|will|would|i\s+need|i\s+want|"
    r"i'd\s+like|i\s+would\s+like|i\s+also|also|book|cancel|reschedule|tell\s+me|please"
)
LEADING_JOINER = re.compile(r"^(?:and|also|plus|but|oh)\s+", re.IGNORECASE)
JOINER = re.compile(rf"(?:(?:,\s*|\s+)(?:and|also|plus|but)\s+|,\s*)(?=(?:{OPENERS})\b)", re.IGNORECASE)


def request_parts(text: str) -> list[str]:
    """The parts of a message that could each be a request: sentences, and clauses joined by "and can ..."."""
    parts: list[str] = []
    for sentence in SENTENCE_END.split(text or ""):
        parts.extend(LEADING_JOINER.sub("", piece.strip(" ,")) for piece in JOINER.split(sentence))
    parts = [part for part in parts if re.search(r"\w", part)]
    return parts[:MAX_PARTS] if len(parts) > 1 else []


def confident_request(parse: dict[str, Any]) -> str | None:
    """The part's intent when it is a request read confidently enough, else None."""
    intent = parse.get("intent") or {}
    name = intent.get("name")
    if name in REQUEST_INTENTS and (intent.get("confidence") or 0.0) >= MIN_CONFIDENCE:
        return str(name)
    return None


@dataclass(frozen=True)
class Plan:
    """How one message is answered: its own parse, a part answered before it, parts answered after it."""

    whole: dict[str, Any]
    before: dict[str, Any] | None = None
    after: tuple[dict[str, Any], ...] = ()


def other_requests(primary: str | None, parsed_parts: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each part asking for something the message as a whole does not, one per intent, in order."""
    seen = {primary}
    found = []
    for parse in parsed_parts:
        name = confident_request(parse)
        if name is not None and name not in seen:
            seen.add(name)
            found.append(parse)
    return found


def plan_message(whole: dict[str, Any], parsed_parts: list[dict[str, Any]], form_active: bool) -> Plan:
    """Decide the order of answers for a message with several parts.

    - A message the classifier could not read as a whole ("do you take cigna
      and are you open saturday? I need a sick visit" reads as two intents at
      once) is answered as its first clear request.
    - A quick question (hours, insurance, costs) is answered first when the
      message itself asks for something that asks back (a form, an offer), so
      the patient's next "yes" still answers that question.
    - Every other request follows, in the order the patient wrote them.
    """
    if not parsed_parts or (whole.get("intent") or {}).get("name") in WHOLE_MESSAGE_ONLY:
        return Plan(whole)
    if (whole.get("intent") or {}).get("name") == "nlu_fallback":
        first = next((parse for parse in parsed_parts if confident_request(parse)), None)
        if first is not None:
            whole = {**first, "text": whole.get("text")}
    primary = (whole.get("intent") or {}).get("name")
    others = other_requests(primary, parsed_parts)
    if not others:
        return Plan(whole)
    first = others[0]
    if not form_active and primary in ASKS_BACK and first["intent"]["name"] in QUICK_ANSWERS:
        return Plan(whole, before=first, after=tuple(others[1:]))
    return Plan(whole, after=tuple(others))


def answerable_now(intent: str, active_loop: str | None) -> bool:
    """Whether the second request can be answered in the dialogue state the first one left."""
    if active_loop is None:
        return True
    return intent in ANSWERED_IN_ANY_FORM or intent in ANSWERED_IN_FORMS.get(active_loop, frozenset())
