"""A stand-in for Twilio's cloud at the HTTP boundary, and Twilio's webhook signing.

Twilio's REST API cannot be called from tests, so :class:`FakeTwilio` listens on
loopback and answers ``POST /2010-04-01/Accounts/<sid>/Messages.json`` the way
api.twilio.com does (201 and a message resource), recording what was sent, and
``GET .../Messages.json`` with Twilio's message log (``To``, ``From``, ``DateSent``
filters, newest first, dates in RFC 2822 like Twilio); the assistant and the
outreach worker are pointed at it with ``TWILIO_API_URL``. Knobs for tests:
:meth:`FakeTwilio.fail_next` (the next sends refused) and ``send_delay``
(a send recorded at once but answered late: a worker can be killed mid-send). :func:`signed_form` signs an
inbound webhook exactly as Twilio does (twilio's own ``RequestValidator``).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "test-twilio-auth-token"
FROM_NUMBER = "+15555550100"


@dataclass
class SentMessage:
    """One message the assistant asked Twilio to send."""

    to: str
    from_: str
    body: str
    account_sid: str
    basic_auth: str
    sid: str = ""
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))

    def resource(self) -> dict[str, object]:
        """The message as Twilio's API shows it."""
        return {
            "sid": self.sid,
            "account_sid": self.account_sid,
            "to": self.to,
            "from": self.from_,
            "body": self.body,
            "status": "sent",
            "num_segments": "1",
            "direction": "outbound-api",
            "date_created": format_datetime(self.created_at),
            "date_updated": format_datetime(self.created_at),
            "date_sent": format_datetime(self.created_at),
        }


@dataclass
class FakeTwilio:
    """Records outbound messages; ``fail_with`` makes it answer like a Twilio error.

    ``fail_next(n, status, code)`` refuses only the next ``n`` sends;
    ``send_delay`` (seconds) answers each send that much later, after recording
    it (Twilio accepted it, the sender has not heard yet); ``log_fails`` makes
    the message log answer 500.
    """

    url: str = ""
    sent: list[SentMessage] = field(default_factory=list)
    fail_with: dict[str, object] | None = None
    send_delay: float = 0.0
    log_fails: bool = False
    log_reads: int = 0
    _failures_left: int = 0
    _failure: dict[str, object] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    def fail_next(self, count: int, status: int = 400, code: int = 21211) -> None:
        """Refuse the next ``count`` sends with this HTTP status and Twilio error code."""
        with self._lock:
            self._failures_left = count
            self._failure = {"status": status, "code": code, "message": "refused by the test", "more_info": ""}

    def _take_failure(self) -> dict[str, object] | None:
        if self.fail_with is not None:
            return dict(self.fail_with)
        with self._lock:
            if self._failures_left > 0:
                self._failures_left -= 1
                return dict(self._failure)
        return None

    def _log(self, account_sid: str, query: dict[str, str]) -> list[dict[str, object]]:
        """Twilio's message log for these filters, newest first."""
        with self._lock:
            messages = [m for m in self.sent if m.account_sid == account_sid]
        if "To" in query:
            messages = [m for m in messages if m.to == query["To"]]
        if "From" in query:
            messages = [m for m in messages if m.from_ == query["From"]]
        for name, keep in (
            ("DateSent", lambda day, m: m.created_at.date() == day),
            ("DateSent<", lambda day, m: m.created_at.date() <= day),
            ("DateSent>", lambda day, m: m.created_at.date() >= day),
        ):
            if name in query:
                day = dt.date.fromisoformat(query[name][:10])
                messages = [m for m in messages if keep(day, m)]
        messages.sort(key=lambda m: m.created_at, reverse=True)
        return [m.resource() for m in messages[: int(query.get("PageSize") or 50)]]

    def start(self) -> FakeTwilio:
        """Listen on a free loopback port in a background thread."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                address = urlsplit(self.path)
                parts = address.path.strip("/").split("/")
                if len(parts) != 4 or parts[0] != "2010-04-01" or parts[3] != "Messages.json":
                    self._answer(404, {"code": 20404, "message": "not found", "status": 404})
                    return
                fake.log_reads += 1
                if fake.log_fails:
                    self._answer(500, {"code": 20500, "message": "log down (test)", "status": 500})
                    return
                query = {k: v[0] for k, v in parse_qs(address.query).items()}
                messages = fake._log(parts[2], query)
                self._answer(
                    200,
                    {
                        "messages": messages,
                        "page": 0,
                        "page_size": len(messages),
                        "start": 0,
                        "end": max(0, len(messages) - 1),
                        "uri": address.path,
                        "first_page_uri": address.path,
                        "next_page_uri": None,
                        "previous_page_uri": None,
                    },
                )

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                parts = self.path.strip("/").split("/")
                if len(parts) != 4 or parts[0] != "2010-04-01" or parts[3] != "Messages.json":
                    self._answer(404, {"code": 20404, "message": "not found", "status": 404})
                    return
                failure = fake._take_failure()
                if failure is not None:
                    self._answer(int(str(failure.get("status", 400))), failure)
                    return
                auth = self.headers.get("Authorization", "")
                decoded = base64.b64decode(auth.split(" ", 1)[1]).decode() if auth.startswith("Basic ") else ""
                message = SentMessage(
                    form.get("To", ""),
                    form.get("From", ""),
                    form.get("Body", ""),
                    parts[2],
                    decoded,
                    sid="SM" + uuid.uuid4().hex,
                )
                with fake._lock:
                    fake.sent.append(message)
                if fake.send_delay:
                    time.sleep(fake.send_delay)
                self._answer(201, {**message.resource(), "status": "queued", "date_sent": None})

            def _answer(self, status: int, body: dict[str, object]) -> None:
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender died waiting (a killed worker): Twilio kept the message anyway

            def log_message(self, *_: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def sent_to(self, number: str) -> list[SentMessage]:
        """Messages sent to one number."""
        with self._lock:
            return [m for m in self.sent if m.to == number]


def signature(url: str, form: dict[str, str], token: str = AUTH_TOKEN) -> str:
    """The ``X-Twilio-Signature`` Twilio would send for this URL and form."""
    from twilio.request_validator import RequestValidator

    return RequestValidator(token).compute_signature(url, form)


def inbound_form(sender: str, body: str, message_sid: str | None = None, to: str = FROM_NUMBER) -> dict[str, str]:
    """Twilio's inbound-message webhook form (the fields we use, and a few we ignore)."""
    return {
        "MessageSid": message_sid or "SM" + uuid.uuid4().hex,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "To": to,
        "Body": body,
        "NumMedia": "0",
    }
