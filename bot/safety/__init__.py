"""Patient safety: the rule-based red-flag check that runs on every message.

`detect_red_flags(text)` tells whether a message describes a medical emergency
or a mental-health crisis, from the phrases in `red_flags.yml`; the Rasa graph
component `bot.nlu.red_flag_detector.RedFlagDetector` applies it to every
message, and `python -m bot.safety.evaluate` measures it.
"""

from bot.safety.red_flags import (
    RedFlagMatcher,
    RedFlagMention,
    RedFlagResult,
    RedFlagRulesError,
    detect_red_flags,
)

__all__ = [
    "RedFlagMatcher",
    "RedFlagMention",
    "RedFlagResult",
    "RedFlagRulesError",
    "detect_red_flags",
]
