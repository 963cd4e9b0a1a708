"""Staff read-outs on the command line: stored intakes, open work items, texts and the waitlist.

Besides the staff page (``/webhooks/staff/``), front-desk staff on the
clinic's machine read what the assistant collected with:

    python -m bot staff work-items [--kind refill|callback|handoff|emergency|outreach]
    python -m bot staff intake P-1001 [--all-versions]
    python -m bot staff done R-7K3Q9
    python -m bot staff texts [--days 7]
    python -m bot staff waitlist

Every read goes through the records service, so it is audited like an action's;
texts and the waitlist are read through the outreach service and audited per
patient shown. No phone number or message text is printed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TextIO

from bot.outreach.service import OutreachError, ReminderView, get_outreach_service
from bot.outreach.staff_words import MAX_DAYS, answer_text, display_names, kind_text, status_text, text_time, visit_text
from bot.records import get_records_service
from bot.records.models import WORK_ITEM_KINDS
from bot.records.values import describe_work_item
from bot.scheduling.errors import SchedulingError

STAFF_ACTOR = "staff:cli"
STAFF_CHANNEL = "staff-cli"


def show_work_items(out: TextIO, kind: str | None = None) -> int:
    """Print open refill, call-back, handoff and emergency items, oldest first."""
    items = get_records_service().open_work_items(kind, actor=STAFF_ACTOR, channel="staff-cli")
    if not items:
        print("No open work items.", file=out)
    for item in items:
        created = item.created_at.strftime("%Y-%m-%d %H:%M")
        print(f"{item.work_item_id}  {item.kind:<9} {created}  {describe_work_item(item)}", file=out)
    return 0


def show_intake(out: TextIO, patient_id: str, all_versions: bool = False) -> int:
    """Print a patient's stored intake (the newest, or every version)."""
    service = get_records_service()
    submissions = (
        service.intake_history(patient_id, actor=STAFF_ACTOR, channel="staff-cli")
        if all_versions
        else [s for s in [service.latest_intake(patient_id, actor=STAFF_ACTOR, channel="staff-cli")] if s]
    )
    if not submissions:
        print(f"No intake stored for {patient_id}.", file=out)
        return 1
    for submission in submissions:
        print(
            f"# {patient_id} intake version {submission.version}, "
            f"submitted {submission.submitted_at:%Y-%m-%d %H:%M} via {submission.channel}",
            file=out,
        )
        print(json.dumps(submission.answers.to_dict(), indent=2, ensure_ascii=False), file=out)
    return 0


def mark_done(out: TextIO, work_item_id: str) -> int:
    """Close a work item; a handed-off chat is closed on the staff page, which also gives it back."""
    service = get_records_service()
    if service.get_work_item(work_item_id, actor=STAFF_ACTOR, channel="staff-cli").kind == "handoff":
        print(
            f"{work_item_id.strip().upper()} is a chat handed to the front desk: close it on the staff page "
            "(/webhooks/staff/), which also hands the chat back to the assistant.",
            file=out,
        )
        return 1
    item = service.mark_work_item_done(work_item_id, actor=STAFF_ACTOR, channel="staff-cli")
    print(f"{item.work_item_id} is {item.status}.", file=out)
    return 0


def _days(value: str) -> int:
    """``--days``: a whole number from 1 to 31."""
    if not value.strip().isdigit() or not 1 <= int(value) <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"days must be a whole number from 1 to {MAX_DAYS}")
    return int(value)


def _audit(operation: str, patient_ids: list[str]) -> None:
    """One audit row per patient a read-out showed."""
    service = get_records_service()
    for patient_id in dict.fromkeys(patient_ids):
        service.record_staff_access(operation, patient_id, actor=STAFF_ACTOR, channel=STAFF_CHANNEL)


def _text_line(view: ReminderView, names: dict[str, str]) -> str:
    """One text: id, when, what, patient, visit, status, answer (the staff page's words)."""
    answer = answer_text(view)
    return (
        f"{view.outbox_id:>6}  {text_time(view):%Y-%m-%d %H:%M}  {kind_text(view.kind):<16} {view.patient_id:<8} "
        f"{visit_text(view, names) or '-'}  [{status_text(view)}]" + (f"  answer: {answer}" if answer else "")
    )


def show_texts(out: TextIO, days: int = 7) -> int:
    """Print the texts due or sent within ``days`` days either side of now, by time (clinic time)."""
    views = get_outreach_service().upcoming_texts(days)
    _audit("read:outreach_texts", [view.patient_id for view in views])
    names = display_names()
    print(f"{len(views)} text(s) in the last {days} and the next {days} day(s), clinic time:", file=out)
    for view in views:
        print(_text_line(view, names), file=out)
    return 0


def show_waitlist(out: TextIO) -> int:
    """Print everyone waiting, in order of joining."""
    entries = get_outreach_service().waitlist()
    _audit("read:waitlist", [entry.patient_id for entry in entries])
    if not entries:
        print("Nobody is waiting.", file=out)
        return 0
    names = display_names()
    for place, entry in enumerate(entries, start=1):
        provider = names.get(entry.provider_id, entry.provider_id) if entry.provider_id else "any provider"
        print(
            f"{place:>3}. {entry.patient_id:<8} {names.get(entry.visit_type, entry.visit_type)} with {provider}, "
            f"{entry.from_date:%Y-%m-%d} to {entry.to_date:%Y-%m-%d}, joined {entry.joined_at:%Y-%m-%d %H:%M}",
            file=out,
        )
    return 0


def main(argv: Sequence[str], out: TextIO) -> int:
    """Entry point of ``python -m bot staff ...``."""
    parser = argparse.ArgumentParser(
        prog="python -m bot staff", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="what", required=True)
    items = sub.add_parser("work-items", help="open refill, call-back and handoff requests")
    items.add_argument("--kind", choices=list(WORK_ITEM_KINDS))
    intake = sub.add_parser("intake", help="a patient's stored intake")
    intake.add_argument("patient_id")
    intake.add_argument("--all-versions", action="store_true")
    done = sub.add_parser("done", help="mark a work item done")
    done.add_argument("work_item_id")
    texts = sub.add_parser("texts", help="reminders, waitlist offers and follow-ups planned and sent, with answers")
    texts.add_argument("--days", type=_days, default=7, help=f"days back and ahead (1 to {MAX_DAYS}, default 7)")
    sub.add_parser("waitlist", help="everyone waiting for an earlier time, in order of joining")
    args = parser.parse_args(list(argv))
    if args.what == "work-items":
        return show_work_items(out, args.kind)
    if args.what == "intake":
        return show_intake(out, args.patient_id, args.all_versions)
    if args.what in ("texts", "waitlist"):
        try:
            return show_texts(out, args.days) if args.what == "texts" else show_waitlist(out)
        except (OutreachError, SchedulingError) as exc:
            print(f"Could not read the {args.what}: {exc}. Try again shortly.", file=sys.stderr)
            return 1
    return mark_done(out, args.work_item_id)


__all__: list[str] = ["main", "show_intake", "show_work_items", "mark_done", "show_texts", "show_waitlist"]
