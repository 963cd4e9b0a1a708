"""Run the conversation suite and print how the assistant did.

    .venv/bin/python -m tests.conversations.report              # starts its own assistant (fresh database)
    .venv/bin/python -m tests.conversations.report --url http://127.0.0.1:5005 \\
        --database-url sqlite:///var/clinic.db                   # an assistant that is already running
    ... --only sick_cut_finger --only booking                   # some ids or files (topic names)

Prints the success rate, the number of false 911 answers (target: at least
95 % and none), the failing ids grouped by cause, and exits 1 when any
conversation failed. An assistant that is already running must use the test
clock (CLINIC_TODAY=2026-12-02, CLINIC_TIME=10:00, as tests/e2e/harness.py sets):
the conversations' dates and the expected offers depend on it. New-patient
conversations register their patients, so a second run on the same database
finds them already registered; start a fresh assistant for a clean run.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.conversations.runner import ConversationRunner, Result
from tests.conversations.spec import Conversation, load_all

TARGET = 0.95


def cause(failure: str) -> str:
    """A failure without its turn number and answer text, to group failures by cause."""
    text = re.sub(r"^turn \d+: ", "", failure)
    text = re.sub(r" \('.*", "", text)
    text = re.sub(r"; answer: .*", "", text)
    return text


def summary_lines(results: Sequence[Result]) -> list[str]:
    """The report: success rate, false 911 count, failing ids grouped by cause."""
    total = len(results)
    passed = sum(r.passed for r in results)
    false_911 = [r.conversation_id for r in results if r.false_911]
    rate = passed / total if total else 0.0
    lines = [
        f"conversations: {passed}/{total} successful ({rate:.1%}; target {TARGET:.0%}: "
        f"{'met' if rate >= TARGET else 'not met'})",
        f"false 911 answers: {len(false_911)} (target 0)" + (f": {', '.join(false_911)}" if false_911 else ""),
    ]
    groups: dict[str, list[str]] = defaultdict(list)
    for result in results:
        if not result.passed:
            groups[cause(result.failure)].append(result.conversation_id)
    if groups:
        lines.append("failing, by cause:")
        for reason, ids in sorted(groups.items(), key=lambda item: -len(item[1])):
            lines.append(f"  [{len(ids)}] {reason}")
            lines.append(f"      {', '.join(ids)}")
    return lines


def select(conversations: list[Conversation], only: list[str] | None) -> list[Conversation]:
    """Conversations whose id or file (without .yml) is in ``only``; all when empty."""
    if not only:
        return conversations
    return [c for c in conversations if c.id in only or c.source.removesuffix(".yml") in only]


def run_all(runner: ConversationRunner, conversations: list[Conversation], workers: int = 1) -> list[Result]:
    """Every conversation, in file order (several at a time with ``workers`` > 1)."""
    if workers <= 1:
        return [runner.run(c) for c in conversations]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(runner.run, conversations))


def main(argv: Sequence[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running assistant's Rasa server (default: start one)")
    parser.add_argument("--database-url", help="its clinic database (needed with --url)")
    parser.add_argument("--only", action="append", help="a conversation id or file topic (repeatable)")
    parser.add_argument("--workers", type=int, default=1, help="conversations at a time (default 1)")
    parser.add_argument("-v", "--verbose", action="store_true", help="one line per conversation")
    args = parser.parse_args(argv)
    conversations = select(load_all(), args.only)
    assistant = None
    if args.url:
        if not args.database_url:
            parser.error("--database-url is required with --url")
        rasa_url, database_url = args.url, args.database_url
    else:
        from tests.e2e.harness import start_assistant

        print("Starting an assistant (fresh database)...", flush=True)
        assistant = start_assistant(Path(tempfile.mkdtemp(prefix="conversations-")), timeout=900)
        rasa_url, database_url = assistant.rasa_url, assistant.clinic_database_url
    try:
        results = run_all(ConversationRunner(rasa_url, database_url), conversations, args.workers)
    finally:
        if assistant is not None:
            assistant.stop()
    if args.verbose:
        for conversation, result in zip(conversations, results, strict=False):
            state = "ok  " if result.passed else "FAIL"
            print(
                f"{state} {conversation.source:32} {result.conversation_id}"
                + ("" if result.passed else f": {result.failure}")
            )
    for line in summary_lines(results):
        print(line)
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
