"""Logs carry no message text and no patient data: at INFO, and at DEBUG through every conversation and fault.

The DEBUG run is the hard case: Rasa then logs every message, parse, slot and
event. Every conversation type runs against a real assistant at
``LOG_LEVEL=DEBUG`` (the demo), faults are provoked for real (the action server
killed in the middle of a form, the clinic database unreachable, a REST turn
whose conversation cannot be written), and then every log file under the run's
folder is searched for the demo patients' names, dates of birth in all their
written forms, phone numbers, emails, member ids, record numbers and the texts
that were sent.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from channels.rest import STORE_UNAVAILABLE
from tests.e2e.harness import ROOT, Conversation, RunningAssistant, free_port, start_assistant

pytestmark = pytest.mark.e2e

PATIENT_DATA = ["Jordan", "Rivera", "1990", "03/14", "Souza", "1978", "+1555", "555 201", "W123456789"]
MESSAGE_TEXTS = ["sore throat since monday", "my cell is", "blue elephants", "zebra-kumquat"]


def test_logs_hold_no_message_text_or_patient_data(chat: Conversation, assistant: RunningAssistant) -> None:
    chat.say("zebra-kumquat Jordan Rivera 03/14/1990")
    chat.say("show my appointments")
    chat.say("Jordan Rivera")
    chat.say("03/14/1990")
    logs = assistant.logs()
    assert "rasa" in logs.lower() and "action" in logs.lower()  # the logs are really there
    for secret in PATIENT_DATA + MESSAGE_TEXTS:
        assert secret not in logs, f"{secret!r} appears in the logs"


# --- DEBUG: every conversation, every fault -------------------------------------------------


def _phone(area: str, exchange: str, line: str) -> str:
    """A phone number in any written form: with or without area code, any separators."""
    return rf"(?<!\d)(?:\+?1\W{{0,3}})?(?:\(?{area}\)?\W{{0,3}})?{exchange}\W{{0,3}}{line}(?!\d)"


def _dob(year: int, month: int, day: int, month_name: str) -> list[str]:
    """A date of birth in every way it is written."""
    short = month_name[:3]
    return [
        rf"(?<!\d)0?{month}\W0?{day}\W(?:{year}|{year % 100:02d})(?!\d)",  # 03/14/1990, 3-14-90
        rf"(?<!\d){year}\W0?{month}\W0?{day}(?!\d)",  # 1990-03-14, 1990/3/14
        rf"(?<!\d)0?{day}\W0?{month}\W{year}(?!\d)",  # 14.03.1990
        rf"(?<!\d){year}{month:02d}{day:02d}(?!\d)",  # 19900314
        rf"(?i)\b(?:{month_name}|{short})\.?\s+0?{day}(?:st|nd|rd|th)?\b",  # March 14, Mar. 14th
        rf"(?i)\b0?{day}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{month_name}|{short})\b",  # 14 March, 14th of March
        rf"(?<![\w\[])(?<!line ){year}(?![\w\]])",  # the year alone (not a line number, process id or hex)
    ]


NEEDLES: dict[str, list[str]] = {
    "names": [
        r"\bJordan\b",
        r"\bRivera\b",
        r"\bAna\b",
        r"\bSouza\b",
        r"(?i)\bMaria\b",
        r"(?i)\bLopez\b",
        r"(?i)\bjordan\b",
        r"(?i)\brivera\b",
    ],
    "dates of birth": _dob(1990, 3, 14, "March") + _dob(1978, 11, 2, "November") + _dob(1985, 7, 4, "July"),
    "phones": [
        _phone("555", "555", "0123"),
        _phone("555", "555", "0188"),
        _phone("555", "201", "9999"),
        _phone("555", "201", "3344"),
        _phone("212", "555", "0175"),
        _phone("212", "555", "0188"),
    ],
    "emails": [r"(?i)[\w.+-]+@example\.(?:com|org)", r"(?i)jordan\.rivera@", r"(?i)j\.rivera@"],
    "member ids": [r"(?i)W123456789", r"(?<!\d)123456789(?!\d)"],
    "record numbers": [r"(?i)(?<![\w-])P-\d+(?![\w-])"],
}

# Words that only a patient typed (each one is in a message below).
TYPED_WORDS = [
    "zebra-kumquat",
    "sore throat",
    "albuterol",
    "walgreens",
    "penicillin",
    "Oak Street",
    "62704",
    "yearly checkup",
    "blue elephants",
    "knee hurts",
    "crushing chest pain",
    "climb stairs",
    "weekday mornings",
]


def hits(logs: dict[str, str], sent: list[str]) -> dict[str, list[str]]:
    """Every needle found in every log file: kind -> ``file: match`` lines."""
    found: dict[str, list[str]] = {}
    patterns = {kind: [re.compile(n) for n in needles] for kind, needles in NEEDLES.items()}
    texts = sorted({t for t in sent if len(t) >= 12} | set(TYPED_WORDS), key=len)
    for name, text in logs.items():
        for kind, compiled in patterns.items():
            for pattern in compiled:
                for match in pattern.finditer(text):
                    context = text[max(0, match.start() - 80) : match.end() + 40].replace("\n", "\\n")
                    found.setdefault(kind, []).append(f"{name}: {match.group(0)!r} in ...{context}...")
        lowered = text.lower()
        for typed in texts:
            if typed.lower() in lowered:
                found.setdefault("message texts", []).append(f"{name}: {typed!r}")
    return found


def every_log(var_dir: Path) -> dict[str, str]:
    """Every log file under the run's folder (the servers', the command line's, the launcher's output)."""
    files = [p for p in var_dir.rglob("*") if p.is_file() and p.suffix in {".log", ".out", ".txt"}]
    return {str(p.relative_to(var_dir)): p.read_text(errors="replace") for p in sorted(files)}


class DebugAssistant:
    """A Rasa server at LOG_LEVEL=DEBUG, and an action server the test starts, kills and restarts."""

    def __init__(self, rasa: RunningAssistant) -> None:
        self.rasa = rasa
        self.env = dict(rasa.env)
        self.actions: subprocess.Popen | None = None
        self.sent: list[str] = []
        self.transcript: list[str] = []
        self.starts = 0

    def start_actions(self, **env: str) -> None:
        """Start ``python -m bot.action_server`` (log under var/log/) and wait until it answers."""
        self.stop_actions()
        self.starts += 1
        log = self.rasa.var_dir / "log" / f"action-server-test-{self.starts}.log"
        self.actions = subprocess.Popen(
            [sys.executable, "-m", "bot.action_server"],
            cwd=ROOT,
            env={**self.env, **env},
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.actions.poll() is not None:
                raise RuntimeError("action server exited:\n" + log.read_text(errors="replace")[-3000:])
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.env['ACTION_PORT']}/health", timeout=2):
                    return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("action server did not start")

    def stop_actions(self) -> None:
        """Kill the action server like a crash would."""
        if self.actions is not None and self.actions.poll() is None:
            os.killpg(self.actions.pid, signal.SIGKILL)
            self.actions.wait(timeout=30)
        self.actions = None

    def chat(self) -> Conversation:
        """A new conversation whose every message is remembered for the log search."""
        conversation = Conversation(self.rasa.rasa_url)
        say: Callable[[str], list] = conversation.say

        def remembered(text: str) -> list:
            self.sent.append(text)
            replies = say(text)
            self.transcript.append(f"{conversation.sender} > {text}\n" + conversation.text)
            return replies

        conversation.say = remembered  # type: ignore[method-assign]
        return conversation


@pytest.fixture(scope="module")
def debug_assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DebugAssistant]:
    """The demo at LOG_LEVEL=DEBUG: the database seeded by the command line, both servers logging."""
    var_dir = tmp_path_factory.mktemp("debug-var")
    rasa = start_assistant(var_dir, {"LOG_LEVEL": "DEBUG", "ACTION_PORT": str(free_port())}, command="rasa-server")
    running = DebugAssistant(rasa)
    try:
        seeded = subprocess.run(
            [sys.executable, "-m", "bot", "seed"], cwd=ROOT, env=running.env, capture_output=True, check=True
        )
        (var_dir / "log" / "seed.log").write_bytes(seeded.stdout + seeded.stderr)
        running.start_actions()
        yield running
    finally:
        running.stop_actions()
        rasa.stop()


def verify(chat: Conversation, name: str = "Jordan Rivera", dob: str = "03/14/1990") -> None:
    chat.say(name)
    chat.say(dob)


def slot_buttons(chat: Conversation) -> list[int]:
    return [i for i, b in enumerate(chat.buttons) if "slot_choice" in b["payload"]]


INTAKE_ANSWERS = {
    "is all of this right": "yes",
    "full legal name": "yes",
    "another name you like": "skip",
    "date of birth": "March 14, 1990",
    "mobile phone": "(212) 555-0175",
    "what is your email": "jordan.rivera@example.com",
    "home address": "12 Oak Street, Springfield, IL 62704",
    "call in an emergency": "Maria Rivera",
    "their phone number": "212.555.0188",
    "related to you": "sister",
    "main reason for your visit": "yearly checkup",
    "what medicines": "none",
    "allergic": "penicillin",
    "still your insurance": "yes",
    "member id": "W123456789",
    "whose name is the plan": "mine",
    "consent to treatment": "yes",
    "text messages": "yes",
}


def conversations(assistant: DebugAssistant) -> None:
    """Every kind of conversation the assistant has, with the demo patients' data in them."""
    # Booking with identity (a symptom as the reason).
    chat = assistant.chat()
    chat.say("hi i need an appointment")
    chat.say("sore throat since monday")
    chat.say("anyone is fine")
    chat.say("tomorrow afternoon")
    if slot_buttons(chat):
        chat.click(slot_buttons(chat)[0])
    verify(chat)
    chat.say("yes")
    booked = re.findall(r"\bA-[0-9A-Z]{5}\b", chat.text)
    # A new patient registers with a phone number.
    chat = assistant.chat()
    chat.say("hi, i'm new and want to become a patient")
    chat.say("new patient visit")
    chat.say("anyone")
    chat.say("next wednesday")
    if slot_buttons(chat):
        chat.click(slot_buttons(chat)[0])
    chat.say("Maria Lopez")
    chat.say("7/4/1985")
    chat.say("yes")
    chat.say("my cell is (555) 201-9999")
    chat.say("yes")
    # Reschedule, then cancel, the visit booked above.
    chat = assistant.chat()
    chat.say("can i move my appointment")
    verify(chat, dob="1990-03-14")
    moves = [i for i, b in enumerate(chat.buttons) if any(a in b["payload"] for a in booked)] or [0]
    if chat.buttons:
        chat.click(moves[0])
        chat.say("thursday next week in the afternoon")
        if slot_buttons(chat):
            chat.click(slot_buttons(chat)[0])
            chat.say("yes")
    chat = assistant.chat()
    chat.say("i need to cancel my appointment")
    verify(chat, name="jordan rivera", dob="3/14/1990")
    if chat.buttons:
        chat.click(0)
        chat.say("yes")
    # Appointments of the other demo patient.
    chat = assistant.chat()
    chat.say("when is my next appointment?")
    verify(chat, name="Ana Souza", dob="11/02/1978")
    # Insurance: carriers, a member id, the copay, a bill and a call back with a phone.
    chat = assistant.chat()
    chat.say("do u guys take blue cross")
    chat.say("my member id is W123456789, am i covered?")
    chat.say("when is my appointment")
    verify(chat, dob="Mar 14 1990")
    chat.say("whats my copay")
    chat = assistant.chat()
    chat.say("i got a bill and i dont get what the deductible is")
    chat.say("yes")
    chat.say("Maria Lopez")
    chat.say("(555) 201-3344")
    chat.say("weekday mornings")
    # Intake: email, phones, date of birth, address, member id.
    chat = assistant.chat()
    chat.say("i want to fill out my new patient paperwork")
    verify(chat)
    for _ in range(30):
        text = chat.text.lower()
        key = next((k for k in INTAKE_ANSWERS if k in text), None)
        if key is None:
            break
        chat.say(INTAKE_ANSWERS[key])
    # Next steps after a visit, results, a refill.
    chat = assistant.chat()
    chat.say("what should i do now after my visit?")
    verify(chat)
    chat = assistant.chat()
    chat.say("are my xray results back")
    verify(chat, name="Ana Souza", dob="November 2, 1978")
    chat = assistant.chat()
    chat.say("i need a refill please")
    verify(chat)
    chat.say("albuterol")
    chat.say("walgreens on oak street")
    # A person: the hand-off (the assistant then stays quiet), and misunderstanding.
    chat = assistant.chat()
    chat.say("zebra-kumquat, call me Jordan Rivera at +1 555 555 0123")
    chat.say("blue elephants")
    chat.say("can i talk to a real person please")
    chat.say("hello? is anyone there")
    # An emergency and symptoms.
    chat = assistant.chat()
    chat.say("I have crushing chest pain and can't breathe")
    chat = assistant.chat()
    chat.say("my knee hurts when I climb stairs")
    chat.say("Jordan Rivera here, email jordan.rivera@example.com, born 14th of March 1990")


# What each conversation leaves in our own log lines: proof that it ran to its end, with
# record numbers as keyed references.
OUTCOMES = {
    "booking with identity": r"booked A-\w{5} for pt-[0-9a-f]{12} with \w+ \(sick_visit\)",
    "new patient with a phone": r"registered patient pt-[0-9a-f]{12}",
    "reschedule": r"rescheduled A-\w{5} to A-\w{5} for pt-[0-9a-f]{12}",
    "cancel": r"cancelled A-\w{5} for pt-[0-9a-f]{12}",
    "insurance": r"coverage read for pt-[0-9a-f]{12}",
    "call back": r"callback request \S+ \(\w+\) queued",
    "intake": r"intake version 1 stored for pt-[0-9a-f]{12}",
    "next steps": r"latest visit read for pt-[0-9a-f]{12}",
    "results": r"pending results read for pt-[0-9a-f]{12}",
    "refill": r"refill request R-\w{5} queued for pt-[0-9a-f]{12}",
    "hand-off": r"handoff H-\w{5} queued",
    "emergency": r"emergency flag E-\w{5}",
    "symptoms": r"symptoms described",
}


def assert_every_conversation_ran(assistant: DebugAssistant) -> None:
    logs = "\n".join(every_log(assistant.rasa.var_dir).values())
    missing = [kind for kind, outcome in OUTCOMES.items() if not re.search(outcome, logs)]
    assert not missing, f"conversations that did not reach their end: {missing}\n" + "\n\n".join(assistant.transcript)


def assert_no_hits(assistant: DebugAssistant) -> None:
    planted = "Jordan Rivera, 1990-03-14, (555) 555-0123, jordan.rivera@example.com, W123456789, P-1001, albuterol"
    assert set(hits({"planted": planted}, [])) == set(NEEDLES) | {"message texts"}  # the search finds each kind
    logs = every_log(assistant.rasa.var_dir)
    debug_lines = sum(text.count("DEBUG") + text.count('"level": "debug"') for text in logs.values())
    assert debug_lines > 100, f"the servers did not log at DEBUG: {list(logs)}"
    found = hits(logs, assistant.sent)
    summary = {kind: len(lines) for kind, lines in found.items()}
    assert not found, f"patient data in the logs: {summary}\n" + "\n".join(
        line for lines in found.values() for line in lines[:5]
    )


def test_debug_logs_of_every_conversation_and_fault_hold_no_patient_data(debug_assistant: DebugAssistant) -> None:
    conversations(debug_assistant)
    assert_every_conversation_ran(debug_assistant)

    # The action server is killed in the middle of a booking form, then comes back.
    chat = debug_assistant.chat()
    chat.say("i need to book an appointment for my sore throat")
    debug_assistant.stop_actions()
    chat.say("Jordan Rivera, 03/14/1990, call me at 555-555-0123")
    assert "can't do that right now" in chat.text
    debug_assistant.start_actions()
    chat.say("dr patel")

    # The clinic database cannot be reached.
    debug_assistant.start_actions(
        CLINIC_DATABASE_URL=f"postgresql://clinic@127.0.0.1:{free_port()}/clinic", BACKEND_TIMEOUT_SECONDS="5"
    )
    chat = debug_assistant.chat()
    replies = [chat.say("show my appointments"), chat.say("Jordan Rivera"), chat.say("03/14/1990")]
    replies.append(chat.say("i need a refill please"))
    assert any("right now" in (m.get("text") or "") for reply in replies for m in reply), replies
    debug_assistant.start_actions()

    assert_no_hits(debug_assistant)


def post(url: str, body: dict) -> tuple[int, dict | list]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=90) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_failed_rest_turn_answers_503_and_logs_no_text(debug_assistant: DebugAssistant) -> None:
    url = f"{debug_assistant.rasa.rasa_url}/webhooks/rest/webhook"
    sender = "privacy-rest-failure"
    assert post(url, {"sender": sender, "message": "hello"})[0] == 200
    text = "zebra-kumquat my name is Jordan Rivera born 03/14/1990 cell 555-555-0123"
    debug_assistant.sent.append(text)
    # Another writer holds the conversation database: reads go on, the turn cannot be written.
    holder = sqlite3.connect(debug_assistant.rasa.var_dir / "tracker.db", timeout=1, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        status, body = post(url, {"sender": sender, "message": text})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert (status, body) == (503, {"error": "unavailable", "reason": STORE_UNAVAILABLE})
    logs = "\n".join(every_log(debug_assistant.rasa.var_dir).values())
    assert "rest turn failed (503)" in logs
    assert post(url, {"sender": sender, "message": "hello again"})[0] == 200  # the next turn works
    assert_no_hits(debug_assistant)
