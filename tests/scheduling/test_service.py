"""The scheduling service on real databases (SQLite file and PostgreSQL), seeded
with the demo clinic; today is Wednesday 2026-12-02 and now is 08:00."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Callable

import pytest

from bot.scheduling import (
    AppointmentAlreadyCancelled,
    AppointmentInPast,
    AppointmentNotFound,
    BackendUnavailable,
    ProviderDoesNotOffer,
    SchedulingError,
    SchedulingService,
    SlotUnavailable,
    SqlSchedulingService,
    UnknownProvider,
    UnknownVisitType,
    get_scheduling_service,
    set_scheduling_service,
)
from bot.settings import PROJECT_ROOT
from tests.fixtures_db import CLOSED_PORT_URL, NOW, TZ, local

SATURDAY = dt.date(2026, 12, 5)
SUNDAY = dt.date(2026, 12, 6)
THURSDAY = dt.date(2026, 12, 3)


@pytest.fixture
def svc(db_url: str) -> SqlSchedulingService:
    return SqlSchedulingService(db_url)


def day_slots(svc: SqlSchedulingService, visit_type: str, provider: str, day: dt.date, **kw: object) -> list:
    return svc.search_slots(visit_type, provider, start_date=day, end_date=day, limit=100, now=NOW, **kw)


def times(slots: list) -> list[str]:
    return [s.start.strftime("%H:%M") for s in slots]


# -- clinic facts ---------------------------------------------------------


def test_clinic_info_has_the_demo_clinic_facts(svc: SqlSchedulingService) -> None:
    info = svc.clinic_info()
    assert info.name == "Maple Grove Family Clinic"
    assert info.address == "120 Maple Grove Ave, Springfield"
    assert info.phone == "(555) 010-2000"
    assert info.timezone == "America/New_York"
    for weekday in range(5):
        assert info.hours_on(weekday) == ((dt.time(8), dt.time(17)),)
    assert info.hours_on(5) == ((dt.time(9), dt.time(12)),)
    assert info.hours_on(6) == ()


def test_providers_and_visit_types_match_the_design(svc: SqlSchedulingService) -> None:
    providers = {p.provider_id: p for p in svc.list_providers()}
    assert [p.provider_id for p in svc.list_providers()] == ["patel", "romero", "kim", "okafor"]
    assert providers["patel"].display_name == "Dr. Amina Patel"
    assert providers["romero"].display_name == "Dr. Luis Romero"
    assert providers["kim"].display_name == "Dr. Grace Kim"
    assert providers["okafor"].display_name == "Sam Okafor, NP"
    assert providers["kim"].specialty == "dermatology"
    assert set(providers["kim"].visit_types) == {"new_patient", "follow_up", "skin_check"}
    assert "skin_check" not in providers["patel"].visit_types
    lengths = {v.code: v.duration_minutes for v in svc.list_visit_types()}
    assert lengths == {
        "new_patient": 40,
        "annual_physical": 40,
        "follow_up": 20,
        "sick_visit": 20,
        "skin_check": 20,
        "vaccination": 15,
    }
    prices = {v.code: v.self_pay_price_cents for v in svc.list_visit_types()}
    assert prices["new_patient"] == 18000 and prices["annual_physical"] == 20000
    assert prices["follow_up"] == 11000 and prices["sick_visit"] == 12000
    assert svc.get_provider(" Kim ").display_name == "Dr. Grace Kim"
    with pytest.raises(UnknownProvider):
        svc.get_provider("house")


def test_providers_for_a_visit_type(svc: SqlSchedulingService) -> None:
    assert [p.provider_id for p in svc.providers_for("skin_check")] == ["kim"]
    assert [p.provider_id for p in svc.providers_for("sick_visit")] == ["patel", "romero", "okafor"]
    with pytest.raises(UnknownVisitType):
        svc.providers_for("massage")


def test_is_open_on(svc: SqlSchedulingService) -> None:
    assert svc.is_open_on(dt.date(2026, 12, 2))
    assert svc.is_open_on(SATURDAY)
    assert not svc.is_open_on(SUNDAY)


# -- slot search ----------------------------------------------------------


def test_earliest_available_is_first_and_an_hour_from_now(svc: SqlSchedulingService) -> None:
    slots = svc.search_slots("sick_visit", "patel", now=NOW)
    assert len(slots) == 3
    assert slots[0].start == local(2, 9, 0)  # now 08:00: nothing within the next hour
    assert slots == sorted(slots, key=lambda s: s.start)
    assert all(s.provider_id == "patel" and s.provider_name == "Dr. Amina Patel" for s in slots)
    assert all(s.end - s.start == dt.timedelta(minutes=20) for s in slots)
    assert all(s.start.tzinfo is not None and s.start.utcoffset() == dt.timedelta(hours=-5) for s in slots)


def test_past_and_next_hour_are_excluded(svc: SqlSchedulingService) -> None:
    afternoon = local(2, 13, 30)
    slots = svc.search_slots("sick_visit", "patel", start_date=dt.date(2026, 12, 1), limit=100, now=afternoon)
    assert slots[0].start == local(2, 14, 40)
    assert all(s.start >= afternoon + dt.timedelta(hours=1) for s in slots)


def test_search_by_visit_type_only_uses_providers_who_offer_it(svc: SqlSchedulingService) -> None:
    skin = svc.search_slots("skin_check", limit=10, now=NOW)
    assert skin and {s.provider_id for s in skin} == {"kim"}
    sick = svc.search_slots("sick_visit", start_date=THURSDAY, end_date=THURSDAY, limit=100, now=NOW)
    assert {s.provider_id for s in sick} == {"patel", "romero", "okafor"}


def test_any_provider_offers_are_spread_out(svc: SqlSchedulingService) -> None:
    slots = svc.search_slots("sick_visit", now=NOW)
    assert slots[0].start == local(2, 9, 0)
    gaps = [b.start - a.start for a, b in zip(slots, slots[1:], strict=False)]
    assert all(gap >= dt.timedelta(hours=1) for gap in gaps), times(slots)


def test_date_range_is_respected(svc: SqlSchedulingService) -> None:
    slots = svc.search_slots(
        "follow_up", "okafor", start_date=dt.date(2026, 12, 8), end_date=dt.date(2026, 12, 9), limit=100, now=NOW
    )
    assert slots
    assert {s.start.date() for s in slots} == {dt.date(2026, 12, 8), dt.date(2026, 12, 9)}
    assert svc.search_slots("follow_up", start_date=dt.date(2026, 12, 9), end_date=dt.date(2026, 12, 8), now=NOW) == []


def test_morning_and_afternoon_via_earliest_and_latest(svc: SqlSchedulingService) -> None:
    morning = day_slots(svc, "sick_visit", "romero", THURSDAY, latest=dt.time(11, 59))
    afternoon = day_slots(svc, "sick_visit", "romero", THURSDAY, earliest=dt.time(12))
    assert times(morning)[0] == "08:00" and times(morning)[-1] == "11:40"
    assert times(afternoon)[0] == "13:00" and times(afternoon)[-1] == "16:40"
    assert all(s.start.hour < 12 for s in morning)
    assert all(s.start.hour >= 13 for s in afternoon)


def test_lunch_break_is_respected(svc: SqlSchedulingService) -> None:
    sick = times(day_slots(svc, "sick_visit", "patel", THURSDAY))
    assert "11:40" in sick and "13:00" in sick
    assert not any("12:00" <= t < "13:00" for t in sick)
    physical = times(day_slots(svc, "annual_physical", "patel", THURSDAY))
    assert "11:20" in physical and "11:40" not in physical  # 40 minutes must end by noon
    assert physical[-1] == "16:20"


def test_sunday_is_closed_and_saturday_is_short(svc: SqlSchedulingService) -> None:
    assert svc.search_slots("sick_visit", start_date=SUNDAY, end_date=SUNDAY, limit=100, now=NOW) == []
    saturday = svc.search_slots("sick_visit", start_date=SATURDAY, end_date=SATURDAY, limit=100, now=NOW)
    assert {s.provider_id for s in saturday} == {"patel", "okafor"}
    assert min(times(saturday)) == "09:00" and max(times(saturday)) == "11:40"
    assert day_slots(svc, "follow_up", "kim", SATURDAY) == []


def test_unknown_or_not_offered(svc: SqlSchedulingService) -> None:
    with pytest.raises(ProviderDoesNotOffer):
        svc.search_slots("sick_visit", "kim", now=NOW)
    with pytest.raises(ProviderDoesNotOffer):
        svc.search_slots("skin_check", "patel", now=NOW)
    with pytest.raises(UnknownProvider):
        svc.search_slots("sick_visit", "house", now=NOW)
    with pytest.raises(UnknownVisitType):
        svc.search_slots("massage", now=NOW)
    with pytest.raises(SchedulingError):
        svc.search_slots("massage", "house", now=NOW)


def test_exact_time_open_and_taken(svc: SqlSchedulingService) -> None:
    exact = svc.search_slots("sick_visit", "patel", start_date=THURSDAY, exact_time=dt.time(14, 20), now=NOW)
    assert times(exact) == ["14:20"] and exact[0].start.date() == THURSDAY
    everyone = svc.search_slots("sick_visit", start_date=THURSDAY, exact_time=dt.time(14, 20), now=NOW)
    assert times(everyone) == ["14:20"] * 3
    assert [s.provider_id for s in everyone] == ["patel", "romero", "okafor"]
    svc.book("P-1001", "patel", "sick_visit", local(3, 14, 20), now=NOW)
    nearest = svc.search_slots("sick_visit", "patel", start_date=THURSDAY, exact_time=dt.time(14, 20), now=NOW)
    assert times(nearest) == ["13:40", "14:00", "14:40"]  # 13:40 beats 15:00 on the tie
    assert all(s.start.date() == THURSDAY for s in nearest)
    lunch = svc.search_slots("sick_visit", "patel", start_date=THURSDAY, exact_time=dt.time(12, 30), limit=2, now=NOW)
    assert times(lunch) == ["11:40", "13:00"]
    assert svc.search_slots("sick_visit", start_date=SUNDAY, exact_time=dt.time(10), now=NOW) == []


def test_booked_time_disappears_from_search(svc: SqlSchedulingService) -> None:
    svc.book("P-1001", "patel", "annual_physical", local(3, 9, 0), now=NOW)
    left = times(day_slots(svc, "sick_visit", "patel", THURSDAY))
    assert "08:40" in left and "09:00" not in left and "09:20" not in left and "09:40" in left
    assert "09:00" in times(day_slots(svc, "sick_visit", "okafor", THURSDAY))


# -- booking --------------------------------------------------------------


def test_book_returns_the_appointment_and_stores_naive_utc(svc: SqlSchedulingService, scalar: Callable) -> None:
    appt = svc.book(
        "P-1001", "okafor", "sick_visit", local(3, 10, 20), reason=" sore  throat ", channel="rest", now=NOW
    )
    assert appt.appointment_id.startswith("A-") and len(appt.appointment_id) == 7
    assert appt.patient_id == "P-1001" and appt.provider_id == "okafor" and appt.provider_name == "Sam Okafor, NP"
    assert appt.visit_type == "sick_visit" and appt.visit_type_name == "sick visit"
    assert appt.start == local(3, 10, 20) and appt.end == local(3, 10, 40)
    assert appt.status == "booked" and appt.is_active and appt.reason == "sore throat" and appt.channel == "rest"
    stored = scalar("SELECT start_at FROM appointments WHERE id = :id", id=appt.appointment_id)
    if isinstance(stored, str):  # SQLite hands back text
        stored = dt.datetime.fromisoformat(stored)
    assert stored == dt.datetime(2026, 12, 3, 15, 20)  # 10:20 EST is 15:20 UTC, stored naive
    assert svc.get_appointment(appt.appointment_id.lower(), "P-1001") == appt


def test_book_accepts_other_zones_and_naive_local_times(svc: SqlSchedulingService) -> None:
    utc_start = local(3, 11, 0).astimezone(dt.timezone.utc)
    appt = svc.book("P-1001", "romero", "follow_up", utc_start, now=NOW)
    assert appt.start == local(3, 11, 0) and appt.start.tzinfo == TZ
    naive = svc.book("P-1002", "romero", "follow_up", dt.datetime(2026, 12, 3, 13, 0), now=NOW)
    assert naive.start == local(3, 13, 0)


def test_book_after_daylight_saving_starts(svc: SqlSchedulingService, scalar: Callable) -> None:
    appt = svc.book("P-1001", "patel", "sick_visit", local(16, 9, 0, month=3, year=2027), now=NOW)
    stored = scalar("SELECT start_at FROM appointments WHERE id = :id", id=appt.appointment_id)
    if isinstance(stored, str):
        stored = dt.datetime.fromisoformat(stored)
    assert stored == dt.datetime(2027, 3, 16, 13, 0)  # EDT is UTC-4
    assert appt.start.utcoffset() == dt.timedelta(hours=-4)


def test_book_refuses_taken_overlapping_and_off_schedule_times(svc: SqlSchedulingService) -> None:
    svc.book("P-1001", "patel", "new_patient", local(3, 9, 0), now=NOW)
    refused = [
        ("P-1002", "patel", "sick_visit", local(3, 9, 0)),  # taken
        ("P-1002", "patel", "sick_visit", local(3, 9, 20)),  # overlaps the 40-minute visit
        ("P-1002", "patel", "sick_visit", local(3, 10, 10)),  # off the 20-minute grid
        ("P-1002", "patel", "sick_visit", local(3, 12, 20)),  # lunch break
        ("P-1002", "patel", "annual_physical", local(3, 16, 40)),  # would end after 17:00
        ("P-1002", "patel", "sick_visit", local(6, 10, 0)),  # Sunday
        ("P-1002", "kim", "follow_up", local(5, 10, 20)),  # Kim does not work Saturdays
        ("P-1002", "patel", "sick_visit", local(2, 8, 40)),  # within the next hour
        ("P-1002", "patel", "sick_visit", local(1, 10, 0)),  # yesterday
    ]
    for patient, provider, visit_type, start in refused:
        with pytest.raises(SlotUnavailable):
            svc.book(patient, provider, visit_type, start, now=NOW)
    assert len(svc.upcoming_appointments("P-1002", now=NOW)) == 1  # only the seeded one


def test_book_validates_provider_and_visit_type(svc: SqlSchedulingService) -> None:
    with pytest.raises(ProviderDoesNotOffer):
        svc.book("P-1001", "kim", "sick_visit", local(3, 9, 0), now=NOW)
    with pytest.raises(UnknownProvider):
        svc.book("P-1001", "house", "sick_visit", local(3, 9, 0), now=NOW)
    with pytest.raises(UnknownVisitType):
        svc.book("P-1001", "patel", "massage", local(3, 9, 0), now=NOW)


def test_every_offered_slot_can_be_booked(svc: SqlSchedulingService) -> None:
    for slot in svc.search_slots("vaccination", limit=5, now=NOW):
        appt = svc.book("P-1001", slot.provider_id, slot.visit_type, slot.start, now=NOW)
        assert appt.start == slot.start and appt.end - appt.start == dt.timedelta(minutes=15)


# -- reschedule -----------------------------------------------------------


def test_reschedule_takes_the_new_slot_and_frees_the_old(svc: SqlSchedulingService) -> None:
    old = svc.book("P-1001", "patel", "sick_visit", local(3, 9, 0), reason="cough", now=NOW)
    moved = svc.reschedule(old.appointment_id, "P-1001", local(4, 14, 0), now=NOW)
    assert moved.appointment_id != old.appointment_id and moved.rescheduled_from == old.appointment_id
    assert moved.start == local(4, 14, 0) and moved.provider_id == "patel" and moved.reason == "cough"
    assert svc.get_appointment(old.appointment_id, "P-1001").status == "rescheduled"
    assert "09:00" in times(day_slots(svc, "sick_visit", "patel", THURSDAY))
    assert "14:00" not in times(day_slots(svc, "sick_visit", "patel", dt.date(2026, 12, 4)))
    assert [a.appointment_id for a in svc.upcoming_appointments("P-1001", now=NOW)] == [moved.appointment_id]
    with pytest.raises(AppointmentAlreadyCancelled):
        svc.reschedule(old.appointment_id, "P-1001", local(4, 15, 0), now=NOW)


def test_reschedule_to_another_provider_and_into_its_own_time(svc: SqlSchedulingService) -> None:
    old = svc.book("P-1001", "patel", "new_patient", local(3, 9, 0), now=NOW)
    overlapping = svc.reschedule(old.appointment_id, "P-1001", local(3, 9, 20), now=NOW)
    assert overlapping.start == local(3, 9, 20)
    other = svc.reschedule(overlapping.appointment_id, "P-1001", local(3, 9, 20), new_provider_id="okafor", now=NOW)
    assert other.provider_id == "okafor" and other.start == local(3, 9, 20)
    same = svc.reschedule(other.appointment_id, "P-1001", local(3, 9, 20), now=NOW)
    assert same == other
    sick = svc.book("P-1001", "patel", "sick_visit", local(3, 11, 0), now=NOW)
    with pytest.raises(ProviderDoesNotOffer):
        svc.reschedule(sick.appointment_id, "P-1001", local(3, 10, 0), new_provider_id="kim", now=NOW)
    with pytest.raises(UnknownProvider):
        svc.reschedule(sick.appointment_id, "P-1001", local(3, 10, 0), new_provider_id="house", now=NOW)
    assert svc.get_appointment(sick.appointment_id, "P-1001").status == "booked"


def test_reschedule_is_atomic_when_the_new_slot_is_taken(svc: SqlSchedulingService, scalar: Callable) -> None:
    mine = svc.book("P-1001", "patel", "sick_visit", local(3, 9, 0), now=NOW)
    svc.book("P-1002", "patel", "sick_visit", local(3, 10, 0), now=NOW)
    rows_before = scalar("SELECT COUNT(*) FROM appointments")
    with pytest.raises(SlotUnavailable):
        svc.reschedule(mine.appointment_id, "P-1001", local(3, 10, 0), now=NOW)
    assert svc.get_appointment(mine.appointment_id, "P-1001") == mine
    assert scalar("SELECT COUNT(*) FROM appointments") == rows_before
    with pytest.raises(SlotUnavailable):
        svc.reschedule(mine.appointment_id, "P-1001", local(6, 10, 0), now=NOW)  # Sunday
    assert svc.get_appointment(mine.appointment_id, "P-1001").status == "booked"


def test_reschedule_refuses_other_patients_and_past_visits(svc: SqlSchedulingService) -> None:
    anas = svc.upcoming_appointments("P-1002", now=NOW)[0]
    with pytest.raises(AppointmentNotFound):
        svc.reschedule(anas.appointment_id, "P-1001", local(3, 9, 0), now=NOW)
    with pytest.raises(AppointmentNotFound):
        svc.reschedule("A-ZZZZZ", "P-1001", local(3, 9, 0), now=NOW)
    with pytest.raises(AppointmentInPast):
        svc.reschedule("A-4RJ2X", "P-1001", local(3, 9, 0), now=NOW)  # the completed visit
    upcoming = svc.book("P-1001", "patel", "sick_visit", local(3, 9, 0), now=NOW)
    with pytest.raises(AppointmentInPast):
        svc.reschedule(upcoming.appointment_id, "P-1001", local(4, 9, 0), now=local(3, 9, 5))


# -- cancel, list, lookups ------------------------------------------------


def test_cancel_frees_the_slot_and_a_second_cancel_is_refused(svc: SqlSchedulingService) -> None:
    appt = svc.book("P-1001", "kim", "skin_check", local(3, 9, 0), now=NOW)
    cancelled = svc.cancel(appt.appointment_id, "P-1001", now=NOW)
    assert cancelled.status == "cancelled" and not cancelled.is_active and cancelled.cancelled_at == NOW
    assert "09:00" in times(day_slots(svc, "skin_check", "kim", THURSDAY))
    with pytest.raises(AppointmentAlreadyCancelled):
        svc.cancel(appt.appointment_id, "P-1001", now=NOW)
    again = svc.book("P-1002", "kim", "skin_check", local(3, 9, 0), now=NOW)
    assert again.status == "booked"


def test_cancel_refuses_other_patients_and_past_visits(svc: SqlSchedulingService) -> None:
    anas = svc.upcoming_appointments("P-1002", now=NOW)[0]
    with pytest.raises(AppointmentNotFound):
        svc.cancel(anas.appointment_id, "P-1001", now=NOW)
    with pytest.raises(AppointmentNotFound):
        svc.get_appointment(anas.appointment_id, "P-1001")
    assert svc.get_appointment(anas.appointment_id, "P-1002").status == "booked"
    with pytest.raises(AppointmentInPast):
        svc.cancel("A-4RJ2X", "P-1001", now=NOW)


def test_upcoming_appointments_are_active_future_and_ordered(svc: SqlSchedulingService) -> None:
    later = svc.book("P-1001", "patel", "follow_up", local(10, 9, 0), now=NOW)
    sooner = svc.book("P-1001", "okafor", "vaccination", local(3, 15, 0), now=NOW)
    dropped = svc.book("P-1001", "romero", "sick_visit", local(4, 9, 0), now=NOW)
    svc.cancel(dropped.appointment_id, "P-1001", now=NOW)
    upcoming = svc.upcoming_appointments("P-1001", now=NOW)
    assert [a.appointment_id for a in upcoming] == [sooner.appointment_id, later.appointment_id]
    assert svc.upcoming_appointments("P-1001", now=local(5, 8, 0)) == [upcoming[1]]
    assert svc.upcoming_appointments("P-9999", now=NOW) == []


def test_seeded_appointments_are_visible_to_their_owners(svc: SqlSchedulingService) -> None:
    (ana,) = svc.upcoming_appointments("P-1002", now=NOW)
    assert ana.provider_id == "kim" and ana.visit_type == "follow_up" and ana.start == local(5, 10, 0)
    (jordan,) = svc.past_appointments("P-1001", now=NOW)
    assert jordan.appointment_id == "A-4RJ2X" and jordan.status == "completed"
    assert jordan.provider_id == "patel" and jordan.visit_type == "sick_visit" and jordan.reason == "cough"
    assert jordan.start.date() == dt.date(2026, 11, 25)
    assert svc.upcoming_appointments("P-1001", now=NOW) == []


# -- failures and wiring --------------------------------------------------


def test_database_down_is_backend_unavailable() -> None:
    down = SqlSchedulingService(CLOSED_PORT_URL)
    with pytest.raises(BackendUnavailable):
        down.search_slots("sick_visit", now=NOW)
    with pytest.raises(BackendUnavailable):
        down.book("P-1001", "patel", "sick_visit", local(3, 9, 0), now=NOW)
    with pytest.raises(SchedulingError):
        down.clinic_info()


def test_factory_returns_one_lazily_made_service() -> None:
    set_scheduling_service(None)
    try:
        first = get_scheduling_service()
        assert isinstance(first, SchedulingService) and isinstance(first, SqlSchedulingService)
        assert get_scheduling_service() is first
        replacement = SqlSchedulingService("sqlite:///unused.db")
        set_scheduling_service(replacement)
        assert get_scheduling_service() is replacement
    finally:
        set_scheduling_service(None)


@pytest.mark.slow
def test_importing_the_backends_creates_no_engine() -> None:
    code = (
        "import bot.scheduling, bot.records, bot.seed, bot.migrate, bot.db;assert not bot.db._engines, bot.db._engines"
    )
    subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, check=True, timeout=60)
