"""What a scenario did to the patients' messages: sent, answered, stored, lost, doubled, out of order, ``200 []``.

Counted from both ends: what each patient got back (every attempt, see
:class:`tests.scale.harness.Sent`) and what the conversation store holds
afterwards (:meth:`tests.scale.harness.ScaleCluster.stored_events`):

* **sent**: messages (a resend of the same ``message_id`` is the same message);
* **answered**: messages that got a normal answer in the end;
* **stored**: messages whose user event is in the store;
* **lost**: answered but not stored (the patient thinks we have it);
* **doubled**: extra copies of a message in the store (a resend run twice);
* **out of order**: a turn that started before the previous turn of its
  conversation ended (two turns at once: interleaved events, or overlapping
  times, or a second session start), plus, where each patient waits for an
  answer before the next message, a message stored before an earlier one;
* **200 []**: answers that said nothing with a success status;
* **failures told**: attempts answered explicitly (non-2xx, or plain words
  that it failed); each was resent.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from tests.scale.harness import Attempt, Sent, StoredEvent


@dataclass
class ScenarioResult:
    """One row of the table."""

    name: str
    sent: int
    answered: int
    stored: int
    lost: int
    doubled: int
    out_of_order: int
    empty_200: int
    failures_told: int
    seconds: float
    slowest: float = 0.0
    """Seconds from a message's first sending to its answer, for the slowest message."""
    notes: list[str] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        """Answered messages per second over the scenario."""
        return self.answered / self.seconds if self.seconds > 0 else 0.0


def judge(
    name: str, messages: Sequence[Sent], events: Sequence[StoredEvent], seconds: float, sequential: bool
) -> ScenarioResult:
    """Count a scenario's messages against the store; ``sequential``: each patient waited for every answer."""
    ours = {m.message_id for m in messages}
    copies: Counter[str] = Counter()
    position: dict[str, int] = {}
    senders = set()
    for index, event in enumerate(events):
        if event.type_name == "user" and not event.part_of_message and event.message_id in ours:
            copies[event.message_id] += 1
            position.setdefault(event.message_id, index)
            senders.add(event.sender_id)
    out_of_order = sum(_overlapping_turns([e for e in events if e.sender_id == sender]) for sender in senders)
    if sequential:
        by_conversation: dict[str, list[Sent]] = defaultdict(list)
        for message in messages:
            by_conversation[message.conversation].append(message)
        for conversation in by_conversation.values():
            stored_positions = [
                position[m.message_id] for m in sorted(conversation, key=lambda m: m.seq) if m.message_id in position
            ]
            out_of_order += sum(1 for a, b in zip(stored_positions, stored_positions[1:], strict=False) if b < a)
    attempts = [a for m in messages for a in m.attempts]
    answered = [m for m in messages if m.answered_at is not None]
    slowest = max(answered, key=lambda m: (m.answered_at or 0.0) - m.first_sent, default=None)
    slowest_note = "slowest answer: none"
    slowest_wait = 0.0
    if slowest is not None:
        tries = ", ".join(f"{a.status or '-'} {a.kind} {a.seconds:.1f} s" for a in slowest.attempts[-4:])
        slowest_wait = (slowest.answered_at or 0.0) - slowest.first_sent
        slowest_note = f"slowest answer: {slowest_wait:.1f} s after {len(slowest.attempts)} attempt(s) (last: {tries})"
    return ScenarioResult(
        name=name,
        sent=len(messages),
        answered=sum(1 for m in messages if m.answered),
        stored=sum(1 for m in messages if copies[m.message_id] > 0),
        lost=sum(1 for m in messages if m.answered and copies[m.message_id] == 0),
        doubled=sum(max(0, count - 1) for count in copies.values()),
        out_of_order=out_of_order,
        empty_200=sum(1 for a in attempts if a.kind == "empty_200"),
        failures_told=sum(1 for a in attempts if a.kind in ("plain_failure", "error", "connection")),
        seconds=seconds,
        slowest=slowest_wait,
        notes=[slowest_note] + _failure_note(attempts),
    )


def _failure_note(attempts: Sequence[Attempt]) -> list[str]:
    """What the failed attempts got back, by status and kind (``502 error`` is the load balancer's)."""
    kinds = Counter(f"{a.status or 'no answer'} {a.kind}" for a in attempts if a.kind != "ok")
    if not kinds:
        return []
    return ["failed attempts: " + ", ".join(f"{count} x {kind}" for kind, count in kinds.most_common())]


def _overlapping_turns(events: Sequence[StoredEvent]) -> int:
    """Turns of one conversation that began before the previous one ended (or a second session start)."""
    bad = 0
    open_turn = False
    last_end = 0.0
    sessions = 0
    for event in events:
        if event.type_name == "session_started":
            sessions += 1
        if event.type_name == "user" and not event.part_of_message:
            if open_turn or event.timestamp + 1e-3 < last_end:
                bad += 1
            open_turn = True
        elif event.type_name == "action" and event.action == "action_listen" and open_turn:
            open_turn = False
            last_end = max(last_end, event.timestamp)
    return bad + max(0, sessions - 1)


COLUMNS = ("sent", "answered", "stored", "lost", "doubled", "out of order", "200 []", "failures told", "msg/s")


def table(results: Sequence[ScenarioResult]) -> str:
    """The results as a fixed-width table, one scenario a row, notes under it."""
    width = max([len(r.name) for r in results] + [8])
    lines = [f"{'scenario':<{width}}  " + "  ".join(f"{c:>8}" for c in COLUMNS)]
    for r in results:
        values = (r.sent, r.answered, r.stored, r.lost, r.doubled, r.out_of_order, r.empty_200, r.failures_told)
        lines.append(f"{r.name:<{width}}  " + "  ".join(f"{v:>8}" for v in values) + f"  {r.throughput:>8.1f}")
        lines += [f"{'':<{width}}    {note}" for note in r.notes]
    return "\n".join(lines)
