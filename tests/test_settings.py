"""Settings: defaults for the embedded demo, and refusals outside it."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.settings import SettingsError, load_settings


def test_embedded_defaults_are_sqlite_on_loopback() -> None:
    settings = load_settings({})
    assert settings.clinic_database_url.startswith("sqlite:///")
    assert settings.tracker_store_url.startswith("sqlite:///")
    assert settings.redis_url is None
    assert settings.bind_host == "127.0.0.1"
    assert settings.clinic_timezone == "America/New_York"
    assert settings.demo_mode is True


def test_clinic_today_fixes_today_and_now() -> None:
    settings = load_settings({"CLINIC_TODAY": "2026-12-02"})
    assert settings.today() == dt.date(2026, 12, 2)
    assert settings.now().date() == dt.date(2026, 12, 2)
    assert settings.now().tzinfo is not None


@pytest.mark.parametrize(
    "environ, message",
    [
        ({"CLINIC_TODAY": "12/02/2026"}, "CLINIC_TODAY"),
        ({"CLINIC_TIMEZONE": "Mars/Olympus"}, "CLINIC_TIMEZONE"),
        ({"RASA_PORT": "http"}, "RASA_PORT"),
        ({"CLINIC_DEMO": "false"}, "ACTION_SERVER_TOKEN"),
        ({"BACKEND_TIMEOUT_SECONDS": "90"}, "BACKEND_TIMEOUT_SECONDS"),
        ({"RASA_WORKERS": "2"}, "REDIS_URL"),
        ({"RASA_WORKERS": "many", "REDIS_URL": "redis://127.0.0.1:6379/0"}, "RASA_WORKERS"),
    ],
)
def test_bad_settings_are_refused_with_the_setting_named(environ: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(environ)


def test_several_rasa_workers_only_with_redis_locks() -> None:
    from bot.cli import child_environment

    settings = load_settings({"RASA_WORKERS": "2", "REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert child_environment(settings)["SANIC_WORKERS"] == "2"
    assert child_environment(load_settings({}))["SANIC_WORKERS"] == "1"
