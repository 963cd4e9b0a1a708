"""SMS connector: Twilio's inbound message webhook, answered with TwiML.

``POST /webhooks/sms/webhook`` takes Twilio's form (``From``, ``To``, ``Body``,
``MessageSid``). In order, and before anything else is touched:

1. no ``TWILIO_AUTH_TOKEN`` → 503 (logged with the reason);
2. ``X-Twilio-Signature`` missing or not matching ``CLINIC_PUBLIC_URL`` + path
   and the form → 403 (Rasa's own Twilio connector never checks it);
3. a ``MessageSid`` answered before gets the same TwiML again, without the assistant;
   one whose first delivery got no answer is looked up in the conversation
   under its lock and run only when it is not there (``channels/turns.py``).

Then carrier keywords (bare, any case): STOP, STOPALL, UNSUBSCRIBE, CANCEL, END,
QUIT opt the number out (kept as a keyed hash; one confirmation, then silence;
a bare CANCEL's confirmation also says how to cancel a visit by text), START
and UNSTOP opt back in, HELP gives the clinic's name and phone. Other texts go
through the kit's checks to the assistant under an opaque conversation id, with
the sender's number as proven identity metadata; a bare number answers the
numbered choices of the last bot turn (read from the shared tracker store).
When the clinic texted this number first (a reminder, a waitlist offer, a
follow-up: ``OutreachService.open_prompt``) and no stored reply has carried
that text yet (it came after the assistant's last turn here), a bare number
answers that text's choices instead, and the message
carries ``{"outreach": {"outbox_id": ...}}`` beside the signed identity; the
answer action checks that id against the signed sender.
Replies are joined and split on sentence ends into texts of at most
:data:`~bot.sms_text.SMS_PART_LIMIT` characters. Out-of-band messages
(staff replies, texts the clinic sends first) leave through :func:`bot.sms_gateway.send_sms`.

When the conversation lock or store is down the text is answered in plain
words ("I can't answer right now ... call us at <phone>") and nothing is
stored; a turn that was stored is always answered normally, so the patient is
never told a message failed that was in fact processed.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request, RequestParameters
from sanic.response import HTTPResponse

from bot.clinic_facts import safe_clinic_values
from bot.settings import Settings, get_settings
from bot.sms_gateway import missing_settings, send_sms
from bot.sms_text import SMS_PART_LIMIT
from channels import kit, turns

logger = logging.getLogger(__name__)

CHANNEL = "sms"
OPT_OUT_WORDS = frozenset({"stop", "stopall", "unsubscribe", "cancel", "end", "quit"})
OPT_IN_WORDS = frozenset({"start", "unstop"})
HELP_WORDS = frozenset({"help"})
_KEYWORD = re.compile(r"\s*([A-Za-z]+)\s*[.!]*\s*")

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
TWIML_CONTENT_TYPE = "text/xml; charset=utf-8"

# Metadata naming the clinic's text a reply answers ({"outbox_id": ...}); actions check it against the sender.
OUTREACH_METADATA = "outreach"

# Responses in domain/channels.yml, so content staff edit them with the rest.
KEYWORD_RESPONSES = {
    "opt_out": "utter_sms_opted_out",
    "opt_out_cancel": "utter_sms_opted_out_cancel",
    "opt_in": "utter_sms_opted_in",
    "help": "utter_sms_help",
}


def keyword_of(body: str | None) -> str | None:
    """The carrier keyword a text is ("opt_out", "opt_out_cancel", "opt_in", "help"), or None."""
    match = _KEYWORD.fullmatch(body or "")
    if not match:
        return None
    word = match.group(1).lower()
    if word == "cancel":
        return "opt_out_cancel"
    if word in OPT_OUT_WORDS:
        return "opt_out"
    if word in OPT_IN_WORDS:
        return "opt_in"
    if word in HELP_WORDS:
        return "help"
    return None


def twiml(messages: Sequence[str]) -> str:
    """A TwiML document sending each text as one ``<Message>`` (escaped); none: ``<Response/>``."""
    parts = [m for m in messages if m and m.strip()]
    if not parts:
        return EMPTY_TWIML
    body = "".join(f"<Message>{escape(part)}</Message>" for part in parts)
    return f'<?xml version="1.0" encoding="UTF-8"?><Response>{body}</Response>'


def sms_texts(messages: Sequence[dict[str, Any]], limit: int = SMS_PART_LIMIT) -> list[str]:
    """The bot's messages of one turn as SMS texts: buttons numbered, joined, split at sentence ends."""
    blocks = []
    for message in messages:
        text = message.get("text") or ""
        buttons = message.get("buttons") or []
        block = kit.numbered_choices(text, buttons) if buttons else text
        if message.get("image"):
            block = f"{block}\n{message['image']}".strip()
        if block.strip():
            blocks.append(block.strip())
    return kit.split_message("\n".join(blocks), limit)


def signature_is_valid(settings: Settings, path: str, query: str, form: Any, signature: str | None) -> bool:
    """Whether ``X-Twilio-Signature`` signs ``CLINIC_PUBLIC_URL`` + path (+ query) and the form."""
    from twilio.request_validator import RequestValidator

    if not signature or not settings.twilio_auth_token:
        return False
    url = settings.public_url + path + (f"?{query}" if query else "")
    return bool(RequestValidator(settings.twilio_auth_token).validate(url, form, signature))


def webhook_form(request: Request) -> RequestParameters:
    """Twilio's form fields, blank ones kept (they are signed too; Sanic's ``form`` drops them)."""
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return RequestParameters()
    try:
        return RequestParameters(parse_qs(request.body.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        return RequestParameters()


class NoNumberKnown(LookupError):
    """An out-of-band message for a conversation that never came in by SMS."""


class SmsCollector(CollectingOutputChannel):
    """Collects a turn's replies for the TwiML answer; named "sms" so SMS response variants apply."""

    @classmethod
    def name(cls) -> str:
        """The channel name Rasa matches ``channel: sms`` response variations against."""
        return CHANNEL


class SmsOutput(OutputChannel):
    """Sends messages out of band (staff replies, reminders) through :func:`send_sms`."""

    def __init__(self, number_for: Callable[[str], Awaitable[str | None]], settings: Settings) -> None:
        """``number_for`` finds the phone number behind an opaque conversation id."""
        self._number_for = number_for
        self._settings = settings

    @classmethod
    def name(cls) -> str:
        """Same name as the input channel, so ``output_channel=latest`` finds it."""
        return CHANNEL

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Text the person behind conversation ``recipient_id``; raises when it cannot."""
        number = await self._number_for(recipient_id)
        if not number:
            logger.warning("sms not sent: no number is known for this conversation")
            raise NoNumberKnown("no SMS number is known for this conversation (it never texted us)")
        await asyncio.to_thread(send_sms, number, text, self._settings)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Buttons become numbered choices, answered by number like in a reply."""
        await self.send_text_message(recipient_id, kit.numbered_choices(text, buttons))


class SmsInput(InputChannel):
    """Twilio SMS in, TwiML out; see the module docstring for the order of checks."""

    def __init__(self, settings: Settings | None = None) -> None:
        """``settings`` overrides the process settings (credentials.yml values, tests)."""
        self._settings = settings
        self._app: Sanic | None = None

    @classmethod
    def name(cls) -> str:
        """The URL segment: /webhooks/sms/."""
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> SmsInput:
        """Values in credentials.yml (``${VAR}``, expanded by Rasa) override settings; empty ones do not."""
        auth_token = kit.credential(credentials, "auth_token")
        account_sid = kit.credential(credentials, "account_sid")
        from_number = kit.credential(credentials, "from_number")
        if not (auth_token or account_sid or from_number):
            return cls()
        settings = get_settings()
        return cls(
            settings.replace(
                twilio_auth_token=auth_token or settings.twilio_auth_token,
                twilio_account_sid=account_sid or settings.twilio_account_sid,
                twilio_from_number=from_number or settings.twilio_from_number,
            )
        )

    @property
    def settings(self) -> Settings:
        """The settings in force (read when used, never at import)."""
        return self._settings or get_settings()

    def get_output_channel(self) -> OutputChannel | None:
        """Out-of-band sending through Twilio's REST API."""
        return SmsOutput(self._number_for, self.settings)

    async def _number_for(self, conversation: str) -> str | None:
        """The sender's number, from the latest SMS message's proven identity in the tracker."""
        agent = getattr(getattr(self._app, "ctx", None), "agent", None) if self._app else None
        if agent is None:
            try:
                agent = Sanic.get_app().ctx.agent
            except SanicException:  # no app yet: nothing can be sent
                return None
        proven = await kit.last_proven_identity(agent.tracker_store, conversation, CHANNEL)
        return proven.get("phone")

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """``GET /`` health and ``POST /webhook`` for Twilio."""
        sms = Blueprint("sms_webhook", __name__)

        @sms.listener("before_server_start")
        async def remember_app(app: Sanic, _loop: Any) -> None:
            self._app = app

        @sms.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            missing = missing_settings(self.settings, sending=False)
            if missing:
                return response.json(
                    {"status": "not_configured", "reason": f"{', '.join(missing)} is not set"}, status=503
                )
            return response.json({"status": "ok"})

        @sms.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await self._receive(request, on_new_message)

        return sms

    async def _receive(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> HTTPResponse:
        """Check, de-duplicate, answer and remember one inbound SMS."""
        from sqlalchemy.exc import SQLAlchemyError

        from channels.store import claim_delivery, finish_delivery

        settings = self.settings
        if not settings.twilio_auth_token:
            logger.error(
                "sms webhook refused (503): TWILIO_AUTH_TOKEN is not set, Twilio's signature cannot be checked"
            )
            return response.text(
                "The SMS channel is not configured on this server (TWILIO_AUTH_TOKEN is not set).", status=503
            )
        form = webhook_form(request)
        if not signature_is_valid(
            settings, request.path, request.query_string, form, request.headers.get("X-Twilio-Signature")
        ):
            logger.warning("sms webhook refused (403): X-Twilio-Signature missing or not valid")
            return response.text(
                "Forbidden: the X-Twilio-Signature header is missing or does not sign this request.", status=403
            )
        try:
            kit.channel_secret(settings)
        except kit.ChannelNotConfigured as exc:
            logger.error("sms webhook refused (503): %s", exc)
            return response.text("The SMS channel is not configured on this server (CHANNEL_ID_SECRET).", status=503)
        sender = (form.get("From") or "").strip()
        message_sid = (form.get("MessageSid") or "").strip()
        if not sender or not message_sid or len(message_sid) > 64:
            logger.warning("sms webhook refused (400): From or MessageSid missing")
            return response.text("Bad request: the form fields From and MessageSid are required.", status=400)
        try:
            claim = await asyncio.to_thread(claim_delivery, CHANNEL, message_sid)
        except SQLAlchemyError as exc:
            logger.error(
                "sms webhook (503): clinic database unavailable (%s); message not processed", type(exc).__name__
            )
            return response.text("The clinic database is unavailable; the message was not processed.", status=503)
        if not claim.claimed and claim.earlier_reply:
            logger.info("sms delivery %s seen before: same answer, assistant not run again", message_sid)
            return _twiml_response(claim.earlier_reply)
        try:
            reply = await self._answer(
                request, sender, form.get("Body"), message_sid, not claim.claimed, on_new_message
            )
        except Exception as exc:  # noqa: BLE001 - the patient gets a plain answer; the claim stays for a redelivery
            logger.error("sms delivery %s not answered: %s", message_sid, type(exc).__name__)
            return _twiml_response(twiml([await turns.unavailable_text()]))
        if reply is None:
            # Not stored (the claim stays): a redelivery is looked up in the conversation first.
            return _twiml_response(twiml([await turns.unavailable_text()]))
        document, stored = reply
        if stored:
            try:
                await asyncio.to_thread(finish_delivery, CHANNEL, message_sid, document)
            except SQLAlchemyError as exc:
                logger.error("sms delivery %s answered but not recorded (%s)", message_sid, type(exc).__name__)
        return _twiml_response(document)

    async def _answer(
        self,
        request: Request,
        sender: str,
        body: str | None,
        message_sid: str,
        redelivered: bool,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> tuple[str, bool] | None:
        """The TwiML answer to one text from ``sender`` and whether it is final; None: the turn failed.

        Final answers (keywords, checks, stored turns) are kept for Twilio's
        redeliveries; a conversation that could not be read gets its plain
        answer but no record, so a redelivery runs again.
        """
        from bot.sms_opt_out import is_opted_out, set_opted_out

        agent = request.app.ctx.agent
        conversation = kit.conversation_id(CHANNEL, sender, self.settings)
        keyword = keyword_of(body)
        if keyword in ("opt_out", "opt_out_cancel"):
            await asyncio.to_thread(set_opted_out, sender, True)
            logger.info("sms number opted out (%s)", keyword)
            return twiml(await self._keyword_reply(agent, conversation, keyword)), True
        if keyword == "opt_in":
            await asyncio.to_thread(set_opted_out, sender, False)
            logger.info("sms number opted back in")
            return twiml(await self._keyword_reply(agent, conversation, keyword)), True
        if keyword == "help":
            return twiml(await self._keyword_reply(agent, conversation, keyword)), True
        if await asyncio.to_thread(is_opted_out, sender):
            logger.info("sms from an opted-out number: not answered (START opts back in)")
            return EMPTY_TWIML, True
        check = kit.check_text(body)
        if not check.ok:
            logger.info(
                "sms message refused by the kit's checks: %s", "empty" if check.reply == kit.EMPTY_REPLY else "too long"
            )
            return twiml(kit.split_message(check.reply or "", SMS_PART_LIMIT)), True
        text = check.text or ""
        metadata = kit.identity_metadata(CHANNEL, phone=sender)
        prompt = await self._unanswered_prompt(sender)
        if prompt is not None:
            # The clinic's text came after the assistant's last turn: a number answers its choices.
            from bot.outreach.texts import buttons_of

            payload = kit.choice_from_digit(text, list(buttons_of(prompt.kind)))
            metadata = {**metadata, OUTREACH_METADATA: {"outbox_id": prompt.outbox_id}}
        else:
            payload = kit.choice_from_digit(text, await kit.last_bot_buttons(agent.tracker_store, conversation))
        collector = SmsCollector()
        message = UserMessage(
            payload or text,
            collector,
            conversation,
            input_channel=CHANNEL,
            message_id=message_sid,
            metadata=metadata,
        )
        if redelivered:
            logger.info("sms delivery %s seen before without an answer: looked up under the lock", message_sid)
            outcome = await turns.answer_unfinished(agent, message, collector.messages)
        else:
            outcome = await turns.answer(on_new_message, message, collector.messages)
        if outcome.failed:
            logger.error("sms delivery %s not answered: %s", message_sid, type(outcome.error).__name__)
            return None
        if prompt is not None and outcome.stored:
            await _mark_recalled(prompt.outbox_id)
        return twiml(sms_texts(outcome.messages)), outcome.stored

    async def _unanswered_prompt(self, sender: str) -> Any | None:
        """The clinic's open text to ``sender`` if it came after the assistant last spoke here, or None.

        "After the last turn" is read as "no stored reply has carried it yet"
        (``recalled_at``): the assistant only speaks in answer to a message, and
        unlike comparing times this holds when the clinic clock is fixed
        (``CLINIC_TODAY``) while the conversation store keeps real times. A
        database failure only means the text is not brought in: the turn goes on without it.
        """
        from bot.outreach.service import get_outreach_service

        try:
            prompt = await asyncio.to_thread(get_outreach_service().open_prompt, sender)
        except Exception as exc:  # noqa: BLE001 - the outbox is extra: the patient is answered anyway
            logger.warning("sms: open outreach text not read (%s); answered without it", type(exc).__name__)
            return None
        if prompt is None or prompt.recalled_at is not None:
            return None
        logger.info("sms: reply taken as an answer to outreach text %s (%s)", prompt.outbox_id, prompt.kind)
        return prompt

    async def _keyword_reply(self, agent: Any, conversation: str, keyword: str) -> list[str]:
        """The keyword's response from domain/ (SMS variant), filled with the clinic's name and phone."""
        from rasa.shared.core.trackers import DialogueStateTracker

        values = await safe_clinic_values()
        message = await agent.nlg.generate(
            KEYWORD_RESPONSES[keyword], DialogueStateTracker(conversation, []), CHANNEL, **values
        )
        if not message or not message.get("text"):
            raise LookupError(f"response {KEYWORD_RESPONSES[keyword]} is missing from the domain")
        return kit.split_message(message["text"], SMS_PART_LIMIT)


async def _mark_recalled(outbox_id: int) -> None:
    """Note that a stored reply carried the clinic's text: later replies answer the assistant instead."""
    from bot.outreach.service import get_outreach_service

    try:
        await asyncio.to_thread(get_outreach_service().mark_recalled, outbox_id)
    except Exception as exc:  # noqa: BLE001 - at worst the next reply is taken as an answer to the text again
        logger.warning("sms: outreach text %s not marked as brought in (%s)", outbox_id, type(exc).__name__)


def _twiml_response(document: str) -> HTTPResponse:
    """A 200 TwiML answer."""
    return response.text(document, content_type=TWIML_CONTENT_TYPE)
