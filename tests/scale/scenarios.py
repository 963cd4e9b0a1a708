"""The fault and load scenarios, each against a running :class:`~tests.scale.harness.ScaleCluster`.

Each returns a :class:`~tests.scale.report.ScenarioResult`; sizes come from
:class:`Sizes` (``SMALL`` for ``make test``, ``SOAK`` for ``make soak``).
Patients resend a failed message with the same ``message_id`` until it is
answered, as the portal widget's retry would.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from tests.scale.harness import ScaleCluster, Sent, portal_token, send_until_answered
from tests.scale.report import ScenarioResult, judge

TEXTS = ("what are your hours", "where are you located", "do you take aetna")
ANSWER_DEADLINE_SECONDS = 150.0
"""How long a patient keeps resending one message (longer than a lock's lifetime plus a wait)."""


def _lock_lifetime() -> float:
    """The lock store's ticket lifetime (Rasa's stock one is 60 s too)."""
    from bot.stores import lock_store

    return float(getattr(lock_store, "LOCK_LIFETIME_SECONDS", 60.0))


LOCK_LIFETIME_SECONDS = _lock_lifetime()
"""A dead holder blocks its conversation at most this long."""


@dataclass(frozen=True)
class Sizes:
    """How much load each scenario puts on the cluster."""

    parallel_messages: int
    """Messages sent at once to one conversation."""
    parallel_trials: int
    """Conversations that get such a burst."""
    parallel_at_once: int
    """Bursts running at the same time."""
    load_conversations: int
    """Patients writing one message after another during a fault."""
    outage_seconds: float
    """How long Redis or PostgreSQL is down."""
    after_seconds: float
    """Load kept up after a fault ends."""
    throughput_seconds: float
    """Length of each throughput run (one instance, then two)."""


SMALL = Sizes(
    parallel_messages=5,
    parallel_trials=3,
    parallel_at_once=1,
    load_conversations=3,
    outage_seconds=3,
    after_seconds=4,
    throughput_seconds=10,
)
SOAK = Sizes(
    parallel_messages=20,
    parallel_trials=50,
    parallel_at_once=2,
    load_conversations=6,
    outage_seconds=5,
    after_seconds=8,
    throughput_seconds=30,
)


def parallel(cluster: ScaleCluster, sizes: Sizes, name: str = "parallel messages") -> ScenarioResult:
    """Bursts of messages to one conversation at once, spread over the instances by the load balancer."""
    run = uuid.uuid4().hex[:6]
    messages: list[Sent] = []
    tokens: dict[str, str] = {}
    for trial in range(sizes.parallel_trials):
        subject = f"P-{run}-{trial}"
        tokens[subject] = portal_token(subject)
        for seq in range(sizes.parallel_messages):
            messages.append(Sent(subject, seq, f"{subject}.{seq}", TEXTS[seq % len(TEXTS)]))
    started = time.monotonic()
    deadline = started + ANSWER_DEADLINE_SECONDS + sizes.parallel_trials * 10
    workers = sizes.parallel_messages * sizes.parallel_at_once
    with ThreadPoolExecutor(workers) as pool:
        futures = [pool.submit(send_until_answered, cluster.url, m, tokens[m.conversation], deadline) for m in messages]
        for future in futures:
            future.result()
    seconds = time.monotonic() - started
    result = judge(name, messages, cluster.stored_events(), seconds, sequential=False)
    result.notes.append(
        f"{sizes.parallel_trials} conversations x {sizes.parallel_messages} messages at once, "
        f"{sizes.parallel_at_once} conversation(s) at a time"
    )
    return result


class SequentialLoad:
    """Patients each writing one message after another (waiting for every answer) until stopped."""

    def __init__(self, cluster: ScaleCluster, conversations: int, name: str) -> None:
        """Plan ``conversations`` patients; :meth:`start` sets them writing."""
        run = uuid.uuid4().hex[:6]
        self.cluster = cluster
        self.name = name
        self.subjects = [f"P-{run}-{n}" for n in range(conversations)]
        self.messages: list[Sent] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.started = 0.0

    def start(self) -> None:
        """Start every patient's thread."""
        self.started = time.monotonic()
        for subject in self.subjects:
            thread = threading.Thread(target=self._patient, args=(subject,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _patient(self, subject: str) -> None:
        token = portal_token(subject)
        seq = 0
        while not self._stop.is_set():
            message = Sent(subject, seq, f"{subject}.{seq}", TEXTS[seq % len(TEXTS)])
            with self._lock:
                self.messages.append(message)
            send_until_answered(self.cluster.url, message, token, time.monotonic() + ANSWER_DEADLINE_SECONDS)
            seq += 1

    def stop(self, sequential: bool = True) -> ScenarioResult:
        """Let each patient finish the message in hand, then count."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=ANSWER_DEADLINE_SECONDS + 30)
        seconds = time.monotonic() - self.started
        return judge(self.name, self.messages, self.cluster.stored_events(), seconds, sequential=sequential)


def _health_note(cluster: ScaleCluster, label: str) -> str:
    """One instance's health answer, as a note."""
    status, body = cluster.health(0)
    parts = ", ".join(f"{k} {v}" for k, v in (body or {}).items() if k != "status")
    return f"health {label}: {status} ({parts})"


def outage(
    cluster: ScaleCluster,
    sizes: Sizes,
    name: str,
    stop: Callable[[], None],
    start: Callable[[], None],
) -> ScenarioResult:
    """Load, then a store taken away for ``outage_seconds`` and brought back, then more load."""
    load = SequentialLoad(cluster, sizes.load_conversations, name)
    load.start()
    time.sleep(2)
    stop()
    time.sleep(min(1.0, sizes.outage_seconds / 2))
    during = _health_note(cluster, "while down")
    time.sleep(max(0.0, sizes.outage_seconds - min(1.0, sizes.outage_seconds / 2)))
    start()
    time.sleep(sizes.after_seconds)
    after = _health_note(cluster, "after")
    result = load.stop()
    result.notes += [f"down {sizes.outage_seconds:.0f} s under load", during, after]
    return result


def redis_outage(cluster: ScaleCluster, sizes: Sizes) -> ScenarioResult:
    """Redis (locks) stopped and started under load."""
    assert cluster.redis is not None
    return outage(cluster, sizes, "Redis stopped and started", cluster.redis.stop, cluster.redis.start)


def postgres_outage(cluster: ScaleCluster, sizes: Sizes) -> ScenarioResult:
    """The conversation store's PostgreSQL stopped and started under load."""
    assert cluster.postgres is not None
    return outage(cluster, sizes, "PostgreSQL stopped and started", cluster.postgres.stop, cluster.postgres.start)


def killed_instance(cluster: ScaleCluster, sizes: Sizes) -> ScenarioResult:
    """An instance killed (SIGKILL) while serving conversations; they go on on the other one."""
    assert cluster.shape is not None
    load = SequentialLoad(cluster, max(4, sizes.load_conversations), "instance killed mid-turn")
    load.start()
    time.sleep(3)
    busy_until = time.monotonic() + 10
    while cluster.shape.current_sessions(0) == 0 and time.monotonic() < busy_until:
        time.sleep(0.01)  # kill it while it serves a turn (holds a conversation's lock)
    serving = cluster.shape.current_sessions(0)
    killed_at = time.time()
    cluster.shape.kill_instance(0)
    time.sleep(LOCK_LIFETIME_SECONDS + 10)
    result = load.stop()
    in_flight = [m for m in load.messages if m.first_sent <= killed_at and (m.answered_at or 1e18) > killed_at]
    waits = [m.answered_at - killed_at for m in in_flight if m.answered_at is not None]
    result.notes.append(
        f"{len(in_flight)} message(s) in flight at the kill; all answered within "
        f"{max(waits) if waits else 0:.1f} s of it (lock lifetime {LOCK_LIFETIME_SECONDS:.0f} s)"
        if len(waits) == len(in_flight)
        else f"{len(in_flight) - len(waits)} message(s) in flight at the kill never answered"
    )
    result.notes.append(f"max wait after the kill: {max(waits) if waits else 0:.1f} s")
    result.notes.append(f"requests the killed instance was serving: {serving}")
    cluster.shape.start_instance(0)
    return result


def killed_instance_max_wait(result: ScenarioResult) -> float:
    """The longest a message in flight at the kill waited, from the scenario's note."""
    for note in result.notes:
        if note.startswith("max wait after the kill: "):
            return float(note.split(": ")[1].split(" ")[0])
    return float("inf")


def rolling_restart(cluster: ScaleCluster, sizes: Sizes) -> ScenarioResult:
    """Every instance restarted in turn (drained first) under load."""
    assert cluster.shape is not None
    load = SequentialLoad(cluster, sizes.load_conversations, "rolling restart")
    load.start()
    time.sleep(2)
    for index in range(len(cluster.shape.instance_ports)):
        cluster.shape.restart_instance(index)
    time.sleep(2)
    result = load.stop()
    result.notes.append(f"{len(cluster.shape.instance_ports)} instances restarted one after the other")
    return result


def throughput(cluster: ScaleCluster, sizes: Sizes, instances: int) -> ScenarioResult:
    """Answered messages per second with ``instances`` instances in the load balancer (others in maintenance)."""
    assert cluster.shape is not None
    total = len(cluster.shape.instance_ports)
    for index in range(instances, total):
        cluster.shape.set_state(index, "maint")
    try:
        load = SequentialLoad(cluster, 8, f"throughput, {instances} instance(s)")
        load.start()
        time.sleep(sizes.throughput_seconds)
        result = load.stop()
    finally:
        for index in range(instances, total):
            cluster.shape.set_state(index, "ready")
        time.sleep(1.5)
    result.notes.append(f"8 patients writing one message after another for {sizes.throughput_seconds:.0f} s")
    return result
