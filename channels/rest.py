"""The demo's REST channel (``POST /webhooks/rest/webhook``): Rasa's, but a failed turn fails out loud.

Rasa's stock ``RestInput`` logs the patient's text when a turn fails and then
answers ``200 []``, which a caller cannot tell from a deliberate silence (a
conversation held by staff). This one logs only the error's class and answers
``503 {"error": "unavailable", "reason": ...}`` with a reason that names what
failed, never what was said. Everything else (the name ``rest``, the URL, the
request and reply shapes, streaming) is Rasa's. The channel is on only in the
demo: its sender id is whatever the caller says (``bot/cli.py`` drops it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import rasa.utils.endpoints
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse, ResponseStream

from channels import turns

logger = logging.getLogger(__name__)

STORE_UNAVAILABLE = "The conversation store or lock is unavailable; nothing was stored. Send the message again."
TIMED_OUT = "The assistant did not answer in time; nothing was stored. Send the message again."
ASSISTANT_FAILED = "The assistant failed on this message; nothing was stored. Send the message again."


def failure_reason(error: BaseException) -> str:
    """What failed, in words that carry no content: a store, the clock, or the assistant itself."""
    if isinstance(error, turns.store_failures()):
        return STORE_UNAVAILABLE
    if isinstance(error, (asyncio.CancelledError, asyncio.TimeoutError)):
        return TIMED_OUT
    return ASSISTANT_FAILED


def unavailable(error: BaseException) -> HTTPResponse:
    """The 503 answer for a turn that failed (logged by class only)."""
    logger.error("rest turn failed (503): %s", type(error).__name__)
    return response.json({"error": "unavailable", "reason": failure_reason(error)}, status=503)


class RestInput(RasaRestInput):
    """Rasa's REST channel whose failure path logs no text and answers 503 (``channels.rest.RestInput``)."""

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """``GET /`` (health) and ``POST /webhook``, as Rasa's, with an explicit failure."""
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> ResponseStream | HTTPResponse:
            return await self._receive(request, on_new_message)

        return webhook

    async def _receive(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> ResponseStream | HTTPResponse:
        """Run one turn and answer its replies; a failed turn answers 503 without its text anywhere."""
        sender_id = await self._extract_sender(request)
        text = self._extract_message(request)
        input_channel = self._extract_input_channel(request)
        metadata = self.get_metadata(request)
        if rasa.utils.endpoints.bool_arg(request, "stream", default=False):
            return response.stream(
                self.stream_response(on_new_message, text, sender_id, input_channel, metadata),
                content_type="text/event-stream",
            )
        collector = CollectingOutputChannel()
        message = UserMessage(text, collector, sender_id, input_channel=input_channel, metadata=metadata)
        try:
            outcome = await turns.answer(on_new_message, message, collector.messages)
        except asyncio.CancelledError as error:  # Rasa's channel answers a cancelled turn too
            return unavailable(error)
        if outcome.failed and outcome.error is not None:
            return unavailable(outcome.error)
        return response.json(outcome.messages)
