"""``python -m bot worker``: plans outreach and sends due texts until stopped (SIGTERM, SIGINT).

Each round plans (:func:`bot.outreach.planner.plan`: reminders, offers,
follow-ups as outbox rows, idempotent) and then sends a batch of due rows
(:class:`bot.outreach.outbox.OutboxSender`); when nothing was due it sleeps
:data:`IDLE_SECONDS`. A heartbeat thread renews the leases of rows in hand.
Any number of workers may run on one database; the outbox decides who sends
what. Logs say counts and outbox ids only.
"""

from __future__ import annotations

import collections
import logging
import signal
import threading
import time
from types import FrameType

from bot.outreach.outbox import HEARTBEAT_SECONDS, OutboxSender
from bot.outreach.planner import plan

logger = logging.getLogger("bot.outreach.worker")

IDLE_SECONDS = 1.0
ERROR_PAUSE_SECONDS = 5.0
PLAN_EVERY_SECONDS = 1.0
"""Planning reads every booked visit; at most once a second, even while a backlog is sent."""


def _summary(counts: collections.Counter[str]) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(counts.items()) if count)


class Worker:
    """One worker process's loop; ``stop`` ends it after the text in hand."""

    def __init__(self, sender: OutboxSender | None = None, idle_seconds: float = IDLE_SECONDS) -> None:
        """A worker around ``sender`` (one is made for ``CLINIC_DATABASE_URL`` when not given)."""
        self.sender = sender or OutboxSender()
        self.idle_seconds = idle_seconds
        self.stopping = threading.Event()
        self._planned_at = 0.0

    def stop(self) -> None:
        """Finish the text in hand, hand back the rest of the batch, and end."""
        self.stopping.set()

    def _heartbeat(self) -> None:
        while not self.stopping.wait(HEARTBEAT_SECONDS):
            try:
                self.sender.renew_leases()
            except Exception as exc:  # noqa: BLE001 - the loop must outlive a database blip
                logger.error("lease renewal failed (%s)", type(exc).__name__)

    def plan(self) -> None:
        """Plan new outbox rows (at most every :data:`PLAN_EVERY_SECONDS`)."""
        if time.monotonic() - self._planned_at < PLAN_EVERY_SECONDS:
            return
        self._planned_at = time.monotonic()
        plan(url=self.sender.url)  # it logs what it planned

    def round(self) -> collections.Counter[str]:
        """Plan, then send one batch; counts by outcome."""
        self.plan()
        counts = self.sender.run_once(stop=self.stopping.is_set)
        if counts.get("claimed"):
            logger.info("outbox round: %s", _summary(counts))
        return counts

    def run(self) -> int:
        """Loop until stopped; 0."""
        heartbeat = threading.Thread(target=self._heartbeat, name="outbox-heartbeat", daemon=True)
        heartbeat.start()
        logger.info("outreach worker %s started", self.sender.owner.rsplit(":", 1)[-1])
        while not self.stopping.is_set():
            try:
                counts = self.round()
            except Exception as exc:  # noqa: BLE001 - a database or planner failure: log, wait, go on
                logger.error("outreach round failed (%s); trying again shortly", type(exc).__name__)
                self.stopping.wait(ERROR_PAUSE_SECONDS)
                continue
            if not counts.get("claimed"):
                self.stopping.wait(self.idle_seconds)
        logger.info("outreach worker stopped")
        return 0


def run_worker() -> int:
    """The ``worker`` sub-command: run until SIGTERM or SIGINT."""
    worker = Worker()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        worker.stop()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    return worker.run()
