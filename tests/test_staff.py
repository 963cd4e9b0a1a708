"""Staff can read stored intakes and open work items, and close them."""

from __future__ import annotations

import datetime as dt
import io

from bot.records import EmergencyContact, IntakeAnswers, get_records_service
from bot.staff import main
from tests.actions.conftest import clinic_db  # noqa: F401 - the seeded database fixture


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
