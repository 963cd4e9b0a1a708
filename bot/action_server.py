"""The action server: rasa-sdk's app with our safety defaults.

rasa-sdk's stock server echoes the whole request body (the conversation) in its
500 response, binds to 0.0.0.0 and trusts any caller. Ours binds to loopback by
default, answers errors with an id only, and outside the demo accepts calls only
from a Rasa server that presents the shared ``ACTION_SERVER_TOKEN``. Its logs
go through :mod:`bot.log_privacy` (no patient data, at any ``LOG_LEVEL``).
"""

from __future__ import annotations

import hmac
import logging
import uuid

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.settings import Settings, get_settings

logger = logging.getLogger("bot.action_server")

TOKEN_PARAMETER = "token"


def create_action_app(settings: Settings | None = None, package: str = "actions") -> Sanic:
    """Build the hardened action server app for ``package``."""
    from rasa_sdk.endpoint import create_app

    settings = settings or get_settings()
    app = create_app(package, cors_origins=None)
    expected_token = settings.action_server_token

    @app.middleware("request")
    async def require_token(request: Request) -> HTTPResponse | None:
        """Refuse action calls without the shared secret (when one is configured)."""
        if request.path != "/webhook" or not expected_token:
            return None
        given = request.args.get(TOKEN_PARAMETER) or ""
        if not hmac.compare_digest(given.encode(), expected_token.encode()):
            logger.warning("refused an action call with a missing or wrong token")
            return response.json({"error": "unauthorized"}, status=401)
        return None

    async def error_handler(request: Request, exception: Exception) -> HTTPResponse:
        """Answer with an error id only: the request body holds the conversation."""
        error_id = uuid.uuid4().hex[:12]
        status = getattr(exception, "status_code", 500) or 500
        if status >= 500:
            logger.error(
                "action server error %s: %s on %s",
                error_id,
                type(exception).__name__,
                request.path,
            )
        return response.json({"error": "action server error", "error_id": error_id}, status=status)

    app.error_handler.add(Exception, error_handler)
    return app


def main() -> None:
    """Run the action server with the configured host and port."""
    from bot.log_privacy import install_log_privacy

    settings = get_settings()
    install_log_privacy(settings)
    if not settings.demo_mode and not settings.action_server_token:  # pragma: no cover - settings refuse it
        raise SystemExit("ACTION_SERVER_TOKEN is required outside the demo")
    app = create_action_app(settings)
    app.run(
        host=settings.bind_host,
        port=settings.action_port,
        workers=1,
        access_log=False,
        motd=False,
    )


if __name__ == "__main__":
    main()
