"""Socket.io events between Rasa instances through Redis, as JSON and nothing else.

python-socketio's ``AsyncRedisManager`` publishes Python pickles, and its
listener (``AsyncPubSubManager._thread``) runs ``pickle.loads`` on whatever
bytes arrive on the channel: anyone able to publish to that Redis could run
code in every Rasa instance. :class:`JsonRedisManager` publishes JSON, and its
``_listen`` hands the base class decoded JSON objects only, never bytes, so the
base class's ``pickle.loads`` is never reached. Anything on the channel that is
not a JSON object naming a socket.io manager method (a pickle, a stray text,
an oversize blob) is dropped and counted in the log, never decoded further.

What crosses Redis is python-socketio's own message shape (``method``,
``event``, ``data``, ``room``, ``namespace``, ...); a tuple ``data`` (several
event arguments) is marked so the receiving side expands it the same way.

An ``emit`` is delivered to the sending instance's own sockets directly and
published for the others (python-socketio would route even local sockets
through Redis), so a Redis outage cuts only instance-to-instance delivery.

Connections: the publishing client has connect and read timeouts, so a stalled
Redis costs an ``emit`` 3 s, not forever (other instances then miss the event,
and the log says so); the subscription has a connect timeout and TCP
keepalive but no read timeout (it waits for messages), and reconnects with a
growing pause when Redis goes away. ``redis://`` and ``rediss://`` URLs, with
a password, work as they do for ``redis.asyncio``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from socketio import AsyncManager, AsyncRedisManager

logger = logging.getLogger(__name__)

KNOWN_METHODS = frozenset({"emit", "callback", "disconnect", "close_room"})
"""The manager messages python-socketio 5 exchanges between servers."""

MAX_MESSAGE_BYTES = 1_000_000
"""Larger messages are dropped unread (a web chat reply is a few kB)."""

TUPLE_MARK = "clinic_data_is_tuple"
"""Set on an ``emit`` whose ``data`` was a tuple: JSON has lists only."""

LOCAL_MARK = "clinic_delivered_locally"
"""Set on an ``emit`` its sender already delivered to its own sockets: the sender skips it on the way back."""

CONNECT_TIMEOUT_SECONDS = 5.0
PUBLISH_TIMEOUT_SECONDS = 3.0
_RETRY_FIRST_SECONDS = 1.0
_RETRY_MAX_SECONDS = 5.0
_DROP_LOG_EVERY_SECONDS = 60.0


def _bounded_int(text: str) -> int:
    """JSON integers of at most 100 digits (Python's int parsing is quadratic)."""
    if len(text) > 100:
        raise ValueError("integer too long")
    return int(text)


def encode_message(message: dict[str, Any]) -> bytes:
    """A manager message as UTF-8 JSON; raises ``TypeError``/``ValueError`` for data JSON cannot carry."""
    if isinstance(message.get("data"), tuple):
        message = {**message, "data": list(message["data"]), TUPLE_MARK: True}
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def decode_message(raw: Any) -> dict[str, Any] | None:
    """The manager message in ``raw`` if it is a JSON object with a known ``method``, else None.

    Never unpickles, never evaluates: ``json.loads`` on UTF-8 text is the only decoding.
    """
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    if not isinstance(raw, (bytes, bytearray)) or len(raw) > MAX_MESSAGE_BYTES:
        return None
    try:
        message = json.loads(raw.decode("utf-8"), parse_int=_bounded_int)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(message, dict) or message.get("method") not in KNOWN_METHODS:
        return None
    if message.pop(TUPLE_MARK, False) is True and isinstance(message.get("data"), list):
        message["data"] = tuple(message["data"])
    return message


class JsonRedisManager(AsyncRedisManager):
    """python-socketio's Redis manager speaking JSON only: nothing from Redis is ever unpickled."""

    name = "clinic-json-redis"

    def __init__(
        self,
        url: str,
        channel: str,
        write_only: bool = False,
        redis_options: dict[str, Any] | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        """A manager on the Redis at ``url`` (``redis://``/``rediss://``, password included) and ``channel``."""
        self.dropped = 0
        self._dropped_logged_at = 0.0
        super().__init__(url, channel=channel, write_only=write_only, logger=logger, redis_options=redis_options)

    def _redis_connect(self) -> None:
        """Two clients: one to publish (read timeout), one to subscribe (no read timeout: it waits)."""
        from redis import asyncio as aioredis

        self.redis = aioredis.Redis.from_url(
            self.redis_url, **{"socket_timeout": PUBLISH_TIMEOUT_SECONDS, **self._options()}
        )
        self._new_subscription()

    def _options(self) -> dict[str, Any]:
        """Connection options of both clients (``redis_options`` win)."""
        return {"socket_connect_timeout": CONNECT_TIMEOUT_SECONDS, "socket_keepalive": True, **self.redis_options}

    def _new_subscription(self) -> None:
        """A fresh subscribing client (its connection waits for messages, so it has no read timeout)."""
        from redis import asyncio as aioredis

        self.pubsub = aioredis.Redis.from_url(self.redis_url, **self._options()).pubsub(ignore_subscribe_messages=True)

    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str | None = None,
        room: Any = None,
        skip_sid: Any = None,
        callback: Any = None,
        **kwargs: Any,
    ) -> None:
        """Deliver to this instance's sockets at once, then publish for the other instances.

        python-socketio delivers even local sockets through Redis; delivering
        them directly keeps a reply (and the failure answer of a turn) reaching
        its socket while Redis is down or the subscription is coming back.
        Events with a callback keep python-socketio's own path.
        """
        if kwargs.get("ignore_queue") or callback is not None:
            await super().emit(
                event, data, namespace=namespace, room=room, skip_sid=skip_sid, callback=callback, **kwargs
            )
            return
        namespace = namespace or "/"
        message = {
            "method": "emit",
            "event": event,
            "data": data,
            "namespace": namespace,
            "room": room,
            "skip_sid": skip_sid,
            "callback": None,
            "host_id": self.host_id,
            LOCAL_MARK: True,
        }
        payload = encode_message(message)  # data JSON cannot carry fails here, before anything is sent
        await AsyncManager.emit(self, event, data, namespace, room=room, skip_sid=skip_sid)
        await self._publish_payload(payload, "emit")

    async def _publish(self, data: Any) -> None:
        """Publish one manager message as JSON; a Redis failure is logged and the event is lost."""
        await self._publish_payload(encode_message(data), data.get("method"))

    async def _publish_payload(self, payload: bytes, method: Any) -> None:
        """Publish encoded JSON; a Redis failure is logged, not raised.

        A refused or broken connection (a pooled one from before a Redis
        restart) is tried once more; a timeout is not, so a stalled Redis costs
        an ``emit`` one timeout.
        """
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import RedisError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        failure: Exception | None = None
        for _ in range(2):
            try:
                await self.redis.publish(self.channel, payload)
                return
            except (RedisError, OSError) as exc:
                failure = exc
                if isinstance(exc, RedisTimeoutError) or not isinstance(exc, (RedisConnectionError, OSError)):
                    break
        logger.error(
            "web chat: could not publish to Redis (%s, %s); other instances miss it",
            type(failure).__name__,
            method,
        )

    async def _listen(self) -> AsyncIterator[dict[str, Any]]:
        """Yield decoded manager messages (dicts) only; resubscribe with a growing pause when Redis goes away."""
        from redis.exceptions import RedisError

        channel = self.channel.encode("utf-8")
        delay = _RETRY_FIRST_SECONDS
        while True:
            try:
                await self.pubsub.subscribe(self.channel)
                delay = _RETRY_FIRST_SECONDS
                async for message in self.pubsub.listen():
                    if message.get("type") != "message" or message.get("channel") != channel:
                        continue
                    decoded = decode_message(message.get("data"))
                    if decoded is None:
                        self._drop()
                        continue
                    if decoded.pop(LOCAL_MARK, False) is True and decoded.get("host_id") == self.host_id:
                        continue  # delivered to this instance's sockets when it was sent
                    yield decoded
            except (RedisError, OSError) as exc:
                logger.error(
                    "web chat: Redis subscription lost (%s); subscribing again in %.0f s", type(exc).__name__, delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, _RETRY_MAX_SECONDS)
                with contextlib.suppress(RedisError, OSError):
                    await self.pubsub.reset()  # closes the broken connection
                self._new_subscription()

    def _drop(self) -> None:
        """Count a message that is not a JSON manager message; log the count at most once a minute."""
        self.dropped += 1
        now = time.monotonic()
        if now - self._dropped_logged_at >= _DROP_LOG_EVERY_SECONDS or self.dropped == 1:
            self._dropped_logged_at = now
            logger.warning(
                "web chat: dropped a message on the Redis channel that is not a JSON socket.io message "
                "(%d so far); nothing from Redis is unpickled",
                self.dropped,
            )
