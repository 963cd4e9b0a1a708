"""The load driver's statistics and conversation handling, against a fake REST channel.

No timing is asserted: the fake server answers instantly and the checks are on counts,
the messages the server received, and the arithmetic of percentiles and throughput.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from benchmarks.loadgen import (
    FIRST_BUTTON,
    FirstButton,
    LevelResult,
    first_button_payload,
    percentile,
    resolve_step,
    run_level,
    throughput,
)


def test_percentile_is_nearest_rank() -> None:
    """p50 of 1..10 is 5 and p95 is 10: always an observed value, no interpolation."""
    values = [float(v) for v in [7, 3, 10, 1, 5, 9, 2, 8, 6, 4]]
    assert percentile(values, 50) == 5.0
    assert percentile(values, 90) == 9.0
    assert percentile(values, 95) == 10.0
    assert percentile(values, 100) == 10.0
    assert percentile(values, 0) == 1.0


def test_percentile_of_100_samples_and_a_single_sample() -> None:
    """With 100 samples p95 is the 95th smallest; one sample is every percentile."""
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 95) == 95.0
    assert percentile(values, 99) == 99.0
    assert percentile([0.25], 50) == percentile([0.25], 95) == 0.25


def test_percentile_rejects_empty_samples_and_bad_percentiles() -> None:
    """An empty sample or a percentile outside 0..100 is an error, not a silent zero."""
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_throughput_is_answered_messages_per_wall_second() -> None:
    """480 answers in 12 s is 40 msg/s; nothing measured is 0, not a division error."""
    assert throughput(480, 12.0) == pytest.approx(40.0)
    assert throughput(0, 0.0) == 0.0
    level = LevelResult(
        concurrency=16, requested_messages=480, completed=480, elapsed_s=12.0, latencies_s=[0.010] * 95 + [0.200] * 5
    )
    summary = level.summary()
    assert summary["throughput_msg_s"] == pytest.approx(40.0)
    assert summary["p50_ms"] == pytest.approx(10.0)
    assert summary["p95_ms"] == pytest.approx(10.0)
    assert summary["p99_ms"] == pytest.approx(200.0)
    assert "latencies_s" not in summary


def test_first_button_step_sends_the_first_offered_payload() -> None:
    """A first-button step picks the first button of any message, else its fallback."""
    reply = [
        {"recipient_id": "x", "text": "Here are the open times:"},
        {
            "recipient_id": "x",
            "text": "Pick one",
            "buttons": [
                {"title": "Wed 13:00", "payload": '/inform{"slot_id": "17"}'},
                {"title": "Wed 13:20", "payload": '/inform{"slot_id": "18"}'},
            ],
        },
    ]
    assert first_button_payload(reply) == '/inform{"slot_id": "17"}'
    assert resolve_step(FIRST_BUTTON, reply) == '/inform{"slot_id": "17"}'
    assert resolve_step(FirstButton(fallback="the first one"), [{"text": "no buttons"}]) == "the first one"
    assert resolve_step("what are your hours", reply) == "what are your hours"


@pytest.fixture
async def fake_rest_channel() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """A loopback REST webhook that offers buttons after "book" and records every request."""
    received: list[dict[str, Any]] = []

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        received.append(body)
        if body["message"] == "fail":
            return web.json_response({"error": "boom"}, status=500)
        if body["message"] == "book":
            return web.json_response(
                [
                    {
                        "text": "When?",
                        "buttons": [{"title": "9:00", "payload": "/pick_9"}, {"title": "9:20", "payload": "/pick_920"}],
                    }
                ]
            )
        if body["message"] == "silent":
            return web.json_response([])
        return web.json_response([{"recipient_id": body["sender"], "text": "ok"}])

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/webhooks/rest/webhook", received
    finally:
        await runner.cleanup()


async def test_level_sends_exactly_the_message_budget_in_script_order(
    fake_rest_channel: tuple[str, list[dict[str, Any]]],
) -> None:
    """10 messages over 3 users of a 3-step script: 10 sent, each conversation in order."""
    url, received = fake_rest_channel
    result = await run_level(url, [["hi", "book", FIRST_BUTTON]], concurrency=3, messages=10)

    assert len(received) == 10
    assert result.completed == 10 and result.errors == 0
    assert len(result.latencies_s) == 10
    assert result.elapsed_s > 0 and result.throughput == pytest.approx(10 / result.elapsed_s)
    by_sender: dict[str, list[str]] = {}
    for body in received:
        by_sender.setdefault(body["sender"], []).append(body["message"])
    assert len(by_sender) == result.conversations == 4  # 3 full conversations and a cut one
    for messages in by_sender.values():
        assert messages == ["hi", "book", "/pick_9"][: len(messages)]


async def test_failed_request_counts_as_error_and_ends_that_conversation(
    fake_rest_channel: tuple[str, list[dict[str, Any]]],
) -> None:
    """A 500 is an error, not a latency sample; empty replies are counted but answered."""
    url, received = fake_rest_channel
    result = await run_level(url, [["silent", "fail", "never sent"]], concurrency=1, messages=4)

    assert [b["message"] for b in received] == ["silent", "fail", "silent", "fail"]
    assert result.completed == 2 and result.errors == 2
    assert result.empty_replies == 2
    assert len(result.latencies_s) == 2
