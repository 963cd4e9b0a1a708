"""Health of one Rasa instance and the stores it needs, for the load balancer and monitoring.

``GET /webhooks/health/`` answers 200 ``{"status": "ok", "tracker_store": "ok",
"lock_store": "ok"}`` when this instance can read the conversation store (a
trivial query) and reach Redis (``PING``), each within
:data:`CHECK_TIMEOUT_SECONDS`; otherwise 503 with ``"status": "unavailable"``
and the broken part named, e.g. ``"lock_store": "unreachable (ConnectionError)"``
(error classes only, never a message: a database error can carry message text).
Without ``REDIS_URL`` the lock store is ``"in_memory"`` (one instance only).

``GET /webhooks/health/live`` answers 200 while the process serves requests at
all: the load balancer routes on it (``python -m bot production``), because a
shared store that is down is down for every instance, and each instance still
answers patients with an explicit failure, which is better than the load
balancer's bare error page.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.settings import get_settings

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 2.0
"""Longest wait for each store; a store slower than this is reported broken."""

_redis_clients: dict[str, Any] = {}


def _describe(error: BaseException) -> str:
    """The error's class only (messages of database errors can carry message text)."""
    return "timed out" if isinstance(error, asyncio.TimeoutError) else f"unreachable ({type(error).__name__})"


def _primary_store(tracker_store: Any) -> Any:
    """The configured store inside Rasa's fail-safe wrapper."""
    return getattr(tracker_store, "_tracker_store", tracker_store)


def _query_database(engine: Any) -> None:
    """A trivial query on the conversation store's database."""
    import sqlalchemy as sa

    with engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))


def _ping_redis(url: str) -> None:
    """PING the Redis behind ``REDIS_URL`` (one client per process, short timeouts)."""
    import redis

    client = _redis_clients.get(url)
    if client is None:
        client = redis.Redis.from_url(
            url, socket_timeout=CHECK_TIMEOUT_SECONDS, socket_connect_timeout=CHECK_TIMEOUT_SECONDS
        )
        _redis_clients[url] = client
    client.ping()


async def _check(work: Callable[[], None]) -> str:
    """Run a blocking check in a thread within the timeout: "ok", or what went wrong."""
    try:
        await asyncio.wait_for(asyncio.to_thread(work), CHECK_TIMEOUT_SECONDS + 0.5)
    except Exception as error:  # noqa: BLE001 - any failure is a broken store, named by class
        return _describe(error)
    return "ok"


async def tracker_store_status(tracker_store: Any) -> str:
    """ "ok", or why the conversation store cannot be read."""
    store = _primary_store(tracker_store)
    engine = getattr(store, "engine", None)
    if store is None:
        return "not loaded"
    if engine is None:
        return "ok"  # an in-memory store: nothing to reach
    return await _check(lambda: _query_database(engine))


async def lock_store_status() -> str:
    """ "ok", "in_memory" (no ``REDIS_URL``), or why Redis cannot be reached."""
    url = get_settings().redis_url
    if not url:
        return "in_memory"
    return await _check(lambda: _ping_redis(url))


class HealthInput(InputChannel):
    """The health endpoints; see the module docstring."""

    @classmethod
    def name(cls) -> str:
        """The URL segment: /webhooks/health/."""
        return "health"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """``GET /`` (stores) and ``GET /live`` (the process)."""
        health = Blueprint("clinic_health", __name__)

        @health.route("/", methods=["GET"])
        async def stores(request: Request) -> HTTPResponse:
            agent = getattr(request.app.ctx, "agent", None)
            tracker, lock = await asyncio.gather(
                tracker_store_status(getattr(agent, "tracker_store", None)), lock_store_status()
            )
            healthy = tracker == "ok" and lock in ("ok", "in_memory")
            if not healthy:
                logger.warning("health: tracker store %s, lock store %s", tracker, lock)
            return response.json(
                {"status": "ok" if healthy else "unavailable", "tracker_store": tracker, "lock_store": lock},
                status=200 if healthy else 503,
            )

        @health.route("/live", methods=["GET"])
        async def live(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        return health
