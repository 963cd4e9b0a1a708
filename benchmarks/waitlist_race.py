"""Waitlist race benchmark: 20 waitlisted patients answer "yes" to one freed time within 100 ms.

Target (issue 13): exactly one booking, every other patient told the time is
gone (and still on the waitlist). A real assistant runs (``python -m bot run``,
on its own SQLite files, SMS configured against the local Twilio stand-in of
the tests); each patient holds an open offer of the same time, written as the
worker leaves a sent text; then every patient's signed "yes" webhook is
released together. Prints the bookings, the "gone" answers, how far apart the
answers were sent and their latencies; asserts nothing about speed, exits 1
when the count of bookings or "gone" answers is wrong.

    .venv/bin/python -m benchmarks.waitlist_race [--patients 20] [--keep]
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from bot.db import get_engine
from bot.scheduling.sql import SqlSchedulingService
from tests.channels.adapters import PUBLIC_URL, SmsAdapter, new_number
from tests.channels.contract import CHANNEL_ID_SECRET, Reply, channel_settings
from tests.channels.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from tests.e2e.harness import RunningAssistant, start_assistant
from tests.fixtures_db import local
from tests.outreach.sent_texts import sent_offer

NOW = local(2, 10, 0)  # the assistant's fixed clock (tests/e2e/harness.py)
SPREAD_TARGET_MS = 100.0


def offered_time(assistant: RunningAssistant) -> dt.datetime:
    """An open sick-visit time with Dr. Patel tomorrow or later: the freed time on offer."""
    slots = SqlSchedulingService(assistant.clinic_database_url).search_slots(
        "sick_visit", "patel", start_date=dt.date(2026, 12, 3), end_date=dt.date(2026, 12, 18), limit=1, now=NOW
    )
    return slots[0].start


def race(sms: SmsAdapter, numbers: list[str]) -> tuple[list[Reply | None], list[float], list[float]]:
    """Every number's "yes" released together: replies, send moments and latencies (seconds)."""
    barrier = threading.Barrier(len(numbers))
    replies: list[Reply | None] = [None] * len(numbers)
    sent = [0.0] * len(numbers)
    took = [0.0] * len(numbers)

    def answer(index: int) -> None:
        barrier.wait()
        sent[index] = time.perf_counter()
        replies[index] = sms.send(numbers[index], "yes")
        took[index] = time.perf_counter() - sent[index]

    threads = [threading.Thread(target=answer, args=(i,)) for i in range(len(numbers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    return replies, sent, took


def count(url: str, sql: str) -> int:
    with get_engine(url).connect() as conn:
        return int(conn.execute(sa.text(sql)).scalar() or 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the run's folder (logs, databases)")
    args = parser.parse_args(argv)

    var_dir = Path(tempfile.mkdtemp(prefix="waitlist-race-"))
    fake = FakeTwilio().start()
    env = {
        "CLINIC_PUBLIC_URL": PUBLIC_URL,
        "CHANNEL_ID_SECRET": CHANNEL_ID_SECRET,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_API_URL": fake.url,
    }
    print(f"starting the assistant (folder {var_dir}) ...", flush=True)
    assistant = start_assistant(var_dir, env)
    try:
        url = assistant.clinic_database_url
        start = offered_time(assistant)
        numbers = [new_number() for _ in range(args.patients)]
        for i, number in enumerate(numbers):
            sent_offer(
                url, f"P-{7000 + i}", number, "patel", "sick_visit", start, NOW - dt.timedelta(minutes=1),
                settings=channel_settings(),
            )  # fmt: skip
        sms = SmsAdapter(assistant)
        replies, sent, took = race(sms, numbers)
    finally:
        assistant.stop()
        fake.stop()
    texts = [(r.text.lower() if r is not None else "") for r in replies]
    booked_answers = sum("you're booked" in t for t in texts)
    gone_answers = sum("just taken" in t and "still on the waitlist" in t for t in texts)
    bookings = count(url, "SELECT COUNT(*) FROM appointments WHERE reason = 'waitlist' AND status = 'booked'")
    entries_booked = count(url, "SELECT COUNT(*) FROM waitlist_entries WHERE status = 'booked'")
    still_waiting = count(url, "SELECT COUNT(*) FROM waitlist_entries WHERE status = 'waiting'")
    spread_ms = (max(sent) - min(sent)) * 1000
    ordered = sorted(took)
    print(f"patients answering yes:   {args.patients}")
    print(f"answers sent within:      {spread_ms:.1f} ms (target <= {SPREAD_TARGET_MS:.0f} ms)")
    print(f"bookings:                 {bookings} (target 1); waitlist entries booked: {entries_booked}")
    print(f"'you're booked' answers:  {booked_answers} (target 1)")
    print(f"'gone' answers:           {gone_answers} (target {args.patients - 1}); still waiting: {still_waiting}")
    print(
        "answer latency:           "
        f"median {statistics.median(ordered) * 1000:.0f} ms, "
        f"p90 {ordered[int(0.9 * (len(ordered) - 1))] * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms"
    )
    if args.keep:
        print(f"kept: {var_dir}")
    else:
        shutil.rmtree(var_dir, ignore_errors=True)
    ok = bookings == 1 and booked_answers == 1 and gone_answers == args.patients - 1
    print("RESULT:", "met" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
