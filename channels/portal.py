"""Patient-portal connector: messages from a signed-in portal patient, answered as JSON.

``POST /webhooks/portal/webhook`` with ``Authorization: Bearer <JWT>`` and a
body ``{"message": "...", "message_id": "<optional, for safe retries>"}``.
The token is the patient's proof: its signature (HS256 with
``PORTAL_JWT_SECRET`` or RS256 with ``PORTAL_JWT_PUBLIC_KEY``; the algorithm is
pinned, ``none`` and every other one refused), ``exp`` and ``aud``
(``PORTAL_JWT_AUDIENCE``) are checked, and ``sub`` (the record id) picks the
conversation: the body can never choose it. Refusals are JSON
``{"error": code, "reason": sentence}``: 401 ``missing_token``, ``invalid_token``,
``expired_token``, ``wrong_audience``; 503 ``portal_not_configured``; 400
``invalid_body``; 403 ``origin_not_allowed``. What the patient typed always
gets a patient-facing answer: the reply is a list like Rasa's REST channel
(``[{"text": ..., "buttons": [{"title", "payload"}]}]``), also for empty or
oversize text (the kit's messages; the assistant is not run). When the
conversation lock or store is down the answer is 503 ``{"error": "unavailable",
"reason": ..., "messages": [{"text": "I can't answer right now ... call us"}]}``
and nothing is stored; a turn that was stored is always answered normally. A
``message_id`` is answered once on any instance, also when its first delivery
failed or the instance serving it stopped (``channels/turns.py``). Browsers may
call it from ``WEBCHAT_ALLOWED_ORIGINS`` (CORS, with the preflight).

``GET /webhooks/portal/updates?after=<seconds>`` with the same token returns
what reached the chat outside a request, in the current session (a front-desk
person's replies during a hand-off, the hand-back note):
``{"messages": [...], "latest": <seconds>}``. The portal widget polls it, since
nothing can be pushed on this channel.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.settings import Settings, get_settings
from channels import kit, turns

logger = logging.getLogger(__name__)

CHANNEL = "portal"
TOKEN_LEEWAY_SECONDS = 10
MAX_MESSAGE_ID_CHARS = 64
DELIVERY_PURPOSE = "portal-delivery"
_REPLY_KEYS = ("text", "buttons", "image", "custom", "attachment")


@dataclass
class PortalRefusal(Exception):
    """Why a request is refused: HTTP status, error code and a plain sentence for the caller."""

    status: int
    code: str
    reason: str

    def as_response(self, headers: dict[str, str] | None = None) -> HTTPResponse:
        """The JSON error answer."""
        return response.json({"error": self.code, "reason": self.reason}, status=self.status, headers=headers)


def portal_key(settings: Settings) -> tuple[str, str]:
    """The pinned algorithm and its key; refuses when the portal is not configured."""
    if settings.portal_jwt_secret:
        return "HS256", settings.portal_jwt_secret
    if settings.portal_jwt_public_key:
        return "RS256", settings.portal_jwt_public_key
    raise PortalRefusal(
        503,
        "portal_not_configured",
        "The patient-portal channel is not configured on this server (no PORTAL_JWT_SECRET or PORTAL_JWT_PUBLIC_KEY).",
    )


def verify_token(authorization: str | None, settings: Settings) -> str:
    """The record id (``sub``) a valid portal token proves; raises :class:`PortalRefusal` otherwise."""
    import jwt

    algorithm, key = portal_key(settings)
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise PortalRefusal(401, "missing_token", "Send the portal's token as 'Authorization: Bearer <token>'.")
    token = token.strip()
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise PortalRefusal(401, "invalid_token", "The token is not a well-formed JWT.") from None
    if header.get("alg") != algorithm:
        raise PortalRefusal(401, "invalid_token", f"The token must be signed with {algorithm}.")
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            audience=settings.portal_jwt_audience,
            options={"require": ["exp", "sub", "aud"]},
            leeway=TOKEN_LEEWAY_SECONDS,
        )
    except jwt.ExpiredSignatureError:
        raise PortalRefusal(401, "expired_token", "The token has expired. Get a new one from the portal.") from None
    except jwt.InvalidAudienceError:
        raise PortalRefusal(401, "wrong_audience", "The token is not meant for this assistant (aud).") from None
    except jwt.MissingRequiredClaimError as exc:
        if exc.claim == "aud":
            raise PortalRefusal(401, "wrong_audience", "The token names no audience (aud).") from None
        raise PortalRefusal(401, "invalid_token", f"The token has no '{exc.claim}' claim.") from None
    except jwt.InvalidKeyError:
        logger.error("portal token check failed: the configured key cannot be used for %s", algorithm)
        raise PortalRefusal(503, "portal_not_configured", "The portal's key on this server cannot be used.") from None
    except jwt.InvalidTokenError as exc:
        raise PortalRefusal(401, "invalid_token", _invalid_reason(exc)) from None
    except ValueError:
        logger.error("portal token check failed: the configured %s key cannot be read", algorithm)
        raise PortalRefusal(503, "portal_not_configured", "The portal's key on this server cannot be read.") from None
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.strip() or len(subject) > 64:
        raise PortalRefusal(401, "invalid_token", "The token's subject (sub) is not a record id.")
    return subject.strip()


def _invalid_reason(exc: Exception) -> str:
    """A plain sentence for a token that failed for another reason (never the token itself)."""
    import jwt

    if isinstance(exc, jwt.InvalidSignatureError):
        return "The token's signature is not valid."
    if isinstance(exc, jwt.ImmatureSignatureError):
        return "The token is not valid yet (nbf or iat in the future)."
    return "The token is not valid."


def cors_headers(origin: str | None, settings: Settings) -> dict[str, str]:
    """CORS headers for an allowed browser origin; {} for non-browser callers."""
    if not origin:
        return {}
    allowed = settings.webchat_allowed_origins
    if origin.rstrip("/") not in allowed and "*" not in allowed:
        raise PortalRefusal(403, "origin_not_allowed", "This web page's origin may not call the assistant.")
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
        "Access-Control-Allow-Headers": "Authorization, Content-Type",
        "Access-Control-Max-Age": "600",
        "Vary": "Origin",
    }


def read_body(raw: bytes) -> tuple[Any, str | None]:
    """The ``message`` (any type, checked later) and optional ``message_id`` of a request body."""
    try:
        body = json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError):
        raise PortalRefusal(400, "invalid_body", 'The body must be JSON like {"message": "..."}.') from None
    if not isinstance(body, dict) or "message" not in body:
        raise PortalRefusal(400, "invalid_body", 'The body must be a JSON object with a "message" text.')
    message = body["message"]
    if message is not None and not isinstance(message, str):
        raise PortalRefusal(400, "invalid_body", 'The "message" must be a text.')
    message_id = body.get("message_id")
    if message_id is not None and (
        not isinstance(message_id, str) or not message_id.strip() or len(message_id) > MAX_MESSAGE_ID_CHARS
    ):
        raise PortalRefusal(
            400, "invalid_body", f'"message_id" must be a text of 1 to {MAX_MESSAGE_ID_CHARS} characters.'
        )
    return message, (message_id.strip() if message_id else None)


def portal_messages(collected: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The bot's messages as the widget reads them (Rasa's REST shape without recipient ids)."""
    return [{k: m[k] for k in _REPLY_KEYS if m.get(k) is not None} for m in collected]


class PortalCollector(CollectingOutputChannel):
    """Collects a turn's replies; named "portal" so portal response variants apply."""

    @classmethod
    def name(cls) -> str:
        """The channel name Rasa matches ``channel: portal`` response variations against."""
        return CHANNEL


class PortalMailbox(OutputChannel):
    """Out-of-band messages (staff replies) for a portal patient: kept in the conversation.

    The portal channel is request and answer, so nothing can be pushed; the
    message is already in the conversation when this is called, and the portal
    widget fetches it from ``GET /webhooks/portal/updates``.
    """

    @classmethod
    def name(cls) -> str:
        """The portal channel."""
        return CHANNEL

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Nothing to push: the widget picks the message up from the conversation."""
        logger.info("portal: out-of-band message left for the widget to fetch")


def out_of_band_messages(events: Any, after: float) -> tuple[list[dict[str, Any]], float]:
    """Bot messages sent outside a request (staff replies, hand-back) after ``after``, and the latest time."""
    from rasa.shared.core.events import BotUttered

    messages: list[dict[str, Any]] = []
    latest = after
    for event in events or []:
        if not isinstance(event, BotUttered) or not (event.metadata or {}).get("out_of_band"):
            continue
        if event.timestamp <= after:
            continue
        latest = max(latest, event.timestamp)
        message = {"text": event.text, "buttons": (event.data or {}).get("buttons")}
        messages.append({k: v for k, v in message.items() if v})
    return messages, latest


class PortalInput(InputChannel):
    """The portal's JSON endpoint; see the module docstring."""

    def get_output_channel(self) -> OutputChannel | None:
        """Staff replies stay in the conversation; the widget fetches them (no push on this channel)."""
        return PortalMailbox()

    def __init__(self, settings: Settings | None = None) -> None:
        """``settings`` overrides the process settings (credentials.yml values, tests)."""
        self._settings = settings

    @classmethod
    def name(cls) -> str:
        """The URL segment: /webhooks/portal/."""
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> PortalInput:
        """Values in credentials.yml (``${VAR}``, expanded by Rasa) override settings; empty ones do not."""
        secret = kit.credential(credentials, "jwt_secret")
        public_key = kit.credential(credentials, "jwt_public_key")
        audience = kit.credential(credentials, "audience")
        if not (secret or public_key or audience):
            return cls()
        settings = get_settings()
        return cls(
            settings.replace(
                portal_jwt_secret=secret.replace("\\n", "\n").strip() if secret else settings.portal_jwt_secret,
                portal_jwt_public_key=(
                    public_key.replace("\\n", "\n").strip() if public_key else settings.portal_jwt_public_key
                ),
                portal_jwt_audience=audience or settings.portal_jwt_audience,
            )
        )

    @property
    def settings(self) -> Settings:
        """The settings in force (read when used, never at import)."""
        return self._settings or get_settings()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """``GET /`` health and ``POST|OPTIONS /webhook``."""
        portal = Blueprint("portal_webhook", __name__)

        @portal.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            try:
                portal_key(self.settings)
            except PortalRefusal as refusal:
                return response.json({"status": "not_configured", "reason": refusal.reason}, status=503)
            return response.json({"status": "ok"})

        @portal.route("/webhook", methods=["POST", "OPTIONS"])
        async def receive(request: Request) -> HTTPResponse:
            return await self._receive(request, on_new_message)

        @portal.route("/updates", methods=["GET"])
        async def updates(request: Request) -> HTTPResponse:
            return await self._updates(request)

        @portal.middleware("response")
        async def preflight(request: Request, answer: HTTPResponse) -> HTTPResponse | None:
            # Rasa's CORS extension answers every OPTIONS request itself, before
            # any route, with Rasa's own (empty) origin list; ours replaces it.
            if request.method == "OPTIONS":
                return await self._receive(request, on_new_message)
            return None

        return portal

    async def _receive(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> HTTPResponse:
        """Check origin, token and body, then answer (once per ``message_id``)."""
        settings = self.settings
        try:
            headers = cors_headers(request.headers.get("Origin"), settings)
        except PortalRefusal as refusal:
            logger.warning("portal request refused (403): origin not allowed")
            return refusal.as_response()
        if request.method == "OPTIONS":
            return response.empty(status=204, headers=headers)
        try:
            subject = verify_token(request.headers.get("Authorization"), settings)
            message, message_id = read_body(request.body)
        except PortalRefusal as refusal:
            if refusal.status == 503:
                logger.error("portal request refused (503): %s", refusal.reason)
            else:
                logger.warning("portal request refused (%d): %s", refusal.status, refusal.code)
            return refusal.as_response(headers)
        try:
            kit.channel_secret(settings)
        except kit.ChannelNotConfigured as exc:
            logger.error("portal request refused (503): %s", exc)
            return PortalRefusal(
                503, "portal_not_configured", "The portal channel is not configured on this server (CHANNEL_ID_SECRET)."
            ).as_response(headers)
        check = kit.check_text(message)
        if not check.ok:
            logger.info(
                "portal message refused by the kit's checks: %s",
                "empty" if check.reply == kit.EMPTY_REPLY else "too long",
            )
            return response.json([{"text": check.reply}], headers=headers)
        conversation = kit.conversation_id(CHANNEL, subject, settings)
        if message_id is None:
            return await self._answer(conversation, subject, check.text or "", on_new_message, headers)
        agent = getattr(request.app.ctx, "agent", None)
        return await self._answer_once(
            agent, conversation, subject, check.text or "", message_id, on_new_message, headers
        )

    async def _updates(self, request: Request) -> HTTPResponse:
        """Messages staff sent into the patient's chat since ``after`` (seconds since the epoch)."""
        from channels.store_errors import STORE_ERRORS

        unavailable: tuple[type[Exception], ...] = (kit.ChannelNotConfigured, *STORE_ERRORS)
        settings = self.settings
        try:
            headers = cors_headers(request.headers.get("Origin"), settings)
            subject = verify_token(request.headers.get("Authorization"), settings)
            after = float(request.args.get("after", "0") or 0)
        except PortalRefusal as refusal:
            logger.warning("portal updates refused (%d): %s", refusal.status, refusal.code)
            return refusal.as_response()
        except ValueError:
            return PortalRefusal(400, "invalid_query", '"after" must be a number of seconds.').as_response(headers)
        try:
            conversation = kit.conversation_id(CHANNEL, subject, settings)
            tracker = await request.app.ctx.agent.tracker_store.retrieve(conversation)
        except unavailable as exc:  # the widget tries again later
            logger.error("portal updates unavailable: %s", type(exc).__name__)
            return PortalRefusal(503, "unavailable", "Try again in a moment.").as_response(headers)
        messages, latest = out_of_band_messages(tracker.events if tracker is not None else [], after)
        return response.json({"messages": messages, "latest": latest}, headers=headers)

    async def _answer_once(
        self,
        agent: Any,
        conversation: str,
        subject: str,
        text: str,
        message_id: str,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        headers: dict[str, str],
    ) -> HTTPResponse:
        """Answer a message with an id once, on any instance; a repeat gets the first answer again.

        A repeat whose first delivery never got an answer (it failed, or the
        instance serving it stopped) is looked up in the conversation under
        its lock and run only when it is not there (``channels/turns.py``).
        """
        from sqlalchemy.exc import SQLAlchemyError

        from channels.store import claim_delivery, finish_delivery

        key = kit.keyed_hash(f"{subject}\x00{message_id}", DELIVERY_PURPOSE, self.settings)
        try:
            claim = await asyncio.to_thread(claim_delivery, CHANNEL, key)
        except SQLAlchemyError as exc:
            logger.error("portal request (503): clinic database unavailable (%s)", type(exc).__name__)
            return PortalRefusal(
                503, "database_unavailable", "The message was not processed; send it again in a moment."
            ).as_response(headers)
        if not claim.claimed and claim.earlier_reply:
            logger.info("portal message id seen before: same answer, assistant not run again")
            return response.json(json.loads(claim.earlier_reply), headers=headers)
        message, collector = self._message(conversation, subject, text, message_id)
        if claim.claimed:
            outcome = await turns.answer(on_new_message, message, collector.messages)
        else:
            logger.info("portal message id seen before without an answer: looked up under the conversation lock")
            outcome = await turns.answer_unfinished(agent, message, collector.messages)
        if not outcome.stored:
            # Claim kept: a resend of this id is looked up in the conversation before it runs.
            return await self._not_stored(outcome, headers)
        reply = portal_messages(outcome.messages)
        try:
            await asyncio.to_thread(finish_delivery, CHANNEL, key, json.dumps(reply))
        except SQLAlchemyError as exc:
            logger.error("portal delivery not recorded (%s)", type(exc).__name__)
        return response.json(reply, headers=headers)

    async def _answer(
        self,
        conversation: str,
        subject: str,
        text: str,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        headers: dict[str, str],
    ) -> HTTPResponse:
        """Run the assistant on one message without an id and answer with its replies."""
        message, collector = self._message(conversation, subject, text, None)
        outcome = await turns.answer(on_new_message, message, collector.messages)
        if outcome.stored:
            return response.json(portal_messages(outcome.messages), headers=headers)
        return await self._not_stored(outcome, headers)

    @staticmethod
    def _message(
        conversation: str, subject: str, text: str, message_id: str | None
    ) -> tuple[UserMessage, PortalCollector]:
        """The patient's message for Rasa (with the portal's id, kept in the conversation) and its collector."""
        collector = PortalCollector()
        message = UserMessage(
            text,
            collector,
            conversation,
            input_channel=CHANNEL,
            message_id=message_id,
            metadata=kit.identity_metadata(CHANNEL, record_id=subject),
        )
        return message, collector

    async def _not_stored(self, outcome: turns.TurnOutcome, headers: dict[str, str]) -> HTTPResponse:
        """A turn that is not stored: the plain answer the patient got, or an explicit failure."""
        if not outcome.failed:
            # The conversation could not be read: the assistant said so in plain words.
            return response.json(portal_messages(outcome.messages), headers=headers)
        error = outcome.error
        if isinstance(error, turns.store_failures()):
            logger.error("portal message not answered (503): a store is unavailable (%s)", type(error).__name__)
            return response.json(
                {
                    "error": "unavailable",
                    "reason": "The conversation store or lock is unavailable; this message was not stored. "
                    "Send the message again in a moment.",
                    "messages": [{"text": await turns.unavailable_text()}],
                },
                status=503,
                headers=headers,
            )
        logger.error("portal message failed: %s", type(error).__name__)
        return response.json(
            {
                "error": "assistant_failed",
                "reason": "The assistant could not answer; send the message again.",
                "messages": [{"text": kit.FAILED_REPLY}],
            },
            status=500,
            headers=headers,
        )
