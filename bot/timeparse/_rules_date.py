"""Grammar rules for dates ("next tuesday", "the 9th", "12/9", "early december")."""

from __future__ import annotations

from datetime import date, timedelta

from . import _calendar as cal
from ._items import DateSpan, DayOfMonthRef, Flag, WeekdayRef, WindowRef
from ._lexicon import (
    MONTHS,
    NUMBER_WORDS,
    ORDINAL_SUFFIXES,
    ORDINAL_WORDS,
    PERIOD_WORDS,
    PLURAL_WEEKDAYS,
    QUANTITY_WORDS,
    WEEKDAYS,
)
from ._scanner_base import ScannerBase
from ._tokens import NUM

_MONTHISH_PREPOSITIONS = frozenset(
    {
        "in",
        "of",
        "early",
        "mid",
        "late",
        "end",
        "start",
        "until",
        "by",
        "before",
        "after",
        "from",
        "next",
        "this",
        "during",
        "for",
        "through",
        "last",
        "proximo",
        "coming",
    }
)
_ASAP_TARGETS = frozenset(
    {
        "available",
        "opening",
        "openings",
        "open",
        "slot",
        "slots",
        "appointment",
        "appt",
        "appointments",
        "spot",
        "possible",
        "time",
        "date",
        "one",
        "opportunity",
        "day",
    }
)
_MODIFIER_WEEK_DAYS = {"early": (0, 2), "start": (0, 2), "mid": (1, 3), "late": (3, 5), "end": (3, 5)}
_MODIFIER_MONTH_DAYS = {"early": (1, 10), "start": (1, 10), "mid": (11, 20), "late": (21, 31), "end": (21, 31)}
_MODIFIER_PERIODS = {
    ("early", "morning"): "early_morning",
    ("mid", "morning"): "mid_morning",
    ("late", "morning"): "late_morning",
    ("end", "morning"): "late_morning",
    ("early", "afternoon"): "early_afternoon",
    ("mid", "afternoon"): "mid_afternoon",
    ("late", "afternoon"): "late_afternoon",
    ("end", "afternoon"): "late_afternoon",
    ("early", "evening"): "early_evening",
    ("late", "evening"): "late_evening",
    ("early", "day"): "first_thing",
    ("start", "day"): "first_thing",
    ("end", "day"): "end_of_day",
    ("late", "day"): "end_of_day",
    ("later", "day"): "end_of_day",
    ("mid", "day"): "lunch",
}


class DateRules(ScannerBase):
    """Matchers for days and ranges of days; each returns the index after what it consumed."""

    def _match_relative_day(self, i: int) -> int:
        """today, tonight, tomorrow, the day after tomorrow, yesterday, later today."""
        word = self.w(i)
        offsets = {"today": 0, "tonight": 0, "tomorrow": 1, "overmorrow": 2, "yesterday": -1, "anteayer": -2}
        if word == "day" and self.w(i + 1) == "after" and self.w(i + 2) in ("", "or", "and"):
            previous = self.items[-1] if self.items else None
            if isinstance(previous, DateSpan) and previous.kind == "day":
                self._day(i, i + 2, previous.first + timedelta(days=1))
                return i + 2
        if self.raw(i) in ("pasado", "pasada") and self.w(i - 1) == "or":
            previous = self.items[-1] if self.items else None
            if isinstance(previous, DateSpan) and previous.kind == "day":
                self._day(i, i + 1, previous.first + timedelta(days=1))  # "mañana o pasado"
                return i + 1
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
        if self.raw(i) in ("year", "years", "ano", "anos"):
            return "months", 12
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
        if self.w(i) in ("in", "within", "next", "over"):
            return self._counted_ahead(i)
        quantity = self._quantity(i)
        if quantity is None:
            return i
        count, k = quantity
        unit = self._unit(k)
        if unit is None:
            return i
        after = self.w(k + 1)
        if after == "ago":
            days = count * unit[1] * (30 if unit[0] == "months" else 1)
            self._day(i, k + 2, self.today - timedelta(days=days))
            return k + 2
        if after in ("from", "after") or (after in ("on", "today", "tomorrow") and unit[1] == 7):
            return self._offset_from_anchor(i, k + 1, count, unit)
        if after in ("time", "times", "later", "out"):  # "2 weeks time", "3 days later"
            self._add_offset_day(i, k + 2, self._offset(count, unit, self.today), unit)
            return k + 2
        return i

    def _counted_ahead(self, i: int) -> int:
        """After in/within/next/over: "in 3 days" (one day), "within 2 weeks" (a range)."""
        word = self.w(i)
        j = self.skip(i + 1, "the")
        within = word in ("within", "next", "over")
        if self.w(j) == "next":
            within, j = True, j + 1
        span = self._counted_span(i, j)
        if span > j:
            return span
        quantity = self._quantity(j)
        unit = self._unit(quantity[1]) if quantity else None
        if quantity is None or unit is None:
            return i
        count, k = quantity
        end = self.skip(k + 1, "time", "times")
        target = self._offset(count, unit, self.today)
        if self.w(end) == "or" and (self.number(end + 1) or self.w(end + 1) in ("so", "two")):
            upper = target if self.w(end + 1) == "so" else self._offset(self.number(end + 1) or count, unit, self.today)
            self.add(
                DateSpan(i, end + 2, min(target, upper), max(target, upper), kind="range" if upper != target else "day")
            )
            return end + 2
        if within:
            first = self.today + timedelta(days=1) if word == "next" else self.today
            self.add(DateSpan(i, end, min(first, target), target, kind="range"))
        else:
            self._add_offset_day(i, end, target, unit)
        if unit[1] == 0:
            self.add(Flag(i, end, "asap"))  # "in 20 minutes": today, right away
        return end

    def _counted_span(self, i: int, j: int) -> int:
        """ "in 1-2 weeks": a range between two counts."""
        token = self.tok(j)
        if token is None or token.kind != NUM or token.seps != "-" or len(token.parts) != 2:
            return j
        unit = self._unit(j + 1)
        if unit is None:
            return j
        low = self._offset(token.parts[0], unit, self.today)
        high = self._offset(token.parts[1], unit, self.today)
        self.add(DateSpan(i, j + 2, min(low, high), max(low, high), kind="range"))
        return j + 2

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

    def _week_span(
        self, start: int, end: int, weeks_ahead: int, days: tuple[int, int] = (0, 6), kind: str = "week"
    ) -> None:
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

    def _month_span(self, start: int, end: int, year: int, month: int, days: tuple[int, int] = (1, 31)) -> None:
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
        if word == "coming" and target == "week":
            ahead = 1  # "this coming week" is the week ahead, not the rest of this one
        if target in WEEKDAYS:
            mode = {
                "this": "this",
                "coming": "bare",
                "next": "next",
                "following": "next",
                "proximo": "bare",
                "last": "last",
            }[word]
            if word == "next" and self.w(j + 1) == "week":
                mode = "bare"  # "next tuesday next week" is rare; let "next week" refine it
            self.add(WeekdayRef(i, j + 1, WEEKDAYS[target], mode=mode))
            return j + 1
        if target == "week":
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
        if target == "year" and ahead == 1:
            year = self.today.year + 1
            self.add(DateSpan(i, j + 1, date(year, 1, 1), date(year, 12, 31), kind="range"))
            return j + 1
        return self._elliptic_next(i, word)

    def _elliptic_next(self, i: int, word: str) -> int:
        """ "this thursday or next": repeat the previous weekday, next week's."""
        previous = self.items[-1] if self.items else None
        if word == "next" and isinstance(previous, WeekdayRef) and self.w(i - 1) == "or" and (previous.end == i - 1):
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
        if word == "week" and self.raw(i - 1) in ("all", "whole", "entire", "toda"):
            self._week_span(i - 1, i + 1, 0)
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
        k = self.skip(j, "the")
        end = k
        for matcher in (self._match_explicit_date, self._match_weekday, self._match_relative_day):
            end = matcher(k)
            if end > k:
                break
        found = self.items[before:]
        del self.items[before:]
        if not found:
            return start
        day = self._single_day_of(found[0])
        if day is None:
            self.add(Flag(start, end, "invalid"))
            return end
        monday = cal.monday_of(day)
        first = max(monday, self.today) if monday <= self.today <= day else monday
        self.add(DateSpan(start, end, first, monday + timedelta(days=6), kind="week", week_anchor=monday))
        return end

    def _single_day_of(self, item: object) -> date | None:
        """The date a just-scanned day mention stands for, resolved on the spot."""
        if isinstance(item, DateSpan):
            return item.first
        if isinstance(item, DayOfMonthRef):
            return cal.day_of_month(self.today, item.day)
        if isinstance(item, WeekdayRef):
            return cal.resolve_weekday(self.today, item.weekday, item.mode)
        return None

    def _match_modifier(self, i: int) -> int:
        """early/mid/late/end/start of a week, month, named month or part of the day."""
        word = self.w(i)
        if word not in ("early", "mid", "late", "end", "start", "later"):
            return i
        key = "late" if word == "later" else word
        j = self.skip(i + 1, "of", "in", "on", "the", "this")
        period = self._modified_period(i, j, key, word)
        if period > i:
            return period
        ahead = 0
        if self.w(j) in ("next", "proximo", "following", "last"):
            ahead, j = (-1 if self.w(j) == "last" else 1), j + 1
        target = self.w(j)
        if target in ("week", "month") and self.w(j + 1) in ("next", "proximo"):
            ahead, j = 1, j + 1
        if target == "week":
            return self._modified_week(i, j + 1, key, ahead, later=word == "later")
        if target == "month":
            year, month = self._month_offset(ahead)
            self._month_span(i, j + 1, year, month, _MODIFIER_MONTH_DAYS[key])
            return j + 1
        month_number = self._month_word(j, context=True)
        if month_number is not None and not self._day_at(j + 1):
            first, _ = cal.named_month(self.today, month_number)
            self._month_span(i, j + 1, first.year, month_number, _MODIFIER_MONTH_DAYS[key])
            return j + 1
        if target == "year" and key == "late":
            self._month_span(i, j + 1, self.today.year, 12)
            return j + 1
        return self._bare_early_late(i, word, j)

    def _modified_period(self, i: int, j: int, key: str, word: str) -> int:
        """ "early morning", "late afternoon", "end of the day", "later in the day"."""
        target = self.w(j)
        name = _MODIFIER_PERIODS.get((key, target)) or _MODIFIER_PERIODS.get((key, PERIOD_WORDS.get(target, "")))
        if name is None:
            return i
        if word == "later" and target == "day":
            name = "end_of_day"
        self.add(WindowRef(i, j + 1, name))
        return j + 1

    def _modified_week(self, i: int, end: int, key: str, ahead: int, later: bool) -> int:
        """ "early next week", "end of the week", "later this week" (tomorrow to Saturday)."""
        if later and ahead == 0:
            monday = cal.monday_of(self.today)
            first = self.today + timedelta(days=1)
            last = max(first, monday + timedelta(days=5))
            self.add(DateSpan(i, end, first, last, kind="week", week_anchor=monday))
            return end
        self._week_span(i, end, ahead, _MODIFIER_WEEK_DAYS[key])
        return end

    def _bare_early_late(self, i: int, word: str, j: int) -> int:
        """A lone "early" (please) means early morning; a lone "late" late afternoon."""
        said_this = self.w(i + 1) == "this"
        if word == "early" and not said_this and self.w(j) not in WEEKDAYS and self.w(j) not in ("today", "tomorrow"):
            self.add(WindowRef(i, i + 1, "early_morning"))
            return i + 1
        if word == "late" and self.w(j) in ("today", "tomorrow", "") and not self.number(i + 1):
            self.add(WindowRef(i, i + 1, "late_afternoon"))
            return i + 1
        return i

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
        if nxt == "week" and self.w(i + 2) not in ("of", "after", "next", "proximo", "last"):
            self.add(WeekdayRef(i, i + 2, weekday, extra_days=7))  # British "tuesday week"
            return i + 2
        if nxt == "last" and self.raw(i + 1) in ("pasado", "pasada"):
            self.add(WeekdayRef(i, i + 2, weekday, mode="last"))
            return i + 2
        self.add(WeekdayRef(i, i + 1, weekday, plural=self._continues_plural_list(i)))
        return self._weekday_day_number(i, weekday)

    def _weekday_day_number(self, i: int, weekday: int) -> int:
        """ "el lunes 14", "monday 14": a day number that fits the weekday is a date.

        Numbers up to 12 stay clock hours ("monday 10") unless Spanish "el" introduced
        the weekday ("el martes 8"), where a date is the usual reading.
        """
        token = self.tok(i + 1)
        if token is None or not token.is_plain_number or token.widths[0] > 2:
            return i + 1
        written_out = self._day_then_month(i + 1)  # "monday 14th of december"
        if written_out > i + 1:
            return written_out
        if self.raw(i + 2) in ORDINAL_SUFFIXES:
            return i + 1  # "monday 14th": the day-of-month rule takes it
        day = token.value
        if not 1 <= day <= 31 or (day <= 12 and self.raw(i - 1) != "el"):
            return i + 1
        if self.meridiem(i + 2) or self.is_punct(i + 2, ":") or self._unit_follows(i + 2):
            return i + 1
        probe = self.today.replace(day=1)
        for _ in range(3):
            candidate = cal.safe_date(probe.year, probe.month, day)
            if candidate is not None and candidate >= self.today and candidate.weekday() == weekday:
                self._day(i + 1, i + 2, candidate, explicit=True)
                return i + 2
            probe = cal.add_months(probe, 1)
        return i + 1

    def _continues_plural_list(self, i: int) -> bool:
        """ "every tuesday and thursday": a weekday listed after a recurring one recurs too."""
        if not self.items:
            return False
        last = self.items[-1]
        if not isinstance(last, WeekdayRef) or not last.plural:
            return False
        between = range(last.end, i)
        return len(between) <= 2 and all(self.w(k) in ("and", "or") or self.is_punct(k, ",/") for k in between)

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
        if token is not None and token.is_plain_number and token.widths[0] == 4 and (1900 <= token.value <= 2199):
            return token.value, j + 1
        return None

    def _add_calendar_date(self, start: int, end: int, month: int, day: int, year: int | None) -> date | None:
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
        """ "december 14 to 18", "dec 10, 11 or 12": later days of the same month."""
        previous = first
        while previous is not None:
            connector = self.w(k) or (self.raw(k) if self.is_punct(k, "-~,/") else "")
            if connector not in ("to", "-", "~", "through", "until", "and", "or", ",", "/"):
                return k
            j = self.skip(k + 1, "the", "or", "and")
            day = self._day_at(j)
            if (
                day is None
                or self.meridiem(day[1])
                or self._unit_follows(day[1])
                or (self.is_punct(day[1], ":") or self.w(day[1]) in ("oclock", "hrs", "ish"))
            ):
                return k
            following = cal.safe_date(previous.year, previous.month, day[0])
            if following is None or following <= previous:
                return k
            self._day(k, day[1], following, explicit=True)
            previous, k = following, day[1]
        return k

    def _match_explicit_date(self, i: int) -> int:
        """Calendar dates in words or digits, or "the 9th" on its own."""
        for matcher in (
            self._month_then_day,
            self._nth_weekday_of_month,
            self._nth_week_of_month,
            self._day_then_month,
            self._numeric_date,
            self._day_of_month_alone,
        ):
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
        if (
            token is not None
            and token.kind == NUM
            and token.seps == "-"
            and len(token.parts) == 2
            and max(token.widths) <= 2
        ):
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
        if self.meridiem(k) or self.w(k) in ("oclock", "hrs") or (not ordinal and self._unit_follows(k)):
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
        if (
            token.seps == "."
            and len(token.parts) == 2
            and token.widths[1] == 2
            and (token.parts[0] <= 23 and token.parts[1] < 60)
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
        if (
            self.w(k) == "of"
            and self.w(k + 1) in ("next", "this", "the")
            or (self.w(k) == "of" and self.w(k + 1) in ("month",))
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

    def _nth_at(self, i: int) -> tuple[int, int] | None:
        """ "first"/"2nd"/"last" before a weekday or "week": (n, next index); -1 is last."""
        j = self.skip(i, "the")
        named = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "last": -1}
        if self.raw(j) in named:
            return named[self.raw(j)], j + 1
        day = self._day_at(j)
        if day is not None and day[2] and 1 <= day[0] <= 5:
            return day[0], day[1]
        return None

    def _month_after(self, k: int) -> tuple[int, int, int] | None:
        """ "(the) month", "next month" or a month name at ``k``: (year, month, next index)."""
        k = self.skip(k, "the")
        ahead = 0
        if self.w(k) in ("next", "proximo"):
            ahead, k = 1, k + 1
        if self.w(k) == "month":
            year, month = self._month_offset(ahead)
            return year, month, k + 1
        month_number = self._month_word(k, context=True)
        if month_number is None:
            return None
        first, _ = cal.named_month(self.today, month_number)
        return first.year, month_number, k + 1

    def _nth_weekday_of_month(self, i: int) -> int:
        """ "the first monday of january", "last friday of the month", "2nd tuesday in march"."""
        nth = self._nth_at(i)
        if nth is None or self.w(nth[1]) not in WEEKDAYS or self.w(nth[1] + 1) not in ("of", "in"):
            return i
        weekday = WEEKDAYS[self.w(nth[1])]
        month = self._month_after(nth[1] + 2)
        if month is None:
            return i
        year, month_number, end = month
        resolved = cal.nth_weekday_of_month(year, month_number, weekday, nth[0])
        if resolved is None:
            self.add(Flag(i, end, "invalid"))
        else:
            self._day(i, end, resolved, explicit=True)
        return end

    def _nth_week_of_month(self, i: int) -> int:
        """ "the first week of january", "2nd week of next month", "last week of december"."""
        nth = self._nth_at(i)
        if nth is None or self.w(nth[1]) != "week" or self.w(nth[1] + 1) not in ("of", "in"):
            return i
        month = self._month_after(nth[1] + 2)
        if month is None:
            return i
        year, month_number, end = month
        _, last_day = cal.month_bounds(year, month_number)
        if nth[0] == -1:
            days = (last_day.day - 6, last_day.day)
        else:
            days = (1 + 7 * (nth[0] - 1), min(7 * nth[0], last_day.day))
        self._month_span(i, end, year, month_number, days)
        return end

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
