"""How staff read a text's kind, visit, status and answer: one wording for the staff page and the command line.

Outbox rows keep short codes ("visit_moved", "no_consent"); staff see plain
words. An unknown code still shows, with spaces for underscores.
"""

from __future__ import annotations

import datetime as dt

from bot.outreach.models import ANSWERABLE_KINDS, OUTBOX_FAILED, OUTBOX_PLANNED, OUTBOX_SENT
from bot.outreach.service import ReminderView

MAX_DAYS = 31
"""The widest window either side of today staff can list."""
KIND_WORDS = {
    "reminder": "visit reminder",
    "waitlist_offer": "waitlist offer",
    "follow_up": "follow-up offer",
    "notes_ready": "notes ready",
}
REASON_WORDS = {
    "visit_moved": "visit moved",
    "visit_cancelled": "visit cancelled",
    "visit_gone": "visit no longer on record",
    "visit_completed": "visit already took place",
    "visit_no_show": "patient did not come",
    "visit_started": "visit had started",
    "no_consent": "no texting consent",
    "no_mobile": "no mobile number on record",
    "no_patient": "patient record not found",
    "opted_out": "number opted out",
    "quiet_hours": "quiet hours",
    "offer_ended": "offer ended",
    "left_waitlist": "patient left the waitlist",
    "offer_passed": "offered time passed",
    "slot_taken": "time already taken",
    "no_follow_up": "no follow-up due",
    "follow_up_booked": "follow-up already booked",
    "expired": "too late to send",
    "send_failed": "Twilio refused it (see the work item)",
    "retry": "Twilio refused it, trying again later",
    "retry_in_doubt": "in doubt after a failed try; Twilio's log is read before any resend",
}
ANSWER_WORDS = {
    "confirmed": "confirmed",
    "moved": "moved",
    "cancelled": "cancelled",
    "accepted": "accepted (booked)",
    "declined": "declined",
    "gone": "gone (someone else took it)",
}


def kind_text(kind: str) -> str:
    """What the text is: "visit reminder", "waitlist offer", ..."""
    return KIND_WORDS.get(kind, kind.replace("_", " "))


def reason_text(reason: str | None) -> str:
    """A reason code in plain words ("visit moved"); empty for none."""
    return REASON_WORDS.get(reason, reason.replace("_", " ")) if reason else ""


def status_text(view: ReminderView) -> str:
    """The status with its reason: "dropped: visit moved", "failed after 5 tries: ...", "planned (try 2)"."""
    words = reason_text(view.status_reason)
    if view.status == OUTBOX_FAILED:
        status = f"failed after {view.attempts} tries" if view.attempts else "failed"
    elif view.status == OUTBOX_PLANNED and view.attempts:
        status = f"planned (try {view.attempts + 1})"
    else:
        status = view.status
    return f"{status}: {words}" if words else status


def answer_text(view: ReminderView) -> str:
    """The patient's answer in words; "no answer" for a sent question without one; empty otherwise."""
    if view.answer:
        return ANSWER_WORDS.get(view.answer, view.answer)
    return "no answer" if view.status == OUTBOX_SENT and view.kind in ANSWERABLE_KINDS else ""


def visit_text(view: ReminderView, names: dict[str, str], time_format: str = "%a %b %d %H:%M") -> str:
    """The visit (or offered time) a text is about: id, provider, time; empty when it has none."""
    parts = [view.appointment_id or view.visit_id or ""]
    if view.provider_id:
        parts.append(names.get(view.provider_id, view.provider_id))
    if view.visit_start:
        parts.append(view.visit_start.strftime(time_format))
    return ", ".join(part for part in parts if part)


def text_time(view: ReminderView) -> dt.datetime:
    """When a text went out, or is due."""
    return view.sent_at or view.send_at


def display_names() -> dict[str, str]:
    """Provider ids and visit type codes to the names staff know them by (from the scheduling service)."""
    from bot.scheduling.service import get_scheduling_service

    scheduling = get_scheduling_service()
    named = {p.provider_id: p.display_name for p in scheduling.list_providers()}
    named.update({v.code: v.display_name for v in scheduling.list_visit_types()})
    return named
