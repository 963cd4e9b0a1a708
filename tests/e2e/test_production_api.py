"""Outside the demo: no REST channel, and Rasa's HTTP API only with a valid JWT."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import jwt
import pytest

from tests.e2e.harness import start_assistant

pytestmark = pytest.mark.e2e

SECRET = "test-jwt-secret-0123456789abcdef"


def _status(url: str, token: str | None = None, data: bytes | None = None) -> int:
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_api_needs_a_jwt_and_rest_is_off(tmp_path: Path) -> None:
    assistant = start_assistant(
        tmp_path,
        {"CLINIC_DEMO": "false", "ACTION_SERVER_TOKEN": "action-secret", "RASA_API_JWT_SECRET": SECRET},
        command="rasa-server",
    )
    try:
        tracker_url = f"{assistant.rasa_url}/conversations/someone/tracker"
        assert _status(tracker_url) == 401
        forged = jwt.encode({"user": {"username": "x", "role": "admin"}}, "wrong-secret", algorithm="HS256")
        assert _status(tracker_url, forged) == 401
        valid = jwt.encode({"user": {"username": "staff", "role": "admin"}}, SECRET, algorithm="HS256")
        assert _status(tracker_url, valid) == 200
        rest = f"{assistant.rasa_url}/webhooks/rest/webhook"
        assert _status(rest, data=b'{"sender": "x", "message": "hi"}') == 404
        # No STAFF_TOKEN outside the demo: the staff page is off and says so.
        assert _status(f"{assistant.rasa_url}/webhooks/staff/") == 503
        assert _status(f"{assistant.rasa_url}/webhooks/staff/login", data=b"token=whatever-long-enough") == 503
    finally:
        assistant.stop()
