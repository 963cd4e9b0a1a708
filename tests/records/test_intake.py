"""Intake forms: validation, versioned submissions, drafts, atomicity and races."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from bot.records import (
    EmergencyContact,
    InsuranceAnswer,
    IntakeAnswers,
    IntakeSubmission,
    InvalidIntake,
    SqlRecordsService,
    UnknownPatient,
)
from bot.records.sql_coverage import SqlInsurance
from bot.records.sql_intake import DRAFT_MAX_AGE
from tests.fixtures_db import NOW, TODAY, race
from tests.records.helpers import ACTOR, jordan_answers, submit_time

# -- the answers themselves (no database) -------------------------------------


def test_validated_answers_are_normalized() -> None:
    clean = jordan_answers().validated(TODAY)
    assert clean.legal_name == "Jordan Rivera"
    assert clean.mobile == "+15555550123"
    assert clean.email == "Jordan@example.com"
    assert clean.address == "12 Elm St, Springfield"
    assert clean.emergency_contact == EmergencyContact("Casey Rivera", "+15555550177", "sister")
    assert clean.medications == ("albuterol inhaler",)
    assert clean.allergies == ("penicillin",) and clean.no_known_allergies is False
    assert clean.insurance == InsuranceAnswer(
        carrier="Aetna", member_id="W123456789", relationship="self", subscriber_name="Jordan Rivera", plan_name="PPO"
    )
    assert not clean.self_pay


def test_no_known_allergies_and_self_pay_are_explicit_answers() -> None:
    clean = jordan_answers(allergies=(), no_known_allergies=True, insurance=None, medications=()).validated(TODAY)
    assert clean.allergies == () and clean.no_known_allergies is True
    assert clean.self_pay and clean.insurance is None
    assert clean.medications == ()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"legal_name": ""}, "legal_name"),
        ({"legal_name": "R2-D2"}, "legal_name"),
        ({"date_of_birth": dt.date(2027, 1, 1)}, "date_of_birth"),
        ({"date_of_birth": None}, "date_of_birth"),
        ({"mobile": "555-0123"}, "mobile"),
        ({"email": "jordan at example"}, "email"),
        ({"address": "   "}, "address"),
        ({"emergency_contact": EmergencyContact("Casey Rivera", "12345", "sister")}, "emergency_contact.phone"),
        ({"emergency_contact": EmergencyContact("", "5555550177", "sister")}, "emergency_contact.name"),
        ({"emergency_contact": EmergencyContact("Casey Rivera", "5555550177", "")}, "emergency_contact.relationship"),
        ({"emergency_contact": None}, "emergency_contact"),
        ({"reason_for_visit": ""}, "reason_for_visit"),
        ({"medications": "aspirin"}, "medications"),
        ({"allergies": ()}, "allergies"),
        ({"allergies": ("latex",), "no_known_allergies": True}, "allergies"),
        ({"insurance": InsuranceAnswer("Aetna", "W123456789", relationship="cousin")}, "insurance.relationship"),
        ({"insurance": InsuranceAnswer("Aetna", "#!", relationship="self")}, "insurance.member_id"),
        ({"insurance": InsuranceAnswer("", "W123456789")}, "insurance.carrier"),
        ({"insurance": InsuranceAnswer("Aetna", "W123456789", relationship="spouse")}, "insurance.subscriber_name"),
        ({"consent_to_treatment": False}, "consent_to_treatment"),
        ({"consent_to_text": "yes"}, "consent_to_text"),
    ],
)
def test_incomplete_or_wrong_answers_are_refused(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidIntake) as caught:
        jordan_answers(**changes).validated(TODAY)
    assert caught.value.field == field
    assert "555" not in str(caught.value) and "jordan" not in str(caught.value).lower()


def test_answers_survive_the_dict_form() -> None:
    clean = jordan_answers().validated(TODAY)
    data = clean.to_dict()
    assert data["date_of_birth"] == "1990-03-14" and data["self_pay"] is False
    assert IntakeAnswers.from_dict(data) == clean
    self_pay = jordan_answers(insurance=None).validated(TODAY)
    assert IntakeAnswers.from_dict(self_pay.to_dict()) == self_pay


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.pop("insurance") and d.pop("self_pay"), "insurance"),
        (lambda d: d.update(emergency_contact="Casey"), "emergency_contact"),
        (lambda d: d.update(date_of_birth="14/03/1990"), "date_of_birth"),
        (lambda d: d.update(allergies="penicillin"), "allergies"),
        (lambda d: d.update(consent_to_text="yes"), "consent_to_text"),
    ],
)
def test_from_dict_refuses_malformed_shapes(mutate: Callable[[dict[str, Any]], object], field: str) -> None:
    data = jordan_answers().validated(TODAY).to_dict()
    mutate(data)
    with pytest.raises(InvalidIntake) as caught:
        IntakeAnswers.from_dict(data)
    assert caught.value.field == field


# -- submissions ---------------------------------------------------------------


def test_submit_stores_version_one(records: SqlRecordsService) -> None:
    stored = records.submit_intake("P-1001", jordan_answers(), "webchat", actor=ACTOR, now=submit_time())
    assert isinstance(stored, IntakeSubmission)
    assert (stored.patient_id, stored.version, stored.channel) == ("P-1001", 1, "webchat")
    assert stored.submitted_at == NOW
    assert stored.answers == jordan_answers().validated(TODAY)
    assert records.latest_intake("p-1001 ") == stored
    assert records.intake_history("P-1001") == [stored]


def test_resubmission_adds_a_version_and_keeps_history(records: SqlRecordsService) -> None:
    first = records.submit_intake("P-1001", jordan_answers(), "webchat", now=submit_time())
    second = records.submit_intake(
        "P-1001", jordan_answers(reason_for_visit="annual physical"), channel="sms", now=submit_time(5)
    )
    assert second.version == 2 and second.answers.reason_for_visit == "annual physical"
    history = records.intake_history("P-1001")
    assert history == [first, second]
    assert history[0].answers.reason_for_visit == "cough that will not go away"
    assert records.latest_intake("P-1001") == second
    other = records.submit_intake("P-1002", jordan_answers(legal_name="Ana Souza"), "portal", now=submit_time())
    assert other.version == 1


def test_nothing_submitted_yet(records: SqlRecordsService) -> None:
    assert records.latest_intake("P-1002") is None
    assert records.intake_history("P-1002") == []
    assert records.latest_intake("not an id") is None


def test_submit_for_an_unknown_patient_stores_nothing(records: SqlRecordsService, scalar: Callable) -> None:
    for patient_id in ("P-9999", "Jordan Rivera", ""):
        with pytest.raises(UnknownPatient):
            records.submit_intake(patient_id, jordan_answers(), "webchat", now=submit_time())
    assert scalar("SELECT COUNT(*) FROM intake_submissions") == 0


def test_invalid_answers_store_nothing_and_keep_the_draft(records: SqlRecordsService, scalar: Callable) -> None:
    records.save_intake_draft("P-1001", {"legal_name": "Jordan Rivera"}, "reason_for_visit", now=NOW)
    with pytest.raises(InvalidIntake):
        records.submit_intake("P-1001", jordan_answers(consent_to_treatment=False), "webchat", now=submit_time())
    with pytest.raises(InvalidIntake):
        records.submit_intake("P-1001", {"legal_name": "Jordan Rivera"}, "webchat")  # type: ignore[arg-type]
    assert scalar("SELECT COUNT(*) FROM intake_submissions") == 0
    assert records.load_intake_draft("P-1001", now=NOW) is not None


# -- drafts --------------------------------------------------------------------


def test_draft_save_load_replace_discard(records: SqlRecordsService) -> None:
    answers = {"legal_name": "Jordan Rivera", "date_of_birth": dt.date(1990, 3, 14), "medications": ["inhaler"]}
    saved = records.save_intake_draft("P-1001", answers, "allergies", channel="webchat", now=NOW)
    assert saved.answers == {"legal_name": "Jordan Rivera", "date_of_birth": "1990-03-14", "medications": ["inhaler"]}
    assert saved.current_step == "allergies" and saved.channel == "webchat" and saved.updated_at == NOW
    assert records.load_intake_draft("P-1001", now=NOW) == saved

    later = NOW + dt.timedelta(days=2)
    replaced = records.save_intake_draft(
        "P-1001", {**saved.answers, "allergies": []}, "insurance", channel="sms", now=later
    )
    loaded = records.load_intake_draft("P-1001", now=later)
    assert loaded == replaced
    assert loaded is not None and loaded.current_step == "insurance" and loaded.answers["allergies"] == []
    assert loaded.created_at == NOW and loaded.updated_at == later

    assert records.discard_intake_draft("P-1001") is True
    assert records.load_intake_draft("P-1001", now=later) is None
    assert records.discard_intake_draft("P-1001") is False


@pytest.mark.parametrize(
    ("answers", "step", "field"),
    [
        ({"x": object()}, "step", "answers"),
        ({1: "x"}, "step", "answers"),
        (["legal_name"], "step", "answers"),
        ({"notes": "x" * 40_000}, "step", "answers"),
        ({"legal_name": "Jordan Rivera"}, "  ", "current_step"),
    ],
)
def test_draft_must_be_plain_data(records: SqlRecordsService, answers: Any, step: str, field: str) -> None:
    with pytest.raises(InvalidIntake) as caught:
        records.save_intake_draft("P-1001", answers, step, now=NOW)
    assert caught.value.field == field


def test_draft_for_unknown_patient(records: SqlRecordsService) -> None:
    with pytest.raises(UnknownPatient):
        records.save_intake_draft("P-9999", {}, "start", now=NOW)
    assert records.load_intake_draft("P-9999", now=NOW) is None
    assert records.discard_intake_draft("P-9999") is False


def test_old_drafts_expire(records: SqlRecordsService, scalar: Callable) -> None:
    records.save_intake_draft(
        "P-1001", {"legal_name": "Jordan Rivera"}, "dob", now=NOW - DRAFT_MAX_AGE - dt.timedelta(hours=1)
    )
    assert records.load_intake_draft("P-1001", now=NOW) is None
    assert scalar("SELECT COUNT(*) FROM intake_drafts") == 0


def test_submit_deletes_the_draft(records: SqlRecordsService) -> None:
    records.save_intake_draft("P-1001", {"legal_name": "Jordan Rivera"}, "consent", now=NOW)
    records.save_intake_draft("P-1002", {"legal_name": "Ana Souza"}, "dob", now=NOW)
    records.submit_intake("P-1001", jordan_answers(), "webchat", now=submit_time())
    assert records.load_intake_draft("P-1001", now=NOW) is None
    assert records.load_intake_draft("P-1002", now=NOW) is not None  # another patient's draft stays


def test_a_failed_submit_changes_nothing(
    records: SqlRecordsService, scalar: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Submission, draft deletion, coverage and audit are one transaction."""
    records.save_intake_draft("P-1001", {"legal_name": "Jordan Rivera"}, "consent", now=NOW)
    audit_rows = scalar("SELECT COUNT(*) FROM audit_log")

    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("coverage update failed")

    monkeypatch.setattr(SqlInsurance, "_record_intake_coverage", broken)
    with pytest.raises(RuntimeError):
        records.submit_intake("P-1001", jordan_answers(), "webchat", now=submit_time())
    assert scalar("SELECT COUNT(*) FROM intake_submissions") == 0
    assert scalar("SELECT COUNT(*) FROM intake_drafts WHERE patient_id = 'P-1001'") == 1
    assert scalar("SELECT COUNT(*) FROM audit_log") == audit_rows
    assert scalar("SELECT version FROM coverages WHERE active = :yes AND patient_id = 'P-1001'", yes=True) == 1


# -- races ---------------------------------------------------------------------


@pytest.mark.parametrize("threads", [2, 6])
def test_concurrent_submits_get_consecutive_versions(db_url: str, scalar: Callable, threads: int) -> None:
    SqlRecordsService(db_url).save_intake_draft("P-1001", {"legal_name": "Jordan Rivera"}, "consent", now=NOW)
    calls = [
        (
            lambda i=i: SqlRecordsService(db_url).submit_intake(
                "P-1001",
                jordan_answers(
                    reason_for_visit=f"reason {i}",
                    insurance=InsuranceAnswer("aetna", f"W12345678{i}", relationship="self"),
                ),
                "webchat",
                now=submit_time(i),
            )
        )
        for i in range(threads)
    ]
    results = race(calls)
    assert all(isinstance(r, IntakeSubmission) for r in results), results
    assert sorted(r.version for r in results if isinstance(r, IntakeSubmission)) == list(range(1, threads + 1))
    assert scalar("SELECT COUNT(*) FROM intake_submissions WHERE patient_id = 'P-1001'") == threads
    assert scalar("SELECT COUNT(DISTINCT version) FROM intake_submissions WHERE patient_id = 'P-1001'") == threads
    assert scalar("SELECT COUNT(*) FROM intake_drafts") == 0
    # The coverage follows the last submission to commit, with one active version.
    assert scalar("SELECT COUNT(*) FROM coverages WHERE patient_id = 'P-1001' AND active = :yes", yes=True) == 1
    latest = SqlRecordsService(db_url).latest_intake("P-1001")
    coverage = SqlRecordsService(db_url).coverage_for("P-1001")
    assert latest is not None and coverage is not None and latest.version == threads
    assert latest.answers.insurance is not None and coverage.member_id == latest.answers.insurance.member_id


def test_replace_keeps_answers_frozen() -> None:
    answers = jordan_answers()
    with pytest.raises(dataclasses.FrozenInstanceError):
        answers.legal_name = "x"  # type: ignore[misc]
    assert replace(answers, consent_to_text=False).consent_to_text is False
