"""Contract-suite adapters for the SMS and patient-portal connectors, as their real callers use them."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from typing import Any

from bot.sms_text import SMS_PART_LIMIT
from tests.channels.contract import ChannelAdapter, Reply, http
from tests.channels.fake_twilio import inbound_form, signature
from tests.e2e.harness import RunningAssistant

PUBLIC_URL = "https://assistant.example-clinic.org"
SMS_PATH = "/webhooks/sms/webhook"
PORTAL_PATH = "/webhooks/portal/webhook"
PORTAL_SECRET = "portal-test-secret-0123456789abcdef0123456789"
AUDIENCE = "patient-assistant"
_CHOICE = re.compile(r"^(\d{1,2})\) (.+)$")


def new_number() -> str:
    """A US mobile number in E.164 that is on nobody's record."""
    return f"+1555{random.randint(2_000_000, 9_999_999)}"


def parse_twiml(document: bytes) -> list:
    """The texts of a TwiML answer's ``<Message>`` elements."""
    root = ET.fromstring(document)
    assert root.tag == "Response"
    return [message.text or "" for message in root.findall("Message")]


class SmsAdapter(ChannelAdapter):
    """A phone texting the clinic's Twilio number; Twilio signs every webhook."""

    channel = "sms"

    def new_sender(self) -> str:
        """A fresh phone number."""
        return new_number()

    def conversation_key(self, sender: str) -> str:
        """SMS conversations are keyed by the sender's number."""
        return sender

    def post(self, form: dict[str, str], signed: str | None = "valid") -> Reply:
        """POST a webhook form, signed like Twilio (``signed``: "valid", a forged value, or None)."""
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if signed == "valid":
            headers["X-Twilio-Signature"] = signature(PUBLIC_URL + SMS_PATH, form)
        elif signed is not None:
            headers["X-Twilio-Signature"] = signed
        status, response_headers, body = http(
            "POST", self.assistant.rasa_url + SMS_PATH, urllib.parse.urlencode(form).encode(), headers
        )
        if status != 200:
            return Reply(status, raw=body.decode(errors="replace"))
        assert response_headers.get("content-type", "").startswith("text/xml"), response_headers
        texts = parse_twiml(body)
        assert all(len(t) <= SMS_PART_LIMIT for t in texts), texts
        choices = [m.group(2) for t in texts for line in t.splitlines() if (m := _CHOICE.match(line))]
        return Reply(status, texts, choices, body.decode())

    def send(self, sender: str, text: str, delivery_id: str | None = None) -> Reply:
        """Text the clinic; ``delivery_id`` becomes the MessageSid."""
        return self.post(inbound_form(sender, text, "SM" + delivery_id if delivery_id else None))

    def send_unauthenticated(self, sender: str, text: str) -> Reply:
        """The same webhook signed with another account's token."""
        form = inbound_form(sender, text)
        return self.post(form, signed=signature(PUBLIC_URL + SMS_PATH, form, token="someone-elses-token"))

    def choose(self, sender: str, reply: Reply, index: int) -> Reply:
        """Answer with the choice's number."""
        assert reply.choices, reply.text
        return self.send(sender, str(index + 1))


def portal_token(
    subject: str,
    key: Any = PORTAL_SECRET,
    algorithm: str = "HS256",
    audience: str | None = AUDIENCE,
    expires_in: int = 600,
    **claims: Any,
) -> str:
    """A portal token as the portal would issue it (or a forged one, by the arguments)."""
    import jwt

    now = dt.datetime.now(dt.timezone.utc)
    payload: dict[str, Any] = {"sub": subject, "iat": now, "exp": now + dt.timedelta(seconds=expires_in)}
    if audience is not None:
        payload["aud"] = audience
    payload.update(claims)
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, key, algorithm=algorithm)


class PortalAdapter(ChannelAdapter):
    """The portal widget, posting with the signed-in patient's token."""

    channel = "portal"

    def __init__(self, assistant: RunningAssistant, key: Any = PORTAL_SECRET, algorithm: str = "HS256") -> None:
        """Sign tokens with ``key`` and ``algorithm`` (what the portal uses)."""
        super().__init__(assistant)
        self.key = key
        self.algorithm = algorithm

    def new_sender(self) -> str:
        """A record id nobody has used."""
        return f"P-{uuid.uuid4().hex[:8].upper()}"

    def conversation_key(self, sender: str) -> str:
        """Portal conversations are keyed by the token's subject."""
        return sender

    def post(self, body: Any, token: str | None, headers: dict[str, str] | None = None) -> Reply:
        """POST a JSON body with a bearer token (None: no Authorization header)."""
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        status, _, raw = http("POST", self.assistant.rasa_url + PORTAL_PATH, data, all_headers)
        decoded = json.loads(raw) if raw else None
        if status != 200 or not isinstance(decoded, list):
            return Reply(status, raw=decoded)
        texts = [m["text"] for m in decoded if m.get("text")]
        choices = [b["title"] for m in decoded for b in m.get("buttons") or []]
        return Reply(status, texts, choices, decoded)

    def token(self, sender: str, **kwargs: Any) -> str:
        """A valid token for ``sender``."""
        return portal_token(sender, self.key, self.algorithm, **kwargs)

    def send(self, sender: str, text: str, delivery_id: str | None = None) -> Reply:
        """Post a message (``delivery_id`` as its ``message_id``)."""
        body: dict[str, Any] = {"message": text}
        if delivery_id:
            body["message_id"] = delivery_id
        return self.post(body, self.token(sender))

    def send_unauthenticated(self, sender: str, text: str) -> Reply:
        """The same message with a token signed by someone else's key."""
        return self.post({"message": text}, portal_token(sender, key="not-the-portal-secret-0123456789abcdef"))

    def choose(self, sender: str, reply: Reply, index: int) -> Reply:
        """Tap the button: its payload is sent."""
        buttons = [b for m in reply.raw for b in m.get("buttons") or []]
        return self.send(sender, buttons[index]["payload"])
