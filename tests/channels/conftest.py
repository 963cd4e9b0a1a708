"""A real assistant with the SMS and portal channels configured, and Twilio's cloud faked.

``channel_assistant`` runs ``python -m bot run`` (action server + Rasa server)
with Twilio settings whose REST base URL points at :class:`FakeTwilio`, an
HS256 portal secret, a fixed channel-id secret and Redis locks.
``second_instance`` is another Rasa server (``python -m bot rasa-server``)
sharing its stores and action server, configured for RS256 portal tokens.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.channels.adapters import AUDIENCE, PORTAL_SECRET, PUBLIC_URL
from tests.channels.contract import CHANNEL_ID_SECRET
from tests.channels.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, FakeTwilio
from tests.e2e.harness import RunningAssistant, start_assistant

REDIS_URL = "redis://127.0.0.1:6379/0"


def _redis_up() -> bool:
    import socket

    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", 6379)) == 0


@pytest.fixture(scope="session")
def fake_twilio() -> Iterator[FakeTwilio]:
    """Twilio's REST API on loopback."""
    fake = FakeTwilio().start()
    try:
        yield fake
    finally:
        fake.stop()


def channel_env(fake_twilio: FakeTwilio) -> dict[str, str]:
    """Settings shared by both instances."""
    env = {
        "CLINIC_PUBLIC_URL": PUBLIC_URL,
        "CHANNEL_ID_SECRET": CHANNEL_ID_SECRET,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_API_URL": fake_twilio.url,
        "PORTAL_JWT_AUDIENCE": AUDIENCE,
        "WEBCHAT_ALLOWED_ORIGINS": "https://portal.example-clinic.org",
    }
    if _redis_up():
        env["REDIS_URL"] = REDIS_URL
    return env


@pytest.fixture(scope="session")
def channel_assistant(tmp_path_factory: pytest.TempPathFactory, fake_twilio: FakeTwilio) -> Iterator[RunningAssistant]:
    """Both servers with the channels configured (portal: HS256)."""
    var_dir: Path = tmp_path_factory.mktemp("channels-var")
    running = start_assistant(var_dir, {**channel_env(fake_twilio), "PORTAL_JWT_SECRET": PORTAL_SECRET})
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def rsa_keys() -> tuple[str, str]:
    """An RSA key pair for RS256 portal tokens (private PEM, public PEM)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@pytest.fixture(scope="session")
def second_instance(
    channel_assistant: RunningAssistant, fake_twilio: FakeTwilio, rsa_keys: tuple[str, str]
) -> Iterator[RunningAssistant]:
    """A second Rasa server on the same stores and action server; portal tokens are RS256 here."""
    env = {
        **channel_env(fake_twilio),
        "CLINIC_DATABASE_URL": channel_assistant.env["CLINIC_DATABASE_URL"],
        "TRACKER_STORE_URL": channel_assistant.env["TRACKER_STORE_URL"],
        "ACTION_SERVER_URL": f"{channel_assistant.action_url}/webhook",
        "PORTAL_JWT_PUBLIC_KEY": rsa_keys[1].replace("\n", "\\n"),
    }
    running = start_assistant(channel_assistant.var_dir, env, command="rasa-server")
    try:
        yield running
    finally:
        running.stop()
