"""Staff page sessions: signed, expiring cookies, CSRF tokens bound to a session,
constant-time token checks and a wrong-token throttle.

Pure functions and one small class, so they are tested without a server. The
signing key is derived from the staff token: a new token ends every session,
and several Rasa instances sharing the token accept each other's cookies.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections import defaultdict, deque

FAILED_LOGINS_ALLOWED = 5
FAILED_LOGIN_WINDOW_SECONDS = 15 * 60


def _signing_key(token: str) -> bytes:
    """Cookies are signed with a key derived from the token: a new token ends every session."""
    return hashlib.sha256(b"clinic-staff-session\0" + token.encode()).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_session_cookie(token: str, now: float, minutes: int) -> str:
    """A signed ``<payload>.<mac>`` value with a random session id and an expiry."""
    payload = _b64(json.dumps({"sid": secrets.token_urlsafe(16), "exp": int(now + minutes * 60)}).encode())
    mac = _b64(hmac.new(_signing_key(token), payload.encode(), hashlib.sha256).digest())
    return f"{payload}.{mac}"


def read_session_cookie(token: str, value: str | None, now: float) -> str | None:
    """The session id of a valid, unexpired cookie; None for anything else."""
    if not value or value.count(".") != 1 or len(value) > 400:
        return None
    payload, mac = value.split(".")
    expected = _b64(hmac.new(_signing_key(token), payload.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(mac, expected):
        return None
    try:
        data = json.loads(_unb64(payload))
        sid, expires = str(data["sid"]), float(data["exp"])
    except (ValueError, KeyError, TypeError):
        return None
    return sid if expires > now else None


def csrf_token(token: str, sid: str) -> str:
    """The form token bound to one session (a page from another site cannot know it)."""
    return _b64(hmac.new(_signing_key(token), b"csrf\0" + sid.encode(), hashlib.sha256).digest())


def token_matches(given: str, expected: str) -> bool:
    """Compare the typed token in constant time."""
    return hmac.compare_digest(given.encode(), expected.encode())


class LoginThrottle:
    """Counts wrong tokens per client address; too many in the window locks that address out."""

    def __init__(self, allowed: int = FAILED_LOGINS_ALLOWED, window: float = FAILED_LOGIN_WINDOW_SECONDS) -> None:
        """Per-process memory is enough: each wrong try also costs a delay."""
        self.allowed = allowed
        self.window = window
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, client: str, now: float) -> deque[float]:
        failures = self._failures[client]
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def retry_after(self, client: str, now: float) -> int:
        """Seconds until ``client`` may try again (0: now)."""
        failures = self._recent(client, now)
        if not failures:
            self._failures.pop(client, None)  # forget addresses whose window has passed
        if len(failures) < self.allowed:
            return 0
        return max(1, int(failures[0] + self.window - now) + 1)

    def failed(self, client: str, now: float) -> None:
        """Remember a wrong token."""
        self._recent(client, now).append(now)

    def succeeded(self, client: str) -> None:
        """A right token clears the address's record."""
        self._failures.pop(client, None)
