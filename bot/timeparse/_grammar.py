"""Left-to-right scanner that turns tokens into date/time findings (``_items``).

Each ``_match_*`` method looks at the token at ``i`` with a small, fixed look-ahead and
returns the index after what it consumed (or ``i`` when it does not apply), so a whole
message is scanned in linear time. Findings are resolved against each other later.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Callable, Optional

from . import _calendar as cal
from ._items import (
    ClockRef, DateSpan, DayOfMonthRef, Flag, Item, LooseNumber, WeekdayRef, WindowRef,
)
from ._lexicon import (
    CANON, MONTHS, NEGATORS, NUMBER_WORDS, ORDINAL_SUFFIXES, ORDINAL_WORDS, PERIOD_WORDS,
    PLURAL_WEEKDAYS, POST_NEGATIONS, QUANTITY_WORDS, WEEKDAYS,
)
from ._tokens import NUM, PUNCT, Token

Clock = tuple[int, int, Optional[str], bool, Optional[str], bool]
# (hour, minute, meridiem, explicit, hint, approximate)

_POST_NEGATIONS: dict[str, list[tuple[str, ...]]] = {}
for _phrase in POST_NEGATIONS:
    _canon_phrase = tuple(CANON.get(w, w) for w in _phrase)
    _POST_NEGATIONS.setdefault(_canon_phrase[0], []).append(_canon_phrase)
_BENIGN_AFTER_NEGATOR = frozenset(
    {"sure", "problem", "know", "mind", "worries", "matter", "picky", "fussy", "care",
     "preference", "rush", "hurry", "asap", "idea", "clue", "thanks"}
)
_CLAUSE_BREAKS = frozenset({",", ".", ";", "!", "?", "(", ")"})
_MONTHISH_PREPOSITIONS = frozenset(
    {"in", "of", "early", "mid", "late", "end", "start", "until", "by", "before", "after",
     "from", "next", "this", "during", "for", "through", "last", "proximo", "coming"}
)
_UNIT_WORDS = frozenset(
    {"day", "days", "week", "weeks", "month", "months", "year", "years", "min", "mins",
     "minute", "minutes", "kids", "children", "people", "times", "pills", "dollars",
     "fortnight", "fortnights", "x"}
)
_MERIDIEM_RAW = {"am": "am", "pm": "pm", "p": "pm", "a": "am"}
_ASAP_TARGETS = frozenset(
    {"available", "opening", "openings", "open", "slot", "slots", "appointment", "appt",
     "appointments", "spot", "possible", "time", "date", "one", "opportunity", "day"}
)
_ANY_TARGETS = frozenset(
    {"time", "day", "date", "slot", "appointment", "appt", "opening", "available", "hour",
     "days", "times", "slots", "moment", "weekday", "weekdays"}
)
_PERIOD_HINTS = {"morning": "morning", "afternoon": "afternoon", "evening": "evening",
                 "night": "evening", "tonight": "evening", "mornings": "morning",
                 "afternoons": "afternoon", "evenings": "evening", "nights": "evening"}
_MINUTE_UNITS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                 "eight": 8, "nine": 9}
_MINUTE_TEENS = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
                 "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
                 "nineteen": 19}
_MINUTE_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50}
_TO_PAST_MINUTES = {"five": 5, "ten": 10, "twenty": 20, "quarter": 15, "half": 30,
                    "twentyfive": 25}
_MODIFIER_WEEK_DAYS = {"early": (0, 2), "start": (0, 2), "mid": (1, 3), "late": (3, 5),
                       "end": (3, 5)}
_MODIFIER_MONTH_DAYS = {"early": (1, 10), "start": (1, 10), "mid": (11, 20),
                        "late": (21, 31), "end": (21, 31)}
_MODIFIER_PERIODS = {
    ("early", "morning"): "early_morning", ("mid", "morning"): "mid_morning",
    ("late", "morning"): "late_morning", ("end", "morning"): "late_morning",
    ("early", "afternoon"): "early_afternoon", ("mid", "afternoon"): "mid_afternoon",
    ("late", "afternoon"): "late_afternoon", ("end", "afternoon"): "late_afternoon",
    ("early", "evening"): "early_evening", ("late", "evening"): "late_evening",
    ("early", "day"): "first_thing", ("start", "day"): "first_thing",
    ("end", "day"): "end_of_day", ("late", "day"): "end_of_day", ("later", "day"): "end_of_day",
    ("mid", "day"): "lunch",
}
_RANGE_CONNECTORS = frozenset({"to", "-", "~", "until", "through", "and"})


class Scanner:
    """Scan one message's tokens and collect findings in ``items``."""

    def __init__(self, tokens: list[Token], today: date) -> None:
        """Keep the tokens and the clinic's today; nothing is scanned yet."""
        self.toks = tokens
        self.n = len(tokens)
        self.today = today
        self.items: list[Item] = []
        self._neg_until = -1
        self._matchers: tuple[Callable[[int], int], ...] = (
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

    # ------------------------------------------------------------------ token access

    def w(self, i: int) -> str:
        """Canonical word at ``i`` ("" for numbers, punctuation or past the end)."""
        if 0 <= i < self.n and self.toks[i].is_word:
            return self.toks[i].text
        return ""

    def raw(self, i: int) -> str:
        """Surface text at ``i`` after normalisation ("" past the end)."""
        return self.toks[i].raw if 0 <= i < self.n else ""

    def tok(self, i: int) -> Token | None:
        """Token at ``i`` or None past either end."""
        return self.toks[i] if 0 <= i < self.n else None

    def is_punct(self, i: int, chars: str | frozenset[str] = ",.") -> bool:
        """True when ``i`` is one of the given punctuation marks."""
        token = self.tok(i)
        return token is not None and token.kind == PUNCT and token.text in chars

    def skip(self, i: int, *words: str) -> int:
        """Advance past any run of the given canonical words."""
        while i < self.n and self.w(i) in words:
            i += 1
        return i

    def plain_number(self, i: int) -> int | None:
        """Value of a digits-only token at ``i``."""
        token = self.tok(i)
        if token is not None and token.is_plain_number:
            return token.value
        return None

    def number(self, i: int) -> int | None:
        """Value of a digits-only token or an English/Spanish number word at ``i``."""
        value = self.plain_number(i)
        if value is not None:
            return value
        return NUMBER_WORDS.get(self.raw(i)) if self.tok(i) and self.toks[i].is_word else None

    def meridiem(self, i: int) -> str | None:
        """ "am"/"pm" written right after a clock ("3pm", "3 p", "10a")."""
        word = self.raw(i)
        if word in ("am", "pm", "p"):
            return _MERIDIEM_RAW[word]
        if word == "a" and (i + 1 >= self.n or not self.toks[i + 1].is_word
                            or self.w(i + 1) in ("or", "to", "and")):
            return "am"
        return None

    # ------------------------------------------------------------------ scanning

    def scan(self) -> list[Item]:
        """Run every matcher left to right and return the findings."""
        i = 0
        while i < self.n:
            if self.is_punct(i, _CLAUSE_BREAKS):
                self._neg_until = -1
            before = len(self.items)
            j = self._match_at(i)
            if j > i:
                negated = i <= self._neg_until
                new_items = self.items[before:]
                j = self._post_negation(j, new_items)
                if negated:
                    for item in new_items:
                        item.negated = not item.negated
                i = j
                continue
            self._note_negator(i)
            i += 1
        return self.items

    def _match_at(self, i: int) -> int:
        """First matcher that consumes tokens at ``i`` wins."""
        for matcher in self._matchers:
            j = matcher(i)
            if j > i:
                return j
        return i

    def _note_negator(self, i: int) -> None:
        """Open a short negation scope at "not", "can't", "busy", "anything but"."""
        word = self.w(i)
        is_negator = word in NEGATORS or self.raw(i) in NEGATORS
        if word == "but":
            is_negator = self.w(i - 1) in ("anything", "any", "anytime", "day", "whenever")
        if is_negator and self.w(i + 1) not in _BENIGN_AFTER_NEGATOR:
            self._neg_until = i + 6

    def _post_negation(self, j: int, new_items: list[Item]) -> int:
        """ "monday doesn't work" / "mornings are bad": negate what was just found."""
        for phrase in _POST_NEGATIONS.get(self.w(j), ()):
            if all(self.w(j + k) == word for k, word in enumerate(phrase)):
                for item in new_items:
                    item.negated = True
                return j + len(phrase)
        return j

    def add(self, item: Item) -> None:
        """Record a finding."""
        self.items.append(item)

    # ------------------------------------------------------------------ asap

    def _match_asap(self, i: int) -> int:
        """ "asap", "as soon as possible", "first available", "whenever", "any day"."""
        word = self.w(i)
        end = i
        if word in ("asap", "soon", "soonest", "whenever", "anytime", "immediately",
                    "flexible", "sooner"):
            end = i + 1
        elif word == "earliest":
            end = i + 1 + (self.w(i + 1) in _ASAP_TARGETS)
        elif word == "as" and self.w(i + 1) in ("soon", "early") and self.w(i + 2) == "as":
            end = i + 3 + (self.w(i + 3) == "possible")
        elif word in ("first", "next", "nearest") and self.w(i + 1) in _ASAP_TARGETS and not (
            self.w(i + 1) == "day"
        ):
            if self.w(i + 1) == "time" and word == "first":
                return i
            end = i + 2
        elif word == "any" and self.w(i + 1) in _ANY_TARGETS:
            end = i + 2
            if self.w(i + 1) in ("weekday", "weekdays"):
                self.add(Flag(i, end, "weekdays"))
        elif word in ("right", "straight") and self.w(i + 1) in ("away", "now"):
            if self.w(i + 1) == "now":
                self.add(DateSpan(i, i + 2, self.today, self.today))
            end = i + 2
        elif word == "now" and self.w(i - 1) not in ("from", "as", "by", "until"):
            self.add(Flag(i, i + 1, "now"))
            return i + 1
        elif (word, self.w(i + 1)) in {("not", "preference"), ("dont", "care"),
                                       ("doesnt", "matter"), ("not", "rush"),
                                       ("not", "hurry"), ("whatever", "works"),
                                       ("at", "once"), ("not", "matter")}:
            end = i + 2
        elif word == "whatever" and self.w(i + 1) in ("is", "you", "available"):
            end = i + 2
        if end > i:
            self.add(Flag(i, end, "asap"))
        return end

    # ------------------------------------------------------------------ time specials

    def _match_time_special(self, i: int) -> int:
        """Named parts of the day: "first thing", "after work", "lunchtime", "end of day"."""
        word, nxt = self.w(i), self.w(i + 1)
        name: str | None = None
        end = i
        if word == "first" and nxt == "thing":
            name, end = "first_thing", i + 2
            if self.w(end) == "in" and self.w(end + 2) == "morning":
                end += 3
            elif self.w(end) == "morning":
                end += 1
        elif word == "end_of_day":
            name, end = "end_of_day", i + 1
        elif word == "after" and nxt in ("work", "school", "shift", "job", "lunch"):
            name, end = ("after_lunch" if nxt == "lunch" else "after_work"), i + 2
        elif word == "after" and self.w(i + 2) in ("work", "school", "shift", "job") and nxt in (
            "my", "mi", "the", "el"
        ):
            name, end = "after_work", i + 3
        elif word == "before" and nxt in ("work", "school", "lunch"):
            name, end = ("before_lunch" if nxt == "lunch" else "first_thing"), i + 2
        elif word == "lunch":
            name, end = "lunch", i + 1 + (self.w(i + 1) in ("break", "hour", "time"))
        elif word in ("last", "latest") and nxt in ("appointment", "appt", "slot", "thing",
                                                    "one", "possible", "available"):
            name, end = "end_of_day", i + 2
        if name is None:
            return i
        self.add(WindowRef(i, end, name))
        return end

    # ------------------------------------------------------------------ clocks

    def _hour_value(self, i: int) -> tuple[int, int, bool] | None:
        """Hour (and minutes, for compact "1530"/"330") at ``i``; flag says compact form."""
        token = self.tok(i)
        if token is None:
            return None
        if token.is_plain_number:
            if token.widths[0] <= 2 and token.value <= 24:
                return token.value, 0, False
            if token.widths[0] in (3, 4):
                hour, minute = divmod(token.value, 100)
                if hour <= 23 and minute < 60:
                    return hour, minute, True
            return None
        if token.is_word:
            value = NUMBER_WORDS.get(token.raw)
            if value is not None and 0 < value <= 12:
                return value, 0, False
        return None

    def _minute_words(self, i: int) -> tuple[int, int] | None:
        """Spoken minutes after an hour word: "thirty", "forty five", "oh five"."""
        word = self.raw(i)
        if word in ("oh", "o") and self.raw(i + 1) in _MINUTE_UNITS:
            return _MINUTE_UNITS[self.raw(i + 1)], i + 2
        if word in _MINUTE_TEENS:
            return _MINUTE_TEENS[word], i + 1
        if word in _MINUTE_TENS:
            value, j = _MINUTE_TENS[word], i + 1
            if self.is_punct(j, "-"):
                j += 1
            if self.raw(j) in _MINUTE_UNITS:
                return value + _MINUTE_UNITS[self.raw(j)], j + 1
            return value, i + 1
        return None

    def _clock(self, i: int) -> tuple[Clock, int] | None:
        """Parse one clock expression at ``i`` with its am/pm and "in the afternoon" suffixes."""
        word = self.w(i)
        hour: int
        minute = 0
        explicit = False
        j: int
        if word in ("noon", "midnight"):
            return self._clock_suffixes(i, i + 1, 12 if word == "noon" else 0, 0, True)
        before_after = self._to_past_clock(i)
        if before_after is not None:
            hour, minute, j = before_after
            explicit = True
        else:
            token = self.tok(i)
            if token is None:
                return None
            if token.kind == NUM and token.seps in (":", ".") and len(token.parts) == 2:
                hour, minute = token.parts
                if token.seps == "." and token.widths[1] != 2:
                    return None
                if hour > 24 or minute > 59 or token.widths[1] != 2:
                    return None
                explicit, j = True, i + 1
            else:
                value = self._hour_value(i)
                if value is None:
                    return None
                hour, minute, compact = value
                j = i + 1
                if compact:
                    explicit = False
                elif self.w(j) == "hrs" and self.plain_number(j + 1) is not None and (
                    self.toks[j + 1].widths[0] == 2 and self.toks[j + 1].value < 60
                ):
                    minute, j, explicit = self.toks[j + 1].value, j + 2, True
                else:
                    spoken = self._minute_words(j)
                    if spoken is not None and (token.is_word or self.meridiem(spoken[1])):
                        minute, j = spoken
                        explicit = True
                    elif (self.plain_number(j) is not None and self.toks[j].widths[0] == 2
                          and self.toks[j].value < 60 and self.meridiem(j + 1)):
                        minute, j = self.toks[j].value, j + 1
                if self.w(j) == "noon" and hour == 12:
                    return (12, 0, None, True, None, False), j + 1
        return self._clock_suffixes(i, j, hour, minute, explicit)

    def _to_past_clock(self, i: int) -> tuple[int, int, int] | None:
        """ "half past 3", "quarter to 4", "ten to 3", "20 past 4", "half 3" (British)."""
        word = self.raw(i)
        minutes: int | None = None
        j = i + 1
        if self.w(i) == "half":
            minutes = 30
        elif self.w(i) == "quarter":
            minutes = 15
        elif word in _TO_PAST_MINUTES:
            minutes = _TO_PAST_MINUTES[word]
        elif word == "twenty" and self.raw(i + 1) == "five":
            minutes, j = 25, i + 2
        elif self.plain_number(i) is not None and self.toks[i].value in (5, 10, 20, 25):
            minutes = self.toks[i].value
            if self.w(j) not in ("past", "after"):
                return None
        if minutes is None:
            return None
        j = self.skip(j, "minutes", "mins", "min")
        direction = self.w(j)
        if direction in ("past", "after"):
            sign = 1
        elif direction in ("to", "til", "until", "before") and self.tok(i) and self.toks[i].is_word:
            sign = -1
        elif self.w(i) == "half" and self.number(j) is not None:
            sign, j = 1, j - 1
        else:
            return None
        hour_at = j + 1
        value = self._hour_value(hour_at)
        if value is None or value[2] or not 1 <= value[0] <= 12:
            return None
        hour = value[0]
        if sign == -1:
            hour, minute = (hour - 1) % 12 or 12, 60 - minutes
        else:
            minute = minutes
        return hour, minute, hour_at + 1

    def _clock_suffixes(self, start: int, j: int, hour: int, minute: int,
                        explicit: bool) -> tuple[Clock, int] | None:
        """Read am/pm, o'clock, -ish, "hrs", "y media" and "in the afternoon" after a clock."""
        meridiem: str | None = None
        hint: str | None = None
        approx = False
        for _ in range(4):
            mer = self.meridiem(j)
            word = self.w(j)
            if mer and meridiem is None:
                meridiem, explicit, j = mer, True, j + 1
            elif word == "oclock" or (self.raw(j) == "o" and self.raw(j + 1) == "clock"):
                explicit, j = True, j + (1 if word == "oclock" else 2)
            elif word == "ish":
                explicit, approx, j = True, True, j + 1
            elif word in ("sharp", "exactly") or (word == "hrs" and self._clock_hours_suffix(
                    start, hour, minute)):
                explicit, j = True, j + 1
            elif word == "and" and self.w(j + 1) in ("half", "quarter") or (
                word == "and" and self.raw(j + 1) == "a" and self.w(j + 2) == "half"
            ):
                k = j + 1 + (self.raw(j + 1) == "a")
                minute = 30 if self.w(k) == "half" else 15
                explicit, j = True, k + 1
            elif word == "minus" and self.w(j + 1) == "quarter":
                hour, minute, explicit, j = (hour - 1) % 24, 45, True, j + 2
            elif word == "in" and self.w(j + 1) == "the" and self.w(j + 2) in _PERIOD_HINTS:
                hint, explicit, j = _PERIOD_HINTS[self.w(j + 2)], True, j + 3
            elif word in ("at", "in") and self.w(j + 1) in ("night",):
                hint, explicit, j = "evening", True, j + 2
            elif word == "tonight":
                hint = "evening"
                break
            else:
                break
        if meridiem is not None and hour > 12:
            meridiem = None
        if hour > 24 or (hour == 24 and minute):
            return None
        return (hour % 24 if hour == 24 else hour, minute, meridiem, explicit, hint, approx), j

    def _clock_hours_suffix(self, start: int, hour: int, minute: int) -> bool:
        """ "1500 hrs" / "15h" mark a 24-hour clock; "2 hours" after "in"/"for" is a duration."""
        token = self.tok(start)
        compact = token is not None and token.is_plain_number and token.widths[0] >= 3
        return (compact or hour >= 13 or minute > 0) and self.w(start - 1) not in (
            "in", "for", "within", "next", "about", "around")

    def _add_clock(self, start: int, end: int, clock: Clock, role: str) -> None:
        """Record a clock with a role (exact/around/after/before)."""
        hour, minute, meridiem, explicit, hint, approx = clock
        if approx and role == "exact":
            role = "around"
        self.add(ClockRef(start, end, hour, minute, meridiem, role, hint, explicit))

    def _unit_follows(self, j: int) -> bool:
        """True when a number is followed by a unit ("2 weeks"), so it is not a clock."""
        return self.w(j) in _UNIT_WORDS or self.raw(j) in _UNIT_WORDS

    def _clock_or_range(self, i: int, role: str, bare_ok: bool) -> int:
        """A clock, or a "3-5" / "3 to 5" / "3 or 4" pair, recorded with the given role."""
        dash = self._dash_pair_clock(i)
        if dash is not None:
            first, second, end = dash
            self._add_range(i, end, first, second, role)
            return end
        parsed = self._clock(i)
        if parsed is None:
            return i
        clock, j = parsed
        if self._unit_follows(j) or (not bare_ok and not clock[3]):
            return i
        k = j
        connector = self.w(k) or (self.raw(k) if self.is_punct(k, "-~") else "")
        if connector in _RANGE_CONNECTORS or connector == "or":
            second = self._clock(k + 1)
            if second is not None and not self._unit_follows(second[1]) and (
                connector != "and" or role == "between"
            ):
                second_clock, end = second
                if connector == "or":
                    self._add_clock(i, j, _share_meridiem(clock, second_clock), role)
                    self._add_clock(k + 1, end, second_clock, "exact" if role == "between" else role)
                    return self._clock_postfix(i, end)
                self._add_range(i, end, clock, second_clock, role)
                return end
        if role == "between":
            role = "exact"
        self._add_clock(i, j, clock, role)
        return self._clock_postfix(len(self.items) - 1, j)

    def _clock_postfix(self, item_index: int, j: int) -> int:
        """ "3 or later", "10 at the latest", "2 onwards": turn the last clock into a bound."""
        if not self.items or not isinstance(self.items[-1], ClockRef):
            return j
        clock = self.items[-1]
        word, nxt = self.w(j), self.w(j + 1)
        role: str | None = None
        end = j
        if word == "or" and nxt in ("later", "after"):
            role, end = "after", j + 2
        elif word == "or" and nxt in ("early", "before", "sooner"):
            role, end = "before", j + 2
        elif word in ("onwards", "onward", "later", "plus") or (word == "on" and not nxt):
            role, end = "after", j + 1
        elif word == "at" and nxt == "the" and self.w(j + 2) in ("latest", "last", "earliest"):
            role, end = ("after" if self.w(j + 2) == "earliest" else "before"), j + 3
        elif word == "latest":
            role, end = "before", j + 1
        elif word == "and" and nxt in ("after", "later") and self.w(j + 2) == "":
            role, end = "after", j + 2
        if role is not None:
            clock.role = role
            clock.end = end
        return end

    def _add_range(self, start: int, end: int, first: Clock, second: Clock, role: str) -> None:
        """Record "1-3pm" / "between 1 and 3" as an after-bound plus a before-bound."""
        first = _share_meridiem(first, second)
        self._add_clock(start, end, first, "after")
        self._add_clock(start, end, second, "before")

    def _dash_pair_clock(self, i: int) -> tuple[Clock, Clock, int] | None:
        """A "1-3" token read as an hour range (only called where context says time)."""
        token = self.tok(i)
        if token is None or token.kind != NUM or token.seps != "-" or len(token.parts) != 2:
            return None
        if max(token.widths) > 2 or token.parts[0] > 23 or token.parts[1] > 23:
            return None
        first: Clock = (token.parts[0], 0, None, False, None, False)
        parsed = self._clock_suffixes(i, i + 1, token.parts[1], 0, False)
        if parsed is None:
            return None
        second, end = parsed
        return first, second, end

    def _dash_is_time(self, i: int) -> bool:
        """Decide whether a "9-11" token is a time range rather than a month-day date."""
        token = self.toks[i]
        if len(token.parts) != 2 or max(token.widths) > 2 or token.parts[0] > 23:
            return False
        if self.meridiem(i + 1) or self.w(i + 1) in ("hrs", "oclock", "in", "ish"):
            return True
        before = self.w(i - 1)
        if before in ("between", "from", "at", "around", "after", "before", "until", "by",
                      "anytime", "morning", "afternoon", "evening", "mornings", "afternoons",
                      "evenings", "tonight", "night", "lunch", "time", "times", "hours"):
            return True
        if before in WEEKDAYS or before in ("today", "tomorrow", "overmorrow"):
            return token.parts[0] < token.parts[1] and token.widths[0] == 1 or (
                token.parts[0] < token.parts[1] <= 12
            )
        return False

    def _match_preposition(self, i: int) -> int:
        """Clock or date after at/around/after/before/by/until/from/between."""
        word = self.w(i)
        if word not in ("at", "around", "after", "before", "by", "until", "from", "between",
                        "through", "past", "for", "since"):
            return i
        j = i + 1
        role = {"at": "exact", "for": "exact", "around": "around", "after": "after",
                "past": "after", "from": "after", "since": "after", "before": "before",
                "by": "before", "until": "before", "through": "before",
                "between": "between"}[word]
        inverted = word == "until" and self._neg_until >= i  # "can't come until 3" = from 3
        if inverted:
            role, self._neg_until = "after", -1
        if self.w(j) in ("then", "that") and word in ("before", "by", "after", "until", "from"):
            return self._bound_previous_date(i, word, j)
        if word in ("at", "for") and self.w(j) == "around":
            role, j = "around", j + 1
        elif word in ("after", "from", "before", "by", "until") and self.w(j) in (
            "around", "about"
        ):
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
        bound: str | None = {"after": "after", "from": "from", "since": "from",
                             "before": "before", "by": "by", "until": "by", "through": "by",
                             "between": None}[word]
        if inverted:
            bound = "from"
        previous = self.items[-1] if self.items else None
        if word in ("until", "through") and isinstance(
            previous, (DateSpan, WeekdayRef, DayOfMonthRef)
        ) and previous.end >= i - 1:
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
        bound = {"before": "before", "by": "by", "until": "by", "after": "after",
                 "from": "from"}[word]
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
        for matcher in (self._match_relative_day, self._match_quantity, self._match_modifier,
                        self._match_this_next, self._match_weekday, self._match_week_word,
                        self._match_explicit_date, self._match_month_alone,
                        self._match_holiday):
            end = matcher(j)
            if end > j:
                return end
        return j

    def _match_standalone_clock(self, i: int) -> int:
        """A clock written unmistakably on its own: "3pm", "15:00", "3ish", "half past 4"."""
        token = self.tok(i)
        if token is not None and token.kind == NUM and token.seps == "-" and self._dash_is_time(i):
            return self._clock_or_range(i, "exact", True)
        parsed = self._clock(i)
        if parsed is None:
            return i
        clock, j = parsed
        if self._unit_follows(j) or not (clock[3] or self._bound_postfix_at(j)):
            return i
        return self._clock_or_range(i, "exact", True)

    def _bound_postfix_at(self, j: int) -> bool:
        """True when "or later" / "at the latest" / "onwards" follows a bare number."""
        word, nxt = self.w(j), self.w(j + 1)
        return (word == "or" and nxt in ("later", "after", "early", "before", "sooner")) or (
            word in ("onwards", "onward", "latest")) or (
            word == "at" and nxt == "the" and self.w(j + 2) in ("latest", "earliest", "last"))

    def _match_loose_number(self, i: int) -> int:
        """A lone number that might be an hour; context decides when resolving."""
        value = self._hour_value(i)
        if value is None or self._unit_follows(i + 1):
            return i
        hour, minute, compact = value
        if compact and minute % 5:
            return i
        if self.tok(i) and self.toks[i].is_word and hour > 12:
            return i
        self.add(LooseNumber(i, i + 1, hour, minute))
        return i + 1

    # ------------------------------------------------------------------ periods

    def _match_period(self, i: int) -> int:
        """ "morning", "afternoons", "evening", "tonight"-less "night", "tomorrow pm"."""
        word = self.w(i)
        if word in PERIOD_WORDS:
            self.add(WindowRef(i, i + 1, PERIOD_WORDS[word]))
            return i + 1
        raw = self.raw(i)
        if raw in ("am", "pm"):
            prev_item_end = self.items[-1].end if self.items else -1
            if self.n == 1 or prev_item_end == i or self.w(i - 1) in ("the", "in") or self.w(i + 1) in (
                "appointment", "appt", "slot", "please", "pls", "or", "only"
            ) or self.raw(i - 1) in ("or", "any"):
                self.add(WindowRef(i, i + 1, "morning" if raw == "am" else "afternoon"))
                return i + 1
        return i

    # ------------------------------------------------------------------ relative days

    def _day(self, start: int, end: int, day: date, **extra: object) -> None:
        """Record a single-day span."""
        self.add(DateSpan(start, end, day, day, **extra))  # type: ignore[arg-type]

    def _match_relative_day(self, i: int) -> int:
        """today, tonight, tomorrow, the day after tomorrow, yesterday, later today."""
        word = self.w(i)
        offsets = {"today": 0, "tonight": 0, "tomorrow": 1, "overmorrow": 2,
                   "yesterday": -1, "anteayer": -2}
        if word == "day" and self.w(i + 1) == "after" and self.w(i + 2) in ("", "or", "and"):
            previous = self.items[-1] if self.items else None
            if isinstance(previous, DateSpan) and previous.kind == "day":
                self._day(i, i + 2, previous.first + timedelta(days=1))
                return i + 2
        if word == "later" and self.w(i + 1) == "today":
            self._day(i, i + 2, self.today)
            return i + 2
        if word not in offsets:
            return i
        self._day(i, i + 1, self.today + timedelta(days=offsets[word]))
        if word == "tonight":
            self.add(WindowRef(i, i + 1, "evening"))
        return i + 1

    def _quantity(self, i: int) -> tuple[int, int] | None:
        """A count before a unit: "3", "three", "a", "a couple of", "a few", "several"."""
        j = i
        if self.raw(j) in ("a", "an", "one") and self.w(j + 1) in ("couple", "few"):
            j += 1
        word = self.w(j)
        if word in ("couple", "few"):
            count = QUANTITY_WORDS[word]
            return count, self.skip(j + 1, "of")
        if self.raw(j) in ("a", "an"):
            return 1, j + 1
        token = self.tok(j)
        if token is not None and token.is_plain_number and 0 < token.value <= 400:
            return token.value, j + 1
        value = NUMBER_WORDS.get(self.raw(j)) if token is not None and token.is_word else None
        if value:
            return value, j + 1
        return None

    def _unit(self, i: int) -> tuple[str, int] | None:
        """A unit word and its size: days/weeks (in days) or months."""
        word = self.w(i)
        if word in ("day", "days"):
            return "days", 1
        if word in ("week", "weeks"):
            return "days", 7
        if self.raw(i) in ("fortnight", "fortnights"):
            return "days", 14
        if word in ("month", "months"):
            return "months", 1
        if word == "hrs" or self.raw(i) in ("minutes", "mins", "min", "minute"):
            return "days", 0
        return None

    def _offset(self, count: int, unit: tuple[str, int], base: date) -> date:
        """``base`` moved forward by ``count`` units."""
        kind, size = unit
        if kind == "months":
            return cal.add_months(base, count * size)
        return base + timedelta(days=count * size)

    def _match_quantity(self, i: int) -> int:
        """ "in 3 days", "within two weeks", "next few days", "a week from monday", "2 days ago"."""
        word = self.w(i)
        if word in ("in", "within", "next", "over"):
            j = self.skip(i + 1, "the")
            within = word in ("within", "next", "over")
            if self.w(j) == "next":
                within, j = True, j + 1
            dash = self.tok(j)
            if dash is not None and dash.kind == NUM and dash.seps == "-" and len(dash.parts) == 2:
                unit = self._unit(j + 1)
                if unit is not None:
                    low = self._offset(dash.parts[0], unit, self.today)
                    high = self._offset(dash.parts[1], unit, self.today)
                    self.add(DateSpan(i, j + 2, min(low, high), max(low, high), kind="range"))
                    return j + 2
            quantity = self._quantity(j)
            if quantity is None:
                return i
            count, k = quantity
            unit = self._unit(k)
            if unit is None:
                return i
            end = self.skip(k + 1, "time", "times")
            target = self._offset(count, unit, self.today)
            if self.w(end) == "or" and (self.number(end + 1) or self.w(end + 1) in ("so", "two")):
                upper = self._offset(self.number(end + 1) or count, unit, self.today)
                if self.w(end + 1) == "so":
                    upper = target
                self.add(DateSpan(i, end + 2, min(target, upper), max(target, upper), kind="range")
                         if upper != target else DateSpan(i, end + 2, target, target))
                return end + 2
            if within:
                first = self.today if word != "next" else self.today + timedelta(days=1)
                self.add(DateSpan(i, end, min(first, target), target, kind="range"))
            else:
                self._add_offset_day(i, end, target, unit)
            if unit[1] == 0:
                self.add(Flag(i, end, "asap"))  # "in 20 minutes": today, right away
            return end
        quantity = self._quantity(i)
        if quantity is None:
            return i
        count, k = quantity
        unit = self._unit(k)
        if unit is None:
            return i
        after = self.w(k + 1)
        if after == "ago":
            self._day(i, k + 2, self.today - timedelta(days=count * unit[1] * (
                30 if unit[0] == "months" else 1)))
            return k + 2
        if after in ("from", "after") or (after in ("on", "today", "tomorrow") and unit[1] == 7):
            return self._offset_from_anchor(i, k + 1, count, unit)
        if after in ("time", "times") or (after == "" and self.raw(k + 1) == "" and False):
            target = self._offset(count, unit, self.today)
            self._add_offset_day(i, k + 2, target, unit)
            return k + 2
        if after in ("later", "out"):
            target = self._offset(count, unit, self.today)
            self._add_offset_day(i, k + 2, target, unit)
            return k + 2
        return i

    def _add_offset_day(self, start: int, end: int, target: date, unit: tuple[str, int]) -> None:
        """A day reached by counting forward, remembering its week/month for refinement."""
        anchor = cal.monday_of(target) if unit[0] == "days" and unit[1] >= 7 else None
        month = (target.year, target.month) if unit[0] == "months" else None
        self._day(start, end, target, week_anchor=anchor, month_anchor=month)

    def _offset_from_anchor(self, start: int, k: int, count: int, unit: tuple[str, int]) -> int:
        """ "a week from today/monday/tomorrow", "a week on tuesday", "a week today"."""
        j = k + 1 if self.w(k) in ("from", "after", "on") else k
        j = self.skip(j, "the", "this")
        anchor_word = self.w(j)
        days = count * unit[1] if unit[0] == "days" else 0
        if anchor_word in ("now", "today"):
            target = self._offset(count, unit, self.today)
            self._add_offset_day(start, j + 1, target, unit)
            return j + 1
        if anchor_word in ("tomorrow",):
            target = self._offset(count, unit, self.today + timedelta(days=1))
            self._add_offset_day(start, j + 1, target, unit)
            return j + 1
        if anchor_word in WEEKDAYS and days:
            self.add(WeekdayRef(start, j + 1, WEEKDAYS[anchor_word], extra_days=days))
            return j + 1
        before = len(self.items)
        end = self._match_explicit_date(j)
        if end > j and days:
            for item in self.items[before:]:
                if isinstance(item, DateSpan):
                    item.first += timedelta(days=days)
                    item.last = item.first
                elif isinstance(item, DayOfMonthRef):
                    self.items.remove(item)
                    resolved = cal.day_of_month(self.today, item.day)
                    if resolved is not None:
                        self._day(item.start, item.end, resolved + timedelta(days=days))
            return end
        target = self._offset(count, unit, self.today)
        self._add_offset_day(start, k + 1, target, unit)
        return k + 1

    # ------------------------------------------------------------------ week/month words

    def _week_span(self, start: int, end: int, weeks_ahead: int,
                   days: tuple[int, int] = (0, 6), kind: str = "week") -> None:
        """Record (part of) the week ``weeks_ahead`` from this one, clipped to today."""
        monday = cal.monday_of(self.today) + timedelta(days=7 * weeks_ahead)
        first = monday + timedelta(days=days[0])
        last = monday + timedelta(days=days[1])
        if weeks_ahead == 0 and last >= self.today:
            first = max(first, self.today)
        self.add(DateSpan(start, end, first, last, kind=kind, week_anchor=monday))

    def _weekend_span(self, start: int, end: int, weeks_ahead: int) -> None:
        """Saturday-Sunday of a week (Sunday closure is the scheduler's business)."""
        self._week_span(start, end, weeks_ahead, (5, 6), kind="weekend")

    def _month_span(self, start: int, end: int, year: int, month: int,
                    days: tuple[int, int] = (1, 31)) -> None:
        """Record (part of) a month, clipped to today when it is the current month."""
        first_day, last_day = cal.month_bounds(year, month)
        first = first_day + timedelta(days=days[0] - 1)
        last = min(last_day, first_day + timedelta(days=days[1] - 1))
        if first <= self.today <= last:
            first = self.today
        self.add(DateSpan(start, end, first, last, kind="month", month_anchor=(year, month)))

    def _month_offset(self, months: int) -> tuple[int, int]:
        """(year, month) ``months`` after the current one."""
        moved = cal.add_months(self.today.replace(day=1), months)
        return moved.year, moved.month

    def _match_this_next(self, i: int) -> int:
        """this/next/last/coming + weekday, week, weekend, month, month name or period."""
        word = self.w(i)
        j = i + 1
        if word == "the" and self.w(i + 1) in ("following", "next", "coming"):
            word, j = self.w(i + 1), i + 2
        if word not in ("this", "next", "last", "coming", "following", "proximo"):
            return i
        if word == "this" and self.w(j) in ("coming", "upcoming"):
            word, j = "coming", j + 1
        if word == "next" and self.w(j) == "coming":
            j += 1
        target = self.w(j)
        ahead = {"this": 0, "coming": 0, "next": 1, "following": 1, "proximo": 1, "last": -1}[word]
        if target in WEEKDAYS:
            mode = {"this": "this", "coming": "bare", "next": "next", "following": "next",
                    "proximo": "bare", "last": "last"}[word]
            if word == "next" and self.w(j + 1) == "week":
                mode = "bare"  # "next tuesday next week" is rare; let "next week" refine it
            self.add(WeekdayRef(i, j + 1, WEEKDAYS[target], mode=mode))
            return j + 1
        if target == "week":
            if word == "coming":
                ahead = 1 if self.today.weekday() >= 5 else 0
            end = j + 1
            if self.w(end) == "or" and self.w(end + 1) == "next":
                self._week_span(i, end + 2, ahead)
                self._week_span(i, end + 2, ahead + 1)
                return end + 2 + (self.w(end + 2) == "week")
            self._week_span(i, end, ahead)
            return end
        if target == "weekend":
            self._weekend_span(i, j + 1, ahead)
            return j + 1
        if target == "month":
            year, month = self._month_offset(ahead)
            self._month_span(i, j + 1, year, month)
            return j + 1
        if target in MONTHS:
            month = MONTHS[target]
            if word == "last":
                year = self.today.year - (1 if month >= self.today.month else 0)
                self._month_span(i, j + 1, year, month)
                return j + 1
            first, last = cal.named_month(self.today, month)
            year = first.year
            if word in ("next", "following", "proximo") and month == self.today.month:
                year += 1
            elif first < self.today.replace(day=1):
                year += 1
            self._month_span(i, j + 1, year, month)
            return j + 1
        if word == "this" and target in ("morning", "afternoon", "evening", "night"):
            self._day(i, j + 1, self.today)
            self.add(WindowRef(j, j + 1, PERIOD_WORDS[target]))
            return j + 1
        if word == "next" and target == "year":
            return j + 1
        return self._elliptic_next(i, word)

    def _elliptic_next(self, i: int, word: str) -> int:
        """ "this thursday or next": repeat the previous weekday, next week's."""
        previous = self.items[-1] if self.items else None
        if word == "next" and isinstance(previous, WeekdayRef) and self.w(i - 1) == "or" and (
            previous.end == i - 1
        ):
            self.add(WeekdayRef(i, i + 1, previous.weekday, mode="next"))
            return i + 1
        return i

    def _match_week_word(self, i: int) -> int:
        """weekend, "the week after next", "week of the 14th", "during the week", weekdays."""
        word = self.w(i)
        if word == "weekend":
            self._weekend_span(i, i + 1, 0)
            return i + 1
        if word in ("weekends",):
            self.add(Flag(i, i + 1, "weekend_days"))
            return i + 1
        if word in ("weekday", "weekdays"):
            self.add(Flag(i, i + 1, "weekdays"))
            return i + 1
        if word == "during" and self.w(i + 1) == "the" and self.w(i + 2) == "week":
            self.add(Flag(i, i + 3, "weekdays"))
            return i + 3
        if word == "midweek":
            ahead = 0 if self.today.weekday() <= 2 else 1
            self._week_span(i, i + 1, ahead, (1, 3))
            return i + 1
        if word == "week":
            nxt = self.w(i + 1)
            if nxt == "after" and self.w(i + 2) == "next":
                self._week_span(i, i + 3, 2)
                return i + 3
            if nxt == "after" and not self.w(i + 2):
                self._week_span(i, i + 2, 2)
                return i + 2
            if nxt in ("next", "proximo"):
                self._week_span(i, i + 2, 1)
                return i + 2
            if nxt == "last":
                self._week_span(i, i + 2, -1)
                return i + 2
            if nxt == "of":
                return self._week_of(i, i + 2)
        if word == "month" and self.w(i + 1) in ("next", "proximo", "last"):
            year, month = self._month_offset(-1 if self.w(i + 1) == "last" else 1)
            self._month_span(i, i + 2, year, month)
            return i + 2
        return i

    def _week_of(self, start: int, j: int) -> int:
        """ "the week of the 14th" / "week of Dec 14": the Monday-Sunday week around it."""
        before = len(self.items)
        end = j
        for matcher in (self._match_explicit_date, self._match_weekday, self._match_relative_day):
            end = matcher(self.skip(j, "the"))
            if end > j:
                break
        found = self.items[before:]
        if not found:
            return start
        del self.items[before:]
        day: date | None = None
        item = found[0]
        if isinstance(item, DateSpan):
            day = item.first
        elif isinstance(item, DayOfMonthRef):
            day = cal.day_of_month(self.today, item.day)
        elif isinstance(item, WeekdayRef):
            day = cal.resolve_weekday(self.today, item.weekday, item.mode)
        if day is None:
            self.add(Flag(start, end, "invalid"))
            return end
        monday = cal.monday_of(day)
        self.add(DateSpan(start, end, max(monday, min(self.today, day)) if monday < self.today
                          <= day else monday, monday + timedelta(days=6), kind="week",
                          week_anchor=monday))
        return end

    # ------------------------------------------------------------------ modifiers

    def _match_modifier(self, i: int) -> int:
        """early/mid/late/end/start of a week, month, named month or part of the day."""
        word = self.w(i)
        if word not in ("early", "mid", "late", "end", "start", "later"):
            return i
        j = self.skip(i + 1, "of", "in", "on", "the", "this")
        said_this = "this" in (self.w(i + 1), self.w(i + 2), self.w(i + 3))
        target = self.w(j)
        key = "late" if word == "later" else word
        if (key, target) in _MODIFIER_PERIODS or (key, PERIOD_WORDS.get(target)) in _MODIFIER_PERIODS:
            name = _MODIFIER_PERIODS.get((key, target)) or _MODIFIER_PERIODS[
                (key, PERIOD_WORDS[target])]
            if word == "later" and target == "day":
                name = "end_of_day"
            self.add(WindowRef(i, j + 1, name))
            return j + 1
        ahead = 0
        if target in ("next", "proximo", "following"):
            ahead, j = 1, j + 1
            target = self.w(j)
        elif target == "last":
            ahead, j = -1, j + 1
            target = self.w(j)
        if target == "week" and self.w(j + 1) in ("next", "proximo"):
            ahead, j = 1, j + 1
        if target == "week":
            if word == "later" and ahead == 0:
                monday = cal.monday_of(self.today)
                first = self.today + timedelta(days=1)
                last = monday + timedelta(days=5)
                self.add(DateSpan(i, j + 1, first, max(first, last), kind="week",
                                  week_anchor=monday))
                return j + 1
            self._week_span(i, j + 1, ahead, _MODIFIER_WEEK_DAYS[key])
            return j + 1
        if target == "month" and self.w(j + 1) in ("next", "proximo"):
            ahead, j = 1, j + 1
        if target == "month":
            year, month = self._month_offset(ahead)
            self._month_span(i, j + 1, year, month, _MODIFIER_MONTH_DAYS[key])
            return j + 1
        month_number = self._month_word(j, context=True)
        if month_number is not None and not self._day_at(j + 1):
            first, _ = cal.named_month(self.today, month_number)
            self._month_span(i, j + 1, first.year, month_number, _MODIFIER_MONTH_DAYS[key])
            return j + 1
        if target == "year" and key in ("end", "late"):
            self._month_span(i, j + 1, self.today.year, 12)
            return j + 1
        if word == "early" and not said_this and target not in WEEKDAYS and not self.w(j) in (
            "today", "tomorrow"
        ) and self._month_word(j, context=True) is None:
            self.add(WindowRef(i, i + 1, "early_morning"))
            return i + 1
        if word == "late" and target in ("today", "tomorrow", "") and not self.number(i + 1):
            self.add(WindowRef(i, i + 1, "late_afternoon"))
            return i + 1
        return i

    # ------------------------------------------------------------------ weekdays

    def _match_weekday(self, i: int) -> int:
        """ "tuesday", "tues", "mondays", "tuesday after next", "el martes que viene"."""
        word = self.w(i)
        if word in PLURAL_WEEKDAYS:
            self.add(WeekdayRef(i, i + 1, PLURAL_WEEKDAYS[word], plural=True))
            return i + 1
        if word not in WEEKDAYS:
            return i
        weekday = WEEKDAYS[word]
        prev = self.w(i - 1)
        if prev in ("any", "every", "each"):
            self.add(WeekdayRef(i - 1, i + 1, weekday, plural=True))
            if prev == "any":
                self.add(Flag(i - 1, i + 1, "asap"))
            return i + 1
        nxt = self.w(i + 1)
        if nxt == "after" and self.w(i + 2) == "next":
            self.add(WeekdayRef(i, i + 3, weekday, mode="after_next"))
            return i + 3
        if nxt == "next" and self.w(i + 2) not in ("week", "weeks"):
            mode = "next" if self.raw(i + 1) == "next" else "bare"
            self.add(WeekdayRef(i, i + 2, weekday, mode=mode))
            return i + 2
        if nxt == "proximo":
            self.add(WeekdayRef(i, i + 2, weekday, mode="bare"))
            return i + 2
        if nxt == "last" and self.raw(i + 1) in ("pasado", "pasada"):
            self.add(WeekdayRef(i, i + 2, weekday, mode="last"))
            return i + 2
        self.add(WeekdayRef(i, i + 1, weekday, plural=self._continues_plural_list(i)))
        return i + 1

    def _continues_plural_list(self, i: int) -> bool:
        """ "every tuesday and thursday": a weekday listed after a recurring one recurs too."""
        if not self.items:
            return False
        last = self.items[-1]
        if not isinstance(last, WeekdayRef) or not last.plural:
            return False
        between = range(last.end, i)
        return len(between) <= 2 and all(
            self.w(k) in ("and", "or") or self.is_punct(k, ",/") for k in between)

    # ------------------------------------------------------------------ explicit dates

    def _month_word(self, i: int, context: bool = False) -> int | None:
        """Month number at ``i``; words like "may"/"march"/"jan" need a date-ish neighbour."""
        word = self.w(i)
        month = MONTHS.get(word)
        if month is None:
            return None
        raw = self.raw(i)
        guarded = raw in ("may", "march", "mar") or (len(raw) <= 3 and raw != word)
        if guarded and not context and self.w(i - 1) not in _MONTHISH_PREPOSITIONS:
            return None
        return month

    def _day_at(self, i: int) -> tuple[int, int, bool] | None:
        """Day number at ``i``: "9", "9th", "9 th", "ninth", "twenty-first"; flag = ordinal."""
        token = self.tok(i)
        if token is None:
            return None
        if token.is_plain_number and token.widths[0] <= 2:
            if self.raw(i + 1) in ORDINAL_SUFFIXES and self.toks[i + 1].is_word:
                return token.value, i + 2, True
            return token.value, i + 1, False
        raw = self.raw(i)
        if raw in ("twenty", "thirty"):
            j = i + 1 + self.is_punct(i + 1, "-")
            unit = ORDINAL_WORDS.get(self.raw(j))
            if unit is not None and unit < 10:
                return (20 if raw == "twenty" else 30) + unit, j + 1, True
        if token.is_word and raw in ORDINAL_WORDS:
            return ORDINAL_WORDS[raw], i + 1, True
        return None

    def _year_at(self, i: int) -> tuple[int, int] | None:
        """A four-digit year at ``i`` (optionally after a comma)."""
        j = i + 1 if self.is_punct(i, ",") else i
        j = self.skip(j, "of")
        token = self.tok(j)
        if token is not None and token.is_plain_number and token.widths[0] == 4 and (
            1900 <= token.value <= 2199
        ):
            return token.value, j + 1
        return None

    def _add_calendar_date(self, start: int, end: int, month: int, day: int,
                           year: int | None) -> date | None:
        """Record an explicit month/day[/year], flagging impossible ones."""
        resolved: date | None = None
        if year is not None:
            resolved = cal.safe_date(year, month, day)
        elif 1 <= month <= 12 and 1 <= day and cal.day_exists_in_some_year(month, day):
            resolved = cal.month_day_without_year(self.today, month, day)
        if resolved is None:
            self.add(Flag(start, end, "invalid"))
            return None
        self._day(start, end, resolved, explicit=True)
        return resolved

    def _day_range_tail(self, k: int, first: date | None) -> int:
        """ "december 14 to 18" / "the 7th - 9th": a second day in the same month."""
        connector = self.w(k) or (self.raw(k) if self.is_punct(k, "-~") else "")
        if first is None or connector not in ("to", "-", "~", "through", "until", "and"):
            return k
        j = self.skip(k + 1, "the")
        day = self._day_at(j)
        if day is None or self.meridiem(day[1]) or self._unit_follows(day[1]):
            return k
        last = cal.safe_date(first.year, first.month, day[0])
        if last is None or last <= first:
            return k
        self._day(k, day[1], last, explicit=True)
        return day[1]

    def _match_explicit_date(self, i: int) -> int:
        """Calendar dates in words or digits, or "the 9th" on its own."""
        for matcher in (self._month_then_day, self._nth_weekday_of_month,
                        self._nth_week_of_month, self._day_then_month, self._numeric_date,
                        self._day_of_month_alone):
            end = matcher(i)
            if end > i:
                return end
        return i

    def _month_then_day(self, i: int) -> int:
        """ "december 9th", "dec 9, 2026", "Dec. the 9th", "diciembre 10"."""
        month = MONTHS.get(self.w(i))
        if month is None:
            return i
        j = i + 1
        if self.is_punct(j, "."):
            j += 1
        j = self.skip(j, "the")
        token = self.tok(j)
        if token is not None and token.kind == NUM and token.seps == "-" and len(token.parts) == 2 \
                and max(token.widths) <= 2:
            first = self._add_calendar_date(i, j + 1, month, token.parts[0], None)
            if first is not None:
                last = cal.safe_date(first.year, month, token.parts[1])
                if last is None or last < first:
                    self.add(Flag(i, j + 1, "invalid"))
                else:
                    self._day(i, j + 1, last, explicit=True)
            return j + 1
        day = self._day_at(j)
        if day is None:
            return i
        value, k, ordinal = day
        if self.meridiem(k) or self.w(k) in ("oclock", "hrs") or (
            not ordinal and self._unit_follows(k)
        ):
            return i
        if not ordinal and self.is_punct(k, ":"):
            return i
        year = self._year_at(k)
        end = year[1] if year else k
        first = self._add_calendar_date(i, end, month, value, year[0] if year else None)
        return self._day_range_tail(end, first) if not year else end

    def _day_then_month(self, i: int) -> int:
        """ "9 december", "9th of december", "the 9th of Dec 2026", "10 de diciembre"."""
        j = self.skip(i, "the")
        day = self._day_at(j)
        if day is None:
            return i
        value, k, _ = day
        k = self.skip(k, "of")
        if self.is_punct(k, "-"):
            k += 1
        month = self._month_word(k, context=True)
        if month is None:
            return self._day_list_then_month(i, value, k)
        end = k + 1
        if self.is_punct(end, "."):
            end += 1
        year = self._year_at(end)
        end = year[1] if year else end
        self._add_calendar_date(i, end, month, value, year[0] if year else None)
        return end

    def _day_list_then_month(self, i: int, first_day: int, k: int) -> int:
        """ "21 or 22 december", "the 14th to the 18th of january": days sharing a month."""
        connector = self.w(k) or (self.raw(k) if self.is_punct(k, "-~") else "")
        if connector not in ("or", "and", "to", "-", "~", "through", "until"):
            return i
        second = self._day_at(self.skip(k + 1, "the"))
        if second is None:
            return i
        j = self.skip(second[1], "of")
        month = self._month_word(j, context=True)
        if month is None:
            return i
        year = self._year_at(j + 1)
        end = year[1] if year else j + 1
        self._add_calendar_date(i, k, month, first_day, year[0] if year else None)
        self._add_calendar_date(k + 1, end, month, second[0], year[0] if year else None)
        return end

    def _numeric_date(self, i: int) -> int:
        """ "12/9", "12/9/2026", "12-09", "2026-12-09" (US month/day; day/month if needed)."""
        token = self.tok(i)
        if token is None or token.kind != NUM or not token.seps or ":" in token.seps:
            return i
        if len(set(token.seps)) != 1 or len(token.parts) > 3:
            return i + 1  # phone numbers and similar: swallow, never a date or time
        if token.seps == "-" and self._dash_is_time(i):
            return i
        if token.seps == "." and len(token.parts) == 2 and token.widths[1] == 2 and (
            token.parts[0] <= 23 and token.parts[1] < 60
        ):
            return i
        parts, widths = token.parts, token.widths
        if widths[0] == 4 and len(parts) == 3:
            year, month, day = parts
        elif max(widths[:2]) <= 2 and (len(parts) == 2 or widths[2] in (2, 4)):
            month, day = parts[0], parts[1]
            if month > 12 and day <= 12:
                month, day = day, month
            year = None
            if len(parts) == 3:
                year = parts[2] + (2000 if widths[2] == 2 else 0)
        else:
            return i + 1
        if not (1 <= month <= 12 and 1 <= day <= 31):
            self.add(Flag(i, i + 1, "invalid"))
            return i + 1
        self._add_calendar_date(i, i + 1, month, day, year)
        return i + 1

    def _day_of_month_alone(self, i: int) -> int:
        """ "the 9th", "on the 21st", "9th", "el 9", "the ninth of next month"."""
        has_the = self.w(i) == "the"
        j = i + 1 if has_the else i
        day = self._day_at(j)
        if day is None:
            return i
        value, k, ordinal = day
        token = self.toks[j]
        if not ordinal and not has_the:
            return i
        if token.is_word and not has_the and self.w(k) != "of":
            return i
        if self.meridiem(k) or self.w(k) in ("oclock", "hrs", "ish") or self._unit_follows(k):
            return i
        if self.w(k) in _ASAP_TARGETS or self.w(k) in ("thing", "week", "time"):
            return i
        if not 1 <= value <= 31:
            self.add(Flag(i, k, "invalid"))
            return k
        if self.w(k) == "of" and self.w(k + 1) in ("next", "this", "the") or (
            self.w(k) == "of" and self.w(k + 1) in ("month",)
        ):
            m = self.skip(k + 1, "the")
            ahead = {"next": 1, "this": 0}.get(self.w(m), 0)
            if self.w(m) in ("next", "this", "proximo"):
                m += 1
            if self.w(m) == "month":
                year, month = self._month_offset(ahead)
                if self.w(m) == "month" and ahead == 0 and self.w(k + 1) == "the":
                    resolved = cal.day_of_month(self.today, value)
                    if resolved is None:
                        self.add(Flag(i, m + 1, "invalid"))
                    else:
                        self._day(i, m + 1, resolved)
                    return m + 1
                self._add_calendar_date(i, m + 1, month, value, year)
                return m + 1
        if self.w(k) == "of" and not has_the and self._month_word(k + 1, True) is None:
            return i
        self.add(DayOfMonthRef(i, k, value))
        return k

    def _nth_weekday_of_month(self, i: int) -> int:
        """ "the first monday of january", "last friday of the month"."""
        j = self.skip(i, "the")
        nth = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}.get(self.raw(j))
        if nth is None or self.w(j + 1) not in WEEKDAYS or self.w(j + 2) not in ("of", "in"):
            return i
        weekday = WEEKDAYS[self.w(j + 1)]
        k = self.skip(j + 3, "the")
        if self.w(k) == "month":
            year, month = self.today.year, self.today.month
        elif self.w(k) in ("next", "proximo") and self.w(k + 1) == "month":
            year, month = self._month_offset(1)
            k += 1
        else:
            month_number = self._month_word(k, context=True)
            if month_number is None:
                return i
            first, _ = cal.named_month(self.today, month_number)
            year, month = first.year, month_number
        resolved = cal.nth_weekday_of_month(year, month, weekday, nth)
        if resolved is None:
            self.add(Flag(i, k + 1, "invalid"))
        else:
            self._day(i, k + 1, resolved, explicit=True)
        return k + 1

    def _nth_week_of_month(self, i: int) -> int:
        """ "the first week of january", "last week of december"."""
        j = self.skip(i, "the")
        nth = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}.get(self.raw(j))
        if nth is None or self.w(j + 1) != "week" or self.w(j + 2) not in ("of", "in"):
            return i
        k = self.skip(j + 3, "the")
        ahead = 0
        if self.w(k) in ("next", "proximo"):
            ahead, k = 1, k + 1
        if self.w(k) == "month":
            year, month = self._month_offset(ahead)
        else:
            month_number = self._month_word(k, context=True)
            if month_number is None:
                return i
            first, _ = cal.named_month(self.today, month_number)
            year, month = first.year, month_number
        days = (22, 31) if nth == -1 else (1 + 7 * (nth - 1), 7 * nth)
        first_day, last_day = cal.month_bounds(year, month)
        if nth == -1:
            days = (last_day.day - 6, last_day.day)
        self._month_span(i, k + 1, year, month, days)
        return k + 1

    def _match_month_alone(self, i: int) -> int:
        """ "in december", "january": the whole month (or the rest of this one)."""
        month = self._month_word(i)
        if month is None:
            return i
        year_info = self._year_at(i + 1)
        if year_info is not None:
            self._month_span(i, year_info[1], year_info[0], month)
            return year_info[1]
        first, _ = cal.named_month(self.today, month)
        self._month_span(i, i + 1, first.year, month)
        return i + 1

    def _match_holiday(self, i: int) -> int:
        """Christmas (Eve), New Year's (Eve/Day) and Thanksgiving."""
        word, nxt = self.w(i), self.w(i + 1)
        month_day: tuple[int, int] | None = None
        end = i + 1
        if word == "christmas":
            month_day = (12, 24) if nxt == "eve" else (12, 25)
            end += nxt in ("eve", "day")
        elif word == "new" and nxt in ("years", "year"):
            month_day = (12, 31) if self.w(i + 2) == "eve" else (1, 1)
            end = i + 2 + (self.w(i + 2) in ("eve", "day"))
        elif word == "thanksgiving":
            day = cal.thanksgiving(self.today.year)
            if day < self.today - timedelta(days=cal.RECENT_PAST_DAYS):
                day = cal.thanksgiving(self.today.year + 1)
            self._day(i, end, day, explicit=True)
            return end
        if month_day is None:
            return i
        resolved = cal.month_day_without_year(self.today, *month_day)
        if resolved is not None:
            self._day(i, end, resolved, explicit=True)
        return end


def _share_meridiem(first: Clock, second: Clock) -> Clock:
    """In "1-3pm" / "9 to 11am" the second clock's am/pm also covers the first."""
    hour, minute, meridiem, explicit, hint, approx = first
    if meridiem is not None or second[2] is None or hour > 12:
        return first
    second_hour = second[0] % 12
    if hour % 12 <= second_hour:
        meridiem = second[2]
    else:
        meridiem = "am" if second[2] == "pm" else "pm"
    return hour, minute, meridiem, True, hint or second[4], approx


def scan(tokens: list[Token], today: date) -> list[Item]:
    """Scan tokens into findings."""
    return Scanner(tokens, today).scan()
