"""Visits and after-visit summaries: the demo bronchitis visit, newer visits, pending results."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.db import session_scope
from bot.records import FollowUp, PendingResult, SqlRecordsService, VisitMedication, add_business_days
from bot.records.models import Visit
from bot.records.sqlbase import dumps
from tests.fixtures_db import NOW, TODAY

VISIT_DAY = TODAY - dt.timedelta(days=7)  # Wednesday 2026-11-25


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (dt.date(2026, 11, 25), 3, dt.date(2026, 11, 30)),  # Wed + 3 -> Mon
        (dt.date(2026, 11, 25), 5, dt.date(2026, 12, 2)),
        (dt.date(2026, 11, 27), 1, dt.date(2026, 11, 30)),  # Fri + 1 -> Mon
        (dt.date(2026, 11, 28), 1, dt.date(2026, 11, 30)),  # Sat + 1 -> Mon
        (dt.date(2026, 11, 25), 0, dt.date(2026, 11, 25)),
    ],
)
def test_add_business_days_skips_weekends(start: dt.date, days: int, expected: dt.date) -> None:
    assert add_business_days(start, days) == expected


def test_latest_visit_is_the_demo_after_visit_summary(records: SqlRecordsService) -> None:
    visit = records.latest_visit("P-1001")
    assert visit is not None
    assert (visit.visit_id, visit.appointment_id, visit.provider_id) == ("V-4RJ2X", "A-4RJ2X", "patel")
    assert visit.provider_name == "Dr. Amina Patel"
    assert visit.visit_date == VISIT_DAY
    assert visit.diagnosis_plain == "a chest cold (acute bronchitis)"
    assert visit.instructions == (
        "Rest and drink plenty of fluids.",
        "Use the prescribed inhaler twice a day.",
        "Book a follow-up visit in two weeks if the cough continues.",
        "Call the clinic if you have a fever over 101°F.",
    )
    assert visit.medications == (VisitMedication(name="the prescribed inhaler", how_to_take="twice a day"),)
    assert visit.follow_up == FollowUp(
        text="A follow-up visit in two weeks if the cough continues.",
        due_in_days=14,
        due_date=dt.date(2026, 12, 9),
    )
    assert visit.pending_results == (
        PendingResult(
            visit_id="V-4RJ2X",
            visit_date=VISIT_DAY,
            test="chest X-ray",
            expected_from=dt.date(2026, 11, 30),
            expected_by=dt.date(2026, 12, 2),
            business_days=(3, 5),
        ),
    )


def test_no_visit(records: SqlRecordsService) -> None:
    assert records.latest_visit("P-1002") is None
    assert records.pending_results("P-1002") == []
    assert records.latest_visit("Jordan Rivera") is None
    assert records.pending_results("") == []


def test_pending_results_with_dates_from_business_days(records: SqlRecordsService) -> None:
    (xray,) = records.pending_results("P-1001")
    assert (xray.test, xray.expected_from, xray.expected_by) == (
        "chest X-ray",
        dt.date(2026, 11, 30),
        dt.date(2026, 12, 2),
    )
    assert not xray.is_overdue(TODAY)
    assert xray.is_overdue(TODAY + dt.timedelta(days=1))


def test_a_newer_visit_becomes_the_latest_and_results_sort_by_due_date(records: SqlRecordsService, db_url: str) -> None:
    with session_scope(db_url) as session:
        session.add(
            Visit(
                id="V-9NEW2",
                patient_id="P-1001",
                appointment_id=None,
                provider_id="okafor",
                provider_name="Sam Okafor, NP",
                visit_date=TODAY - dt.timedelta(days=1),  # Tuesday
                diagnosis_plain="a sprained ankle",
                instructions_json=dumps(["Keep the foot raised."]),
                medications_json=dumps([]),
                follow_up_text=None,
                follow_up_due_in_days=None,
                pending_results_json=dumps(
                    [
                        {"test": "blood count", "expected_business_days": 1},
                        {"test": "ankle scan", "expected_by_date": "2026-12-20"},
                    ]
                ),
                created_at=NOW,
            )
        )
    latest = records.latest_visit("P-1001")
    assert latest is not None and latest.visit_id == "V-9NEW2"
    assert latest.follow_up is None and latest.medications == ()
    results = records.pending_results("P-1001")
    assert [(r.test, r.expected_from, r.expected_by, r.business_days) for r in results] == [
        ("chest X-ray", dt.date(2026, 11, 30), dt.date(2026, 12, 2), (3, 5)),  # same last day, earlier first
        ("blood count", dt.date(2026, 12, 2), dt.date(2026, 12, 2), (1, 1)),
        ("ankle scan", dt.date(2026, 12, 20), dt.date(2026, 12, 20), None),
    ]
