"""The one way a text leaves the clinic outside a webhook reply: :func:`send_sms`.

Texts the clinic sends first (``python -m bot worker``) and staff answers
during a hand-off go through Twilio's REST API here, so every outbound text
obeys the same rules: nothing goes to a number that opted out, nothing is
attempted when Twilio is not configured (the error names the missing
setting), long bodies are split like replies are, and
neither the number nor the text is ever logged.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.channel_identity import ChannelNotConfigured
from bot.settings import Settings, get_settings
from bot.sms_text import SMS_PART_LIMIT, split_message

logger = logging.getLogger(__name__)


class SmsNotConfigured(ChannelNotConfigured):
    """Twilio settings are missing; the message names them."""


class SmsOptedOut(RuntimeError):
    """The number asked for no more texts (STOP); nothing was sent."""


class SmsSendFailed(RuntimeError):
    """Twilio refused or could not be reached; the message says why (never the number or text).

    ``sent_sids`` are the parts Twilio accepted before the failure; ``unknown`` is
    true when a request may have reached Twilio without an answer (a timeout):
    then the failed part may have been sent too.
    """

    def __init__(self, message: str, sent_sids: tuple[str, ...] = (), unknown: bool = False) -> None:
        """A failure, with what is known of the parts sent."""
        super().__init__(message)
        self.sent_sids = sent_sids
        self.unknown = unknown


@dataclass(frozen=True)
class SentSms:
    """What Twilio accepted: one message id per part sent."""

    message_sids: tuple[str, ...]


def missing_settings(settings: Settings, sending: bool = True) -> tuple[str, ...]:
    """The Twilio settings still unset (receiving needs the token; sending all three)."""
    wanted = [("TWILIO_AUTH_TOKEN", settings.twilio_auth_token)]
    if sending:
        wanted += [
            ("TWILIO_ACCOUNT_SID", settings.twilio_account_sid),
            ("TWILIO_FROM_NUMBER", settings.twilio_from_number),
        ]
    return tuple(name for name, value in wanted if not value)


def twilio_client(settings: Settings) -> Any:
    """A Twilio REST client for these settings (base URL from ``TWILIO_API_URL``, our timeout)."""
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    # Twilio's HTTP client logs request URLs at INFO; keep it to warnings.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    client = Client(
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        http_client=TwilioHttpClient(timeout=settings.backend_timeout_seconds),
    )
    client.api.base_url = settings.twilio_api_url
    return client


def message_parts(body: str) -> list[str]:
    """The SMS-sized parts ``body`` is sent as, in order (the same split :func:`send_sms` makes)."""
    return split_message(body, SMS_PART_LIMIT)


def send_sms(to: str, body: str, settings: Settings | None = None, parts: Sequence[int] | None = None) -> SentSms:
    """Send ``body`` to ``to`` (E.164), split into SMS-sized parts; refuses opted-out numbers.

    ``parts`` (indexes into :func:`message_parts`) sends only those parts: the
    outbox completes a text whose first parts already went out. Raises
    :class:`SmsNotConfigured`, :class:`SmsOptedOut` or :class:`SmsSendFailed`;
    blocking (call it from a thread in async code).
    """
    from bot.sms_opt_out import is_opted_out

    settings = settings or get_settings()
    missing = missing_settings(settings)
    if missing:
        raise SmsNotConfigured(f"SMS sending is off: {', '.join(missing)} not set")
    if not to or not body or not body.strip():
        raise ValueError("send_sms needs a number and a non-empty text")
    if is_opted_out(to):
        logger.info("sms not sent: the number has opted out")
        raise SmsOptedOut("this number has opted out of texts (STOP); it must text START first")
    from requests import RequestException
    from twilio.base.exceptions import TwilioException, TwilioRestException

    client = twilio_client(settings)
    sids = []
    try:
        pieces = message_parts(body)
        wanted = range(len(pieces)) if parts is None else sorted(set(parts))
        for index in wanted:
            part = pieces[index]
            message = client.messages.create(to=to, from_=settings.twilio_from_number, body=part)
            sids.append(str(message.sid))
    except TwilioRestException as exc:
        logger.error("sms not sent: Twilio answered HTTP %s (code %s)", exc.status, exc.code)
        raise SmsSendFailed(f"Twilio refused the message (HTTP {exc.status}, code {exc.code})", tuple(sids)) from None
    except (RequestException, TwilioException) as exc:
        logger.error("sms not sent: Twilio not reachable (%s)", type(exc).__name__)
        raise SmsSendFailed(f"Twilio could not be reached ({type(exc).__name__})", tuple(sids), True) from None
    logger.info("sms sent in %d part(s)", len(sids))
    return SentSms(tuple(sids))


# Twilio's clock and ours may differ a little; a part created this long before
# the attempt started still counts as that attempt's.
CLOCK_SLACK = dt.timedelta(minutes=2)
LOG_LIMIT = 200
"""How many of the newest messages to one number are read back at most."""


def sent_parts_since(to: str, body: str, since: dt.datetime, settings: Settings | None = None) -> dict[int, str]:
    """Which parts of ``body`` Twilio's message log shows as sent to ``to`` since ``since``: index -> message id.

    For a send in doubt (a worker died during it): the outbox sends only the
    parts missing here. The log is read by ``To`` and ``From`` (newest first, at
    most :data:`LOG_LIMIT`) and compared by body and ``date_created`` here:
    Twilio's ``DateSent`` filter has a whole day's grain and leaves out
    messages still queued (they have no send date yet). Raises
    :class:`SmsNotConfigured`, or :class:`SmsSendFailed` when the log cannot be
    read (then nobody knows: do not send).
    """
    settings = settings or get_settings()
    missing = missing_settings(settings)
    if missing:
        raise SmsNotConfigured(f"SMS sending is off: {', '.join(missing)} not set")
    from requests import RequestException
    from twilio.base.exceptions import TwilioException, TwilioRestException

    pieces = message_parts(body)
    earliest = since.astimezone(dt.timezone.utc) - CLOCK_SLACK
    try:
        messages = twilio_client(settings).messages.list(to=to, from_=settings.twilio_from_number, limit=LOG_LIMIT)
    except TwilioRestException as exc:
        logger.error("sms log not read: Twilio answered HTTP %s (code %s)", exc.status, exc.code)
        raise SmsSendFailed(f"Twilio's message log could not be read (HTTP {exc.status}, code {exc.code})") from None
    except (RequestException, TwilioException) as exc:
        logger.error("sms log not read: Twilio not reachable (%s)", type(exc).__name__)
        raise SmsSendFailed(f"Twilio's message log could not be read ({type(exc).__name__})") from None
    found: dict[int, str] = {}
    for message in messages:
        created = message.date_created
        if created is None or created.astimezone(dt.timezone.utc) < earliest:
            continue
        for index, piece in enumerate(pieces):
            if index not in found and message.body == piece:
                found[index] = str(message.sid)
                break
    return found
