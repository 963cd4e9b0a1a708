"""Loading the demo clinic's records data (``bot.seed``): carriers, coverage, visits; idempotent, relative to today."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.db import get_engine
from bot.records import InsuranceAnswer, SqlRecordsService
from bot.schemas.seed import Insurance
from bot.seed import DEFAULT_DATA_PATH, SeedDataError, load_clinic_data, seed_demo_clinic
from tests.fixtures_db import TODAY
from tests.records.helpers import jordan_answers, submit_time

TABLES = ("insurance_carriers", "insurance_carrier_aliases", "coverages", "visits", "patients", "intake_submissions")
TRICARE_ENTRY = "    - code: tricare\n      name: Tricare\n      aliases: [tricare, tri-care, tri care]\n"


def snapshot(url: str) -> dict[str, list[tuple]]:
    with get_engine(url).connect() as conn:
        return {
            table: sorted((tuple(row) for row in conn.execute(sa.text(f"SELECT * FROM {table}"))), key=repr)
            for table in TABLES
        }


def edited_data_file(tmp_path: Path, old: str, new: str) -> Path:
    text = DEFAULT_DATA_PATH.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "clinic.yml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_data_file_has_the_design_records() -> None:
    data = load_clinic_data()
    assert [(c.code, c.accepted) for c in data.carriers] == [
        ("aetna", True),
        ("bcbs", True),
        ("cigna", True),
        ("unitedhealthcare", True),
        ("humana", True),
        ("medicare", True),
        ("medicaid", True),
        ("kaiser", False),
        ("tricare", False),
    ]
    jordan, ana = data.patients
    assert jordan.coverage is not None and ana.coverage is not None
    assert (data.carrier_code(jordan.coverage.carrier), jordan.coverage.plan, jordan.coverage.member_id) == (
        "aetna",
        "PPO",
        "W123456789",
    )
    assert (data.carrier_code(ana.coverage.carrier), ana.coverage.member_id, ana.coverage.primary_care_copay_cents) == (
        "medicare",
        None,
        None,
    )
    (visit,) = data.visits
    assert (visit.patient_id, visit.provider_id, visit.days_from_today) == ("P-1001", "patel", -7)
    assert [r.stored() for r in visit.pending_results] == [{"test": "chest X-ray", "expected_business_days": [3, 5]}]


def test_seed_twice_changes_nothing(db_url: str) -> None:
    before = snapshot(db_url)
    assert len(before["insurance_carriers"]) == 9 and len(before["coverages"]) == 2 and len(before["visits"]) == 1
    seed_demo_clinic(db_url, today=TODAY)
    assert snapshot(db_url) == before


def test_seed_on_a_later_day_moves_the_visit(db_url: str) -> None:
    records = SqlRecordsService(db_url)
    first = records.latest_visit("P-1001")
    later = TODAY + dt.timedelta(days=5)  # Monday 2026-12-07
    seed_demo_clinic(db_url, today=later)
    seed_demo_clinic(db_url, today=later)
    moved = records.latest_visit("P-1001")
    assert first is not None and moved is not None
    assert moved.visit_date == later - dt.timedelta(days=7) == dt.date(2026, 11, 30)
    assert moved.created_at == first.created_at
    (xray,) = moved.pending_results
    assert (xray.expected_from, xray.expected_by) == (dt.date(2026, 12, 3), dt.date(2026, 12, 7))


def test_seed_restores_demo_coverage_but_never_overrides_an_intake(db_url: str, scalar: Callable) -> None:
    with get_engine(db_url).begin() as conn:
        conn.execute(sa.text("UPDATE coverages SET member_id = 'CHANGED' WHERE patient_id = 'P-1001'"))
    seed_demo_clinic(db_url, today=TODAY)
    records = SqlRecordsService(db_url)
    restored = records.coverage_for("P-1001")
    assert restored is not None and (restored.member_id, restored.version) == ("W123456789", 1)

    records.submit_intake(
        "P-1001", jordan_answers(insurance=InsuranceAnswer("cigna", "CIG12345")), "webchat", now=submit_time()
    )
    records.submit_intake(
        "P-1002", jordan_answers(legal_name="Ana Souza", insurance=None), "webchat", now=submit_time()
    )
    seed_demo_clinic(db_url, today=TODAY)
    kept = records.coverage_for("P-1001")
    assert kept is not None and (kept.carrier_code, kept.source, kept.version) == ("cigna", "intake", 2)
    assert records.coverage_for("P-1002") is None  # self-pay stays self-pay
    assert scalar("SELECT COUNT(*) FROM coverages") == 3


def test_staff_edit_the_carrier_list_in_the_file(db_url: str, tmp_path: Path) -> None:
    records = SqlRecordsService(db_url)
    records.submit_intake(
        "P-1002",
        jordan_answers(legal_name="Ana Souza", insurance=InsuranceAnswer("tricare", "TRI12345")),
        "sms",
        now=submit_time(),
    )
    path = edited_data_file(
        tmp_path,
        TRICARE_ENTRY,
        "",
    )
    text = path.read_text(encoding="utf-8").replace(
        "aliases: [humana]", "aliases: [humana, humana gold plus]\n      note: Ask us about Humana Gold Plus."
    )
    path.write_text(text, encoding="utf-8")
    seed_demo_clinic(db_url, today=TODAY, data_path=path)
    assert "tricare" not in [c.code for c in records.list_carriers()]
    assert records.carrier("tricare") is None and records.match_carrier("tricare") is None
    coverage = records.coverage_for("P-1002")
    assert coverage is not None and (coverage.carrier_code, coverage.carrier_name, coverage.accepted) == (
        "tricare",
        "Tricare",
        None,
    )
    humana = records.match_carrier("Humana Gold Plus")
    assert humana is not None and humana.note == "Ask us about Humana Gold Plus."
    seed_demo_clinic(db_url, today=TODAY)  # putting the file back brings Tricare back
    tricare = records.carrier("tricare")
    assert tricare is not None and tricare.accepted is False
    assert "humana gold plus" not in records.carrier("humana").aliases  # type: ignore[union-attr]


def test_plain_carrier_names_still_work() -> None:
    carriers = Insurance.parse_obj(
        {"accepted": ["Aetna", "Blue Cross Blue Shield"], "not_accepted": ["Kaiser Permanente"]}
    ).carriers
    assert [(c.code, c.name, c.accepted) for c in carriers] == [
        ("aetna", "Aetna", True),
        ("blue_cross_blue_shield", "Blue Cross Blue Shield", True),
        ("kaiser_permanente", "Kaiser Permanente", False),
    ]
    assert "blue cross blue shield" in carriers[1].aliases


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "coverage: {carrier: medicare, relationship: self}",
            "coverage: {carrier: oscar}",
            "not in the insurance lists",
        ),
        (
            "coverage: {carrier: medicare, relationship: self}",
            "coverage: {carrier: medicare, relationship: cousin}",
            "relationship",
        ),
        ("aliases: [cigna]", "aliases: [cigna, aetna]", "also belongs to aetna"),
        (
            "    patient: P-1001\n    appointment: A-4RJ2X",
            "    patient: P-4040\n    appointment: A-4RJ2X",
            "unknown patient",
        ),
        ("expected_business_days: [3, 5]", "expected_business_days: [5, 3]", "fewest first"),
        ("expected_business_days: [3, 5]", "expected_business_days: soon", "whole number"),
        ("due_in_days: 14", "due_in_days: two weeks", "due_in_days"),
    ],
)
def test_malformed_records_data_is_reported(tmp_path: Path, old: str, new: str, message: str) -> None:
    with pytest.raises(SeedDataError, match=message):
        load_clinic_data(edited_data_file(tmp_path, old, new))
