"""``python -m bot worker`` as real processes: exactly once with two workers, a killed one, restarts, quiet hours.

Workers run on one clinic database (a SQLite file; PostgreSQL once) with the
clinic clock fixed by ``CLINIC_TODAY``/``CLINIC_TIME`` and Twilio's API played
by :class:`tests.channels.fake_twilio.FakeTwilio` on a thread here, which
records every part it accepted. No assertion is about speed: waits are
deadlines for an outcome.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from benchmarks.outreach_reminders import (
    CHANNEL_SECRET,
    TODAY,
    add_visits,
    kill_worker,
    outbox_statuses,
    prepare_clinic,
    start_worker,
    stop_worker,
    texts_per_number,
    worker_env,
)
from bot.db import dispose_engines, get_engine
from bot.outreach.outbox import LEASE
from bot.settings import reset_settings_cache
from tests.channels.fake_twilio import FakeTwilio
from tests.fixtures_db import create_pg_database, drop_pg_database

pytestmark = pytest.mark.e2e

TOMORROW = TODAY + dt.timedelta(days=1)


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    """The Twilio stand-in the workers send through."""
    fake = FakeTwilio().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    """A migrated demo clinic on a SQLite file."""
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    prepare_clinic(url)
    yield url
    dispose_engines()


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start worker processes (``start(env)``); every one still running is stopped at the end."""
    started: list[subprocess.Popen] = []

    def start(env: dict[str, str]) -> subprocess.Popen:
        process = start_worker(env, tmp_path / f"worker-{len(started) + 1}.log")
        started.append(process)
        return process

    yield start
    for process in started:
        stop_worker(process)


def _logs(tmp_path: Path) -> str:
    return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(tmp_path.glob("worker-*.log")))


def _wait(condition: Callable[[], bool], what: str, tmp_path: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}\n{_logs(tmp_path)}")


def _exactly_once(fake: FakeTwilio, numbers: set[str]) -> None:
    got = texts_per_number(fake)
    assert {n: c for n, c in got.items() if n in numbers and c != 1} == {}
    assert numbers <= set(got)


def _two_workers_send_each_once(url: str, twilio: FakeTwilio, workers, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    made = add_visits(url, 30, TOMORROW)
    numbers = {number for _, number, _ in made}
    env = worker_env(url, twilio.url, tmp_path)
    first, second = workers(env), workers(env)
    _wait(lambda: numbers <= set(texts_per_number(twilio)), "every reminder sent", tmp_path)
    time.sleep(2)  # a second text would show by now
    _exactly_once(twilio, numbers)
    assert outbox_statuses(url)["sent"] >= 30
    assert stop_worker(first) == 0 and stop_worker(second) == 0  # SIGTERM ends them cleanly
    logs = _logs(tmp_path)
    assert not any(number in logs for number in numbers) and "Bench" not in logs  # ids and counts only


def test_two_workers_send_each_reminder_exactly_once(sqlite_url, twilio, workers, tmp_path) -> None:
    _two_workers_send_each_once(sqlite_url, twilio, workers, tmp_path)


@pytest.mark.postgres
def test_two_workers_on_postgresql_send_each_reminder_exactly_once(twilio, workers, tmp_path) -> None:
    url = create_pg_database()
    try:
        prepare_clinic(url)
        _two_workers_send_each_once(url, twilio, workers, tmp_path)
    finally:
        drop_pg_database(url)


def test_a_worker_killed_mid_send_leaves_nothing_doubled_or_lost(sqlite_url, twilio, workers, tmp_path) -> None:
    made = add_visits(sqlite_url, 6, TOMORROW)
    numbers = {number for _, number, _ in made}
    env = worker_env(sqlite_url, twilio.url, tmp_path)
    twilio.send_delay = 3.0  # Twilio takes the text at once and answers late
    victim = workers(env)
    _wait(lambda: len(twilio.sent) >= 1, "a send under way", tmp_path)
    kill_worker(victim)  # Twilio has the text; the worker never heard back
    twilio.send_delay = 0.0
    assert outbox_statuses(sqlite_url)["sending"] >= 1  # in hand when it died
    reads_before = twilio.log_reads
    workers(env)  # takes over once the dead worker's leases run out
    _wait(lambda: numbers <= set(texts_per_number(twilio)), "every reminder sent", tmp_path, LEASE.seconds + 90)
    _wait(lambda: outbox_statuses(sqlite_url)["sending"] == 0, "no row left in doubt", tmp_path)
    _exactly_once(twilio, numbers)
    assert twilio.log_reads > reads_before  # the in-doubt row was checked in Twilio's log, not resent
    sent = len(twilio.sent)
    workers(env)  # a restart (a third worker) finds nothing to send again
    time.sleep(4)
    assert len(twilio.sent) == sent


def test_quiet_hours_hold_texts_until_eight_in_the_morning(sqlite_url, twilio, workers, tmp_path) -> None:
    day_after = TODAY + dt.timedelta(days=2)  # the two-days-before reminder is due now: 10:00 today
    made = add_visits(sqlite_url, 3, day_after)
    numbers = {number for _, number, _ in made}
    evening = workers(worker_env(sqlite_url, twilio.url, tmp_path, TODAY, "21:00"))
    _wait(lambda: outbox_statuses(sqlite_url)["planned"] >= 6, "reminders planned", tmp_path)
    time.sleep(3)  # a few rounds at 21:00
    assert texts_per_number(twilio).keys().isdisjoint(numbers)
    stop_worker(evening)
    with get_engine(sqlite_url).connect() as conn:
        send_at = conn.execute(
            sa.text("SELECT MIN(send_at) FROM outbox WHERE status = 'planned' AND appointment_id LIKE 'A-B%'")
        ).scalar()
    assert str(send_at).startswith("2026-12-03 13:00")  # 08:00 in New York, in UTC
    workers(worker_env(sqlite_url, twilio.url, tmp_path, TODAY + dt.timedelta(days=1), "08:00"))
    _wait(lambda: numbers <= set(texts_per_number(twilio)), "the held reminders sent at 08:00", tmp_path)
    time.sleep(1)
    _exactly_once(twilio, numbers)


def test_no_text_without_consent_or_to_an_opted_out_number(sqlite_url, twilio, workers, tmp_path, monkeypatch) -> None:
    from bot.sms_opt_out import set_opted_out

    [(_, welcome, _)] = add_visits(sqlite_url, 1, TOMORROW)
    [(_, stopped, _)] = add_visits(sqlite_url, 1, TOMORROW, first=1)
    [(_, unasked, _)] = add_visits(sqlite_url, 1, TOMORROW, consent=False, first=2)
    monkeypatch.setenv("CHANNEL_ID_SECRET", CHANNEL_SECRET)  # the opt-out list's keys are the workers'
    reset_settings_cache()
    try:
        set_opted_out(stopped, True, url=sqlite_url)
    finally:
        reset_settings_cache()
    workers(worker_env(sqlite_url, twilio.url, tmp_path))
    _wait(lambda: welcome in texts_per_number(twilio), "the consenting patient's reminder", tmp_path)
    _wait(
        lambda: outbox_statuses(sqlite_url)["skipped"] >= 2 and outbox_statuses(sqlite_url)["sending"] == 0,
        "the other two settled",
        tmp_path,
    )
    got = texts_per_number(twilio)
    assert got[welcome] == 1 and stopped not in got and unasked not in got
    with get_engine(sqlite_url).connect() as conn:
        reasons = dict(
            conn.execute(
                sa.text(
                    "SELECT a.patient_id, o.status_reason FROM outbox o JOIN appointments a"
                    " ON a.id = o.appointment_id WHERE a.id LIKE 'A-B%' AND o.status = 'skipped'"
                )
            ).all()
        )
    assert sorted(reasons.values()) == ["no_consent", "opted_out"]


@pytest.mark.model
def test_the_running_assistant_starts_a_worker_that_texts_a_late_booked_visit(twilio, tmp_path) -> None:
    from tests.e2e.harness import start_assistant

    env = worker_env("", twilio.url, tmp_path)
    extra = {name: value for name, value in env.items() if name.startswith(("TWILIO_", "CHANNEL_"))}
    assistant = start_assistant(tmp_path, extra)  # python -m bot run, as make run starts it
    try:
        banner = (tmp_path / f"bot-run-{assistant.env['RASA_PORT']}.out").read_text(errors="replace")
        assert "Reminders:     sent by the worker" in banner
        [(_, number, _)] = add_visits(assistant.clinic_database_url, 1, TOMORROW)  # booked late: due at once
        _wait(lambda: number in texts_per_number(twilio), "the worker's reminder", tmp_path)
        [message] = twilio.sent_to(number)
        assert "Maple Grove" in message.body and "9:00 AM" in message.body
        worker_log = (tmp_path / "log" / "worker.log").read_text(errors="replace")
        assert "outbox round" in worker_log and number not in worker_log and "Bench" not in worker_log
    finally:
        assistant.stop()
    assert "outreach worker stopped" in (tmp_path / "log" / "worker.log").read_text(errors="replace")
