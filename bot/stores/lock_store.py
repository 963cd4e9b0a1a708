"""Conversation lock store chosen by settings: atomic ticket locks in Redis, or in memory.

Rasa runs each message under ``async with lock_store.lock(sender_id)``, so two
messages of one conversation never run their turns at the same time, even on
two Rasa instances. ``endpoints.yml`` names :class:`ClinicLockStore`; with
``REDIS_URL`` it uses :class:`RedisTicketLocks`, otherwise Rasa's in-memory
store (the demo: one Rasa process).

Why not Rasa's ``RedisLockStore``: it reads the lock, changes it in Python and
writes it back (two instances can both take a ticket in between), and it calls
Redis with the blocking client inside the event loop, so one stalled Redis
froze every conversation of the instance for its 10 s socket timeout.

How the Redis locks work (keys of one conversation share a hash tag, so they
live on one Redis Cluster slot too):

* ``clinic:lock:{<conversation>}:n``: the ticket counter (``INCR``);
* ``clinic:lock:{<conversation>}:q``: the queue, a sorted set of ticket
  holders (a random token each) scored by ticket number;
* ``clinic:lock:{<conversation>}:x``: a hash, token -> expiry (ms, Redis clock).

Lua scripts, each atomic in Redis: *issue* (next number, queued with an
expiry of now + lifetime, and the answer of *turn*, so an uncontended lock
costs one round trip), *turn* (drop expired tickets at the head of the queue;
it is your turn when the smallest live ticket is yours; waiters ask again
after 20 ms, doubling up to 100 ms), *release*
(remove the ticket; an empty queue deletes all three keys). A fourth,
*refresh*, is the heartbeat: while a holder waits and works, it pushes its
ticket's expiry forward every :data:`HEARTBEAT_SECONDS`, so a live long turn
keeps the lock, and a holder that died (a killed process, a lost network) is
skipped once :data:`LOCK_LIFETIME_SECONDS` pass without a heartbeat. Expiries
use the Redis server's clock, so instances with skewed clocks agree. Every key
gets a time to live at least as long as its longest ticket: nothing is left
behind.

Every Redis call is asynchronous (``redis.asyncio``) and bounded by socket
timeouts; an unreachable, stalled or refusing Redis raises
:class:`~bot.stores.errors.LockUnavailable` within seconds, and the turn does
not run without the lock. Waiting for a turn is bounded too
(:data:`WAIT_TIMEOUT_SECONDS`).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import InMemoryLockStore, LockStore

from bot.settings import get_settings
from bot.stores.errors import LockUnavailable

logger = logging.getLogger(__name__)

KEY_PREFIX = "clinic:lock:"

LOCK_LIFETIME_SECONDS = 60.0
"""How long a ticket lives after its holder's last heartbeat.

Longer than the longest single step of a turn (an action call ends within 40 s,
``bot/rasa_coupling.py``), so even a holder whose heartbeats were held up for a
whole action call is never skipped while alive; short enough that a holder that
died blocks its one conversation for a minute at most.
"""

HEARTBEAT_SECONDS = 10.0
"""How often a holder renews its ticket: six chances within one lifetime."""

MAX_HOLD_SECONDS = 480.0
"""A turn longer than this stops renewing its ticket (it lapses one lifetime later).

A turn runs at most 10 actions (Rasa's ``MAX_NUMBER_OF_PREDICTIONS``) of at most
40 s each; a turn still holding the lock after 8 minutes is stuck, and the
conversation must not stay blocked for good.
"""

WAIT_TIMEOUT_SECONDS = 90.0
"""How long a message waits for its turn before the patient is asked to send it again."""

REDIS_TIMEOUT_SECONDS = 3.0
"""Connect and read timeout of every Redis call."""

_POLL_FIRST_SECONDS = 0.02
_POLL_MAX_SECONDS = 0.1

# Milliseconds now, on the Redis server's clock (TIME is allowed in scripts since Redis 5).
_NOW = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
"""

# Keep every key alive at least ``ttl`` ms from now (never shorten it).
_EXTEND = """
local function extend(ttl)
  for i = 1, 3 do
    if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
  end
end
"""

# Whose turn it is: drop expired tickets at the head of the queue; the smallest live ticket is served.
# Returns 1 (the token's turn), 0 (a smaller live ticket is served) or -1 (the token's ticket is gone).
_TURN = """
local function turn(token)
  if not redis.call('ZSCORE', KEYS[2], token) then return -1 end
  while true do
    local head = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
    local expires = tonumber(redis.call('HGET', KEYS[3], head))
    if expires and expires > now then
      if head == token then return 1 end
      return 0
    end
    redis.call('ZREM', KEYS[2], head)
    redis.call('HDEL', KEYS[3], head)
    if head == token then return -1 end
  end
end
"""

# KEYS: counter, queue, expiries. ARGV: token, lifetime ms.
# Returns {ticket number, turn}: an uncontended lock is taken in one round trip.
ISSUE_SCRIPT = (
    _NOW
    + _EXTEND
    + _TURN
    + """
local lifetime = tonumber(ARGV[2])
local number = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], number, ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], string.format('%.0f', now + lifetime))
extend(lifetime)
return {number, turn(ARGV[1])}
"""
)

# KEYS: counter, queue, expiries. ARGV: token. Returns the turn (1, 0 or -1, as above).
TURN_SCRIPT = _NOW + _TURN + "return turn(ARGV[1])\n"

# KEYS: counter, queue, expiries. ARGV: token, lifetime ms. Returns 1 (renewed) or 0 (the ticket is gone).
REFRESH_SCRIPT = (
    _NOW
    + _EXTEND
    + """
if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then return 0 end
local lifetime = tonumber(ARGV[2])
redis.call('HSET', KEYS[3], ARGV[1], string.format('%.0f', now + lifetime))
extend(lifetime)
return 1
"""
)

# KEYS: counter, queue, expiries. ARGV: token. Returns 1 (released) or 0 (it was gone already).
RELEASE_SCRIPT = """
local removed = redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
if redis.call('ZCARD', KEYS[2]) == 0 then redis.call('DEL', KEYS[1], KEYS[2], KEYS[3]) end
return removed
"""

_SCRIPTS = {"issue": ISSUE_SCRIPT, "turn": TURN_SCRIPT, "refresh": REFRESH_SCRIPT, "release": RELEASE_SCRIPT}


def lock_keys(conversation_id: str, prefix: str = KEY_PREFIX) -> list[str]:
    """The three Redis keys of a conversation's lock: counter, queue, expiries."""
    base = f"{prefix}{{{conversation_id}}}"
    return [f"{base}:n", f"{base}:q", f"{base}:x"]


class _Connection:
    """A ``redis.asyncio`` client and the registered scripts, bound to one event loop."""

    def __init__(self, url: str, timeout: float) -> None:
        from redis import asyncio as aioredis

        self.loop = asyncio.get_running_loop()
        self.client = aioredis.Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            socket_keepalive=True,
            health_check_interval=30,
        )
        self.scripts = {name: self.client.register_script(text) for name, text in _SCRIPTS.items()}


class RedisTicketLocks:
    """First-come, first-served conversation locks in Redis, fully asynchronous."""

    def __init__(
        self,
        url: str,
        *,
        lifetime: float = LOCK_LIFETIME_SECONDS,
        heartbeat: float = HEARTBEAT_SECONDS,
        max_hold: float = MAX_HOLD_SECONDS,
        wait_timeout: float = WAIT_TIMEOUT_SECONDS,
        redis_timeout: float = REDIS_TIMEOUT_SECONDS,
        key_prefix: str = KEY_PREFIX,
    ) -> None:
        """Locks in the Redis at ``url`` (``redis://`` or ``rediss://``); nothing connects yet."""
        if not 0 < heartbeat < lifetime:
            raise ValueError("the heartbeat must come more often than the lifetime")
        self._url = url
        self.lifetime = lifetime
        self.heartbeat = heartbeat
        self.max_hold = max_hold
        self.wait_timeout = wait_timeout
        self.redis_timeout = redis_timeout
        self.key_prefix = key_prefix
        self._connection: _Connection | None = None
        self._background: set[asyncio.Task[None]] = set()

    def _current(self) -> _Connection:
        """The connection of the running event loop (made on first use in each loop)."""
        connection = self._connection
        if connection is None or connection.loop is not asyncio.get_running_loop():
            connection = self._connection = _Connection(self._url, self.redis_timeout)
        return connection

    async def _run(self, script: str, what: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        """Run one script, bounded in time; any Redis failure becomes :class:`LockUnavailable`.

        A broken connection is tried once more on a fresh one: after Redis
        restarts, the pool's first connection from before the outage fails
        although Redis is back, and a release lost that way would block the
        conversation for a whole lifetime. Every script may safely run twice
        (a repeated issue only re-queues the same token; the others are
        idempotent). A timeout is not retried: the wait stays bounded.
        """
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import RedisError

        connection = self._current()
        for attempt in (1, 2):
            try:
                return await asyncio.wait_for(
                    connection.scripts[script](keys=list(keys), args=list(args), client=connection.client),
                    self.redis_timeout * 2,
                )
            except (RedisConnectionError, ConnectionError) as exc:
                if attempt == 2:
                    raise LockUnavailable(f"conversation lock: Redis failed to {what} ({type(exc).__name__})") from exc
            except (RedisError, OSError, asyncio.TimeoutError) as exc:
                raise LockUnavailable(f"conversation lock: Redis failed to {what} ({type(exc).__name__})") from exc
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    async def close(self) -> None:
        """Close this event loop's connections (tests; Rasa keeps them for the process)."""
        connection, self._connection = self._connection, None
        if connection is not None and connection.loop is asyncio.get_running_loop():
            await connection.client.close(close_connection_pool=True)

    @asynccontextmanager
    async def lock(self, conversation_id: str) -> AsyncIterator[TicketLock]:
        """Wait for this conversation's turn, hold it while the body runs, then let the next one in.

        Raises :class:`LockUnavailable` (before the body runs) when Redis cannot
        be reached or answers too slowly, or the wait ran out.
        """
        keys = lock_keys(conversation_id, self.key_prefix)
        token = secrets.token_hex(16)
        lifetime_ms = int(self.lifetime * 1000)
        try:
            number, state = await self._run("issue", "issue a ticket", keys, [token, lifetime_ms])
        except BaseException:  # Redis failed, or the turn was cancelled while the ticket was being issued
            # The ticket exists if only the answer was lost: try to remove it, without delaying the error.
            cleanup = asyncio.create_task(self._release(keys, token, conversation_id))
            self._background.add(cleanup)
            cleanup.add_done_callback(self._background.discard)
            raise
        served = asyncio.Event()
        heartbeat = asyncio.create_task(self._heartbeat(keys, token, conversation_id, served))
        try:
            if state != 1:
                await self._wait_for_turn(keys, token, conversation_id)
            served.set()
            yield TicketLock(conversation_id, deque([Ticket(number, time.time() + self.lifetime)]))
        finally:
            heartbeat.cancel()
            # Shielded: a turn cancelled mid-way still frees the conversation at once.
            await asyncio.shield(self._release(keys, token, conversation_id))
            await asyncio.wait({heartbeat})

    async def _wait_for_turn(self, keys: Sequence[str], token: str, conversation_id: str) -> None:
        """Return when this ticket is the smallest live one; raise :class:`LockUnavailable` otherwise."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait_timeout
        delay = _POLL_FIRST_SECONDS
        while True:
            if loop.time() >= deadline:
                logger.warning("conversation lock of %s: no turn within %.0f s", conversation_id, self.wait_timeout)
                raise LockUnavailable(f"conversation lock: no turn within {self.wait_timeout:.0f} s")
            await asyncio.sleep(delay)
            delay = min(delay * 2, _POLL_MAX_SECONDS)
            state = await self._run("turn", "check whose turn it is", keys, [token])
            if state == 1:
                return
            if state == -1:
                raise LockUnavailable("conversation lock: the ticket lapsed while waiting (no heartbeat reached Redis)")

    async def _heartbeat(self, keys: Sequence[str], token: str, conversation_id: str, served: asyncio.Event) -> None:
        """Renew the ticket while its holder waits (bounded by the wait timeout) and works, up to :attr:`max_hold`."""
        loop = asyncio.get_running_loop()
        served_at: float | None = None
        lifetime_ms = int(self.lifetime * 1000)
        while True:
            await asyncio.sleep(self.heartbeat)
            if served_at is None and served.is_set():
                served_at = loop.time()
            if served_at is not None and loop.time() - served_at > self.max_hold:
                logger.error(
                    "conversation lock of %s held for over %.0f s: no longer renewed, it lapses within %.0f s",
                    conversation_id,
                    self.max_hold,
                    self.lifetime,
                )
                return
            try:
                renewed = await self._run("refresh", "renew a ticket", keys, [token, lifetime_ms])
            except LockUnavailable as exc:
                logger.warning("%s; trying again in %.0f s", exc, self.heartbeat)
                continue
            if not renewed:
                logger.error("conversation lock of %s lapsed while its holder was still running", conversation_id)
                return

    async def _release(self, keys: Sequence[str], token: str, conversation_id: str) -> None:
        """Remove the ticket; when Redis cannot be reached it lapses one lifetime after the last heartbeat."""
        try:
            await self._run("release", "release a ticket", keys, [token])
        except LockUnavailable as exc:
            logger.warning("%s: the lock of %s lapses within %.0f s", exc, conversation_id, self.lifetime)


class ClinicLockStore(LockStore):
    """Redis ticket locks with ``REDIS_URL`` (several Rasa instances), else Rasa's in-memory store."""

    def __init__(self, endpoint_config: Any | None = None, **_: Any) -> None:
        """Pick the backing store once, when Rasa starts; nothing connects yet."""
        redis_url = get_settings().redis_url
        self.redis: RedisTicketLocks | None = None
        self.memory: InMemoryLockStore | None = None
        if redis_url:
            self.redis = RedisTicketLocks(redis_url)
            logger.info("conversation locks: Redis")
        else:
            self.memory = InMemoryLockStore()
            logger.info("conversation locks: in memory (one Rasa instance only)")

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float | None = None,
        wait_time_in_seconds: float | None = None,
    ) -> AsyncIterator[TicketLock]:
        """Hold the conversation's lock while the body runs (Rasa's arguments apply to the in-memory store only)."""
        if self.redis is not None:
            async with self.redis.lock(conversation_id) as held:
                yield held
            return
        async with self._memory().lock(
            conversation_id,
            lock_lifetime if lock_lifetime is not None else LOCK_LIFETIME_SECONDS,
            wait_time_in_seconds if wait_time_in_seconds is not None else 1,
        ) as held:
            yield held

    def _memory(self) -> InMemoryLockStore:
        """The in-memory store; its ticket-by-ticket methods do not exist for Redis (use :meth:`lock`)."""
        if self.memory is None:
            raise NotImplementedError("the Redis conversation locks are taken with lock() only")
        return self.memory

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        """Fetch the lock of a conversation (in-memory store only)."""
        return self._memory().get_lock(conversation_id)

    def delete_lock(self, conversation_id: str) -> None:
        """Delete the lock of a conversation (in-memory store only)."""
        self._memory().delete_lock(conversation_id)

    def save_lock(self, lock: TicketLock) -> None:
        """Save a lock (in-memory store only)."""
        self._memory().save_lock(lock)
