"""Closed-loop load driver for Rasa's REST channel, and the statistics it reports.

Each virtual user plays conversations one after another; inside a conversation every
message waits for the reply before the next turn is sent, as a person typing would.
A level is bounded by a fixed message count (shared by all users) and a deadline, so
it always stops by itself.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import aiohttp


@dataclass(frozen=True)
class FirstButton:
    """A step that sends the first quick-reply button's payload of the previous reply.

    ``fallback`` is sent when the previous reply offered no button, so the script
    still advances (a person would type their choice).
    """

    fallback: str


FIRST_BUTTON = FirstButton(fallback="1")

Step = str | FirstButton
Script = Sequence[Step]


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile: the smallest value with at least ``pct``% of values <= it.

    For n sorted values the result is the value at 1-based rank ``ceil(pct/100 * n)``
    (rank 1 for pct 0). No interpolation, so the result is always an observed value.
    """
    if not values:
        raise ValueError("percentile of an empty sample")
    if not 0.0 <= pct <= 100.0:
        raise ValueError(f"percentile must be within 0..100, got {pct}")
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100.0 * len(ordered)))
    return ordered[rank - 1]


def throughput(completed: int, elapsed_s: float) -> float:
    """Messages answered per second of wall time (0 when nothing ran)."""
    if elapsed_s <= 0.0:
        return 0.0
    return completed / elapsed_s


def first_button_payload(reply: Sequence[Any]) -> str | None:
    """Payload of the first button in a REST reply (a list of bot messages), if any."""
    for message in reply:
        if not isinstance(message, dict):
            continue
        for button in message.get("buttons") or ():
            if isinstance(button, dict) and button.get("payload"):
                return str(button["payload"])
    return None


def resolve_step(step: Step, previous_reply: Sequence[Any]) -> str:
    """The text to send for ``step`` given the previous reply of the same conversation."""
    if isinstance(step, FirstButton):
        return first_button_payload(previous_reply) or step.fallback
    return step


@dataclass
class LevelResult:
    """What one load level measured; latencies are of answered (HTTP 200) messages only."""

    concurrency: int
    requested_messages: int
    completed: int = 0
    errors: int = 0
    empty_replies: int = 0
    conversations: int = 0
    elapsed_s: float = 0.0
    timed_out: bool = False
    latencies_s: list[float] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        """Answered messages per second over the level's wall time."""
        return throughput(self.completed, self.elapsed_s)

    def latency_ms(self, pct: float) -> float | None:
        """Nearest-rank latency percentile in milliseconds, None without answers."""
        if not self.latencies_s:
            return None
        return percentile(self.latencies_s, pct) * 1000.0

    def summary(self) -> dict[str, Any]:
        """A JSON-ready summary without the raw latency list."""
        data = asdict(self)
        del data["latencies_s"]
        data.update(
            throughput_msg_s=self.throughput,
            p50_ms=self.latency_ms(50),
            p95_ms=self.latency_ms(95),
            p99_ms=self.latency_ms(99),
            max_ms=max(self.latencies_s) * 1000.0 if self.latencies_s else None,
        )
        return data


class _Budget:
    """The level's message allowance, shared by all virtual users (one event loop)."""

    def __init__(self, messages: int, deadline: float) -> None:
        """Allow ``messages`` sends until the ``perf_counter`` time ``deadline``."""
        self.left = messages
        self.deadline = deadline
        self.timed_out = False

    def take(self) -> bool:
        """Claim one message; False once the count is spent or the deadline passed."""
        if self.left <= 0:
            return False
        if time.perf_counter() >= self.deadline:
            self.timed_out = True
            return False
        self.left -= 1
        return True


async def run_level(
    webhook_url: str,
    scripts: Sequence[Script],
    concurrency: int,
    messages: int,
    *,
    max_seconds: float = 300.0,
    request_timeout_s: float = 60.0,
    sender_prefix: str = "bench",
) -> LevelResult:
    """Drive ``concurrency`` concurrent conversations until ``messages`` are answered.

    Conversation k of user w plays ``scripts[(w + k * concurrency) % len(scripts)]``
    under a fresh sender id; a failed request abandons that conversation.
    """
    if concurrency < 1 or messages < 1:
        raise ValueError("concurrency and messages must be at least 1")
    if not scripts or not all(scripts):
        raise ValueError("need at least one non-empty script")
    result = LevelResult(concurrency=concurrency, requested_messages=messages)
    run_id = uuid.uuid4().hex[:8]
    timeout = aiohttp.ClientTimeout(total=request_timeout_s)
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)

    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        start = time.perf_counter()
        budget = _Budget(messages, time.perf_counter() + max_seconds)
        finished_at = start

        async def user(worker: int) -> None:
            """One virtual user playing conversations back to back."""
            nonlocal finished_at
            conversation = 0
            while budget.left > 0 and not budget.timed_out:
                script = scripts[(worker + conversation * concurrency) % len(scripts)]
                sender = f"{sender_prefix}-{run_id}-c{concurrency}-u{worker}-{conversation}"
                conversation += 1
                result.conversations += 1
                previous: list[Any] = []
                for step in script:
                    if not budget.take():
                        return
                    payload = {"sender": sender, "message": resolve_step(step, previous)}
                    sent = time.perf_counter()
                    try:
                        async with session.post(webhook_url, json=payload) as response:
                            body = await response.json(content_type=None)
                            ok = response.status == 200 and isinstance(body, list)
                    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
                        ok, body = False, None
                    answered = time.perf_counter()
                    finished_at = max(finished_at, answered)
                    if not ok:
                        result.errors += 1
                        break
                    result.completed += 1
                    result.latencies_s.append(answered - sent)
                    if not body:
                        result.empty_replies += 1
                    previous = body

        await asyncio.gather(*(user(w) for w in range(concurrency)))
        result.elapsed_s = finished_at - start
        result.timed_out = budget.timed_out
    return result
