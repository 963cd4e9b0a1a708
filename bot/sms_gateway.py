"""The one way a text leaves the clinic outside a webhook reply: :func:`send_sms`.

Texts the clinic sends first (``python -m bot worker``) and staff answers
during a hand-off go through Twilio's REST API here, so every outbound text
obeys the same rules: nothing goes to a number that opted out, nothing is
attempted when Twilio is not configured (the error names the missing
setting), long bodies are split like replies are, and
neither the number nor the text is ever logged.
"""

from __future__ import annotations

import logging
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
    """Twilio refused or could not be reached; the message says why (never the number or text)."""


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


def send_sms(to: str, body: str, settings: Settings | None = None) -> SentSms:
    """Send ``body`` to ``to`` (E.164), split into SMS-sized parts; refuses opted-out numbers.

    Raises :class:`SmsNotConfigured`, :class:`SmsOptedOut` or :class:`SmsSendFailed`;
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
        for part in split_message(body, SMS_PART_LIMIT):
            message = client.messages.create(to=to, from_=settings.twilio_from_number, body=part)
            sids.append(str(message.sid))
    except TwilioRestException as exc:
        logger.error("sms not sent: Twilio answered HTTP %s (code %s)", exc.status, exc.code)
        raise SmsSendFailed(f"Twilio refused the message (HTTP {exc.status}, code {exc.code})") from None
    except (RequestException, TwilioException) as exc:
        logger.error("sms not sent: Twilio not reachable (%s)", type(exc).__name__)
        raise SmsSendFailed(f"Twilio could not be reached ({type(exc).__name__})") from None
    logger.info("sms sent in %d part(s)", len(sids))
    return SentSms(tuple(sids))
