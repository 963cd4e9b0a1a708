"""When a part is down the patient is told plainly, nothing half-done is stored, and nothing is lost.

Each failure is provoked for real: the action server process is stopped, the
clinic database points at a port nobody listens on, and a PostgreSQL server of
the test's own is stopped in the middle of a booking form.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.e2e.harness import ROOT, Conversation, RunningAssistant, free_port, start_assistant
from tests.throwaway_postgres import ThrowawayPostgres

pytestmark = pytest.mark.e2e

CLINIC_PHONE = "(555) 010-2000"
PRIVATE_WORDS = ["follow up", "Rivera", "1990", "chest"]


def _start_action_server(env: dict[str, str], log: Path) -> subprocess.Popen:
    """Start ``python -m bot.action_server`` the way ``make run`` does, and wait until it answers."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.action_server"],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{env['ACTION_PORT']}/health"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("action server exited:\n" + log.read_text(errors="replace")[-3000:])
        try:
            with urllib.request.urlopen(url, timeout=2):
                return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError("action server did not start")


def _stop(process: subprocess.Popen) -> None:
    """Stop a server process group like a crash would (SIGKILL: no goodbye)."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def _prepare_clinic_database(env: dict[str, str]) -> None:
    """Migrate and seed the demo clinic, as ``make run`` does."""
    subprocess.run([sys.executable, "-m", "bot", "seed"], cwd=ROOT, env=env, check=True, capture_output=True)


@pytest.fixture
def rasa_alone(tmp_path: Path) -> Iterator[RunningAssistant]:
    """A Rasa server whose action server the test starts and stops itself."""
    assistant = start_assistant(tmp_path, {"ACTION_PORT": str(free_port())}, command="rasa-server")
    try:
        yield assistant
    finally:
        assistant.stop()


def _count_appointments(database_url: str) -> int:
    """Appointments booked through the assistant (the seeded ones are not from the REST channel)."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT COUNT(*) FROM appointments")).scalar_one()
    finally:
        engine.dispose()


def test_action_server_down_mid_form_tells_the_patient_and_the_form_goes_on_later(
    rasa_alone: RunningAssistant, tmp_path: Path
) -> None:
    env = dict(rasa_alone.env)
    _prepare_clinic_database(env)
    booked_before = _count_appointments(rasa_alone.clinic_database_url)
    actions = _start_action_server(env, tmp_path / "actions-1.log")
    chat = Conversation(rasa_alone.rasa_url)
    try:
        chat.say("i need to book an appointment")
        assert "visit" in chat.text.lower()
        _stop(actions)
        chat.say("follow up")
        assert "can't do that right now" in chat.text and CLINIC_PHONE in chat.text
        assert len([m for m in chat.last if "can't do that right now" in (m.get("text") or "")]) == 1
        actions = _start_action_server(env, tmp_path / "actions-2.log")
        chat.say("follow up")
        assert "Who would you like to see" in chat.text or "provider" in chat.text.lower()
    finally:
        _stop(actions)
    assert _count_appointments(rasa_alone.clinic_database_url) == booked_before
    logs = rasa_alone.logs()
    assert "custom action" in logs and "failed" in logs
    for word in PRIVATE_WORDS:
        assert word not in logs


def test_clinic_database_down_gets_the_phone_number_and_books_nothing(
    rasa_alone: RunningAssistant, tmp_path: Path
) -> None:
    env = dict(rasa_alone.env)
    env["CLINIC_DATABASE_URL"] = f"postgresql://clinic@127.0.0.1:{free_port()}/clinic"  # nobody listens there
    env["BACKEND_TIMEOUT_SECONDS"] = "5"
    actions = _start_action_server(env, tmp_path / "actions.log")
    chat = Conversation(rasa_alone.rasa_url)
    try:
        chat.say("hi")
        chat.say("book a follow up with dr patel for tomorrow morning")
        text = chat.text
    finally:
        _stop(actions)
    assert "right now" in text and CLINIC_PHONE in text, text
    action_log = (tmp_path / "actions.log").read_text(errors="replace")
    assert "tomorrow" not in action_log and "patel" not in action_log.lower()


@pytest.mark.postgres
def test_conversation_store_down_mid_form_is_told_and_nothing_is_lost(tmp_path: Path) -> None:
    server = ThrowawayPostgres()
    assistant = None
    try:
        assistant = start_assistant(tmp_path, {"TRACKER_STORE_URL": server.url})
        chat = Conversation(assistant.rasa_url)
        chat.say("i need to book an appointment")
        chat.say("follow up")
        assert "Who would you like to see" in chat.text or "provider" in chat.text.lower()

        server.stop()
        chat.say("dr patel")
        assert "can't open our conversation" in chat.text
        assert CLINIC_PHONE in chat.text
        logs = assistant.logs()
        assert "conversation store could not be read" in logs
        assert "patel" not in logs.lower()

        server.start()
        chat.say("dr patel")
        # The form picks up where it was: the next question is about the time, not "how can I help".
        assert "When would you like" in chat.text or "when" in chat.text.lower()
        events = chat.tracker()["events"]
        user_texts = [e.get("text") for e in events if e.get("event") == "user"]
        assert user_texts[:2] == ["i need to book an appointment", "follow up"]
    finally:
        if assistant is not None:
            assistant.stop()
        server.remove()
