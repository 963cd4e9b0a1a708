"""Staff can read stored intakes, open work items (failed texts too), texts and the waitlist, and close items."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from bot.records import EmergencyContact, IntakeAnswers, get_records_service
from bot.staff import main
from tests.actions.conftest import clinic_db  # noqa: F401 - the seeded database fixture
from tests.channels.test_staff_outreach import Clinic, clinic  # noqa: F401 - texts and a waitlist around today


def run(*args: str) -> str:
    out = io.StringIO()
    main(list(args), out)
    return out.getvalue()


def test_staff_read_outs(clinic_db: str) -> None:  # noqa: F811
    service = get_records_service()
    assert "No intake stored for P-1001" in run("intake", "P-1001")
    answers = IntakeAnswers(
        legal_name="Jordan Rivera",
        date_of_birth=dt.date(1990, 3, 14),
        mobile="+12125550175",
        address="12 Oak Street, Springfield, IL 62704",
        emergency_contact=EmergencyContact(name="Maria Rivera", phone="+12125550188", relationship="sister"),
        reason_for_visit="yearly checkup",
        no_known_allergies=True,
        consent_to_treatment=True,
        consent_to_text=False,
    )
    service.submit_intake("P-1001", answers, "rest")
    shown = run("intake", "P-1001")
    assert "version 1" in shown and "12 Oak Street" in shown and "Maria Rivera" in shown
    refill = service.create_refill_request("P-1001", "albuterol", "CVS on Main")
    assert refill.work_item_id in run("work-items") and "albuterol" in run("work-items", "--kind", "refill")
    assert "is done" in run("done", refill.work_item_id)
    assert "No open work items." in run("work-items")
    trail = service.audit_trail("P-1001")
    assert any(entry.actor == "staff:cli" for entry in trail)


def test_staff_read_outs_list_handed_off_chats(clinic_db: str) -> None:  # noqa: F811
    item = get_records_service().create_handoff("rest-1", "Wanted: book a visit. Done: nothing yet.", "P-1001")
    listed = run("work-items", "--kind", "handoff")
    assert f"{item.work_item_id}  handoff" in listed and "Wanted: book a visit." in listed and "P-1001" in listed
    out = io.StringIO()
    assert main(["done", item.work_item_id], out) == 1 and "staff page" in out.getvalue()
    assert get_records_service().get_work_item(item.work_item_id).status == "open"  # the chat is not left silent


def test_staff_read_outs_of_texts_and_the_waitlist(clinic: Clinic, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    shown = run("texts")
    lines = shown.splitlines()
    assert lines[0] == "9 text(s) in the last 7 and the next 7 day(s), clinic time:"
    by_id = {int(line.split()[0]): line for line in lines[1:]}
    assert list(by_id)[:3] == [clinic.texts["unanswered"], clinic.texts["failed"], clinic.texts["confirmed"]]
    assert by_id[clinic.texts["confirmed"]].split(None, 1)[1] == (
        f"2026-12-02 08:31  visit reminder   P-1001   {clinic.booked}, Dr. Amina Patel, Fri Dec 04 09:00  [sent]"
        "  answer: confirmed"
    )
    assert by_id[clinic.texts["unanswered"]].endswith("[sent]  answer: no answer")
    assert by_id[clinic.texts["dropped"]].endswith("-  [dropped: visit moved]")
    assert by_id[clinic.texts["failed"]].endswith("[failed after 5 tries: Twilio refused it (see the work item)]")
    assert by_id[clinic.texts["skipped"]].endswith("V-4RJ2X, Dr. Amina Patel  [skipped: no texting consent]")
    assert by_id[clinic.texts["offer_gone"]].endswith("answer: gone (someone else took it)")
    assert clinic.texts["far"] not in by_id and clinic.texts["far"] in {
        int(line.split()[0]) for line in run("texts", "--days", "31").splitlines()[1:]
    }
    assert "SECRET-BODY-TEXT" not in shown and "+1555" not in shown
    for bad in ("0", "32", "x"):
        with pytest.raises(SystemExit):
            run("texts", "--days", bad)
        assert "days must be a whole number from 1 to 31" in capsys.readouterr().err

    assert run("waitlist").splitlines() == [
        "  1. P-1001   skin check with Dr. Grace Kim, 2026-12-03 to 2026-12-10, joined 2026-12-01 09:00",
        "  2. P-1002   skin check with any provider, 2026-12-03 to 2026-12-10, joined 2026-12-01 12:00",
    ]
    trail = [entry.operation for entry in get_records_service().audit_trail("P-1002")]
    assert "read:outreach_texts" in trail and "read:waitlist" in trail


def test_staff_read_outs_of_a_failed_text(clinic: Clinic) -> None:  # noqa: F811
    item = get_records_service().flag_outreach_failure(
        "P-1002", f"Reminder (outbox {clinic.texts['failed']}) for visit A-7K3Q9 not sent after 5 tries: HTTP 400"
    )
    listed = run("work-items", "--kind", "outreach")
    assert f"{item.work_item_id}  outreach" in listed and "not sent after 5 tries: HTTP 400, patient P-1002" in listed
    assert "is done" in run("done", item.work_item_id)
    assert item.work_item_id not in run("work-items")


def test_an_empty_waitlist_says_so(clinic_db: str) -> None:  # noqa: F811
    assert run("waitlist") == "Nobody is waiting.\n"
    assert run("texts") == "0 text(s) in the last 7 and the next 7 day(s), clinic time:\n"


def test_texts_and_waitlist_with_the_database_down_say_so(
    clinic_db: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.settings import reset_settings_cache

    monkeypatch.setenv("CLINIC_DATABASE_URL", "sqlite:////nonexistent-dir/clinic.db")
    reset_settings_cache()
    for what in ("texts", "waitlist"):
        out = io.StringIO()
        assert main([what], out) == 1 and out.getvalue() == ""
        assert f"Could not read the {what}: the clinic database is unavailable. Try again shortly." in (
            capsys.readouterr().err
        )
