"""Grammar rules for clock times and parts of the day ("3pm", "half past 4", "after work")."""

from __future__ import annotations

from typing import NamedTuple

from ._items import ClockRef, LooseNumber, WindowRef
from ._lexicon import NUMBER_WORDS, PERIOD_WORDS
from ._scanner_base import ScannerBase
from ._tokens import NUM


class Clock(NamedTuple):
    """A clock as written, before am/pm is settled."""

    hour: int
    minute: int
    meridiem: str | None
    explicit: bool  # unmistakably a time: colon, am/pm, o'clock, -ish, "in the afternoon"
    hint: str | None  # part of the day written right after it
    approx: bool  # "3ish"


_PERIOD_HINTS = {
    "morning": "morning",
    "afternoon": "afternoon",
    "evening": "evening",
    "night": "evening",
    "tonight": "evening",
    "mornings": "morning",
    "afternoons": "afternoon",
    "evenings": "evening",
    "nights": "evening",
}
_MINUTE_UNITS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
_MINUTE_TEENS = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_MINUTE_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50}
_TO_PAST_MINUTES = {"five": 5, "ten": 10, "twenty": 20, "quarter": 15, "half": 30, "twentyfive": 25}
_RANGE_CONNECTORS = frozenset({"to", "-", "~", "until", "through", "and"})


class TimeRules(ScannerBase):
    """Matchers for times of day; each returns the index after what it consumed."""

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
        elif (
            word == "after" and self.w(i + 2) in ("work", "school", "shift", "job") and nxt in ("my", "mi", "the", "el")
        ):
            name, end = "after_work", i + 3
        elif word == "before" and nxt in ("work", "school", "lunch"):
            name, end = ("before_lunch" if nxt == "lunch" else "first_thing"), i + 2
        elif word == "lunch":
            name, end = "lunch", i + 1 + (self.w(i + 1) in ("break", "hour", "time"))
        elif word in ("last", "latest") and nxt in (
            "appointment",
            "appt",
            "slot",
            "thing",
            "one",
            "possible",
            "available",
        ):
            name, end = "end_of_day", i + 2
        elif word == "latest" and (self.w(i - 1) == "the" or nxt in ("you", "in", "on")) and (self.w(i - 2) != "at"):
            name, end = "end_of_day", i + 1
        if name is None:
            return i
        self.add(WindowRef(i, end, name))
        return end

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
                elif (
                    self.w(j) == "hrs"
                    and self.plain_number(j + 1) is not None
                    and (self.toks[j + 1].widths[0] == 2 and self.toks[j + 1].value < 60)
                ):
                    minute, j, explicit = self.toks[j + 1].value, j + 2, True
                else:
                    spoken = self._minute_words(j)
                    if spoken is not None and (token.is_word or self.meridiem(spoken[1])):
                        minute, j = spoken
                        explicit = True
                    elif (
                        self.plain_number(j) is not None
                        and self.toks[j].widths[0] == 2
                        and self.toks[j].value < 60
                        and 1 <= hour <= 12
                        and not self._unit_follows(j + 1)
                        and (self.meridiem(j + 1) or self.toks[j].value % 5 == 0)
                    ):
                        minute, j, explicit = self.toks[j].value, j + 1, True
                if self.w(j) == "noon" and hour == 12:
                    return Clock(12, 0, None, True, None, False), j + 1
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

    def _clock_suffixes(self, start: int, j: int, hour: int, minute: int, explicit: bool) -> tuple[Clock, int] | None:
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
            elif word == "ish" or (self.is_punct(j, "-") and self.w(j + 1) == "ish"):
                explicit, approx, j = True, True, j + (1 if word == "ish" else 2)
            elif word in ("sharp", "exactly") or (word == "hrs" and self._clock_hours_suffix(start, hour, minute)):
                explicit, j = True, j + 1
            elif (
                word == "and"
                and self.w(j + 1) in ("half", "quarter")
                or (word == "and" and self.raw(j + 1) == "a" and self.w(j + 2) == "half")
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
        return Clock(hour % 24, minute, meridiem, explicit, hint, approx), j

    def _clock_hours_suffix(self, start: int, hour: int, minute: int) -> bool:
        """ "1500 hrs" / "15h" mark a 24-hour clock; "2 hours" after "in"/"for" is a duration."""
        token = self.tok(start)
        compact = token is not None and token.is_plain_number and token.widths[0] >= 3
        return (compact or hour >= 13 or minute > 0) and self.w(start - 1) not in (
            "in",
            "for",
            "within",
            "next",
            "about",
            "around",
        )

    def _add_clock(self, start: int, end: int, clock: Clock, role: str) -> None:
        """Record a clock with a role (exact/around/after/before)."""
        hour, minute, meridiem, explicit, hint, approx = clock
        if approx and role == "exact":
            role = "around"
        self.add(ClockRef(start, end, hour, minute, meridiem, role, hint, explicit))

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
        if self._unit_follows(j) or (not bare_ok and not clock.explicit):
            return i
        k = j
        connector = self.w(k) or (self.raw(k) if self.is_punct(k, "-~") else "")
        if connector in _RANGE_CONNECTORS or connector == "or":
            parsed_second = self._clock(k + 1)
            if (
                parsed_second is not None
                and not self._unit_follows(parsed_second[1])
                and (connector != "and" or role == "between")
            ):
                second, end = parsed_second
                if connector == "or":
                    self._add_clock(i, j, _share_meridiem(clock, second), role)
                    self._add_clock(k + 1, end, second, "exact" if role == "between" else role)
                    return self._clock_postfix(end)
                self._add_range(i, end, clock, second, role)
                return end
        if role == "between":
            role = "exact"
        self._add_clock(i, j, clock, role)
        return self._clock_postfix(j)

    def _clock_postfix(self, j: int) -> int:
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
        first = Clock(token.parts[0], 0, None, False, None, False)
        parsed = self._clock_suffixes(i, i + 1, token.parts[1], 0, False)
        if parsed is None:
            return None
        second, end = parsed
        return first, second, end

    def _match_standalone_clock(self, i: int) -> int:
        """A clock written unmistakably on its own: "3pm", "15:00", "3ish", "half past 4"."""
        token = self.tok(i)
        if token is not None and token.kind == NUM and token.seps == "-" and self._dash_is_time(i):
            return self._clock_or_range(i, "exact", True)
        parsed = self._clock(i)
        if parsed is None:
            return i
        clock, j = parsed
        if self._unit_follows(j) or not (clock.explicit or self._bound_postfix_at(j) or self._bare_range_at(clock, j)):
            return i
        return self._clock_or_range(i, "exact", True)

    def _bare_range_at(self, clock: Clock, j: int) -> bool:
        """ "2 to 4" / "12 - 1": two bare hours joined as a range are a time window."""
        connector = self.w(j) or (self.raw(j) if self.is_punct(j, "-~") else "")
        if connector not in ("to", "-", "~", "until", "till") or not 1 <= clock.hour <= 12:
            return False
        second = self._clock(j + 1)
        return (
            second is not None
            and 1 <= second[0].hour <= 12
            and not self._unit_follows(second[1])
            and second[0].hour != clock.hour
        )

    def _bound_postfix_at(self, j: int) -> bool:
        """True when "or later" / "at the latest" / "onwards" follows a bare number."""
        word, nxt = self.w(j), self.w(j + 1)
        return (
            (word == "or" and nxt in ("later", "after", "early", "before", "sooner"))
            or (word in ("onwards", "onward", "latest"))
            or (word == "at" and nxt == "the" and self.w(j + 2) in ("latest", "earliest", "last"))
        )

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

    def _match_period(self, i: int) -> int:
        """ "morning", "afternoons", "evening", "tonight"-less "night", "tomorrow pm"."""
        word = self.w(i)
        if word in PERIOD_WORDS:
            self.add(WindowRef(i, i + 1, PERIOD_WORDS[word]))
            return i + 1
        raw = self.raw(i)
        if raw in ("am", "pm"):
            prev_item_end = self.items[-1].end if self.items else -1
            if (
                self.n == 1
                or prev_item_end == i
                or self.w(i - 1) in ("the", "in")
                or self.w(i + 1) in ("appointment", "appt", "slot", "please", "pls", "or", "only")
                or self.raw(i - 1) in ("or", "any")
            ):
                self.add(WindowRef(i, i + 1, "morning" if raw == "am" else "afternoon"))
                return i + 1
        return i


def _share_meridiem(first: Clock, second: Clock) -> Clock:
    """In "1-3pm" / "9 to 11am" the second clock's am/pm also covers the first."""
    hour, minute, meridiem, explicit, hint, approx = first
    if meridiem is not None or second.meridiem is None or hour > 12:
        return first
    if hour % 12 <= second.hour % 12:
        meridiem = second.meridiem
    else:
        meridiem = "am" if second.meridiem == "pm" else "pm"
    return Clock(hour, minute, meridiem, True, hint or second.hint, approx)
