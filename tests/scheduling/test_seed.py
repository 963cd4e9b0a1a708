"""Loading the demo clinic (``bot.seed``): contents, idempotence, later days."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.db import get_engine
from bot.records import SqlRecordsService
from bot.scheduling import SqlSchedulingService
from bot.seed import DEFAULT_DATA_PATH, SeedDataError, load_clinic_data, seed_demo_clinic
from tests.fixtures_db import NOW, TODAY, local

TABLES = (
    "clinic",
    "opening_hours",
    "clinic_closures",
    "providers",
    "visit_types",
    "provider_visit_types",
    "provider_schedules",
    "patients",
    "record_counters",
    "appointments",
)


def snapshot(url: str) -> dict[str, list[tuple]]:
    """Every row of every clinic table, in a stable order."""
    with get_engine(url).connect() as conn:
        return {
            table: sorted((tuple(row) for row in conn.execute(sa.text(f"SELECT * FROM {table}"))), key=repr)
            for table in TABLES
        }


def test_data_file_has_the_design_facts() -> None:
    data = load_clinic_data()
    assert data.insurance_accepted == (
        "Aetna",
        "Blue Cross Blue Shield",
        "Cigna",
        "UnitedHealthcare",
        "Humana",
        "Medicare",
        "Medicaid",
    )
    assert data.insurance_not_accepted == ("Kaiser Permanente", "Tricare")
    saturday_workers = {p.provider_id for p in data.providers if 5 in p.schedule.by_weekday}
    assert saturday_workers == {"patel", "okafor"}
    assert all(6 not in p.schedule.by_weekday for p in data.providers)
    assert all(
        p.schedule.by_weekday[0] == ((dt.time(8), dt.time(12)), (dt.time(13), dt.time(17))) for p in data.providers
    )


def test_seed_twice_changes_nothing(db_url: str) -> None:
    before = snapshot(db_url)
    assert len(before["appointments"]) == 2 and len(before["patients"]) == 2
    seed_demo_clinic(db_url, today=TODAY)
    assert snapshot(db_url) == before


def test_seed_loads_the_demo_patients(db_url: str) -> None:
    records = SqlRecordsService(db_url)
    jordan = records.verify_identity("Jordan Rivera", dt.date(1990, 3, 14))
    ana = records.verify_by_mobile_and_dob("+15555550188", dt.date(1978, 11, 2))
    assert jordan is not None and jordan.patient_id == "P-1001"
    assert ana is not None and ana.patient_id == "P-1002" and ana.first_name == "Ana"
    assert records.register_patient("Sam Lee", dt.date(1985, 1, 1), "5555550100", today=TODAY).patient_id == "P-1003"


def test_seed_on_a_later_day_moves_the_demo_appointments_only(db_url: str) -> None:
    svc = SqlSchedulingService(db_url)
    booked = svc.book("P-1001", "patel", "sick_visit", local(3, 9, 0), now=NOW)
    later = TODAY + dt.timedelta(days=5)  # Monday 2026-12-07
    seed_demo_clinic(db_url, today=later)
    seed_demo_clinic(db_url, today=later)
    (ana,) = svc.upcoming_appointments("P-1002", now=NOW)
    assert ana.appointment_id == "A-7K3Q9" and ana.start == local(10, 10, 0)
    jordan_past = svc.get_appointment("A-4RJ2X", "P-1001")
    assert jordan_past.start == local(30, 10, 0, month=11) and jordan_past.status == "completed"
    assert svc.get_appointment(booked.appointment_id, "P-1001") == booked
    assert len(snapshot(db_url)["appointments"]) == 3


def test_seed_restores_a_cancelled_demo_appointment_but_not_a_moved_one(db_url: str) -> None:
    svc = SqlSchedulingService(db_url)
    svc.cancel("A-7K3Q9", "P-1002", now=NOW)
    seed_demo_clinic(db_url, today=TODAY)
    assert svc.get_appointment("A-7K3Q9", "P-1002").status == "booked"
    moved = svc.reschedule("A-7K3Q9", "P-1002", local(8, 10, 0), now=NOW)
    seed_demo_clinic(db_url, today=TODAY)
    assert [a.appointment_id for a in svc.upcoming_appointments("P-1002", now=NOW)] == [moved.appointment_id]


def test_seed_never_double_books_a_taken_demo_time(db_url: str) -> None:
    svc = SqlSchedulingService(db_url)
    taken = svc.book("P-1001", "kim", "follow_up", local(7, 10, 0), now=NOW)  # Monday
    seed_demo_clinic(db_url, today=dt.date(2026, 12, 4))  # Ana's demo visit would move to Monday 10:00
    assert svc.get_appointment(taken.appointment_id, "P-1001").status == "booked"
    assert svc.get_appointment("A-7K3Q9", "P-1002").start == local(5, 10, 0)  # left where it was


def test_malformed_data_file_is_reported(tmp_path: Path) -> None:
    text = DEFAULT_DATA_PATH.read_text(encoding="utf-8")
    broken = tmp_path / "clinic.yml"
    broken.write_text(text.replace('time: "10:00"', "time: 10:00", 1), encoding="utf-8")
    with pytest.raises(SeedDataError, match="appointments"):
        load_clinic_data(broken)
    broken.write_text(text.replace("[new_patient, follow_up, skin_check]", "[botox]"), encoding="utf-8")
    with pytest.raises(SeedDataError, match="unknown visit types"):
        load_clinic_data(broken)
