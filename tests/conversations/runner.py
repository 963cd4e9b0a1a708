"""Plays one conversation file entry against a running assistant and checks it.

Each conversation gets a fresh sender id on the REST channel. Every turn's
answer is mapped to response names (``matcher.py``) and checked; the first
failed expectation is the conversation's failure ("turn 3: expected
utter_offer_slots, got: utter_default ('Sorry, I didn't…')"). After a failure
the remaining typed turns are still sent, only to see whether any of them gets
an emergency answer (counted as a false 911). Finally the outcome is checked in
the clinic database. Failure messages quote the assistant, never the patient.
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.error
import uuid
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from tests.conversations.matcher import Match, ResponseMatcher
from tests.conversations.spec import EMERGENCY_RESPONSES, Conversation, Offers, SeededPatient, Turn
from tests.e2e.harness import CLINIC_TIME, CLINIC_TODAY, post_json

TZ = ZoneInfo("America/New_York")
_SLOT_PAYLOAD = re.compile(r'"slot_choice"\s*:\s*"(\d{4}-\d\d-\d\dT\d\d:\d\d)\|(\w+)"')


class ConversationFailed(AssertionError):
    """A conversation did not go the way its file says."""


def clinic_now() -> dt.datetime:
    """The harness's fixed clinic clock (CLINIC_TODAY at CLINIC_TIME, clinic time zone)."""
    hour, minute = (int(x) for x in CLINIC_TIME.split(":"))
    return dt.datetime.combine(dt.date.fromisoformat(CLINIC_TODAY), dt.time(hour, minute), TZ)


def _hhmm(text: str) -> dt.time:
    hour, minute = (int(x) for x in text.split(":"))
    return dt.time(hour, minute)


def _short(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe(matches: Sequence[Match]) -> str:
    """What the assistant answered, as response names with the start of each text."""
    if not matches:
        return "no answer"
    return "; ".join(f"{m.name} ({_short(m.text)!r})" for m in matches)


@dataclass
class TurnRecord:
    """What happened in one turn (response names only; no patient text)."""

    number: int
    responses: list[str]


@dataclass
class Result:
    """How one conversation went."""

    conversation_id: str
    passed: bool = True
    failure: str = ""
    false_911: bool = False
    turns: list[TurnRecord] = field(default_factory=list)

    def fail(self, message: str) -> None:
        """Keep the first failure only: later ones follow from it."""
        if self.passed:
            self.passed = False
            self.failure = message


class ClinicDatabase:
    """Reads (and, for seeded patients, writes) the clinic database the assistant uses."""

    def __init__(self, url: str) -> None:
        """Remember the database URL; engines and services are made on first use."""
        self.url = url
        self._engine: sa.engine.Engine | None = None

    @property
    def engine(self) -> sa.engine.Engine:
        """One engine for this runner."""
        if self._engine is None:
            self._engine = sa.create_engine(self.url)
        return self._engine

    def scheduling(self) -> Any:
        """The scheduling service on this database."""
        from bot.scheduling.sql import SqlSchedulingService

        return SqlSchedulingService(self.url)

    def records(self) -> Any:
        """The records service on this database."""
        from bot.records.sql import SqlRecordsService

        return SqlRecordsService(self.url)

    def rows(self, query: str, **params: Any) -> list[Any]:
        """Rows of a read-only query."""
        with self.engine.connect() as connection:
            return list(connection.execute(sa.text(query), params))

    def appointment_ids(self) -> set:
        """Every appointment id there is now."""
        return {row[0] for row in self.rows("SELECT id FROM appointments")}

    def work_item_ids(self) -> set:
        """Every work item id there is now."""
        return {row[0] for row in self.rows("SELECT id FROM work_items")}

    def appointment(self, appointment_id: str) -> dict[str, Any] | None:
        """An appointment with its patient's name and its local start, or None."""
        rows = self.rows(
            "SELECT a.patient_id, a.status, a.provider_id, a.visit_type_code, p.full_name"
            " FROM appointments a LEFT JOIN patients p ON p.id = a.patient_id WHERE a.id = :id",
            id=appointment_id,
        )
        if not rows:
            return None
        patient_id, status, provider_id, visit_type, full_name = rows[0]
        info = self.scheduling().get_appointment(appointment_id, patient_id)
        return {
            "id": appointment_id,
            "patient_id": patient_id,
            "status": status,
            "provider": provider_id,
            "visit_type": visit_type,
            "patient": full_name or "",
            "start": info.start.astimezone(TZ),
        }

    def moved_to(self, appointment_id: str) -> list[str]:
        """Ids of appointments made by moving this one."""
        return [
            r[0] for r in self.rows("SELECT id FROM appointments WHERE rescheduled_from_id = :id", id=appointment_id)
        ]

    def seed_patient(self, patient: SeededPatient, conversation_id: str) -> tuple[str, str | None]:
        """Create (or find) a made-up patient and book their seeded appointment; (patient id, appointment id)."""
        from bot.records.errors import PatientAlreadyExists

        records = self.records()
        mobile = patient.mobile or "+1555" + str(7000000 + zlib.crc32(conversation_id.encode()) % 2999999)
        try:
            ref = records.register_patient(patient.name, patient.born, mobile, today=clinic_now().date())
        except PatientAlreadyExists:
            ref = records.verify_identity(patient.name, patient.born)
        if ref is None:
            raise ConversationFailed(f"set-up: could not create or find seeded patient {patient.name}")
        appointment_id = None
        if patient.appointment is not None:
            scheduling = self.scheduling()
            now = clinic_now()
            for old in scheduling.upcoming_appointments(ref.patient_id, now=now):  # a rerun on the same database
                scheduling.cancel(old.appointment_id, ref.patient_id, now=now)
            wanted = patient.appointment
            slots = scheduling.search_slots(
                wanted.visit_type, provider_id=wanted.provider, start_date=wanted.day, end_date=wanted.day, now=now
            )
            if not slots:
                raise ConversationFailed(f"set-up: no open {wanted.visit_type} with {wanted.provider} on {wanted.day}")
            booked = scheduling.book(
                patient_id=ref.patient_id,
                provider_id=wanted.provider,
                visit_type=wanted.visit_type,
                start=slots[0].start,
                now=now,
            )
            appointment_id = booked.appointment_id
        return ref.patient_id, appointment_id


class ConversationRunner:
    """Runs conversations against one assistant (REST URL) and its clinic database."""

    def __init__(self, rasa_url: str, database_url: str, matcher: ResponseMatcher | None = None) -> None:
        """Point the runner at an assistant; the matcher reads the domain's responses now unless given."""
        self.rasa_url = rasa_url.rstrip("/")
        self.db = ClinicDatabase(database_url)
        self.matcher = matcher or ResponseMatcher.from_domain()

    def say(self, sender: str, text: str) -> list[dict[str, Any]]:
        """One message over the REST channel; the assistant's messages."""
        return (
            post_json(f"{self.rasa_url}/webhooks/rest/webhook", {"sender": sender, "message": text}, timeout=90) or []
        )

    def run(self, conversation: Conversation) -> Result:
        """Play the conversation and check every turn and the outcome."""
        result = Result(conversation.id)
        sender = "conv-" + uuid.uuid4().hex
        try:
            patient_id, seeded_appointment = conversation.patient_id, None
            if isinstance(conversation.patient, SeededPatient):
                patient_id, seeded_appointment = self.db.seed_patient(conversation.patient, conversation.id)
            appointments_before = self.db.appointment_ids()
            work_items_before = self.db.work_item_ids()
            all_matches = self._play(conversation, sender, result)
            if result.passed:
                self._check_outcome(
                    conversation,
                    sender,
                    result,
                    all_matches,
                    patient_id,
                    seeded_appointment,
                    appointments_before,
                    work_items_before,
                )
        except ConversationFailed as exc:
            result.fail(str(exc))
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            result.fail(f"the assistant did not answer: {exc.__class__.__name__}")
        return result

    # --- turns ------------------------------------------------------------

    def _play(self, conversation: Conversation, sender: str, result: Result) -> list[Match]:
        """Send every turn; check each answer; keep every match for the outcome."""
        all_matches: list[Match] = []
        last: list[dict[str, Any]] = []
        for number, turn in enumerate(conversation.turns, start=1):
            if turn.tap is not None:
                payload = self._button_payload(last, turn.tap)
                if payload is None:
                    result.fail(
                        f"turn {number}: no button {turn.tap!r} to tap; buttons were "
                        f"{[b.get('title') for b in _buttons(last)]}, answer: {describe(self.matcher.match_all(last))}"
                    )
                    break  # nothing sensible left to send
                text = payload
            else:
                text = turn.patient or ""
            last = self.say(sender, text)
            matches = self.matcher.match_all(last)
            all_matches.extend(matches)
            result.turns.append(TurnRecord(number, [m.name for m in matches]))
            emergency = [m for m in matches if any(m.is_(r) for r in EMERGENCY_RESPONSES)]
            if emergency and not conversation.emergency:
                result.false_911 = True
                result.fail(
                    f"turn {number}: false 911: got {describe(emergency)} (the conversation has no 'emergency: true')"
                )
            if result.passed:
                problem = self._check_turn(conversation, turn, last, matches)
                if problem:
                    result.fail(f"turn {number}: {problem}")
        return all_matches

    @staticmethod
    def _button_payload(last: list[dict[str, Any]], tap: Any) -> str | None:
        buttons = _buttons(last)
        if isinstance(tap, int):
            return buttons[tap - 1]["payload"] if 1 <= tap <= len(buttons) else None
        wanted = str(tap).lower()
        exact = [b for b in buttons if str(b.get("title", "")).lower() == wanted]
        partial = [b for b in buttons if wanted in str(b.get("title", "")).lower()]
        chosen = (exact or partial or [None])[0]
        return chosen["payload"] if chosen else None

    def _check_turn(
        self, conversation: Conversation, turn: Turn, messages: list[dict[str, Any]], matches: list[Match]
    ) -> str:
        """The first unmet expectation of this turn, in words; empty when all are met."""
        got = describe(matches)
        said = {name for m in matches for name in m.responses}
        for name in turn.says:
            if name not in said:
                return f"expected {name}{self._unknown(name)}, got: {got}"
        if turn.says_any and not said.intersection(turn.says_any):
            return f"expected one of {', '.join(turn.says_any)}, got: {got}"
        for name in list(turn.not_says) + list(conversation.never_says):
            if name in said:
                return f"did not expect {name}, got: {got}"
        if turn.asks_for:
            slot = turn.asks_for
            asked = [
                n
                for n in said
                if n == f"utter_ask_{slot}"
                or (n.startswith("utter_ask_") and n.endswith(f"_{slot}"))
                or (slot == "slot_choice" and n == "utter_offer_slots")
            ]
            if not asked:
                return f"expected a question for {slot}, got: {got}"
        text = "\n".join(m.get("text") or "" for m in messages).lower()
        for words in turn.contains:
            if words.lower() not in text:
                return f"expected the answer to contain {words!r}, got: {got}"
        for words in turn.not_contains:
            if words.lower() in text:
                return f"did not expect {words!r} in the answer, got: {got}"
        titles = [str(b.get("title", "")) for b in _buttons(messages)]
        for wanted in turn.buttons_include:
            if not any(wanted.lower() in title.lower() for title in titles):
                return f"expected a button {wanted!r}, buttons were {titles}; answer: {got}"
        if turn.offers is not None:
            return self._check_offers(turn.offers, messages, got)
        return ""

    def _unknown(self, name: str) -> str:
        return "" if name in self.matcher.names else " (not in domain/ yet)"

    @staticmethod
    def _check_offers(offers: Offers, messages: list[dict[str, Any]], got: str) -> str:
        """Every offered slot button against the expected window."""
        slots = []
        for button in _buttons(messages):
            found = _SLOT_PAYLOAD.search(str(button.get("payload", "")))
            if found:
                slots.append((dt.datetime.strptime(found.group(1), "%Y-%m-%dT%H:%M"), str(button.get("title", ""))))
        if not slots:
            return f"expected offered times, got: {got}"
        shown = ", ".join(title for _, title in slots)
        for start, title in slots:
            if offers.from_day and start.date() < offers.from_day:
                return f"offered {title} before {offers.from_day}"
            if offers.to_day and start.date() > offers.to_day:
                return f"offered {title} after {offers.to_day}"
            if offers.after and start.time() < _hhmm(offers.after):
                return f"offered {title} before {offers.after}"
            if offers.before and start.time() >= _hhmm(offers.before):
                return f"offered {title}, not before {offers.before}"
            if offers.provider and offers.provider.lower() not in title.lower():
                return f"offered {title}, not with {offers.provider}"
        if offers.not_only_after and all(start.time() >= _hhmm(offers.not_only_after) for start, _ in slots):
            return f"only offered times from {offers.not_only_after} on: {shown}"
        if offers.days_at_least and len({start.date() for start, _ in slots}) < offers.days_at_least:
            return f"offered times on fewer than {offers.days_at_least} days: {shown}"
        return ""

    # --- outcome ----------------------------------------------------------

    def _check_outcome(
        self,
        conversation: Conversation,
        sender: str,
        result: Result,
        matches: list[Match],
        patient_id: str | None,
        seeded_appointment: str | None,
        appointments_before: set,
        work_items_before: set,
    ) -> None:
        outcome = conversation.outcome
        confirmed = [m.values.get("appointment_id", "") for m in matches if m.is_("utter_booking_done")]
        if outcome.booked is not None:
            if not confirmed:
                result.fail("outcome: expected a booking, but the assistant never confirmed one (utter_booking_done)")
                return
            row = self.db.appointment(confirmed[-1].strip().rstrip("."))
            if row is None:
                result.fail("outcome: the confirmed appointment number is not in the clinic database")
                return
            problem = _check_booked(outcome.booked, row)
            if problem:
                result.fail(
                    f"outcome: booked {row['visit_type']} with {row['provider']} on "
                    f"{row['start']:%Y-%m-%d %H:%M}: {problem}"
                )
                return
        if outcome.nothing_booked:
            if confirmed:
                result.fail("outcome: expected nothing booked, but the assistant confirmed a booking")
                return
            if patient_id:
                new = self.db.appointment_ids() - appointments_before
                mine = [a for a in new if (self.db.appointment(a) or {}).get("patient_id") == patient_id]
                if mine:
                    result.fail("outcome: expected nothing booked, but the patient has a new appointment")
                    return
        if outcome.cancelled or outcome.rescheduled is not None or outcome.unchanged:
            if seeded_appointment is None:
                raise ConversationFailed(
                    "outcome: cancelled/rescheduled/unchanged need a seeded patient with an appointment"
                )
            old = self.db.appointment(seeded_appointment) or {}
            if outcome.cancelled and old.get("status") != "cancelled":
                result.fail(f"outcome: expected the appointment cancelled, it is {old.get('status')}")
                return
            if outcome.unchanged and old.get("status") != "booked":
                result.fail(f"outcome: expected the appointment unchanged, it is {old.get('status')}")
                return
            if outcome.rescheduled is not None:
                moved = self.db.moved_to(seeded_appointment)
                if old.get("status") != "rescheduled" or not moved:
                    result.fail(f"outcome: expected the appointment moved, it is {old.get('status')}")
                    return
                new = self.db.appointment(moved[-1]) or {}
                wanted = outcome.rescheduled
                from tests.conversations.spec import Booked

                problem = _check_booked(Booked(day=wanted.day, after=wanted.after, before=wanted.before), new)
                if problem:
                    result.fail(f"outcome: moved to {new.get('start'):%Y-%m-%d %H:%M}: {problem}")
                    return
        if outcome.work_item:
            new_ids = self.db.work_item_ids() - work_items_before
            found = []
            for item_id in new_ids:
                rows = self.db.rows(
                    "SELECT kind, conversation_id, patient_id FROM work_items WHERE id = :id", id=item_id
                )
                if (
                    rows
                    and rows[0][0] == outcome.work_item
                    and (rows[0][1] == sender or (rows[0][1] is None and patient_id and rows[0][2] == patient_id))
                ):
                    found.append(item_id)
            if not found:
                result.fail(f"outcome: expected a {outcome.work_item} work item for this chat, none was created")


def _buttons(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b for m in messages for b in (m.get("buttons") or [])]


def _check_booked(booked: Any, row: dict[str, Any]) -> str:
    """The first way a booked appointment differs from what the file expects."""
    start: dt.datetime = row["start"]
    if row.get("status") != "booked":
        return f"it is {row.get('status')}, not booked"
    if booked.visit_type and row["visit_type"] != booked.visit_type:
        return f"expected a {booked.visit_type}"
    if booked.provider and row["provider"] != booked.provider:
        return f"expected provider {booked.provider}"
    if booked.patient and " ".join(row["patient"].lower().split()) != " ".join(booked.patient.lower().split()):
        return f"expected it for {booked.patient}, it is for {row['patient'] or 'nobody'}"
    if booked.day and start.date() != booked.day:
        return f"expected it on {booked.day}"
    if booked.not_day and start.date() == booked.not_day:
        return f"expected it not on {booked.not_day}"
    if booked.from_day and start.date() < booked.from_day:
        return f"expected it on or after {booked.from_day}"
    if booked.to_day and start.date() > booked.to_day:
        return f"expected it on or before {booked.to_day}"
    if booked.after and start.time() < _hhmm(booked.after):
        return f"expected it at or after {booked.after}"
    if booked.before and start.time() >= _hhmm(booked.before):
        return f"expected it before {booked.before}"
    return ""
