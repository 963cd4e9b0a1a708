"""Staff read-outs on the command line: stored intakes and open work items.

Besides the staff page (``/webhooks/staff/``), front-desk staff on the
clinic's machine read what the assistant collected with:

    python -m bot staff work-items [--kind refill|callback|handoff|emergency]
    python -m bot staff intake P-1001 [--all-versions]
    python -m bot staff done R-7K3Q9

Every read goes through the records service, so it is audited like an action's.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import TextIO

from bot.records import get_records_service
from bot.records.values import describe_work_item

STAFF_ACTOR = "staff:cli"


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


def main(argv: Sequence[str], out: TextIO) -> int:
    """Entry point of ``python -m bot staff ...``."""
    parser = argparse.ArgumentParser(
        prog="python -m bot staff", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="what", required=True)
    items = sub.add_parser("work-items", help="open refill, call-back and handoff requests")
    items.add_argument("--kind", choices=["refill", "callback", "handoff", "emergency"])
    intake = sub.add_parser("intake", help="a patient's stored intake")
    intake.add_argument("patient_id")
    intake.add_argument("--all-versions", action="store_true")
    done = sub.add_parser("done", help="mark a work item done")
    done.add_argument("work_item_id")
    args = parser.parse_args(list(argv))
    if args.what == "work-items":
        return show_work_items(out, args.kind)
    if args.what == "intake":
        return show_intake(out, args.patient_id, args.all_versions)
    return mark_done(out, args.work_item_id)


__all__: list[str] = ["main", "show_intake", "show_work_items", "mark_done"]
