"""Web chat: Rasa's socket.io connector with the safety rules of our other channels.

Registered in ``credentials.yml`` as ``channels.webchat.WebChatInput`` in place
of the bare ``socketio`` entry. The channel keeps Rasa's name (``socketio``),
its events (``user_uttered`` / ``bot_uttered``, ``session_request`` /
``session_confirm``) and session persistence, and adds:

* **Origin check**: Rasa creates its server with ``cors_allowed_origins=[]``,
  which turns python-socketio's check off. Here only the origins in
  ``WEBCHAT_ALLOWED_ORIGINS`` may connect (a request without an Origin header,
  which no browser sends cross-site, is let through).
* **Server-issued session ids**: ``<32 hex random>.<32 hex MAC>``. A proposed
  id that the server did not issue (wrong form, wrong MAC) is replaced by a new
  one, so nobody can pick another person's id; a reconnecting client that holds
  its issued id gets its own conversation back.
* **Conversation id** ``webchat:<random>``, bound to the socket by the server at
  ``session_request`` (the ``session_id`` a message carries is ignored). The
  socket joins a room of that name, so replies and out-of-band messages
  (``get_output_channel().send_text_message(conversation_id, text)``) reach it.
* **Input checks**: empty and oversize messages get :func:`channels.kit.check_text`'s
  answer as a bot message; the model never sees them. Client metadata is
  dropped (web chat proves nothing about who is typing).
* A ``bot_typing`` event (``{"typing": true|false}``) around each turn, for the
  widget's typing indicator. Message text is never logged.
* With ``REDIS_URL`` (several Rasa instances or workers), socket.io messages go
  through Redis, so a reply or a staff message sent by any instance reaches the
  socket on the instance that holds it. They travel as JSON
  (:class:`channels.socketio_json.JsonRedisManager`): nothing read from Redis is
  ever unpickled. Session ids then need the same ``CHANNEL_ID_SECRET`` on every
  instance.
* When a turn fails (the conversation lock or the conversation store is down,
  or anything else breaks), the socket gets a plain answer
  (``utter_conversation_unavailable`` for a store outage, :data:`channels.kit.FAILED_REPLY`
  otherwise) with a "Send again" button that sends the same message once more.
  It goes straight to the socket, not through Redis, which may be what is down.
* **Message ids**: the widget gives every message a random ``message_id`` (1 to
  64 characters of ``[A-Za-z0-9_-]``; anything else is ignored, never refused),
  and the "Send again" button carries the failed message's id. The id is kept
  in the conversation (``UserUttered.message_id``) and claimed in the clinic
  database under a keyed hash of conversation and id, so a resend is
  recognised on any instance: it is looked up in the conversation under its
  lock, its stored answer is sent again, and the turn runs only when it is not
  there (``channels/turns.py``). A resend after a failed or interrupted turn is
  answered once and never processed twice. When the clinic database cannot be
  reached for the claim, the message is looked up the same way before it runs.
"""

from __future__ import annotations

import asyncio
import hmac
import inspect
import logging
import re
import secrets
import traceback
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncManager, AsyncServer

from bot.clinic_facts import fallback_clinic_values, safe_clinic_values
from bot.settings import Settings, get_settings
from bot.stores.tracker_store import TurnNotStored
from channels import turns
from channels.kit import FAILED_REPLY, ChannelNotConfigured, check_text, keyed_hash
from channels.socketio_json import JsonRedisManager

logger = logging.getLogger(__name__)

CONVERSATION_PREFIX = "webchat"
CHANNEL = "webchat"
"""The channel name of web chat deliveries in the clinic database."""
REDIS_CHANNEL = "clinic-webchat"
TYPING_EVENT = "bot_typing"
SESSION_ID_PATTERN = re.compile(r"[0-9a-f]{32}\.[0-9a-f]{32}")
_MAC_PURPOSE = "webchat-session"
MESSAGE_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
DELIVERY_PURPOSE = "webchat-delivery"

STORE_DOWN_RESPONSE = "utter_conversation_unavailable"
"""The domain response a patient gets when the conversation lock or store is down."""
STORE_DOWN_FALLBACK = (
    "Sorry, I can't open our conversation right now because of a problem on our side. "
    "What you told me before is safe. Please send your message again in a few minutes, or call the clinic."
)
"""Used when that response cannot be rendered (no agent yet, a broken domain)."""
RETRY_TITLE = "Send again"
"""The button under a failure answer; its payload is the message that failed."""
_CLINIC_FACTS_WAIT_SECONDS = 3.0


class SessionIds:
    """Issues and checks web chat session ids (``<random>.<MAC of random>``)."""

    def __init__(self, mac: Callable[[str], str]) -> None:
        """``mac`` maps the random part to its 32-hex-digit authentication code."""
        self._mac = mac

    def issue(self) -> str:
        """A new, unguessable session id."""
        random_part = secrets.token_hex(16)
        return f"{random_part}.{self._mac(random_part)}"

    def verify(self, proposed: Any) -> str | None:
        """``proposed`` if this server issued it, else None."""
        if not isinstance(proposed, str) or not SESSION_ID_PATTERN.fullmatch(proposed):
            return None
        random_part, mac = proposed.split(".")
        return proposed if hmac.compare_digest(mac, self._mac(random_part)) else None

    @staticmethod
    def conversation_id(session_id: str) -> str:
        """The conversation (sender) id of an issued session id: ``webchat:<random>``."""
        return f"{CONVERSATION_PREFIX}:{session_id.split('.')[0]}"


def default_session_ids() -> SessionIds:
    """Session ids keyed by ``CHANNEL_ID_SECRET`` (or the demo key under ``var/``).

    Without that setting outside the demo, a key made for this process keeps ids
    unguessable; they then do not survive a restart or work across instances.
    """
    try:
        keyed_hash("probe", _MAC_PURPOSE)
    except ChannelNotConfigured:
        logger.warning(
            "CHANNEL_ID_SECRET is not set: web chat session ids are signed with a key of this "
            "process only, so a conversation does not survive a restart or move between instances"
        )
        key = secrets.token_bytes(32)
        return SessionIds(lambda value: hmac.new(key, f"{_MAC_PURPOSE}\x00{value}".encode(), "sha256").hexdigest()[:32])
    return SessionIds(lambda value: keyed_hash(value, _MAC_PURPOSE))


def cors_setting(origins: Sequence[str]) -> str | list:
    """The ``cors_allowed_origins`` value for python-socketio: the list, or ``"*"``."""
    return "*" if "*" in origins else [o.rstrip("/") for o in origins]


def origin_allowed(origin: str | None, origins: Sequence[str]) -> bool:
    """Whether a connection with this ``Origin`` header may open a web chat."""
    if not origin:
        return True  # not a browser page on another site: browsers send Origin cross-site
    return "*" in origins or origin.rstrip("/") in {o.rstrip("/") for o in origins}


def client_manager(settings: Settings) -> AsyncManager | None:
    """A Redis-backed socket.io manager (JSON only) when ``REDIS_URL`` is set (many instances), else None."""
    if not settings.redis_url:
        return None
    return JsonRedisManager(settings.redis_url, channel=REDIS_CHANNEL)


def message_id_of(data: Any) -> str | None:
    """The message's ``message_id`` when well-formed (1 to 64 of ``[A-Za-z0-9_-]``); anything else: None."""
    proposed = data.get("message_id") if isinstance(data, dict) else None
    if isinstance(proposed, str) and MESSAGE_ID_PATTERN.fullmatch(proposed):
        return proposed
    return None


async def _maybe_await(result: Any) -> None:
    """Await ``result`` if it is awaitable (``enter_room`` became a coroutine in python-socketio 5.10)."""
    if inspect.isawaitable(result):
        await result


class WebChatOutput(SocketIOOutput):
    """Rasa's socket.io output, with custom JSON sent to the conversation's room.

    ``sent`` counts the bot messages emitted through it (a turn's answer went out).
    """

    sent: int = 0

    async def _send_message(self, socket_id: str, response: Any) -> None:
        """Emit one bot message (Rasa's), counting it."""
        self.sent += 1
        await super()._send_message(socket_id, response)

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        """Emit custom JSON as a bot message (Rasa's version passes it as keyword arguments)."""
        self.sent += 1
        await self.sio.emit(self.bot_message_evt, json_message, room=recipient_id)


class WebChatInput(SocketIOInput):
    """Socket.io web chat with origin checks, server-issued sessions and input checks."""

    def __init__(
        self,
        *args: Any,
        allowed_origins: Sequence[str] | None = None,
        session_ids: SessionIds | None = None,
        **kwargs: Any,
    ) -> None:
        """Rasa's options plus the allowed origins (default: ``WEBCHAT_ALLOWED_ORIGINS``)."""
        super().__init__(*args, **kwargs)
        self.session_persistence = True
        self._allowed_origins = tuple(allowed_origins) if allowed_origins is not None else None
        self._session_ids = session_ids

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        """Rasa's socket.io credentials; ``session_persistence`` is always on."""
        credentials = credentials or {}
        return cls(
            credentials.get("user_message_evt", "user_uttered"),
            credentials.get("bot_message_evt", "bot_uttered"),
            credentials.get("namespace"),
            True,
            credentials.get("socketio_path", "/socket.io"),
        )

    @property
    def allowed_origins(self) -> Sequence[str]:
        """Origins whose pages may connect."""
        if self._allowed_origins is None:
            self._allowed_origins = tuple(get_settings().webchat_allowed_origins)
        return self._allowed_origins

    @property
    def session_ids(self) -> SessionIds:
        """The session id issuer, made on first use."""
        if self._session_ids is None:
            self._session_ids = default_session_ids()
        return self._session_ids

    def get_output_channel(self) -> OutputChannel | None:
        """The output for out-of-band messages: ``send_text_message(conversation_id, text)``."""
        if self.sio is None:
            return super().get_output_channel()
        return WebChatOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The socket.io server and its event handlers, attached under ``socketio_path``."""
        sio = AsyncServer(
            async_mode="sanic",
            cors_allowed_origins=cors_setting(self.allowed_origins),
            client_manager=client_manager(get_settings()),
        )
        self.sio = sio
        session_ids = self.session_ids  # the key is read now, not inside the first session request
        webhook = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        namespace = self.namespace

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=namespace)
        async def connect(sid: str, environ: dict[str, Any], auth: dict[str, Any] | None = None) -> bool:
            if not origin_allowed(environ.get("HTTP_ORIGIN"), self.allowed_origins):
                logger.info("web chat: refused a connection from a disallowed origin")
                return False
            return True

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: str, data: Any) -> None:
            proposed = data.get("session_id") if isinstance(data, dict) else None
            session_id = session_ids.verify(proposed)
            if session_id is None:
                session_id = session_ids.issue()
                reason = "new" if not proposed else "replaced an id this server did not issue"
            else:
                reason = "resumed"
            conversation = SessionIds.conversation_id(session_id)
            current = (await sio.get_session(sid, namespace=namespace)).get("conversation_id")
            if current and current != conversation:
                await _maybe_await(sio.leave_room(sid, current, namespace=namespace))
            await _maybe_await(sio.enter_room(sid, conversation, namespace=namespace))
            await sio.save_session(sid, {"conversation_id": conversation}, namespace=namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=namespace)
            logger.info("web chat session %s for %s", reason, conversation)

        @sio.on(self.user_message_evt, namespace=namespace)
        async def handle_message(sid: str, data: Any) -> None:
            conversation = (await sio.get_session(sid, namespace=namespace)).get("conversation_id")
            if not conversation:
                logger.info("web chat: ignored a message sent before session_request")
                return
            output = WebChatOutput(sio, self.bot_message_evt)
            text = data.get("message") if isinstance(data, dict) else None
            checked = check_text(text if isinstance(text, str) else None)
            if not checked.ok:
                logger.info("web chat: answered unusable input in %s without the model", conversation)
                await output.send_text_message(conversation, checked.reply or "")
                await sio.emit(TYPING_EVENT, {"typing": False}, room=conversation, namespace=namespace)
                return
            message_id = message_id_of(data)
            await sio.emit(TYPING_EVENT, {"typing": True}, room=conversation, namespace=namespace)
            told: str | None = None  # the socket already told that the turn is over
            message = UserMessage(
                checked.text, output, conversation, input_channel=self.name(), message_id=message_id, metadata=None
            )
            try:
                try:
                    outcome = await self._run_turn(message, output, on_new_message, webhook)
                except (Exception, TurnNotStored) as error:  # noqa: BLE001 - whatever broke, the patient gets an answer
                    outcome = turns.TurnOutcome(error=error)
                if outcome.failed and outcome.error is not None:
                    reply = await self._failure_reply(outcome.error, conversation, webhook)
                    retry: dict[str, Any] = {"content_type": "text", "title": RETRY_TITLE, "payload": checked.text}
                    if message_id is not None:
                        retry["message_id"] = message_id  # the resend is recognised as this message
                    # Straight to this socket (ignore_queue): Redis, the usual way of replies, may be what is down.
                    await sio.emit(
                        self.bot_message_evt,
                        {"text": reply, "quick_replies": [retry]},
                        to=sid,
                        namespace=namespace,
                        ignore_queue=True,
                    )
                    await sio.emit(TYPING_EVENT, {"typing": False}, to=sid, namespace=namespace, ignore_queue=True)
                    told = sid
            finally:
                await sio.emit(TYPING_EVENT, {"typing": False}, room=conversation, skip_sid=told, namespace=namespace)

        return webhook

    async def _run_turn(
        self,
        message: UserMessage,
        output: WebChatOutput,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        webhook: Blueprint,
    ) -> turns.TurnOutcome:
        """Run one turn; a message with an id runs once, a resend of it gets its stored answer again."""
        if message.message_id is None:
            return await turns.answer(on_new_message, message, [])
        from sqlalchemy.exc import SQLAlchemyError

        from channels.store import claim_delivery

        conversation = message.sender_id
        try:
            key = keyed_hash(f"{conversation}\x00{message.message_id}", DELIVERY_PURPOSE)
            claim = await asyncio.to_thread(claim_delivery, CHANNEL, key)
        except (SQLAlchemyError, ChannelNotConfigured) as error:
            # Not recorded: the id is still looked up in the conversation before the turn runs.
            logger.error(
                "web chat message id in %s not claimed: clinic database unavailable (%s); "
                "looked up in the conversation instead",
                conversation,
                type(error).__name__,
            )
            claimed = False
        else:
            claimed = claim.claimed
            if not claimed:
                logger.info("web chat message id seen before in %s: looked up under its lock", conversation)
        agent = _agent(webhook)
        if claimed or agent is None:
            return await turns.answer(on_new_message, message, [])
        before = output.sent
        outcome = await turns.answer_unfinished(agent, message, [])
        if outcome.stored and output.sent == before:
            for reply in outcome.messages:  # the stored answer of the earlier delivery, sent again
                await output.send_response(conversation, reply)
        return outcome

    async def _failure_reply(self, error: BaseException, conversation: str, webhook: Blueprint) -> str:
        """What the patient is told when a turn failed; logs the error's class and place, never the message."""
        if not isinstance(error, turns.store_failures()):
            logger.error(
                "web chat turn in %s failed (%s at %s); the patient was asked to send it again",
                conversation,
                type(error).__name__,
                _where(error),
            )
            return FAILED_REPLY
        logger.error(
            "web chat turn in %s failed: conversation lock or store unavailable (%s); "
            "the patient was asked to send it again",
            conversation,
            type(error).__name__,
        )
        return await self._store_down_text(conversation, webhook)

    async def _store_down_text(self, conversation: str, webhook: Blueprint) -> str:
        """``utter_conversation_unavailable`` with the clinic's phone, or :data:`STORE_DOWN_FALLBACK`."""
        from rasa.shared.core.trackers import DialogueStateTracker

        agent = _agent(webhook)
        if agent is None or getattr(agent, "nlg", None) is None:
            return STORE_DOWN_FALLBACK
        try:
            values = await asyncio.wait_for(safe_clinic_values(), _CLINIC_FACTS_WAIT_SECONDS)
        except asyncio.TimeoutError:
            values = fallback_clinic_values()
        try:
            message = await agent.nlg.generate(
                STORE_DOWN_RESPONSE, DialogueStateTracker(conversation, []), self.name(), **values
            )
        except Exception as error:  # noqa: BLE001 - a broken response must not hide the outage answer
            logger.error("web chat: %s could not be rendered (%s)", STORE_DOWN_RESPONSE, type(error).__name__)
            return STORE_DOWN_FALLBACK
        text = message.get("text") if isinstance(message, dict) else None
        return text if isinstance(text, str) and text else STORE_DOWN_FALLBACK


def _agent(webhook: Blueprint) -> Any:
    """The Rasa agent of the app this channel is served by; None before it is registered and loaded."""
    apps = webhook.apps if webhook.registered else ()
    return next((app.ctx.agent for app in apps if getattr(app.ctx, "agent", None)), None)


def _where(error: BaseException) -> str:
    """The file, line and function where ``error`` was raised: a place, never a value."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return "unknown place"
    last = frames[-1]
    return f"{last.filename.rsplit('/', 1)[-1]}:{last.lineno} in {last.name}"
