"""One patient, one visit at a time: overlapping bookings are refused on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from bot.scheduling import AppointmentInfo, OverlappingAppointment, SlotUnavailable, SqlSchedulingService
from tests.fixtures_db import NOW, local, race

PATIENT = "P-3001"


@pytest.fixture
def svc(db_url: str) -> SqlSchedulingService:
    return SqlSchedulingService(db_url)


def booked_for(scalar: Callable, patient: str) -> int:
    return scalar("SELECT COUNT(*) FROM appointments WHERE patient_id = :p AND status = 'booked'", p=patient)


def test_same_time_with_another_provider_is_refused(svc: SqlSchedulingService, scalar: Callable) -> None:
    first = svc.book(PATIENT, "patel", "sick_visit", local(3, 10, 0), now=NOW)
    with pytest.raises(OverlappingAppointment) as refused:
        svc.book(PATIENT, "okafor", "sick_visit", local(3, 10, 0), now=NOW)
    assert refused.value.conflict == first
    assert isinstance(refused.value, SlotUnavailable)
    assert PATIENT not in str(refused.value)  # ids of appointments only, never the patient's
    assert booked_for(scalar, PATIENT) == 1


def test_partial_overlap_is_refused_and_back_to_back_is_fine(svc: SqlSchedulingService, scalar: Callable) -> None:
    svc.book(PATIENT, "patel", "sick_visit", local(3, 10, 0), now=NOW)  # 10:00-10:20
    with pytest.raises(OverlappingAppointment):
        svc.book(PATIENT, "okafor", "new_patient", local(3, 9, 40), now=NOW)  # 9:40-10:20
    with pytest.raises(OverlappingAppointment):
        svc.book(PATIENT, "romero", "annual_physical", local(3, 10, 0), now=NOW)  # 10:00-10:40
    after = svc.book(PATIENT, "okafor", "sick_visit", local(3, 10, 20), now=NOW)
    before = svc.book(PATIENT, "romero", "sick_visit", local(3, 9, 40), now=NOW)
    assert (before.end, after.start) == (local(3, 10, 0), local(3, 10, 20))
    assert booked_for(scalar, PATIENT) == 3


def test_cancelled_visits_and_other_patients_do_not_count(svc: SqlSchedulingService, scalar: Callable) -> None:
    first = svc.book(PATIENT, "patel", "sick_visit", local(3, 10, 0), now=NOW)
    svc.book("P-3002", "okafor", "sick_visit", local(3, 10, 0), now=NOW)
    svc.cancel(first.appointment_id, PATIENT, now=NOW)
    again = svc.book(PATIENT, "romero", "sick_visit", local(3, 10, 0), now=NOW)
    assert again.start == local(3, 10, 0)
    assert booked_for(scalar, PATIENT) == 1 and booked_for(scalar, "P-3002") == 1


def test_reschedule_onto_another_own_visit_is_refused(svc: SqlSchedulingService) -> None:
    keep = svc.book(PATIENT, "patel", "sick_visit", local(3, 10, 0), now=NOW)
    move = svc.book(PATIENT, "okafor", "sick_visit", local(4, 9, 0), now=NOW)
    with pytest.raises(OverlappingAppointment) as refused:
        svc.reschedule(move.appointment_id, PATIENT, local(3, 10, 0), "romero", now=NOW)
    assert refused.value.conflict == keep
    assert svc.get_appointment(move.appointment_id, PATIENT) == move  # nothing half-done
    assert [a.appointment_id for a in svc.upcoming_appointments(PATIENT, now=NOW)] == [
        keep.appointment_id,
        move.appointment_id,
    ]


def test_reschedule_may_overlap_the_visit_being_moved(svc: SqlSchedulingService) -> None:
    visit = svc.book(PATIENT, "patel", "new_patient", local(3, 9, 0), now=NOW)  # 9:00-9:40
    moved = svc.reschedule(visit.appointment_id, PATIENT, local(3, 9, 20), "okafor", now=NOW)
    assert (moved.start, moved.provider_id) == (local(3, 9, 20), "okafor")


def test_search_leaves_out_the_patients_busy_times(svc: SqlSchedulingService) -> None:
    visit = svc.book(PATIENT, "patel", "sick_visit", local(3, 10, 0), now=NOW)
    day = dt.date(2026, 12, 3)
    others = svc.search_slots("sick_visit", "okafor", day, day, exact_time=dt.time(10), now=NOW)
    assert [s.start for s in others] == [local(3, 10, 0)]
    mine = svc.search_slots(
        "sick_visit", "okafor", day, day, exact_time=dt.time(10), now=NOW, patient_id=PATIENT, limit=10
    )
    assert all(s.end <= visit.start or s.start >= visit.end for s in mine) and mine
    moving = svc.search_slots(
        "sick_visit",
        "okafor",
        day,
        day,
        exact_time=dt.time(10),
        now=NOW,
        patient_id=PATIENT,
        ignore_appointment_id=visit.appointment_id,
    )
    assert [s.start for s in moving] == [local(3, 10, 0)]


@pytest.mark.parametrize("round_", range(3))
def test_one_patient_racing_with_several_providers_gets_one_visit(db_url: str, scalar: Callable, round_: int) -> None:
    """Different providers do not share a lock, so only the patient lock can stop this."""
    start = local(3, 9 + round_, 0)
    calls = [
        (lambda provider=provider: SqlSchedulingService(db_url).book(PATIENT, provider, "sick_visit", start, now=NOW))
        for provider in ("patel", "okafor", "romero", "patel", "okafor", "romero")
    ]
    results = race(calls)
    winners = [r for r in results if isinstance(r, AppointmentInfo)]
    assert len(winners) == 1, results
    assert all(isinstance(r, SlotUnavailable) for r in results if r is not winners[0]), results
    assert any(isinstance(r, OverlappingAppointment) for r in results), results
    assert booked_for(scalar, PATIENT) == 1


def test_one_patient_racing_to_reschedule_two_visits_onto_one_time(db_url: str, scalar: Callable) -> None:
    svc = SqlSchedulingService(db_url)
    first = svc.book(PATIENT, "patel", "sick_visit", local(4, 9, 0), now=NOW)
    second = svc.book(PATIENT, "okafor", "sick_visit", local(4, 10, 0), now=NOW)
    target = local(7, 11, 0)
    calls = [
        lambda: SqlSchedulingService(db_url).reschedule(first.appointment_id, PATIENT, target, "patel", now=NOW),
        lambda: SqlSchedulingService(db_url).reschedule(second.appointment_id, PATIENT, target, "romero", now=NOW),
    ]
    results = race(calls)
    assert len([r for r in results if isinstance(r, AppointmentInfo)]) == 1, results
    assert len([r for r in results if isinstance(r, OverlappingAppointment)]) == 1, results
    assert booked_for(scalar, PATIENT) == 2
