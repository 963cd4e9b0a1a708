"""Web chat events between Rasa instances travel through Redis as JSON, and nothing from Redis is unpickled.

The decoding rules are checked on their own; then two managers on a real Redis
(the machine's, on a channel of each test's own, or a throwaway one with a
password and TLS) exchange messages, and a pickle that would create a file is
published to a listening manager. ``tests/e2e/test_production_shape.py`` sends
the same pickle to a running Rasa server.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import pickle
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from channels.socketio_json import (
    LOCAL_MARK,
    MAX_MESSAGE_BYTES,
    TUPLE_MARK,
    JsonRedisManager,
    decode_message,
    encode_message,
)
from tests.throwaway_redis import ThrowawayRedis

MACHINE_REDIS = "redis://127.0.0.1:6379/0"


class CreatesFile:
    """Unpickling this runs ``touch <path>``: what an attacker with access to Redis would publish."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch {self.path}",))


def attack_pickle(path: Path) -> bytes:
    """A pickle shaped like python-socketio's own messages, whose loading creates ``path``."""
    return pickle.dumps({"method": "emit", "event": "bot_uttered", "data": CreatesFile(path), "namespace": "/"})


EMIT = {
    "method": "emit",
    "event": "bot_uttered",
    "data": {"text": "Your visit is at 10:00 — see you then.", "quick_replies": [{"title": "OK", "payload": "ok"}]},
    "namespace": "/",
    "room": "webchat:0123abcd",
    "skip_sid": None,
    "callback": None,
    "host_id": "a" * 32,
}


def test_an_emit_survives_the_round_trip_as_json() -> None:
    wire = encode_message(EMIT)
    assert json.loads(wire) == EMIT
    assert decode_message(wire) == EMIT
    assert decode_message(wire.decode()) == EMIT


def test_tuple_data_stays_several_arguments() -> None:
    wire = encode_message({**EMIT, "data": ("a", {"b": 1})})
    assert json.loads(wire)[TUPLE_MARK] is True
    assert decode_message(wire) == {**EMIT, "data": ("a", {"b": 1})}


@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_pickles_are_dropped_unread(tmp_path: Path, protocol: int) -> None:
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"method": "emit", "data": CreatesFile(marker)}, protocol=protocol)
    assert decode_message(payload) is None
    assert decode_message(pickle.dumps(EMIT, protocol=protocol)) is None  # even a harmless one
    assert not marker.exists()


@pytest.mark.parametrize(
    "raw",
    [
        b"[1, 2]",
        b'"emit"',
        b"null",
        b'{"method": "exec", "code": "print(1)"}',
        b'{"event": "bot_uttered"}',
        b"\xff\xfe not utf-8",
        b"{not json",
        b'{"method": "emit", "n": ' + b"9" * 200 + b"}",
        b'{"method": "emit", "pad": "' + b"x" * MAX_MESSAGE_BYTES + b'"}',
        b"[" * 100_000,
        12345,
        None,
    ],
)
def test_anything_but_a_json_manager_message_is_dropped(raw: Any) -> None:
    assert decode_message(raw) is None


def test_data_json_cannot_carry_is_refused_when_publishing() -> None:
    with pytest.raises(TypeError):
        encode_message({**EMIT, "data": {"when": object()}})
    with pytest.raises(ValueError):
        encode_message({**EMIT, "data": float("nan")})


async def next_message(manager: JsonRedisManager, timeout: float = 5) -> dict[str, Any]:
    """The next message the manager's listener hands to python-socketio."""
    listener = manager._listen()
    try:
        return await asyncio.wait_for(listener.__anext__(), timeout)
    finally:
        await listener.aclose()


async def subscribed(manager: JsonRedisManager) -> None:
    """Wait until the manager's subscription is in place on Redis."""
    for _ in range(200):
        if manager.pubsub.subscribed:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the listener did not subscribe")


@pytest.fixture
async def channel() -> AsyncIterator[str]:
    """A channel name of this test's own on the machine's Redis."""
    yield f"test-webchat-{uuid.uuid4().hex[:12]}"


@pytest.mark.redis
async def test_a_message_published_by_one_manager_reaches_another_as_json(channel: str) -> None:
    from redis import asyncio as aioredis

    sender = JsonRedisManager(MACHINE_REDIS, channel=channel, write_only=True)
    receiver = JsonRedisManager(MACHINE_REDIS, channel=channel)
    wire = aioredis.Redis.from_url(MACHINE_REDIS).pubsub(ignore_subscribe_messages=True)
    await wire.subscribe(channel)
    listening = asyncio.create_task(next_message(receiver))
    await subscribed(receiver)
    await sender.emit("bot_uttered", EMIT["data"], room="webchat:0123abcd")
    received = await listening
    assert received["method"] == "emit" and received["event"] == "bot_uttered"
    assert received["data"] == EMIT["data"] and received["room"] == "webchat:0123abcd"
    assert received["host_id"] == sender.host_id
    raw = None
    for _ in range(50):  # the first read returns the (ignored) subscription confirmation
        raw = await wire.get_message(ignore_subscribe_messages=True, timeout=0.1)
        if raw is not None:
            break
    assert raw is not None and json.loads(raw["data"]) == {**received, LOCAL_MARK: True}  # JSON on the wire
    await wire.close()


@pytest.mark.redis
async def test_a_manager_does_not_deliver_its_own_emits_twice(channel: str) -> None:
    own = JsonRedisManager(MACHINE_REDIS, channel=channel)
    other = JsonRedisManager(MACHINE_REDIS, channel=channel, write_only=True)
    listening = asyncio.create_task(next_message(own))
    await subscribed(own)
    await own.emit("bot_uttered", {"text": "mine"}, room="r")  # delivered to its own sockets when sent
    await other.emit("bot_uttered", {"text": "theirs"}, room="r")
    received = await listening
    assert received["data"] == {"text": "theirs"} and received["host_id"] == other.host_id


@pytest.mark.redis
async def test_a_pickle_on_the_channel_runs_nothing_and_the_listener_carries_on(
    channel: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from redis import asyncio as aioredis
    from socketio import AsyncServer

    marker = tmp_path / "pwned"
    dispatch_log = logging.getLogger(f"test-socketio-{channel}")  # python-socketio logs each message it dispatches
    dispatch_log.setLevel(logging.INFO)
    receiver = JsonRedisManager(MACHINE_REDIS, channel=channel, logger=dispatch_log)
    AsyncServer(async_mode="asgi", client_manager=receiver)
    receiver.initialize()  # python-socketio's listening task (AsyncPubSubManager._thread), as in a server
    publisher = aioredis.Redis.from_url(MACHINE_REDIS)

    def dispatched() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == dispatch_log.name and "pubsub" in r.getMessage()]

    try:
        with caplog.at_level(logging.INFO):
            await subscribed(receiver)
            await publisher.publish(channel, attack_pickle(marker))
            await publisher.publish(channel, pickle.dumps(EMIT))
            await publisher.publish(channel, encode_message(EMIT))
            for _ in range(500):
                if dispatched():
                    break
                await asyncio.sleep(0.01)
    finally:
        receiver.thread.cancel()
        await asyncio.wait({receiver.thread})
        await publisher.close()
    assert dispatched() == ["pubsub message: emit"]  # the JSON message after the pickles got through
    assert receiver.dropped == 2
    assert not marker.exists()


@pytest.mark.redis
async def test_password_protected_redis_over_tls() -> None:
    server = ThrowawayRedis(password="p@ss:word", tls=True)
    try:
        assert server.url.startswith("rediss://")
        sender = JsonRedisManager(server.url, channel="clinic-webchat", write_only=True)
        receiver = JsonRedisManager(server.url, channel="clinic-webchat")
        listening = asyncio.create_task(next_message(receiver))
        await subscribed(receiver)
        await sender.emit("bot_typing", {"typing": False}, room="webchat:feed")
        received = await listening
        assert received["event"] == "bot_typing" and received["data"] == {"typing": False}
    finally:
        server.close()


@pytest.mark.redis
async def test_the_listener_resubscribes_after_redis_comes_back() -> None:
    server = ThrowawayRedis(password="x" * 16)
    try:
        sender = JsonRedisManager(server.url, channel="clinic-webchat", write_only=True)
        receiver = JsonRedisManager(server.url, channel="clinic-webchat")
        listener = receiver._listen()
        first = asyncio.create_task(listener.__anext__())
        await subscribed(receiver)
        await sender.emit("bot_uttered", {"text": "one"}, room="r")
        assert (await asyncio.wait_for(first, 5))["data"] == {"text": "one"}
        server.stop()
        await sender.emit("bot_uttered", {"text": "lost"}, room="r")  # logged as lost, not raised
        second = asyncio.create_task(listener.__anext__())
        await asyncio.sleep(0.5)
        server.start()
        for _ in range(100):  # the listener retries after 1 s, then 2 s ...
            await sender.emit("bot_uttered", {"text": "two"}, room="r")
            if second.done():
                break
            await asyncio.sleep(0.1)
        assert (await asyncio.wait_for(second, 5))["data"] == {"text": "two"}
        await listener.aclose()
    finally:
        server.close()


@pytest.mark.redis
async def test_an_emit_to_a_frozen_redis_costs_one_timeout_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    import time

    from channels.socketio_json import PUBLISH_TIMEOUT_SECONDS

    server = ThrowawayRedis(password="y" * 16)
    try:
        sender = JsonRedisManager(server.url, channel="clinic-webchat", write_only=True)
        await sender.emit("bot_uttered", {"text": "warm"}, room="r")  # a pooled connection before the freeze
        server.pause()
        started = time.monotonic()
        with caplog.at_level(logging.ERROR, logger="channels.socketio_json"):
            await sender.emit("bot_uttered", {"text": "frozen"}, room="r")
        took = time.monotonic() - started
        server.resume()
    finally:
        server.close()
    assert PUBLISH_TIMEOUT_SECONDS - 0.1 <= took < PUBLISH_TIMEOUT_SECONDS + 1.0, took
    assert "could not publish to Redis (TimeoutError, emit)" in caplog.text
