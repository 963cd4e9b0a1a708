"""The conversation lock store against real Redis servers.

The machine's Redis serves the ordering and clean-up tests (each test with its
own key prefix); a throwaway ``redis-server`` (``tests/throwaway_redis.py``) is
stopped, frozen with ``SIGSTOP``, password-protected or put behind TLS. Short
lifetimes stand in for the production minute.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.stores.errors import LockUnavailable
from bot.stores.lock_store import ClinicLockStore, RedisTicketLocks, lock_keys
from tests.throwaway_redis import ThrowawayRedis

ROOT = Path(__file__).resolve().parents[2]
MACHINE_REDIS = "redis://127.0.0.1:6379/0"


def prefix() -> str:
    """A key prefix of this test's own."""
    return f"test-{uuid.uuid4().hex[:12]}:lock:"


async def keys_under(url: str, key_prefix: str) -> list[bytes]:
    """Every key left under ``key_prefix``."""
    from redis import asyncio as aioredis

    client = aioredis.Redis.from_url(url)
    try:
        return [key async for key in client.scan_iter(match=key_prefix + "*")]
    finally:
        await client.close(close_connection_pool=True)


@pytest.fixture
async def locks() -> AsyncIterator[RedisTicketLocks]:
    """Locks on the machine's Redis, with a short lifetime and their own prefix."""
    store = RedisTicketLocks(MACHINE_REDIS, lifetime=2.0, heartbeat=0.4, key_prefix=prefix())
    yield store
    await store.close()


@pytest.fixture
def throwaway() -> Iterator[ThrowawayRedis]:
    """A Redis server this test may stop and freeze."""
    server = ThrowawayRedis()
    try:
        yield server
    finally:
        server.close()


def test_lock_unavailable_is_what_channels_already_catch() -> None:
    from rasa.core.lock_store import LockError

    from channels.store_errors import STORE_ERRORS

    error = LockUnavailable("conversation lock: Redis failed to issue a ticket (ConnectionError)")
    assert isinstance(error, LockError) and isinstance(error, RuntimeError) and isinstance(error, STORE_ERRORS)


def test_keys_of_one_conversation_share_a_cluster_slot_and_the_clinic_prefix() -> None:
    assert lock_keys("webchat:abc") == [
        "clinic:lock:{webchat:abc}:n",
        "clinic:lock:{webchat:abc}:q",
        "clinic:lock:{webchat:abc}:x",
    ]


async def test_without_redis_url_the_demo_locks_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    store = ClinicLockStore()
    assert store.redis is None
    order: list[str] = []

    async def turn(name: str) -> None:
        async with store.lock("demo-conversation"):
            order.append(f"{name} in")
            await asyncio.sleep(0.05)
            order.append(f"{name} out")

    await asyncio.gather(turn("a"), turn("b"))
    assert order in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])
    assert store.get_lock("demo-conversation") is None  # nothing left behind


@pytest.mark.redis
async def test_concurrent_users_of_one_conversation_never_overlap_and_are_served_in_ticket_order(
    locks: RedisTicketLocks,
) -> None:
    inside = 0
    most_inside = 0
    served: list[int] = []

    async def user() -> None:
        nonlocal inside, most_inside
        async with locks.lock("one-conversation") as held:
            inside += 1
            most_inside = max(most_inside, inside)
            served.append(held.tickets[0].number)
            await asyncio.sleep(0.02)
            inside -= 1

    await asyncio.gather(*(user() for _ in range(12)))
    assert most_inside == 1
    assert served == sorted(served) and len(set(served)) == 12
    assert await keys_under(MACHINE_REDIS, locks.key_prefix) == []


@pytest.mark.redis
async def test_different_conversations_run_in_parallel(locks: RedisTicketLocks) -> None:
    inside = 0
    most_inside = 0

    async def user(conversation: str) -> None:
        nonlocal inside, most_inside
        async with locks.lock(conversation):
            inside += 1
            most_inside = max(most_inside, inside)
            await asyncio.sleep(0.5)
            inside -= 1

    started = time.monotonic()
    await asyncio.gather(*(user(f"conversation-{n}") for n in range(5)))
    assert most_inside == 5
    assert time.monotonic() - started < 1.5  # one after another would take 2.5 s


@pytest.mark.redis
async def test_a_failing_turn_releases_and_leaves_no_keys(locks: RedisTicketLocks) -> None:
    with pytest.raises(ZeroDivisionError):
        async with locks.lock("failing"):
            raise ZeroDivisionError
    assert await keys_under(MACHINE_REDIS, locks.key_prefix) == []
    async with locks.lock("failing"):
        assert len(await keys_under(MACHINE_REDIS, locks.key_prefix)) == 3  # counter, queue, expiries
    assert await keys_under(MACHINE_REDIS, locks.key_prefix) == []


@pytest.mark.redis
async def test_every_key_expires_even_when_nobody_releases(locks: RedisTicketLocks) -> None:
    from redis import asyncio as aioredis

    client = aioredis.Redis.from_url(MACHINE_REDIS)
    try:
        async with locks.lock("ttl"):
            ttls = [await client.pttl(key) for key in lock_keys("ttl", locks.key_prefix)]
    finally:
        await client.close(close_connection_pool=True)
    assert all(0 < ttl <= 2000 for ttl in ttls), ttls


@pytest.mark.redis
async def test_a_cancelled_turn_frees_the_conversation_at_once(locks: RedisTicketLocks) -> None:
    holding = asyncio.Event()

    async def holder() -> None:
        async with locks.lock("cancelled"):
            holding.set()
            await asyncio.sleep(60)

    task = asyncio.create_task(holder())
    await holding.wait()
    task.cancel()
    started = time.monotonic()
    async with locks.lock("cancelled"):
        waited = time.monotonic() - started
    assert waited < 0.5
    assert await keys_under(MACHINE_REDIS, locks.key_prefix) == []


@pytest.mark.redis
async def test_a_live_turn_longer_than_the_lifetime_keeps_the_lock(locks: RedisTicketLocks) -> None:
    events: list[str] = []
    holding = asyncio.Event()

    async def long_turn() -> None:
        async with locks.lock("long"):
            holding.set()
            events.append("long in")
            await asyncio.sleep(locks.lifetime * 2.5)  # heartbeats keep the ticket alive
            events.append("long out")

    async def next_turn() -> None:
        await holding.wait()
        async with locks.lock("long"):
            events.append("next in")

    await asyncio.gather(long_turn(), next_turn())
    assert events == ["long in", "long out", "next in"]


HOLDER = textwrap.dedent(
    """
    import asyncio, sys
    from bot.stores.lock_store import RedisTicketLocks

    async def main():
        locks = RedisTicketLocks(sys.argv[1], lifetime=float(sys.argv[3]), heartbeat=0.2, key_prefix=sys.argv[2])
        async with locks.lock("vanishing"):
            print("held", flush=True)
            await asyncio.sleep(3600)

    asyncio.run(main())
    """
)


@pytest.mark.redis
async def test_a_holder_that_dies_without_releasing_is_skipped_after_the_lifetime() -> None:
    key_prefix = prefix()
    lifetime = 2.0
    locks = RedisTicketLocks(MACHINE_REDIS, lifetime=lifetime, heartbeat=0.4, key_prefix=key_prefix)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, MACHINE_REDIS, key_prefix, str(lifetime)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        env={**os.environ, "CLINIC_DOTENV": "0"},
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == b"held"
        await asyncio.sleep(lifetime)  # alive longer than a lifetime: its heartbeat keeps the lock
        waiting = asyncio.create_task(_enter(locks, "vanishing"))
        await asyncio.sleep(0.5)
        assert not waiting.done()
        holder.send_signal(signal.SIGKILL)  # dies holding the lock: no release, no more heartbeats
        holder.wait(timeout=10)
        killed = time.monotonic()
        await asyncio.wait_for(waiting, lifetime + 3)
        skipped_after = time.monotonic() - killed
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(timeout=10)
        await locks.close()
    assert lifetime - 0.5 <= skipped_after <= lifetime + 1.0, skipped_after
    assert await keys_under(MACHINE_REDIS, key_prefix) == []


async def _enter(locks: RedisTicketLocks, conversation: str) -> None:
    """Take and release the lock once."""
    async with locks.lock(conversation):
        pass


@pytest.mark.redis
async def test_a_turn_stuck_past_the_longest_hold_stops_blocking_the_conversation() -> None:
    locks = RedisTicketLocks(MACHINE_REDIS, lifetime=1.0, heartbeat=0.2, max_hold=1.0, key_prefix=prefix())
    holding = asyncio.Event()

    async def stuck() -> None:
        async with locks.lock("stuck"):
            holding.set()
            await asyncio.sleep(6)

    task = asyncio.create_task(stuck())
    try:
        await holding.wait()
        started = time.monotonic()
        await asyncio.wait_for(_enter(locks, "stuck"), 5)
        assert 1.5 <= time.monotonic() - started <= 3.5  # max_hold + lifetime, give or take a heartbeat
    finally:
        task.cancel()
        await asyncio.wait({task})
        await locks.close()


@pytest.mark.redis
async def test_waiting_is_bounded() -> None:
    locks = RedisTicketLocks(MACHINE_REDIS, lifetime=2.0, heartbeat=0.4, wait_timeout=0.5, key_prefix=prefix())
    holding = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with locks.lock("busy"):
            holding.set()
            await release.wait()

    task = asyncio.create_task(holder())
    try:
        await holding.wait()
        started = time.monotonic()
        with pytest.raises(LockUnavailable, match="no turn within"):
            await _enter(locks, "busy")
        assert 0.5 <= time.monotonic() - started < 1.5
    finally:
        release.set()
        await task
        await locks.close()
    assert await keys_under(MACHINE_REDIS, locks.key_prefix) == []  # the waiter's ticket went too


@pytest.mark.redis
async def test_redis_stopped_raises_lock_unavailable_quickly_and_works_again_when_back(
    throwaway: ThrowawayRedis,
) -> None:
    locks = RedisTicketLocks(throwaway.url, lifetime=2.0, heartbeat=0.4)
    try:
        await _enter(locks, "outage")
        throwaway.stop()
        started = time.monotonic()
        with pytest.raises(LockUnavailable, match="Redis failed to issue a ticket"):
            await _enter(locks, "outage")
        assert time.monotonic() - started < 1.0
        throwaway.start()
        await _enter(locks, "outage")
        assert await keys_under(throwaway.url, "clinic:lock:") == []
    finally:
        await locks.close()


@pytest.mark.redis
async def test_after_a_restart_the_pools_old_connections_cost_no_turn_and_leave_no_ticket(
    throwaway: ThrowawayRedis,
) -> None:
    """Connections pooled before Redis restarted are broken; a lock call on one is retried on a fresh one."""
    locks = RedisTicketLocks(throwaway.url, lifetime=30.0, heartbeat=5.0)
    try:
        await asyncio.gather(*(_enter(locks, f"pooled-{n}") for n in range(6)))  # several pooled connections
        throwaway.stop()
        throwaway.start()
        await asyncio.gather(*(_enter(locks, f"pooled-{n}") for n in range(6)))  # no LockUnavailable
        assert await keys_under(throwaway.url, "clinic:lock:") == []  # every release reached Redis
    finally:
        await locks.close()


@pytest.mark.redis
async def test_redis_stopping_while_a_turn_waits_raises_lock_unavailable(throwaway: ThrowawayRedis) -> None:
    locks = RedisTicketLocks(throwaway.url, lifetime=2.0, heartbeat=0.4)
    holding = asyncio.Event()

    async def holder() -> None:
        async with locks.lock("waiting"):
            holding.set()
            await asyncio.sleep(30)

    task = asyncio.create_task(holder())
    try:
        await holding.wait()
        waiter = asyncio.create_task(_enter(locks, "waiting"))
        await asyncio.sleep(0.3)
        throwaway.stop()
        with pytest.raises(LockUnavailable):
            await asyncio.wait_for(waiter, 5)
    finally:
        task.cancel()
        await asyncio.wait({task})
        await locks.close()


@pytest.mark.redis
async def test_the_event_loop_keeps_running_while_redis_is_frozen(throwaway: ThrowawayRedis) -> None:
    locks = RedisTicketLocks(throwaway.url, lifetime=2.0, heartbeat=0.4, redis_timeout=1.0)
    ticks: list[float] = []
    stop = asyncio.Event()

    async def other_conversations() -> None:
        while not stop.is_set():
            ticks.append(time.monotonic())
            await asyncio.sleep(0.01)

    try:
        await _enter(locks, "frozen")  # a connection exists before the freeze
        throwaway.pause()
        ticker = asyncio.create_task(other_conversations())
        started = time.monotonic()
        with pytest.raises(LockUnavailable):
            await _enter(locks, "frozen")
        elapsed = time.monotonic() - started
        stop.set()
        await ticker
        throwaway.resume()
        await _enter(locks, "frozen")
    finally:
        throwaway.resume()
        await locks.close()
    assert 0.9 <= elapsed < 3.0, elapsed  # bounded by the 1 s socket timeout
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    assert len(ticks) > elapsed / 0.01 * 0.25, len(ticks)
    assert max(gaps) < 0.5, max(gaps)  # Rasa's stock store froze the loop for its whole socket timeout


@pytest.mark.redis
async def test_password_and_tls(tmp_path: Path) -> None:
    server = ThrowawayRedis(password="s3cret/pass", tls=True)
    try:
        assert server.url.startswith("rediss://:s3cret%2Fpass@")
        locks = RedisTicketLocks(server.url, lifetime=2.0, heartbeat=0.4)
        await _enter(locks, "tls")
        await locks.close()
        wrong = RedisTicketLocks(server.url.replace("s3cret%2Fpass", "wrong"), lifetime=2.0, heartbeat=0.4)
        with pytest.raises(LockUnavailable, match="AuthenticationError"):
            await _enter(wrong, "tls")
        await wrong.close()
        plain = RedisTicketLocks(server.url.replace("rediss://", "redis://").split("?")[0], redis_timeout=1.0)
        with pytest.raises(LockUnavailable):
            await _enter(plain, "tls")  # a TLS-only server does not speak plain Redis
        await plain.close()
    finally:
        server.close()


@pytest.mark.redis
async def test_the_store_rasa_builds_from_settings_uses_redis(
    throwaway: ThrowawayRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", throwaway.url)
    store = ClinicLockStore()
    assert store.redis is not None
    async with store.lock("from-settings"):
        assert len(await keys_under(throwaway.url, "clinic:lock:{from-settings}")) == 3
    assert await keys_under(throwaway.url, "clinic:lock:") == []
    with pytest.raises(NotImplementedError):
        store.get_lock("from-settings")
    await store.redis.close()


WORKER = textwrap.dedent(
    """
    import asyncio, json, sys, time
    from bot.stores.lock_store import RedisTicketLocks

    async def main():
        url, key_prefix, log, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
        locks = RedisTicketLocks(url, lifetime=5.0, heartbeat=1.0, key_prefix=key_prefix)
        print("ready", flush=True)
        sys.stdin.readline()  # both start together
        with open(log, "a") as out:
            for _ in range(rounds):
                async with locks.lock("shared"):
                    entered = time.time()
                    await asyncio.sleep(0.005)
                    out.write(json.dumps([entered, time.time()]) + "\\n")
                    out.flush()
        await locks.close()

    asyncio.run(main())
    """
)


@pytest.mark.redis
def test_two_processes_never_hold_one_conversation_at_once(tmp_path: Path) -> None:
    key_prefix = prefix()
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, MACHINE_REDIS, key_prefix, str(log), "60"],
            cwd=ROOT,
            env={**os.environ, "CLINIC_DOTENV": "0"},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        for log in logs
    ]
    try:
        for worker in workers:
            assert worker.stdout is not None and worker.stdout.readline().strip() == b"ready"
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write(b"go\n")
            worker.stdin.flush()
        for worker in workers:
            assert worker.wait(timeout=120) == 0
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait(timeout=10)
    spans = sorted(tuple(json.loads(line)) for log in logs for line in log.read_text().splitlines())
    assert len(spans) == 120
    overlaps = [(a, b) for a, b in zip(spans, spans[1:], strict=False) if b[0] < a[1]]
    assert overlaps == []
    # Both really competed: their turns interleave rather than running one process after the other.
    first_a, first_b = (json.loads(log.read_text().splitlines()[0])[0] for log in logs)
    last_a, last_b = (json.loads(log.read_text().splitlines()[-1])[0] for log in logs)
    assert first_a < last_b and first_b < last_a
    assert asyncio.run(keys_under(MACHINE_REDIS, key_prefix)) == []
