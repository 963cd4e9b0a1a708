"""Combine the scanner's findings into one :class:`WhenPreference`.

Rules (documented for the validator and the tests):

* Several days or ranges are united into one inclusive range ("monday or tuesday",
  "tomorrow or friday"); two or more single weekdays joined by or/and/commas also set
  ``weekdays`` so the scheduler skips the days in between.
* A week/month range plus a weekday or "the 9th" narrows to that day inside it
  ("next week thursday", "the 9th of next month").
* Time-of-day words apply to every mentioned day ("thursday morning or friday" searches
  Thursday-Friday mornings). Several parts of the day are united; clock bounds
  ("after 2", "before 11") intersect with them.
* Bare hours follow the clinic heuristic: 1-7 -> PM, 8-11 -> AM, 12 -> noon, unless a
  nearby "morning"/"afternoon"/"evening" says otherwise; an hour that contradicts its
  part of the day ("3 in the morning") is ``ambiguous_time``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta

from . import _calendar as cal
from . import _model as m
from ._items import ClockRef, DateSpan, DayOfMonthRef, Flag, Item, LooseNumber, WeekdayRef, WindowRef
from ._lexicon import CLINIC_CLOSE, CLINIC_OPEN, FILLER, WINDOWS
from ._tokens import Token

Window = tuple[time | None, time | None]
DateItem = DateSpan | WeekdayRef | DayOfMonthRef
_AROUND = timedelta(minutes=30)
_CHOICE_WORDS = frozenset({"or", "and", ",", "/", "either"})
_RANGE_WORDS = frozenset({"to", "through", "until", "-", "~"})
_MIDNIGHT_DT = datetime(2000, 1, 1)
_CLINIC_DAYS = (0, 1, 2, 3, 4, 5)
_HARMLESS_PUNCT = frozenset(".,;!?()-~/")
_HINT_REACH = 4
_LINK_REACH = 5  # linking words allowed between a lone number and the date it belongs to
_LINK_WORDS = frozenset(
    {"at", "on", "or", "and", "to", "around", "say", "ideal", "ideally", "preferably", "perhaps", "either", "by"}
)  # words between a clock and the "morning"/"evening" that settles its am/pm


def _shift(value: time, delta: timedelta) -> time:
    """Move a time of day by ``delta``, clamped inside the same day."""
    moved = datetime.combine(_MIDNIGHT_DT.date(), value) + delta
    if moved.date() != _MIDNIGHT_DT.date():
        return time(23, 59) if delta > timedelta(0) else time(0)
    return moved.time()


def _hour_from_clock(clock: ClockRef | LooseNumber, hint: str | None) -> tuple[time, bool]:
    """Settle am/pm for a clock; the flag is True when the hour contradicts its hint."""
    hour, minute = clock.hour, clock.minute
    meridiem = clock.meridiem if isinstance(clock, ClockRef) else None
    if hour == 24:
        hour = 0
    if meridiem == "am":
        return time(0 if hour == 12 else hour, minute), False
    if meridiem == "pm":
        return time(12 if hour == 12 else hour + 12, minute), False
    if hour == 0 or hour > 12:
        return time(hour, minute), False
    if hint == "morning":
        if hour == 12:
            return time(12, minute), False
        return time(hour, minute), hour < 5
    if hint in ("afternoon", "evening"):
        if hour == 12:
            return time(12, minute), hint == "evening"
        conflict = (hint == "afternoon" and hour >= 8) or (hint == "evening" and hour < 3)
        return time(hour + 12, minute), conflict
    if hour == 12:
        return time(12, minute), False
    if hour <= 7:
        return time(hour + 12, minute), False
    return time(hour, minute), False


class Resolver:
    """Turn findings plus the clinic's now into the final preference."""

    def __init__(self, items: list[Item], tokens: Sequence[Token], now: datetime) -> None:
        """Keep inputs; ``resolve`` does the work."""
        self.items = items
        self.tokens = tokens
        self.now = now
        self.today = now.date()
        self.problems: list[str] = []
        self._period_at: dict[int, str] | None = None

    def problem(self, code: str) -> None:
        """Record a problem once."""
        if code not in self.problems:
            self.problems.append(code)

    # ------------------------------------------------------------------ entry point

    def resolve(self) -> m.WhenPreference:
        """Resolve dates, times and flags, then check the result against today."""
        self._promote_loose_numbers()
        flags = {
            ("not_" if item.negated and item.name == "weekend_days" else "") + item.name
            for item in self.items
            if isinstance(item, Flag)
        }
        if "invalid" in flags:
            self.problem(m.INVALID_DATE)
        start, end, weekdays = self._resolve_dates(flags)
        asap = "asap" in flags
        if "now" in flags and start is None:
            start = end = self.today
            asap = True
        elif "now" in flags and len(self._meaningful_items()) == 1:
            asap = True
        earliest, latest, exact, approx = self._resolve_times()
        if start is not None and start == end == self.today:
            self._check_past_time(exact, latest)
        if start is not None and (start - self.today).days > cal.HORIZON_DAYS:
            self.problem(m.TOO_FAR)
        result = m.WhenPreference(
            start_date=start,
            end_date=end,
            earliest=earliest,
            latest=latest,
            exact_time=exact,
            asap=asap,
            weekdays=weekdays,
            approximate=approx,
            reference_date=self.today,
        )
        if not result.understood and not self.problems:
            self.problem(m.NOT_UNDERSTOOD)
        return m.WhenPreference(
            start_date=start,
            end_date=end,
            earliest=earliest,
            latest=latest,
            exact_time=exact,
            asap=asap,
            problems=tuple(self.problems),
            weekdays=weekdays,
            approximate=approx,
            reference_date=self.today,
        )

    def _meaningful_items(self) -> list[Item]:
        """Findings other than leftover numbers."""
        return [item for item in self.items if not isinstance(item, LooseNumber)]

    # ------------------------------------------------------------------ loose numbers

    def _promote_loose_numbers(self) -> None:
        """Make a lone number a clock when it sits next to a date/time or stands alone.

        "tomorrow 3", "monday, say 10", "9 or 10" (chained) become clocks; "2 kids" or
        "room 3" stay numbers because a non-filler word separates them from any date.
        """
        loose = [item for item in self.items if isinstance(item, LooseNumber)]
        if not loose:
            return
        only_filler = self._only_filler_besides_numbers()
        starts: set[int] = set()
        ends: set[int] = set()
        for item in self.items:
            if isinstance(item, (DateSpan, WeekdayRef, DayOfMonthRef, WindowRef, ClockRef)):
                starts.add(item.start)
                ends.add(item.end)
        promoted: set[int] = set()
        changed = True
        while changed:
            changed = False
            for item in loose:
                if id(item) not in promoted and (only_filler or self._near_anchor(item, starts, ends)):
                    promoted.add(id(item))
                    starts.add(item.start)
                    ends.add(item.end)
                    changed = True
        self.items = [
            ClockRef(item.start, item.end, item.hour, item.minute) if isinstance(item, LooseNumber) else item
            for item in self.items
            if not isinstance(item, LooseNumber) or id(item) in promoted
        ]

    def _near_anchor(self, item: Item, starts: set[int], ends: set[int]) -> bool:
        """True when only linking words ("at", "or", "maybe", commas) separate ``item``
        from a date or time finding on either side."""
        k = item.start - 1
        for _ in range(_LINK_REACH + 1):
            if k + 1 in ends:
                return True
            if k < 0 or not self._is_link(self.tokens[k]):
                break
            k -= 1
        k = item.end
        for _ in range(_LINK_REACH + 1):
            if k in starts:
                return True
            if k >= len(self.tokens) or not self._is_link(self.tokens[k]):
                break
            k += 1
        return False

    @staticmethod
    def _is_link(token: Token) -> bool:
        """Words and marks that can sit between a date and its time ("monday, maybe at 3")."""
        if token.kind == "punct":
            return token.text in _HARMLESS_PUNCT
        return token.text in _LINK_WORDS or token.raw in FILLER or token.text in FILLER

    def _only_filler_besides_numbers(self) -> bool:
        """True for replies like "3", "3 please", "how about 4?"."""
        numbers = [item for item in self.items if isinstance(item, LooseNumber)]
        if not 1 <= len(numbers) <= 3 or len(self._meaningful_items()) > 0:
            return False
        covered = {index for number in numbers for index in range(number.start, number.end)}
        for index, token in enumerate(self.tokens):
            if index in covered or (token.kind == "punct" and token.text in _HARMLESS_PUNCT):
                continue
            if token.kind != "word" or (token.raw not in FILLER and token.text not in FILLER):
                return False
        return True

    # ------------------------------------------------------------------ dates

    def _resolve_dates(self, flags: set[str]) -> tuple[date | None, date | None, tuple[int, ...]]:
        """Unite day mentions into a range and derive the allowed weekdays."""
        dated: list[DateItem] = [i for i in self.items if isinstance(i, (DateSpan, WeekdayRef, DayOfMonthRef))]
        positive = [i for i in dated if not i.negated]
        negative = [i for i in dated if i.negated]
        self._absorb_weekdays_matching_dates(positive)
        plural = sorted({i.weekday for i in positive if isinstance(i, WeekdayRef) and i.plural})
        singular_days = [i for i in positive if isinstance(i, WeekdayRef) and not i.plural]
        bounded = [i for i in positive if getattr(i, "bound", None)]
        plain = [i for i in positive if not getattr(i, "bound", None) and not (isinstance(i, WeekdayRef) and i.plural)]
        spans = self._concrete_spans(plain)
        start, end = self._unite(spans)
        start, end = self._apply_bounds(start, end, bounded)
        if start is None and end is None and negative:
            start, end = self._after_excluded(negative)
        weekdays = self._weekday_filter(plural, singular_days, negative, flags, start, end)
        return start, end, weekdays

    def _absorb_weekdays_matching_dates(self, positive: list[DateItem]) -> None:
        """ "tuesday the 8th": drop the weekday when it agrees, flag a conflict when not."""
        weekdays = [i for i in positive if isinstance(i, WeekdayRef) and not i.plural and not i.extra_days]
        by_end = {w.end: w for w in weekdays}
        by_start = {w.start: w for w in weekdays}
        absorbed: set[int] = set()
        replaced: dict[int, DateItem] = {}
        for other in positive:
            if not (
                (isinstance(other, DateSpan) and other.explicit and other.kind == "day")
                or isinstance(other, DayOfMonthRef)
            ):
                continue
            nearby = [by_end.get(other.start - gap) for gap in range(3)]
            nearby += [by_start.get(other.end + gap) for gap in range(3)]
            weekday = next((w for w in nearby if w is not None and id(w) not in absorbed), None)
            if weekday is None:
                continue
            absorbed.add(id(weekday))
            day = self._day_of(other)
            if day is None or day.weekday() == weekday.weekday:
                continue
            better = self._month_with_weekday(other, weekday.weekday)
            if better is not None:
                replaced[id(other)] = DateSpan(other.start, other.end, better, better, explicit=True)
            else:
                self.problem(m.CONFLICTING_DATES)
        positive[:] = [replaced.get(id(i), i) for i in positive if id(i) not in absorbed]

    def _month_with_weekday(self, item: Item, weekday: int) -> date | None:
        """For "friday the 13th": the next month (within the horizon) where it fits."""
        if not isinstance(item, DayOfMonthRef):
            return None
        probe = self.today.replace(day=1)
        for _ in range(2):
            candidate = cal.safe_date(probe.year, probe.month, item.day)
            if candidate is not None and candidate >= self.today and candidate.weekday() == weekday:
                return candidate
            probe = cal.add_months(probe, 1)
        return None

    def _day_of(self, item: Item) -> date | None:
        """The single date a date-ish finding stands for (without container context)."""
        if isinstance(item, DateSpan):
            return item.first
        if isinstance(item, DayOfMonthRef):
            return cal.day_of_month(self.today, item.day)
        if isinstance(item, WeekdayRef):
            return cal.resolve_weekday(self.today, item.weekday, item.mode) + timedelta(days=item.extra_days)
        return None

    def _concrete_spans(self, plain: list[DateItem]) -> list[tuple[date, date]]:
        """Place weekdays and day-of-month mentions, inside a range when one was given."""
        containers = [i for i in plain if isinstance(i, DateSpan) and i.kind != "day"]
        anchored_days = [
            i for i in plain if isinstance(i, DateSpan) and i.kind == "day" and (i.week_anchor or i.month_anchor)
        ]
        spans: list[tuple[date, date]] = []
        used: set[int] = set()
        range_ends: dict[int, WeekdayRef] = {}
        for first_ref, last_ref in self._weekday_range_pairs(plain):
            range_ends[id(first_ref)] = last_ref
            used.add(id(last_ref))
        for item in plain:
            if isinstance(item, WeekdayRef) and id(item) not in used:
                day = self._weekday_in(item, containers + anchored_days, used)
                range_end = range_ends.get(id(item))
                if range_end is None:
                    spans.append((day, day))
                else:
                    spans.append((day, day + timedelta(days=(range_end.weekday - day.weekday()) % 7)))
            elif isinstance(item, DayOfMonthRef):
                resolved = self._day_of_month_in(item, containers, used)
                if resolved is None:
                    self.problem(m.INVALID_DATE)
                else:
                    spans.append((resolved, resolved))
        for item in plain:
            if isinstance(item, DateSpan) and id(item) not in used:
                spans.append((item.first, item.last or item.first))
        upcoming = [(first, last) for first, last in spans if last >= self.today]
        if upcoming and len(upcoming) < len(spans):
            return upcoming  # "I was seen last tuesday, need a follow up friday": history
        if spans and not upcoming:
            self.problem(m.PAST_DATE)
        return spans

    def _weekday_in(self, item: WeekdayRef, containers: list[DateSpan], used: set[int]) -> date:
        """Resolve a weekday, inside a week/range container when there is one."""
        if item.mode in ("bare", "this") and not item.extra_days:
            for container in containers:
                if container.week_anchor is not None and container.kind in ("week", "day"):
                    used.add(id(container))
                    return container.week_anchor + timedelta(days=item.weekday)
                last = container.last or container.first
                probe = max(container.first, self.today)
                while probe <= last:
                    if probe.weekday() == item.weekday:
                        used.add(id(container))
                        return probe
                    probe += timedelta(days=1)
        return cal.resolve_weekday(self.today, item.weekday, item.mode) + timedelta(days=item.extra_days)

    def _day_of_month_in(self, item: DayOfMonthRef, containers: list[DateSpan], used: set[int]) -> date | None:
        """Resolve "the 9th", inside a named/next month when one was mentioned."""
        for container in containers:
            if container.month_anchor is not None:
                year, month = container.month_anchor
                used.add(id(container))
                return cal.safe_date(year, month, item.day)
        return cal.day_of_month(self.today, item.day)

    @staticmethod
    def _unite(spans: list[tuple[date, date]]) -> tuple[date | None, date | None]:
        """Smallest range covering every span."""
        if not spans:
            return None, None
        return min(s for s, _ in spans), max(e for _, e in spans)

    def _apply_bounds(
        self, start: date | None, end: date | None, bounded: list[DateItem]
    ) -> tuple[date | None, date | None]:
        """Narrow or open the range with "after X", "from X", "before X", "by X"."""
        lower: date | None = None
        upper: date | None = None
        for item in bounded:
            first, last = self._span_of(item)
            if first is None or last is None:
                continue
            bound = item.bound
            if bound == "after":
                lower = last + timedelta(days=1) if item_is_day(item) else first
            elif bound == "from":
                lower = first
            elif bound == "before":
                upper = first - timedelta(days=1)
            elif bound == "by":
                upper = last
        if lower is None and upper is None:
            return start, end
        if start is not None and end is not None:
            new_start = max(start, lower) if lower else start
            new_end = min(end, upper) if upper else end
            return (new_start, new_end) if new_start <= new_end else (start, end)
        start = lower or max(self.today, start or self.today)
        if upper is not None and upper < start:
            if upper < self.today:
                self.problem(m.PAST_DATE)
            return upper, upper
        return start, upper

    def _span_of(self, item: Item) -> tuple[date | None, date | None]:
        """First and last day a finding covers."""
        if isinstance(item, DateSpan):
            return item.first, item.last or item.first
        day = self._day_of(item)
        return day, day

    def _after_excluded(self, negative: list[DateItem]) -> tuple[date | None, date | None]:
        """ "not this week" alone: search from the day after the excluded dates."""
        spans = [self._span_of(i) for i in negative if not isinstance(i, WeekdayRef)]
        lasts = [last for _, last in spans if last is not None]
        if not lasts:
            return None, None
        return max(lasts) + timedelta(days=1), None

    def _weekday_filter(
        self,
        plural: list[int],
        singular: list[WeekdayRef],
        negative: list[DateItem],
        flags: set[str],
        start: date | None,
        end: date | None,
    ) -> tuple[int, ...]:
        """Allowed weekdays from "mondays", "monday or friday", "weekdays", "not monday"."""
        allowed: set[int] = set(plural)
        if len(singular) >= 2 and self._joined_by_choice(singular):
            allowed.update(i.weekday for i in singular)
        if "weekdays" in flags:
            allowed = allowed & set(range(5)) if allowed else set(range(5))
        if "weekend_days" in flags:
            allowed.update((5, 6))
        if "not_weekend_days" in flags:  # "no weekends"
            allowed = (allowed or set(range(5))) - {5, 6}
        excluded = {i.weekday for i in negative if isinstance(i, WeekdayRef)}
        if excluded:
            allowed = (allowed or set(_CLINIC_DAYS)) - excluded
        if start is not None and end is not None and allowed:
            in_range = {(start + timedelta(days=k)).weekday() for k in range(min(7, (end - start).days + 1))}
            if allowed & in_range:
                allowed &= in_range
            if allowed >= in_range:
                return ()
        return tuple(sorted(allowed))

    def _joined_by_choice(self, items: list[WeekdayRef]) -> bool:
        """True when weekdays are alternatives ("mon or wed") rather than a range ("mon-wed")."""
        ordered = sorted(items, key=lambda i: i.start)
        return not any(self._is_range_pair(a, b) for a, b in zip(ordered, ordered[1:], strict=False))

    def _is_range_pair(self, left: Item, right: Item) -> bool:
        """ "monday to friday", "mon-wed", "between monday and wednesday"."""
        between = {t.text for t in self.tokens[left.end : right.start]}
        if len(between) > 2:
            return False
        opener = self.tokens[left.start - 1].text if left.start > 0 else ""
        return bool(between & _RANGE_WORDS) or ("and" in between and opener in ("between", "from"))

    def _weekday_range_pairs(self, plain: list[DateItem]) -> list[tuple[WeekdayRef, WeekdayRef]]:
        """Consecutive singular weekdays joined as a range."""
        ordered = sorted(
            (i for i in plain if isinstance(i, WeekdayRef) and not i.plural and not i.extra_days), key=lambda i: i.start
        )
        return [(a, b) for a, b in zip(ordered, ordered[1:], strict=False) if self._is_range_pair(a, b)]

    # ------------------------------------------------------------------ times

    def _hint_for(self, clock: ClockRef) -> str | None:
        """The part of the day said with this clock, or nearest to it within a few words."""
        if clock.hint:
            return clock.hint
        if self._period_at is None:
            self._period_at = {}
            for item in self.items:
                if isinstance(item, WindowRef) and item.name in ("morning", "afternoon", "evening"):
                    for index in range(item.start, item.end):
                        self._period_at[index] = item.name
        for distance in range(0, _HINT_REACH + 1):
            for index in (clock.start - 1 - distance, clock.end + distance):
                if index in self._period_at:
                    return self._period_at[index]
        return None

    def _resolve_times(self) -> tuple[time | None, time | None, time | None, bool]:
        """Unite parts of the day, intersect with clock bounds, pick the exact time."""
        windows = _drop_enclosing([WINDOWS[i.name] for i in self.items if isinstance(i, WindowRef) and not i.negated])
        earliest, latest = _union(windows) if windows else (None, None)
        for item in self.items:
            if isinstance(item, WindowRef) and item.negated:
                earliest, latest = _intersect((earliest, latest), _complement(WINDOWS[item.name]))
        period = (earliest, latest)
        exacts: list[time] = []
        approx = False
        bounds_low: list[tuple[time, int]] = []
        bounds_high: list[tuple[time, int]] = []
        around: list[time] = []
        for clock in [i for i in self.items if isinstance(i, ClockRef)]:
            value, conflict = _hour_from_clock(clock, self._hint_for(clock))
            if conflict:
                self.problem(m.AMBIGUOUS_TIME)
            role = clock.role
            if clock.negated:
                role = {"before": "after", "after": "before"}.get(role, "drop")
            if role == "exact":
                exacts.append(value)
            elif role == "around":
                exacts.append(value)
                approx = True
                around.append(value)
            elif role == "after":
                bounds_low.append((value, clock.start))
            elif role == "before":
                bounds_high.append((value, clock.start))
        if around:  # "around 2 or 3": one window spanning both
            bounds_low.append((_shift(min(around), -_AROUND), -1))
            bounds_high.append((_shift(max(around), _AROUND), -1))
        clock_window = _clock_window(bounds_low, bounds_high)
        combined = _intersect(period, clock_window)
        if combined[0] is not None and combined[1] is not None and combined[0] > combined[1]:
            self.problem(m.AMBIGUOUS_TIME)
            combined = clock_window
        earliest, latest = combined
        exact = exacts[0] if exacts else None
        unique_exacts = sorted(set(exacts))
        if len(unique_exacts) > 1 and not approx:
            earliest = earliest or unique_exacts[0]
            latest = latest or unique_exacts[-1]
        return earliest, latest, exact, approx and len(unique_exacts) == 1

    def _check_past_time(self, exact: time | None, latest: time | None) -> None:
        """Flag a time already gone today ("today at 9" said at 10:15)."""
        now_time = self.now.time().replace(tzinfo=None)
        if exact is not None and exact < now_time:
            self.problem(m.PAST_TIME)
        elif exact is None and latest is not None and latest <= now_time:
            self.problem(m.PAST_TIME)


def item_is_day(item: Item) -> bool:
    """True when a finding denotes a single day (so "after" starts the next day)."""
    return not isinstance(item, DateSpan) or item.kind == "day"


def _contains(outer: Window, inner: Window) -> bool:
    """True when ``inner`` lies within ``outer`` (open sides count as unbounded)."""
    lower_ok = outer[0] is None or (inner[0] is not None and outer[0] <= inner[0])
    upper_ok = outer[1] is None or (inner[1] is not None and inner[1] <= outer[1])
    return lower_ok and upper_ok


def _drop_enclosing(windows: list[Window]) -> list[Window]:
    """ "morning, first thing" means first thing: a window that encloses another one
    mentioned with it is a refinement, not an alternative."""
    unique = list(dict.fromkeys(windows))
    return [w for w in unique if not any(other != w and _contains(w, other) for other in unique)]


def _union(windows: Iterable[Window]) -> Window:
    """Smallest window covering all; an open side stays open."""
    windows = list(windows)
    starts = [w[0] for w in windows]
    ends = [w[1] for w in windows]
    earliest = None if any(s is None for s in starts) else min(s for s in starts if s)
    latest = None if any(e is None for e in ends) else max(e for e in ends if e)
    return earliest, latest


def _intersect(a: Window, b: Window) -> Window:
    """Overlap of two windows (may come out crossed; the caller checks)."""
    starts = [t for t in (a[0], b[0]) if t is not None]
    ends = [t for t in (a[1], b[1]) if t is not None]
    return (max(starts) if starts else None, min(ends) if ends else None)


def _complement(window: Window) -> Window:
    """Opening hours outside a window: "not mornings" -> from noon on."""
    earliest, latest = window
    if earliest is None or earliest <= CLINIC_OPEN:
        return latest, None
    if latest is None or latest >= CLINIC_CLOSE:
        return None, earliest
    return None, None


def _clock_window(lows: list[tuple[time, int]], highs: list[tuple[time, int]]) -> Window:
    """Tightest window from "after"/"before" clocks (each with the position it was said at).

    A crossed pair from one phrase ("between 7 and 9" read as 7 PM-9 AM) is repaired; a
    crossed pair from separate alternatives ("thu after 1 or fri before 10") cancels out.
    """
    low = max(lows) if lows else None
    high = min(highs) if highs else None
    if low is None or high is None or low[0] <= high[0]:
        return (low[0] if low else None, high[0] if high else None)
    if low[1] == high[1]:
        return _fix_crossed_range(low[0], high[0])
    return None, None


def _fix_crossed_range(low: time, high: time) -> tuple[time, time]:
    """ "between 7 and 9" read as 7 PM-9 AM by the heuristic becomes 7-9 AM."""
    if low.hour >= 12 and time(low.hour - 12, low.minute) < high:
        return time(low.hour - 12, low.minute), high
    return low, high


def resolve(items: list[Item], tokens: Sequence[Token], now: datetime) -> m.WhenPreference:
    """Resolve findings against the clinic's now."""
    return Resolver(items, tokens, now).resolve()
