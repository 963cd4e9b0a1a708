"""Serves the chat widget and its demo page from the Rasa server itself.

``/webhooks/chat/widget.js`` is the one script a clinic adds to any page (see
the README); ``/webhooks/chat/`` is a demo page that embeds it. The widget talks
to the web chat connector (``channels.webchat``) or, in portal mode, to the
portal channel. This is registered as an input channel
(``channels.chat_page.ChatPageInput`` in ``credentials.yml``) because that is
Rasa's extension point for adding routes to its server; it receives no
messages itself. Everything the widget needs is served locally (no CDN).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.exceptions import NotFound
from sanic.request import Request
from sanic.response import HTTPResponse

STATIC_DIR = Path(__file__).resolve().parent / "static"
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "application/javascript", ".css": "text/css"}
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        "connect-src 'self' ws: wss:; img-src 'self' data:; frame-ancestors 'self'"
    ),
}


class ChatPageInput(InputChannel):
    """Adds ``GET /webhooks/chat/`` (the page), its static files and a health route."""

    @classmethod
    def name(cls) -> str:
        """The URL segment: /webhooks/chat/."""
        return "chat"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> ChatPageInput:
        """The page needs no credentials."""
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Routes for the page and its assets."""
        chat = Blueprint("chat_page", __name__)

        @chat.route("/", methods=["GET"])
        async def page(_: Request) -> HTTPResponse:
            return _static_file("index.html")

        @chat.route("/health", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @chat.route("/widget.js", methods=["GET"])
        async def widget_script(_: Request) -> HTTPResponse:
            return _static_file("widget.js", embeddable=True)

        @chat.route("/widget.css", methods=["GET"])
        async def widget_style(_: Request) -> HTTPResponse:
            return _static_file("widget.css", embeddable=True)

        @chat.route("/static/<path:path>", methods=["GET"])
        async def static(_: Request, path: str) -> HTTPResponse:
            return _static_file(path)

        return chat


def _static_file(relative: str, embeddable: bool = False) -> HTTPResponse:
    """Serve one file from ``static/``, refusing anything outside it.

    ``embeddable`` files (the widget's script, style and socket.io client) may be
    loaded by a clinic's pages on other origins.
    """
    target = (STATIC_DIR / relative).resolve()
    if STATIC_DIR not in target.parents or not target.is_file() or target.suffix not in CONTENT_TYPES:
        raise NotFound("not found")
    return response.raw(
        target.read_bytes(),
        content_type=CONTENT_TYPES[target.suffix],
        headers={
            **SECURITY_HEADERS,
            "Cache-Control": "no-cache",
            "Cross-Origin-Resource-Policy": "cross-origin" if embeddable or "vendor" in target.parts else "same-origin",
        },
    )
