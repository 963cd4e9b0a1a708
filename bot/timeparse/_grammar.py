"""Left-to-right scanner that turns tokens into date/time findings (``_items``).

Each ``_match_*`` method looks at the token at ``i`` with a small, fixed look-ahead and
returns the index after what it consumed (or ``i`` when it does not apply), so a whole
message is scanned in linear time. Date rules live in ``_rules_date``, clock rules in
``_rules_time``; this module owns the scan loop, negation scopes, urgency ("asap") and
the prepositions that can introduce either a date or a time ("after", "by", "until").
Findings are resolved against each other later, in ``_resolve``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from ._history import HistoryRules
from ._items import ClockRef, DateSpan, DayOfMonthRef, Flag, Item, WeekdayRef, WindowRef
from ._lexicon import CANON, NEGATORS, PERIOD_WORDS, PLURAL_WEEKDAYS, POST_NEGATIONS, WEEKDAYS
from ._rules_date import _ASAP_TARGETS, DateRules
from ._rules_time import TimeRules
from ._tokens import Token

_POST_NEGATIONS: dict[str, list[tuple[str, ...]]] = {}
for _phrase in POST_NEGATIONS:
    _canon_phrase = tuple(CANON.get(w, w) for w in _phrase)
    _POST_NEGATIONS.setdefault(_canon_phrase[0], []).append(_canon_phrase)
_BENIGN_AFTER_NEGATOR = frozenset(
    {
        "sure",
        "problem",
        "know",
        "mind",
        "worries",
        "matter",
        "picky",
        "fussy",
        "care",
        "preference",
        "rush",
        "hurry",
        "asap",
        "idea",
        "clue",
        "thanks",
    }
)
_CLAUSE_BREAKS = frozenset({",", ".", ";", "!", "?", "(", ")"})
_CLAUSE_WORDS = frozenset(
    {"so", "because", "cause", "cuz", "but", "though", "however", "pero", "porque", "then", "instead", "rather"}
)
# "my knee hurts because of the cold at night": a reason still belongs to the symptom.
_SYMPTOM_CLAUSE_WORDS = _CLAUSE_WORDS - {"because", "cause", "cuz", "porque"}
_ASAP_PHRASES: dict[str, list[tuple[str, ...]]] = {}
for _phrase in sorted(
    (
        ("asap",),
        ("soon",),
        ("sooner",),
        ("whenever",),
        ("anytime",),
        ("immediately",),
        ("flexible",),
        ("as", "soon", "as", "possible"),
        ("as", "soon", "as"),
        ("as", "early", "as", "possible"),
        ("as", "early", "as"),
        ("early", "as", "possible"),
        ("soon", "as", "possible"),
        ("not", "preference"),
        ("dont", "care"),
        ("doesnt", "matter"),
        ("not", "matter"),
        ("not", "rush"),
        ("not", "hurry"),
        ("whatever", "works"),
        ("whatever", "is"),
        ("whatever", "you"),
        ("whatever", "available"),
        ("at", "once"),
        ("right", "away"),
        ("straight", "away"),
    ),
    key=len,
    reverse=True,
):
    _ASAP_PHRASES.setdefault(_phrase[0], []).append(_phrase)
_ANY_TARGETS = frozenset(
    {
        "time",
        "day",
        "date",
        "slot",
        "appointment",
        "appt",
        "opening",
        "available",
        "hour",
        "days",
        "times",
        "slots",
        "moment",
        "weekday",
        "weekdays",
    }
)


class Scanner(HistoryRules, DateRules, TimeRules):
    """Scan one message's tokens and collect findings in ``items``.

    The patient's story (onsets, durations, past visits, advice, when a symptom
    happens; see ``_history``) is matched first and leaves no findings behind.
    """

    def __init__(self, tokens: list[Token], today: date) -> None:
        """Keep the tokens and the clinic's today; nothing is scanned yet."""
        super().__init__(tokens, today)
        self._story_until = -1
        self._symptom_context = False
        self._matchers: tuple[Callable[[int], int], ...] = (
            self._match_history,
            self._match_asap,
            self._match_time_special,
            self._match_preposition,
            self._match_relative_day,
            self._match_quantity,
            self._match_modifier,
            self._match_this_next,
            self._match_weekday,
            self._match_week_word,
            self._match_explicit_date,
            self._match_month_alone,
            self._match_holiday,
            self._match_standalone_clock,
            self._match_period,
            self._match_loose_number,
        )

    def scan(self) -> list[Item]:
        """Run every matcher left to right and return the findings."""
        i = 0
        while i < self.n:
            if self.is_punct(i, _CLAUSE_BREAKS) or self.w(i) in _CLAUSE_WORDS:
                self._neg_until = -1
            if self.is_punct(i, _CLAUSE_BREAKS) or self.w(i) in _SYMPTOM_CLAUSE_WORDS:
                self._symptom_context = False
            before = len(self.items)
            j = self._match_at(i)
            if j > i:
                negated = i <= self._neg_until
                new_items = self.items[before:]
                if self._forget_story_findings(i, new_items):
                    i = j
                    continue
                j = self._post_negation(j, new_items)
                if negated:
                    for item in new_items:
                        item.negated = not item.negated
                    self._continue_negation(j)
                i = j
                continue
            self._note_negator(i)
            self._note_story(i)
            i += 1
        return self.items

    def _continue_negation(self, j: int) -> None:
        """ "not monday or tuesday" negates both; "not mornings, afternoons" only the first."""
        if self.w(j) in ("or", "and", "nor") or self.is_punct(j, "/"):
            self._neg_until = j + 2
        else:
            self._neg_until = -1

    def _match_at(self, i: int) -> int:
        """First matcher that consumes tokens at ``i`` wins."""
        for matcher in self._matchers:
            j = matcher(i)
            if j > i:
                return j
        return i

    def _note_negator(self, i: int) -> None:
        """Open a short negation scope at "not", "can't", "busy", "anything but", "I work"."""
        word = self.w(i)
        is_negator = word in NEGATORS or self.raw(i) in NEGATORS
        if word == "but":
            is_negator = self.w(i - 1) in ("anything", "any", "anytime", "day", "whenever")
        if word == "work" or self.raw(i) in ("away", "out", "traveling", "travelling"):
            k = self.skip(i + 1, "on", "in", "the", "all", "most", "every", "of", "town")
            is_negator = (
                self.w(k) in PERIOD_WORDS
                or self.w(k) in WEEKDAYS
                or self.w(k) in (PLURAL_WEEKDAYS)
                or self.w(k) in ("next", "this", "today", "tomorrow", "weekends", "weekend", "until", "through")
            )
        if is_negator and self.w(i + 1) not in _BENIGN_AFTER_NEGATOR:
            self._neg_until = i + 6

    def _post_negation(self, j: int, new_items: list[Item]) -> int:
        """ "monday doesn't work" / "mornings are bad": negate what was just found."""
        for phrase in _POST_NEGATIONS.get(self.w(j), ()):
            if all(self.w(j + k) == word for k, word in enumerate(phrase)):
                for item in new_items:
                    item.negated = True
                return j + len(phrase)
        if self.w(j) == "not" and (j + 1 >= self.n or self.is_punct(j + 1, _CLAUSE_BREAKS)):
            for item in new_items:  # "hoy no, mañana": a trailing "no" rejects the day
                item.negated = True
            return j + 1
        return j

    def _match_asap(self, i: int) -> int:
        """ "asap", "as soon as possible", "first available", "whenever", "any day"."""
        word, nxt = self.w(i), self.w(i + 1)
        end = self._asap_phrase_end(i)
        if end == i and word in ("earliest", "first", "next", "nearest", "soonest"):
            before = len(self.items)
            end = self._first_available(i)
            if len(self.items) > before:
                return end  # "first appointment of the day" became a first-thing window
        elif end == i and word == "any" and nxt in _ANY_TARGETS:
            end = i + 2
            if nxt in ("weekday", "weekdays"):
                self.add(Flag(i, end, "weekdays"))
        elif end == i and word == "right" and nxt == "now":
            self.add(DateSpan(i, i + 2, self.today, self.today))
            end = i + 2
        elif end == i and word == "now" and self.w(i - 1) not in ("from", "as", "by", "until"):
            self.add(Flag(i, i + 1, "now"))  # "now" alone means today; resolved later
            return i + 1
        if end > i:
            self.add(Flag(i, end, "asap"))
        return end

    def _asap_phrase_end(self, i: int) -> int:
        """End of a fixed urgency/flexibility phrase starting at ``i``, or ``i``."""
        for phrase in _ASAP_PHRASES.get(self.w(i), ()):
            if all(self.w(i + k) == word for k, word in enumerate(phrase)):
                return i + len(phrase)
        return i

    def _first_available(self, i: int) -> int:
        """ "first available", "next opening", "earliest appointment" (but "first thing")."""
        word, nxt = self.w(i), self.w(i + 1)
        if word in ("earliest", "soonest"):
            return i + 1 + (nxt in _ASAP_TARGETS)
        if nxt not in _ASAP_TARGETS or nxt == "day" or (word == "first" and nxt == "time"):
            return i
        if word == "first":
            first_thing = self._first_of_day(i, i + 2)
            if first_thing > i:
                return first_thing
        return i + 2

    def _first_of_day(self, i: int, j: int) -> int:
        """ "first appointment of the day" / "first slot tomorrow": first thing, not asap."""
        if (self.w(j), self.w(j + 1), self.w(j + 2)) == ("of", "the", "day"):
            self.add(WindowRef(i, j + 3, "first_thing"))
            return j + 3
        if (self.w(j), self.w(j + 1), self.w(j + 2)) == ("in", "the", "morning"):
            self.add(WindowRef(i, j + 3, "first_thing"))
            return j + 3
        k = self.skip(j, "on", "the", "this", "next")
        if self.w(k) in WEEKDAYS or self.w(k) in ("today", "tomorrow", "morning"):
            self.add(WindowRef(i, j, "first_thing"))
            return j
        return i

    def _match_preposition(self, i: int) -> int:
        """Clock or date after at/around/after/before/by/until/from/between."""
        word = self.w(i)
        if word not in (
            "at",
            "around",
            "after",
            "before",
            "by",
            "until",
            "from",
            "between",
            "through",
            "past",
            "for",
            "since",
        ):
            return i
        j = i + 1
        role = {
            "at": "exact",
            "for": "exact",
            "around": "around",
            "after": "after",
            "past": "after",
            "from": "after",
            "since": "after",
            "before": "before",
            "by": "before",
            "until": "before",
            "through": "before",
            "between": "between",
        }[word]
        inverted = word == "until" and self._neg_until >= i  # "can't come until 3" = from 3
        if inverted:
            role, self._neg_until = "after", -1
        j = self.skip(j, "of")  # Spanish "antes del mediodía", "después de la 1"
        if self.w(j) in ("then", "that") and word in ("before", "by", "after", "until", "from"):
            return self._bound_previous_date(i, word, j)
        if word in ("at", "for") and self.w(j) == "around":
            role, j = "around", j + 1
        elif word in ("after", "from", "before", "by", "until") and self.w(j) in ("around", "about"):
            j += 1
        if word == "at" and self.w(j) in ("the", "earliest") and self.w(j + 1) in ("earliest",):
            return i
        bare_ok = word not in ("for", "past", "through")
        end = self._clock_or_range(j, role, bare_ok)
        if end > j:
            return end
        if word in ("at", "around", "for", "past"):
            return i
        return self._bounded_date(i, word, inverted)

    def _bounded_date(self, i: int, word: str, inverted: bool) -> int:
        """ "after the 9th", "by friday", "from monday", "until next week": date bounds.

        Between two dates ("monday through friday", "from the 7th to the 9th") the words
        are range connectors instead, and both ends stay plain mentions.
        """
        bound: str | None = {
            "after": "after",
            "from": "from",
            "since": "from",
            "before": "before",
            "by": "by",
            "until": "by",
            "through": "by",
            "between": None,
        }[word]
        if inverted:
            bound = "from"
        previous = self.items[-1] if self.items else None
        if (
            word in ("until", "through")
            and isinstance(previous, (DateSpan, WeekdayRef, DayOfMonthRef))
            and previous.end >= i - 1
        ):
            bound = None
        j = self.skip(i + 1, "the", "on")
        before = len(self.items)
        end = self._match_date_at(j)
        if end == j:
            return i
        nxt = self.w(end) or self.raw(end)
        if word in ("from", "between") and nxt in ("to", "until", "through", "-", "~", "and"):
            bound = None
        for item in self.items[before:]:
            if isinstance(item, (DateSpan, WeekdayRef, DayOfMonthRef)) and bound:
                item.bound = bound
        return end

    def _bound_previous_date(self, i: int, word: str, j: int) -> int:
        """ "the 20th, so before then": turn the date just mentioned into a bound."""
        bound = {"before": "before", "by": "by", "until": "by", "after": "after", "from": "from"}[word]
        for item in reversed(self.items):
            if isinstance(item, (DateSpan, WeekdayRef, DayOfMonthRef)):
                item.bound = bound
                return j + 1
            if isinstance(item, ClockRef):
                item.role = "before" if bound in ("before", "by") else "after"
                return j + 1
        return i

    def _match_date_at(self, j: int) -> int:
        """Any date expression at ``j`` (used after prepositions)."""
        for matcher in (
            self._match_relative_day,
            self._match_quantity,
            self._match_modifier,
            self._match_this_next,
            self._match_weekday,
            self._match_week_word,
            self._match_explicit_date,
            self._match_month_alone,
            self._match_holiday,
        ):
            end = matcher(j)
            if end > j:
                return end
        return j


def scan(tokens: list[Token], today: date) -> list[Item]:
    """Scan tokens into findings."""
    return Scanner(tokens, today).scan()
