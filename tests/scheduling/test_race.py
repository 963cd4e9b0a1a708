"""Patients racing for the same time: exactly one wins, on SQLite and PostgreSQL.

Each thread uses its own service object and its own pooled connection; a
barrier releases them at the same moment.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bot.db import get_engine
from bot.scheduling import AppointmentInfo, SlotUnavailable, SqlSchedulingService
from tests.fixtures_db import NOW, local, race

THREADS = 8


def count_booked(url: str, provider: str) -> int:
    with get_engine(url).connect() as conn:
        return conn.execute(
            sa.text("SELECT COUNT(*) FROM appointments WHERE provider_id = :p AND status = 'booked'"),
            {"p": provider},
        ).scalar_one()


def assert_one_winner(results: list[object]) -> AppointmentInfo:
    winners = [r for r in results if isinstance(r, AppointmentInfo)]
    losers = [r for r in results if isinstance(r, SlotUnavailable)]
    assert len(winners) == 1, results
    assert len(losers) == len(results) - 1, results
    return winners[0]


@pytest.mark.parametrize("round_", range(3))
def test_same_slot_race_has_exactly_one_winner(db_url: str, round_: int) -> None:
    start = local(3, 9 + round_, 0)
    calls = [
        (lambda i=i: SqlSchedulingService(db_url).book(f"P-{2000 + i}", "patel", "sick_visit", start, now=NOW))
        for i in range(THREADS)
    ]
    winner = assert_one_winner(race(calls))
    assert winner.start == start
    assert count_booked(db_url, "patel") == 1


def test_overlapping_slots_race_has_exactly_one_winner(db_url: str) -> None:
    """Different start times that overlap: only the provider lock (not the unique index) can stop this."""
    calls = []
    for i in range(THREADS):
        visit, start = ("new_patient", local(3, 9, 0)) if i % 2 else ("sick_visit", local(3, 9, 20))
        calls.append(
            lambda i=i, visit=visit, start=start: SqlSchedulingService(db_url).book(
                f"P-{2000 + i}", "okafor", visit, start, now=NOW
            )
        )
    assert_one_winner(race(calls))
    assert count_booked(db_url, "okafor") == 1


def test_reschedule_race_has_exactly_one_winner(db_url: str) -> None:
    svc = SqlSchedulingService(db_url)
    originals = [
        svc.book(f"P-{2000 + i}", "okafor", "sick_visit", local(3 + i // 4, 13 + i % 4, 0), now=NOW)
        for i in range(THREADS)
    ]
    target = local(4, 14, 0)
    calls = [
        (lambda a=a: SqlSchedulingService(db_url).reschedule(a.appointment_id, a.patient_id, target, "patel", now=NOW))
        for a in originals
    ]
    winner = assert_one_winner(race(calls))
    assert winner.start == target and winner.provider_id == "patel"
    assert count_booked(db_url, "patel") == 1
    assert count_booked(db_url, "okafor") == THREADS - 1
    for original in originals:
        current = svc.get_appointment(original.appointment_id, original.patient_id)
        if original.appointment_id == winner.rescheduled_from:
            assert current.status == "rescheduled"
        else:
            assert current == original


def test_unique_index_is_a_second_guard(db_url: str) -> None:
    """Even a writer that skips the service cannot book one provider twice at one start."""
    row = {
        "p": "patel",
        "s": "2026-12-03 14:00:00",
        "e": "2026-12-03 14:20:00",
        "c": "2026-12-02 13:00:00",
    }
    insert = sa.text(
        "INSERT INTO appointments (id, patient_id, provider_id, visit_type_code, start_at, end_at,"
        " status, channel, created_at, updated_at)"
        " VALUES (:id, 'P-1001', :p, 'sick_visit', :s, :e, :status, 'test', :c, :c)"
    )
    engine = get_engine(db_url)
    with engine.begin() as conn:
        conn.execute(insert, {**row, "id": "A-22222", "status": "booked"})
        conn.execute(insert, {**row, "id": "A-33333", "status": "cancelled"})  # inactive rows do not count
    with pytest.raises(sa.exc.IntegrityError):
        with engine.begin() as conn:
            conn.execute(insert, {**row, "id": "A-44444", "status": "booked"})
