"""Staff work items: refill and callback requests from creation to done."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pytest

from bot.records import (
    CallbackRequest,
    EmergencyFlag,
    HandoffRequest,
    InvalidPatientData,
    RefillRequest,
    SqlRecordsService,
    UnknownPatient,
    WorkItemNotFound,
)
from tests.fixtures_db import NOW
from tests.records.helpers import ACTOR

READABLE_ID = re.compile(r"^[RC]-[2-9A-HJKMNP-Z]{5}$")


def at(minutes: int) -> dt.datetime:
    return NOW + dt.timedelta(minutes=minutes)


def test_refill_request_lifecycle(records: SqlRecordsService) -> None:
    refill = records.create_refill_request(
        "p-1001",
        "  albuterol   inhaler ",
        "CVS on Main St",
        "running out friday",
        actor=ACTOR,
        channel="sms",
        now=at(0),
    )
    assert isinstance(refill, RefillRequest) and READABLE_ID.match(refill.work_item_id)
    assert refill.work_item_id.startswith("R-")
    assert (refill.patient_id, refill.medication, refill.pharmacy, refill.note) == (
        "P-1001",
        "albuterol inhaler",
        "CVS on Main St",
        "running out friday",
    )
    assert (refill.status, refill.channel, refill.created_at, refill.done_at) == ("open", "sms", NOW, None)
    assert records.open_work_items() == [refill]

    done = records.mark_work_item_done(refill.work_item_id.lower(), actor="staff:frontdesk", now=at(30))
    assert isinstance(done, RefillRequest)
    assert (done.status, done.done_at) == ("done", at(30))
    assert records.open_work_items() == []
    again = records.mark_work_item_done(refill.work_item_id, now=at(60))
    assert again == done  # closing twice changes nothing


def test_callback_requests_with_and_without_a_patient(records: SqlRecordsService) -> None:
    caller = records.create_callback_request(
        "Pat Caller",
        "(555) 555-0199",
        "billing",
        best_time="after 5pm",
        note="question about a charge",
        channel="webchat",
        now=at(0),
    )
    assert isinstance(caller, CallbackRequest) and caller.work_item_id.startswith("C-")
    assert (caller.patient_id, caller.name, caller.phone, caller.reason) == (
        None,
        "Pat Caller",
        "+15555550199",
        "billing",
    )
    assert (caller.best_time, caller.note, caller.status) == ("after 5pm", "question about a charge", "open")
    ana = records.create_callback_request(
        "Ana Souza", "+15555550188", "HANDOFF", patient_id="P-1002", channel="portal", now=at(1)
    )
    assert ana.patient_id == "P-1002" and ana.reason == "handoff" and ana.best_time is None
    assert records.open_work_items(kind="callback") == [caller, ana]


def test_open_items_oldest_first_and_by_kind(records: SqlRecordsService) -> None:
    late = records.create_refill_request("P-1002", "eye drops", now=at(20))
    early = records.create_callback_request("Pat Caller", "5555550199", "records", now=at(5))
    middle = records.create_refill_request("P-1001", "inhaler", now=at(10))
    assert [i.work_item_id for i in records.open_work_items()] == [
        early.work_item_id,
        middle.work_item_id,
        late.work_item_id,
    ]
    assert records.open_work_items("refill") == [middle, late]
    assert records.open_work_items(kind="callback") == [early]
    with pytest.raises(ValueError):
        records.open_work_items("chores")


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda r: r.create_refill_request("P-1001", "  "), "medication"),
        (lambda r: r.create_refill_request("P-1001", "inhaler", note="x" * 501), "note"),
        (lambda r: r.create_callback_request("Pat Caller", "5555550199", "gossip"), "reason"),
        (lambda r: r.create_callback_request("Pat Caller", "555-0199", "billing"), "phone"),
        (lambda r: r.create_callback_request("", "5555550199", "billing"), "name"),
    ],
)
def test_invalid_requests_are_refused(
    records: SqlRecordsService, scalar: Callable, call: Callable[[SqlRecordsService], Any], field: str
) -> None:
    with pytest.raises(InvalidPatientData) as caught:
        call(records)
    assert caught.value.field == field
    assert scalar("SELECT COUNT(*) FROM work_items") == 0


def test_unknown_patient_or_item(records: SqlRecordsService, scalar: Callable) -> None:
    with pytest.raises(UnknownPatient):
        records.create_refill_request("P-9999", "inhaler")
    with pytest.raises(UnknownPatient):
        records.create_callback_request("Pat Caller", "5555550199", "billing", patient_id="P-9999")
    with pytest.raises(WorkItemNotFound):
        records.mark_work_item_done("R-22222")
    with pytest.raises(WorkItemNotFound):
        records.mark_work_item_done("")
    assert scalar("SELECT COUNT(*) FROM work_items") == 0


def test_handoff_items_one_open_per_conversation(records: SqlRecordsService) -> None:
    summary = "Wanted: book a visit. Why a person: asked for a person. Done: nothing yet. Missing: identity."
    first = records.create_handoff("rest-abc", summary, actor=ACTOR, channel="rest", now=at(0))
    assert isinstance(first, HandoffRequest) and re.match(r"^H-[2-9A-HJKMNP-Z]{5}$", first.work_item_id)
    assert (first.conversation_id, first.summary, first.patient_id, first.status, first.channel) == (
        "rest-abc",
        summary,
        None,
        "open",
        "rest",
    )
    # Asking again in the same chat updates the one open item (now verified) instead of queueing twice.
    again = records.create_handoff(
        "rest-abc", "Wanted: cancel a visit.", "p-1001", actor=ACTOR, channel="rest", now=at(5)
    )
    assert again.work_item_id == first.work_item_id
    assert (again.summary, again.patient_id) == ("Wanted: cancel a visit.", "P-1001")
    assert [i.work_item_id for i in records.open_work_items("handoff")] == [first.work_item_id]
    assert records.get_work_item(first.work_item_id.lower()) == again
    records.mark_work_item_done(first.work_item_id, now=at(10))
    assert records.get_work_item(first.work_item_id).status == "done"
    # Once closed, a new request in that chat is a new item.
    assert records.create_handoff("rest-abc", summary, now=at(20)).work_item_id != first.work_item_id


@pytest.mark.parametrize(
    "conversation, summary, field",
    [
        ("", "Wanted: x.", "conversation_id"),
        ("has space", "Wanted: x.", "conversation_id"),
        ("x" * 129, "Wanted: x.", "conversation_id"),
        ("rest-1", "", "summary"),
        ("rest-1", "y" * 501, "summary"),
    ],
)
def test_handoff_refuses_bad_input(records: SqlRecordsService, conversation: str, summary: str, field: str) -> None:
    with pytest.raises(InvalidPatientData) as error:
        records.create_handoff(conversation, summary)
    assert error.value.field == field
    assert records.open_work_items() == []


def test_callback_keeps_its_conversation_and_unknown_items_are_refused(records: SqlRecordsService) -> None:
    caller = records.create_callback_request("Maria Lopez", "212 555 0199", "handoff", conversation_id="socket-9")
    assert records.get_work_item(caller.work_item_id).conversation_id == "socket-9"
    with pytest.raises(WorkItemNotFound):
        records.get_work_item("H-ZZZZZ")


def test_staff_access_is_audited_without_content(records: SqlRecordsService) -> None:
    records.record_staff_access("read:transcript", "P-1001", actor="staff:web:abc", channel="staff-page")
    trail = records.audit_trail("P-1001", actor="test")
    assert [(e.operation, e.actor, e.channel) for e in trail][-1:] == [
        ("read:transcript", "staff:web:abc", "staff-page")
    ]


def test_emergency_flags_one_open_per_conversation_and_crisis_outranks(records: SqlRecordsService) -> None:
    first = records.flag_emergency("webchat:abc", "medical", ["chest_pain"], actor=ACTOR, channel="socketio", now=at(0))
    assert isinstance(first, EmergencyFlag) and re.match(r"^E-[2-9A-HJKMNP-Z]{5}$", first.work_item_id)
    assert (first.conversation_id, first.category, first.flags, first.patient_id, first.status) == (
        "webchat:abc",
        "medical",
        "chest_pain",
        None,
        "open",
    )
    again = records.flag_emergency("webchat:abc", "crisis", ["suicidal_thoughts"], "p-1001", now=at(3))
    assert again.work_item_id == first.work_item_id
    assert (again.category, again.flags, again.patient_id) == ("crisis", "chest_pain, suicidal_thoughts", "P-1001")
    later_medical = records.flag_emergency("webchat:abc", "medical", [], now=at(4))
    assert later_medical.category == "crisis"  # a crisis is never downgraded
    assert [i.work_item_id for i in records.open_work_items("emergency")] == [first.work_item_id]
    classifier_only = records.flag_emergency("sms:def", "medical", [])
    assert classifier_only.flags == "classifier"


@pytest.mark.parametrize(
    "conversation, category, field", [("", "medical", "conversation_id"), ("x", "other", "category")]
)
def test_emergency_flag_refuses_bad_input(
    records: SqlRecordsService, conversation: str, category: str, field: str
) -> None:
    with pytest.raises(InvalidPatientData) as error:
        records.flag_emergency(conversation, category)
    assert error.value.field == field
    assert records.open_work_items() == []


def test_emergency_flags_never_carry_words_only_rule_ids(records: SqlRecordsService) -> None:
    flag = records.flag_emergency("rest-1", "medical", ["chest_pain", "my chest hurts!", "<b>x</b>"])
    assert flag.flags == "chest_pain"
