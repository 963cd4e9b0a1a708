"""The records service on real databases, seeded with the demo patients
(P-1001 Jordan Rivera 1990-03-14 +15555550123, P-1002 Ana Souza 1978-11-02)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from bot.records import (
    BackendUnavailable,
    InvalidPatientData,
    PatientAlreadyExists,
    PatientRef,
    RecordsService,
    SqlRecordsService,
    get_records_service,
    set_records_service,
)
from tests.fixtures_db import CLOSED_PORT_URL, TODAY, race
from tests.records.helpers import jordan_answers, submit_time

JORDAN_DOB = dt.date(1990, 3, 14)
JORDAN = PatientRef(patient_id="P-1001", full_name="Jordan Rivera", first_name="Jordan")


@pytest.fixture
def records(db_url: str) -> SqlRecordsService:
    return SqlRecordsService(db_url)


@pytest.mark.parametrize(
    "typed",
    [
        "Jordan Rivera",
        "jordan rivera",
        "  JORDAN   Rivera ",
        "Rivera, Jordan",
        "Jordan A. Rivera",
        "Jórdan Rivéra",
        "Jordan Rivera Jr.",
    ],
)
def test_verify_identity_tolerates_how_people_type(records: SqlRecordsService, typed: str) -> None:
    assert records.verify_identity(typed, JORDAN_DOB) == JORDAN


@pytest.mark.parametrize(
    ("typed", "dob"),
    [
        ("Jordan Rivera", dt.date(1990, 3, 15)),  # wrong date of birth
        ("Jordan Rivera", dt.date(1978, 11, 2)),  # another patient's date of birth
        ("Jordan Smith", JORDAN_DOB),
        ("Jordan", JORDAN_DOB),
        ("Rivera", JORDAN_DOB),
        ("", JORDAN_DOB),
        ("Ana Souza", JORDAN_DOB),
    ],
)
def test_verify_identity_needs_name_and_date_of_birth(records: SqlRecordsService, typed: str, dob: dt.date) -> None:
    assert records.verify_identity(typed, dob) is None


def test_verify_by_mobile_and_dob(records: SqlRecordsService) -> None:
    assert records.verify_by_mobile_and_dob("+15555550123", JORDAN_DOB) == JORDAN
    assert records.verify_by_mobile_and_dob("(555) 555-0123", JORDAN_DOB) == JORDAN
    assert records.verify_by_mobile_and_dob("+15555550123", dt.date(1990, 3, 13)) is None
    assert records.verify_by_mobile_and_dob("+15555550188", JORDAN_DOB) is None
    assert records.verify_by_mobile_and_dob("not a number", JORDAN_DOB) is None


def test_get_patient(records: SqlRecordsService) -> None:
    assert records.get_patient("P-1001") == JORDAN
    assert records.get_patient(" p-1001 ") == JORDAN
    assert records.get_patient("P-9999") is None
    assert records.get_patient("") is None


def test_register_a_new_patient(records: SqlRecordsService, scalar: Callable) -> None:
    ref = records.register_patient("  maría   GARCÍA-lopez ", dt.date(1988, 6, 30), "(555) 555-0142", today=TODAY)
    assert ref.patient_id == "P-1003" and ref.first_name == "María"
    assert scalar("SELECT mobile FROM patients WHERE id = 'P-1003'") == "+15555550142"
    assert records.verify_identity("Maria Garcia-Lopez", dt.date(1988, 6, 30)) == ref
    assert records.verify_by_mobile_and_dob("555.555.0142", dt.date(1988, 6, 30)) == ref
    second = records.register_patient("Sam Lee", dt.date(2001, 1, 1), "+1 555 555 0199", today=TODAY)
    assert second.patient_id == "P-1004"


def test_register_refuses_a_duplicate(records: SqlRecordsService, scalar: Callable) -> None:
    with pytest.raises(PatientAlreadyExists):
        records.register_patient("RIVERA, jordan", JORDAN_DOB, "5555550177", today=TODAY)
    assert scalar("SELECT COUNT(*) FROM patients") == 2
    twin = records.register_patient("Jordan Rivera", dt.date(1991, 3, 14), "5555550123", today=TODAY)
    assert twin.patient_id == "P-1003"  # same name, other birthday: another person


@pytest.mark.parametrize(
    ("name", "dob", "mobile", "field"),
    [
        ("", dt.date(1990, 1, 1), "5555550100", "full_name"),
        ("   ", dt.date(1990, 1, 1), "5555550100", "full_name"),
        ("R2-D2", dt.date(1990, 1, 1), "5555550100", "full_name"),
        ("Sam Lee", TODAY, "5555550100", "date_of_birth"),
        ("Sam Lee", dt.date(2027, 1, 1), "5555550100", "date_of_birth"),
        ("Sam Lee", dt.date(1906, 12, 1), "5555550100", "date_of_birth"),
        ("Sam Lee", dt.date(1990, 1, 1), "555-0100", "mobile"),
        ("Sam Lee", dt.date(1990, 1, 1), "+44 20 7946 0958", "mobile"),
        ("Sam Lee", dt.date(1990, 1, 1), "", "mobile"),
    ],
)
def test_register_validates_input(
    records: SqlRecordsService, scalar: Callable, name: str, dob: dt.date, mobile: str, field: str
) -> None:
    with pytest.raises(InvalidPatientData) as caught:
        records.register_patient(name, dob, mobile, today=TODAY)
    assert caught.value.field == field
    assert scalar("SELECT COUNT(*) FROM patients") == 2


def test_register_accepts_the_oldest_plausible_patient(records: SqlRecordsService) -> None:
    assert records.register_patient("Old Timer", dt.date(1906, 12, 2), "5555550100", today=TODAY).patient_id == "P-1003"


def test_concurrent_registrations_get_distinct_ids(db_url: str) -> None:
    calls = [
        (
            lambda i=i: SqlRecordsService(db_url).register_patient(
                f"Racer {chr(65 + i)}mith", dt.date(1990, 1, 1 + i), "5555550100", today=TODAY
            )
        )
        for i in range(8)
    ]
    results = race(calls)
    assert all(isinstance(r, PatientRef) for r in results), results
    assert sorted(r.patient_id for r in results) == [f"P-{n}" for n in range(1003, 1011)]


def test_concurrent_duplicate_registrations_create_one_record(db_url: str, scalar: Callable) -> None:
    calls = [
        (
            lambda: SqlRecordsService(db_url).register_patient(
                "Dee Plicate", dt.date(1990, 1, 1), "5555550100", today=TODAY
            )
        )
        for _ in range(8)
    ]
    results = race(calls)
    assert len([r for r in results if isinstance(r, PatientRef)]) == 1, results
    assert len([r for r in results if isinstance(r, PatientAlreadyExists)]) == 7, results
    assert scalar("SELECT COUNT(*) FROM patients WHERE name_key = 'dee plicate'") == 1


def test_database_down_is_backend_unavailable() -> None:
    down = SqlRecordsService(CLOSED_PORT_URL)
    with pytest.raises(BackendUnavailable):
        down.verify_identity("Jordan Rivera", JORDAN_DOB)
    with pytest.raises(BackendUnavailable):
        down.register_patient("Sam Lee", dt.date(1990, 1, 1), "5555550100", today=TODAY)


def test_factory_returns_one_lazily_made_service() -> None:
    set_records_service(None)
    try:
        first = get_records_service()
        assert isinstance(first, RecordsService) and get_records_service() is first
    finally:
        set_records_service(None)


DOWN_CALLS: dict[str, Callable[[SqlRecordsService], object]] = {
    "get_patient": lambda s: s.get_patient("P-1001"),
    "verify_by_mobile_and_dob": lambda s: s.verify_by_mobile_and_dob("+15555550123", JORDAN_DOB),
    "list_carriers": lambda s: s.list_carriers(),
    "carrier": lambda s: s.carrier("aetna"),
    "match_carrier": lambda s: s.match_carrier("blue cross"),
    "self_pay_prices": lambda s: s.self_pay_prices(),
    "coverage_for": lambda s: s.coverage_for("P-1001"),
    "submit_intake": lambda s: s.submit_intake("P-1001", jordan_answers(), "webchat", now=submit_time()),
    "latest_intake": lambda s: s.latest_intake("P-1001"),
    "intake_history": lambda s: s.intake_history("P-1001"),
    "save_intake_draft": lambda s: s.save_intake_draft("P-1001", {}, "start"),
    "load_intake_draft": lambda s: s.load_intake_draft("P-1001"),
    "discard_intake_draft": lambda s: s.discard_intake_draft("P-1001"),
    "latest_visit": lambda s: s.latest_visit("P-1001"),
    "pending_results": lambda s: s.pending_results("P-1001"),
    "create_refill_request": lambda s: s.create_refill_request("P-1001", "inhaler"),
    "create_callback_request": lambda s: s.create_callback_request("Pat Caller", "5555550199", "billing"),
    "open_work_items": lambda s: s.open_work_items(),
    "mark_work_item_done": lambda s: s.mark_work_item_done("R-22222"),
    "audit_trail": lambda s: s.audit_trail("P-1001"),
    "create_handoff": lambda s: s.create_handoff("rest-1", "Wanted: a person."),
    "flag_emergency": lambda s: s.flag_emergency("rest-1", "medical", ["chest_pain"]),
    "flag_outreach_failure": lambda s: s.flag_outreach_failure("P-1001", "Reminder (outbox 1) not sent"),
    "get_work_item": lambda s: s.get_work_item("H-22222"),
    "record_staff_access": lambda s: s.record_staff_access("read:transcript", "P-1001"),
}


def test_every_public_method_is_covered_by_the_outage_test() -> None:
    public = {
        name
        for cls in RecordsService.__mro__
        for name, value in vars(cls).items()
        if getattr(value, "__isabstractmethod__", False)
    }
    assert public - {"verify_identity", "register_patient"} == set(DOWN_CALLS)


@pytest.mark.parametrize("method", sorted(DOWN_CALLS))
def test_every_method_reports_a_database_outage(method: str) -> None:
    with pytest.raises(BackendUnavailable):
        DOWN_CALLS[method](SqlRecordsService(CLOSED_PORT_URL))


def test_identity_calls_take_actor_and_channel(records: SqlRecordsService, scalar: Callable) -> None:
    assert records.verify_identity("Jordan Rivera", JORDAN_DOB, actor="assistant:abc", channel="sms") == JORDAN
    ref = records.register_patient(
        "Sam Lee", dt.date(1990, 1, 1), "5555550100", today=TODAY, actor="assistant:abc", channel="sms"
    )
    assert (
        scalar(
            "SELECT COUNT(*) FROM audit_log WHERE actor = 'assistant:abc' AND channel = 'sms'"
            " AND patient_id IN ('P-1001', :p)",
            p=ref.patient_id,
        )
        == 2
    )
