"""Conversation scripts the load driver plays, one list per assistant.

A script is a list of steps; a step is the text a patient types, or ``FIRST_BUTTON``
(pick the first quick reply the assistant offered, as a patient tapping it would).
Scripts rotate across conversations so concurrent bookings ask for different days.
"""

from __future__ import annotations

from benchmarks.loadgen import FIRST_BUTTON, Script

# CLINIC_TODAY for the benchmark: a Tuesday, so "tomorrow" and "friday" are open days.
CLINIC_TODAY = "2025-03-04"


def _booking(when: str, reason: str = "sick visit, sore throat") -> Script:
    """A booking conversation that also asks the clinic's hours and address."""
    return [
        "hi",
        "i need an appointment",
        reason,
        "anyone is fine",
        when,
        FIRST_BUTTON,
        "Jordan Rivera",
        "03/14/1990",
        "yes",
        "what are your hours",
        "where are you located",
        "thanks, bye",
    ]


OURS: list[Script] = [
    _booking("tomorrow afternoon"),
    _booking("friday morning"),
    _booking("next monday afternoon", reason="sick visit, I have a fever and a cough"),
    _booking("thursday morning", reason="sick visit, my ear hurts"),
]

# The stock starter (moodbot): its happy path and both sad paths, plus bot_challenge.
BASELINE: list[Script] = [
    ["hello there", "I am great", "are you a bot?", "bye"],
    ["hi", "I am sad", "yes", "goodbye"],
    ["good morning", "my day was horrible", "no", "see you later"],
    ["hey", "amazing", "am I talking to a human?", "have a nice day"],
]
