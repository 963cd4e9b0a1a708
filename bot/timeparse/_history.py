"""The patient's story inside a booking message: onsets, durations, past visits, advice.

"I've had a fever since yesterday", "coughing for a week now", "my last visit was in
june", "the doctor said come back in 2 weeks", "my knee hurts at night": the dates and
times in these are part of the story, never a wish for when to come in. The words that
mark them live in ``history_words.yml`` (content staff edit it); this module finds the
marked phrases and swallows their dates so the resolver never sees them.

Three shapes, all linear in the message length:

* immediate: an onset word, a past word, a duration or an always-past phrase is consumed
  together with the date right after it (``HistoryRules._match_history``);
* advice scope: after "the doctor said" / "told me to come back" every date up to the end
  of the sentence is dropped (``_story_until``, set by ``_note_story``);
* symptom context: after a symptom word ("hurts", "worse", "cough") or an opener ("when I
  ...") a part of the day or clock time in the same sentence belongs to the symptom,
  until a booking word ("come", "appointment", "can") says the patient is asking again.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ._items import ClockRef, Item, LooseNumber, WindowRef
from ._scanner_base import ScannerBase

LEXICON_PATH = Path(__file__).with_name("history_words.yml")
Phrase = tuple[str, ...]

_APOSTROPHES = re.compile(r"['\u2018\u2019\u02bc`\u00b4]")
_CHAIN_WORDS = frozenset({"or", "to", "through"})
_CHAIN_MARKS = "-~/"
# Only these follow a past word directly ("was in june", "were there on monday").
_TIGHT_GLUE = frozenset(
    {"on", "in", "at", "around", "about", "the", "back", "like", "just", "sometime", "there", "here", "seen"}
)
# After "anytime I" / "whenever I", these mean the patient is offering times, not a symptom.
_OFFERING_AFTER_OPENER = frozenset(
    {"can", "could", "am", "im", "want", "have", "get", "need", "would", "free", "like", "come", "prefer", "wish"}
)
_SUBJECTS = frozenset({"i", "im", "ive", "we", "it", "its", "he", "she", "they", "my", "his", "her"})
_POSSESSIVES = frozenset({"my", "our", "his", "her", "their", "your"})
_ONSET_REACH = 6
_PAST_REACH = 2
_ADVICE_LOOKBACK = 4
_FUTURE_ANCHORS = frozenset({"from", "after", "later", "out", "time", "times", "hence", "today", "tomorrow"})


def _clean(text: str) -> Phrase:
    """A lexicon entry as the words the scanner compares (lower case, no accents)."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return tuple(_APOSTROPHES.sub("", stripped.lower()).replace(".", " ").split())


@dataclass(frozen=True)
class HistoryLexicon:
    """The word lists of ``history_words.yml``, longest phrases first."""

    onset: tuple[Phrase, ...]
    past: tuple[Phrase, ...]
    glue: frozenset[str]
    always_past: tuple[Phrase, ...]
    duration_before: tuple[Phrase, ...]
    duration_after: tuple[Phrase, ...]
    vague_lengths: tuple[Phrase, ...]
    approximately: tuple[Phrase, ...]
    advice_verbs: frozenset[str]
    clinicians: frozenset[str]
    follow_up_words: frozenset[str]
    symptom_words: tuple[Phrase, ...]
    symptom_openers: tuple[Phrase, ...]
    booking_words: frozenset[str]


def _phrases(entries: Iterable[object] | None) -> tuple[Phrase, ...]:
    """Cleaned, de-duplicated phrases, longest first so "for the past" beats "for"."""
    cleaned = {_clean(str(entry)) for entry in entries or ()}
    return tuple(sorted((p for p in cleaned if p), key=lambda p: (-len(p), p)))


def _words(entries: Iterable[object] | None) -> frozenset[str]:
    """Single cleaned words."""
    return frozenset(" ".join(p) for p in _phrases(entries))


@functools.lru_cache(maxsize=1)
def history_lexicon() -> HistoryLexicon:
    """Read ``history_words.yml`` once per process (on the first parse, not at import)."""
    import yaml

    # BaseLoader keeps every entry a string ("on" and "no" are words here, not booleans).
    data = yaml.load(LEXICON_PATH.read_text(encoding="utf-8"), Loader=yaml.BaseLoader) or {}
    return HistoryLexicon(
        onset=_phrases(data.get("onset_words")),
        past=_phrases(data.get("past_words")),
        glue=_words(data.get("story_glue")),
        always_past=_phrases(data.get("always_past")),
        duration_before=_phrases(data.get("duration_before")),
        duration_after=_phrases(data.get("duration_after")),
        vague_lengths=_phrases(data.get("vague_lengths")),
        approximately=_phrases(data.get("approximately")),
        advice_verbs=_words(data.get("advice_verbs")),
        clinicians=_words(data.get("clinicians")),
        follow_up_words=_words(data.get("follow_up_words")),
        symptom_words=_phrases(data.get("symptom_words")),
        symptom_openers=_phrases(data.get("symptom_openers")),
        booking_words=_words(data.get("booking_words")),
    )


class HistoryRules(ScannerBase):
    """Matchers that swallow the story's dates; mixed into the scanner before the others."""

    # Provided by the scanner and the date and time rules it also mixes in.
    _match_date_at: Callable[[int], int]
    _match_time_special: Callable[[int], int]
    _match_standalone_clock: Callable[[int], int]
    _match_period: Callable[[int], int]
    _match_loose_number: Callable[[int], int]
    _quantity: Callable[[int], tuple[int, int] | None]
    _unit: Callable[[int], tuple[str, int] | None]

    _story_until = -1
    _symptom_context = False

    # ------------------------------------------------------------------ helpers

    def _phrase_end(self, i: int, phrases: Iterable[Phrase]) -> int:
        """End of the first (longest) phrase that starts at ``i``, or ``i``."""
        for phrase in phrases:
            if all(self.raw(i + k) == word for k, word in enumerate(phrase)):
                return i + len(phrase)
        return i

    def _story_date_end(self, k: int) -> int:
        """Match one date/time expression at ``k`` (and "or"-chained ones), then forget it."""
        before = len(self.items)
        end = self._one_date_or_time(k)
        if end == k:
            return k
        while self.w(end) in _CHAIN_WORDS or self.is_punct(end, _CHAIN_MARKS):
            nxt = self._one_date_or_time(end + 1)
            if nxt == end + 1:
                break
            end = nxt
        del self.items[before:]
        return end

    def _one_date_or_time(self, k: int) -> int:
        """The first date or time matcher that consumes tokens at ``k`` (dates first, as after a preposition)."""
        end = self._match_date_at(k)
        if end > k:
            return end
        for matcher in (
            self._match_time_special,
            self._match_standalone_clock,
            self._match_period,
            self._match_loose_number,
        ):
            end = matcher(k)
            if end > k:
                return end
        return k

    def _is_loose_glue(self, k: int) -> bool:
        """Words allowed between an onset word and its date ("started hurting again on")."""
        raw = self.raw(k)
        token = self.tok(k)
        if token is None or not token.is_word:
            return False
        lexicon = history_lexicon()
        if raw in lexicon.booking_words:
            return False
        return (
            raw in lexicon.glue
            or (len(raw) > 4 and raw.endswith("ing"))
            or self._phrase_end(k, lexicon.symptom_words) > k
        )

    def _swallow_after(self, j: int, reach: int, loose: bool) -> int:
        """Index after the story date following ``j`` (a few glue words allowed), or -1."""
        k = j
        for _ in range(reach + 1):
            end = self._story_date_end(k)
            if end > k:
                return end
            if loose and self._is_loose_glue(k):
                k += 1
            elif not loose and self.raw(k) in _TIGHT_GLUE:
                k += 1
            else:
                return -1
        return -1

    # ------------------------------------------------------------------ the matcher

    def _match_history(self, i: int) -> int:
        """Consume a story phrase with its date at ``i``; no finding is kept."""
        lexicon = history_lexicon()
        end = self._phrase_end(i, lexicon.always_past)
        if end > i:
            after = self._swallow_after(end, 1, loose=False)
            return max(end, after)
        end = self._duration_end(i)
        if end > i:
            return end
        end = self._phrase_end(i, lexicon.onset)
        if end > i:
            after = self._swallow_after(end, _ONSET_REACH, loose=True)
            if self.raw(i) in ("last", "previous") and self.raw(i - 1) not in _POSSESSIVES:
                return i  # "the last appointment on friday" asks for the day's last slot
            if after > end:
                return after
            if self.raw(i) in ("last", "previous"):
                return end  # "my last appointment was great": not "the last slot of the day"
            return i
        end = self._phrase_end(i, lexicon.past)
        if end > i:
            after = self._swallow_after(end, _PAST_REACH, loose=False)
            return after if after > end else i
        end = self._phrase_end(i, lexicon.symptom_openers)
        if end > i and not self._offers_times_after(end):
            self._symptom_context = True
            return end
        return i

    def _offers_times_after(self, j: int) -> bool:
        """ "whenever", "whenever I can", "when you have": not a symptom's trigger.

        An opener starts a symptom part only before a subject and its verb ("when I eat",
        "whenever it rains"); anything else is left to the other rules.
        """
        if self.raw(j) not in _SUBJECTS:
            return True
        return self.raw(j + 1) in _OFFERING_AFTER_OPENER or self.w(j + 1) in ("works", "suits")

    def _duration_end(self, i: int) -> int:
        """ "for 3 days", "for a week now", "the past few days", "2 weeks ago": end or ``i``."""
        lexicon = history_lexicon()
        j = self._phrase_end(i, lexicon.duration_before)
        opener = tuple(self.raw(k) for k in range(i, j))
        needs_count = opener in (("the", "last"), ("last",))
        j = self._phrase_end(j, lexicon.approximately)
        quantity = self._quantity(j)
        count_end = quantity[1] if quantity is not None else j
        vague_end = self._phrase_end(count_end, lexicon.vague_lengths)
        if vague_end > count_end:
            unit_end = vague_end
        elif self._unit(count_end) is not None:
            unit_end = count_end + 1
        else:
            return i
        if quantity is None and (needs_count or not opener):
            return i
        end = self._phrase_end(unit_end, lexicon.duration_after)
        if end == unit_end and not opener:
            return i  # "3 days" alone is no story; "in 3 days" is a wish
        if self.w(end) in _FUTURE_ANCHORS or self.raw(end) in _FUTURE_ANCHORS:
            return i  # "for 2 weeks from now" asks for a day
        return end

    # ------------------------------------------------------------------ scopes

    def _note_story(self, i: int) -> None:
        """Track symptom context and advice scope on a word no matcher consumed."""
        lexicon = history_lexicon()
        raw = self.raw(i)
        if self._phrase_end(i, lexicon.symptom_words) > i:
            self._symptom_context = True
        elif raw in lexicon.booking_words:
            self._symptom_context = False
        if raw in lexicon.advice_verbs and self._is_advice(i):
            self._story_until = self._sentence_end(i)

    def _is_advice(self, i: int) -> bool:
        """A clinician said it ("the doctor said"), or it is about coming back."""
        lexicon = history_lexicon()
        if any(self.raw(k) in lexicon.clinicians for k in range(max(0, i - _ADVICE_LOOKBACK), i)):
            return True
        return any(self.raw(k) in lexicon.follow_up_words for k in range(i + 1, self._sentence_end(i)))

    def _sentence_end(self, i: int) -> int:
        """Index of the first clause break after ``i`` (or the end of the message)."""
        k = i + 1
        while k < self.n:
            if self.is_punct(k, ",.;!?()") or self.w(k) in ("and", "but", "so", "pero", "then"):
                return k
            k += 1
        return self.n

    def _forget_story_findings(self, start: int, new_items: list[Item]) -> bool:
        """True (and the findings removed) when a match at ``start`` belongs to the story."""
        if not new_items:
            return False
        in_advice = start < self._story_until
        about_symptom = self._symptom_context and any(
            isinstance(item, (WindowRef, ClockRef, LooseNumber)) for item in new_items
        )
        if not (in_advice or about_symptom):
            return False
        del self.items[len(self.items) - len(new_items) :]
        return True
