"""Reminders benchmark: 1,000 visits due for a reminder, two ``python -m bot worker`` processes, one killed.

Target (issue 13): every reminder planned and sent within a minute on this
machine, each exactly once, with two workers and one of them killed (SIGKILL)
mid-run and not restarted. Twilio is the local stand-in of the tests
(:class:`tests.channels.fake_twilio.FakeTwilio`), which records every part it
accepted; a duplicate is a second text to the same patient. Prints figures,
asserts nothing about speed; exit 1 when a text is missing or doubled.

    .venv/bin/python -m benchmarks.outreach_reminders [--visits 1000] [--database-url URL]

The helpers here (a clinic with many visits, a worker's environment) are also
what ``tests/outreach/test_worker_processes.py`` starts its workers with.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from tests.channels.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio

ROOT = Path(__file__).resolve().parents[1]
TODAY = dt.date(2026, 12, 2)  # a Wednesday
TIME = "10:00"
TZ = ZoneInfo("America/New_York")
CHANNEL_SECRET = "outreach-benchmark-secret"
TARGET_SECONDS = 60.0


def prepare_clinic(url: str, today: dt.date = TODAY) -> None:
    """Migrate the database and seed the demo clinic as of ``today``."""
    from bot.migrate import upgrade
    from bot.seed import seed_demo_clinic

    upgrade(url)
    seed_demo_clinic(url, today=today)


def mobile(index: int) -> str:
    """A distinct US mobile for benchmark patient ``index`` (555 numbers, never real)."""
    return f"+1555{7000000 + index:07d}"


def add_visits(
    url: str,
    count: int,
    day: dt.date,
    consent: bool = True,
    first: int = 0,
) -> list[tuple[str, str, str]]:
    """``count`` new patients (texting consent as given), each with a visit booked on ``day``.

    Written straight into the scheduling and records tables (no slot rules: the
    visits only need to exist). Returns (patient id, mobile, appointment id).
    """
    from bot.db import get_engine

    now = dt.datetime.now(dt.timezone.utc)
    engine = get_engine(url)
    with engine.begin() as conn:
        providers = [row[0] for row in conn.execute(sa.text("SELECT id FROM providers ORDER BY id"))]
        made = []
        patients, appointments = [], []
        for offset in range(count):
            index = first + offset
            patient_id = f"P-{900000 + index}"
            start = dt.datetime.combine(day, dt.time(9), tzinfo=TZ) + dt.timedelta(minutes=index // len(providers))
            appointment_id = f"A-B{index:06d}"
            patients.append(
                {
                    "id": patient_id,
                    "full_name": f"Bench Patient{index}",
                    "first_name": "Bench",
                    "last_name": f"Patient{index}",
                    "name_key": f"bench patient{index}",
                    "date_of_birth": dt.date(1980, 1, 1),
                    "mobile": mobile(index),
                    "sms_consent_at": now.replace(tzinfo=None) if consent else None,
                    "created_at": now.replace(tzinfo=None),
                }
            )
            appointments.append(
                {
                    "id": appointment_id,
                    "patient_id": patient_id,
                    "provider_id": providers[index % len(providers)],
                    "visit_type_code": "follow_up",
                    "start_at": start.astimezone(dt.timezone.utc).replace(tzinfo=None),
                    "end_at": (start + dt.timedelta(minutes=20)).astimezone(dt.timezone.utc).replace(tzinfo=None),
                    "status": "booked",
                    "channel": "benchmark",
                    "created_at": now.replace(tzinfo=None),
                    "updated_at": now.replace(tzinfo=None),
                }
            )
            made.append((patient_id, mobile(index), appointment_id))
        conn.execute(
            sa.text(
                "INSERT INTO patients (id, full_name, first_name, last_name, name_key, date_of_birth, mobile,"
                " sms_consent_at, created_at) VALUES (:id, :full_name, :first_name, :last_name, :name_key,"
                " :date_of_birth, :mobile, :sms_consent_at, :created_at)"
            ),
            patients,
        )
        conn.execute(
            sa.text(
                "INSERT INTO appointments (id, patient_id, provider_id, visit_type_code, start_at, end_at, status,"
                " channel, created_at, updated_at) VALUES (:id, :patient_id, :provider_id, :visit_type_code,"
                " :start_at, :end_at, :status, :channel, :created_at, :updated_at)"
            ),
            appointments,
        )
    return made


def worker_env(url: str, twilio_url: str, var_dir: Path, today: dt.date = TODAY, clock: str = TIME) -> dict[str, str]:
    """The environment of a worker process: this database, this Twilio, the clinic clock fixed."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("CLINIC_", "TRACKER_", "REDIS_", "RASA_", "TWILIO_"))
    }
    env.update(
        {
            "CLINIC_DOTENV": "0",
            "CLINIC_VAR_DIR": str(var_dir),
            "CLINIC_DATABASE_URL": url,
            "CLINIC_TODAY": today.isoformat(),
            "CLINIC_TIME": clock,
            "CHANNEL_ID_SECRET": CHANNEL_SECRET,
            "TWILIO_API_URL": twilio_url,
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_FROM_NUMBER": FROM_NUMBER,
            "PYTHONPATH": str(ROOT),
            "PYTHONWARNINGS": "ignore",
        }
    )
    return env


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    """``python -m bot worker`` in its own process group, its output in ``log``."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "worker"],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_worker(process: subprocess.Popen, timeout: float = 30) -> int | None:
    """SIGTERM (finish the text in hand), SIGKILL when it does not end; its exit code."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    return process.returncode


def kill_worker(process: subprocess.Popen) -> None:
    """SIGKILL: no goodbye, leases left behind."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def outbox_statuses(url: str, kind: str = "reminder") -> collections.Counter[str]:
    """Rows of ``kind`` by status."""
    from bot.db import get_engine

    with get_engine(url).connect() as conn:
        rows = conn.execute(sa.text("SELECT status, COUNT(*) FROM outbox WHERE kind = :k GROUP BY status"), {"k": kind})
        return collections.Counter({status: int(count) for status, count in rows})


def texts_per_number(fake: FakeTwilio) -> collections.Counter[str]:
    """How many messages each number got."""
    with fake._lock:
        return collections.Counter(message.to for message in fake.sent)


def run(visits: int, url: str | None, workdir: Path) -> int:
    """The benchmark; prints figures, 0 when every text went out exactly once."""
    url = url or f"sqlite:///{workdir / 'clinic.db'}"
    print(f"Preparing {visits} booked visits due for a reminder ({url.split(':', 1)[0]})...", flush=True)
    prepare_clinic(url)
    patients = add_visits(url, visits, TODAY + dt.timedelta(days=1))
    numbers = {number for _, number, _ in patients}
    fake = FakeTwilio().start()
    env = worker_env(url, fake.url, workdir)
    started = time.monotonic()
    workers = [start_worker(env, workdir / f"worker-{i}.log") for i in (1, 2)]
    planned_at = sent_at = None
    killed_at = None
    deadline = started + 5 * TARGET_SECONDS
    try:
        while time.monotonic() < deadline:
            statuses = outbox_statuses(url)
            got = texts_per_number(fake)
            if planned_at is None and sum(statuses.values()) >= 2 * visits:
                planned_at = time.monotonic() - started
            if killed_at is None and len(got) >= visits // 3:
                kill_worker(workers[0])  # mid-run: it holds a batch, maybe mid-send
                killed_at = time.monotonic() - started
            if len(numbers & set(got)) == visits and statuses.get("sending", 0) == 0:
                sent_at = time.monotonic() - started
                break
            time.sleep(0.05)
        time.sleep(2)  # anything doubled late would show now
    finally:
        for worker in workers:
            stop_worker(worker)
        fake.stop()
    got = texts_per_number(fake)
    duplicates = sum(count - 1 for number, count in got.items() if number in numbers and count > 1)
    missing = len(numbers - set(got))
    statuses = outbox_statuses(url)
    print(f"  visits:                 {visits} (two reminders each planned, one due now)")
    print(f"  worker killed (SIGKILL): at {killed_at or 0:.1f} s, not restarted")
    print(f"  all planned after:      {planned_at if planned_at is not None else float('nan'):.1f} s")
    print(f"  all sent after:         {sent_at if sent_at is not None else float('nan'):.1f} s")
    if sent_at:
        print(f"  messages per second:    {visits / sent_at:.0f}")
    print(f"  duplicates:             {duplicates}")
    print(f"  missing:                {missing}")
    print(f"  outbox rows by status:  {dict(sorted(statuses.items()))}")
    met = sent_at is not None and sent_at <= TARGET_SECONDS and duplicates == 0 and missing == 0
    print(
        f"  target (all planned and sent within {TARGET_SECONDS:.0f} s, each exactly once): "
        + ("met" if met else "MISSED")
    )
    return 0 if duplicates == 0 and missing == 0 else 1


def main(argv: list[str] | None = None) -> int:
    """Command line of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--visits", type=int, default=1000)
    parser.add_argument("--database-url", default=None, help="default: a SQLite file in a temporary folder")
    args = parser.parse_args(argv)
    os.environ.update({"CLINIC_DOTENV": "0", "CHANNEL_ID_SECRET": CHANNEL_SECRET})
    with tempfile.TemporaryDirectory(prefix="outreach-bench-") as folder:
        return run(args.visits, args.database_url, Path(folder))


if __name__ == "__main__":
    raise SystemExit(main())
