"""A stand-in for Twilio's cloud at the HTTP boundary, and Twilio's webhook signing.

Twilio's REST API cannot be called from tests, so :class:`FakeTwilio` listens on
loopback and answers ``POST /2010-04-01/Accounts/<sid>/Messages.json`` the way
api.twilio.com does (201 and a message resource), recording what was sent; the
assistant is pointed at it with ``TWILIO_API_URL``. :func:`signed_form` signs an
inbound webhook exactly as Twilio does (twilio's own ``RequestValidator``).
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

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


@dataclass
class FakeTwilio:
    """Records outbound messages; ``fail_with`` makes it answer like a Twilio error."""

    url: str = ""
    sent: list[SentMessage] = field(default_factory=list)
    fail_with: dict[str, object] | None = None
    _server: ThreadingHTTPServer | None = None

    def start(self) -> FakeTwilio:
        """Listen on a free loopback port in a background thread."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                parts = self.path.strip("/").split("/")
                if len(parts) != 4 or parts[0] != "2010-04-01" or parts[3] != "Messages.json":
                    self._answer(404, {"code": 20404, "message": "not found", "status": 404})
                    return
                if fake.fail_with is not None:
                    self._answer(int(fake.fail_with.get("status", 400)), dict(fake.fail_with))
                    return
                auth = self.headers.get("Authorization", "")
                decoded = base64.b64decode(auth.split(" ", 1)[1]).decode() if auth.startswith("Basic ") else ""
                fake.sent.append(
                    SentMessage(form.get("To", ""), form.get("From", ""), form.get("Body", ""), parts[2], decoded)
                )
                self._answer(
                    201,
                    {
                        "sid": "SM" + uuid.uuid4().hex,
                        "account_sid": parts[2],
                        "to": form.get("To"),
                        "from": form.get("From"),
                        "body": form.get("Body"),
                        "status": "queued",
                    },
                )

            def _answer(self, status: int, body: dict[str, object]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

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
