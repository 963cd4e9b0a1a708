"""Test-wide set-up: tests never read the developer's .env or var/ folder."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from bot.settings import reset_settings_cache

pytest_plugins = ["tests.tiers", "pytester"]

for _name in list(os.environ):
    if _name.startswith(
        (
            "CLINIC_",
            "TRACKER_STORE_",
            "REDIS_URL",
            "ACTION_SERVER_",
            "RASA_API_",
            "TWILIO_",
            "PORTAL_",
            "CHANNEL_ID_SECRET",
            "WEBCHAT_",
        )
    ):
        del os.environ[_name]
os.environ["RASA_TELEMETRY_ENABLED"] = "false"
os.environ["CLINIC_DOTENV"] = "0"


@pytest.fixture(autouse=True)
def _fresh_settings() -> Iterator[None]:
    """Each test reads settings anew, so monkeypatched variables take effect."""
    reset_settings_cache()
    yield
    reset_settings_cache()
