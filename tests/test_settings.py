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


def test_clinic_time_fixes_the_clock_on_the_fixed_day() -> None:
    settings = load_settings({"CLINIC_TODAY": "2026-12-02", "CLINIC_TIME": "19:30"})
    now = settings.now()
    assert (now.date(), now.hour, now.minute, now.second) == (dt.date(2026, 12, 2), 19, 30, 0)
    assert now.tzinfo is not None and now.utcoffset() == dt.timedelta(hours=-5)
    assert load_settings({"CLINIC_TIME": "8:05"}).now().strftime("%H:%M") == "08:05"
    assert load_settings({}).clinic_time is None


@pytest.mark.parametrize("value", ["7pm", "25:00", "10:61", "1930", "10:00:00"])
def test_clinic_time_must_be_a_clock_time(value: str) -> None:
    with pytest.raises(SettingsError, match="CLINIC_TIME"):
        load_settings({"CLINIC_TIME": value})


def test_staff_token_setting_and_the_demo_token_file(tmp_path) -> None:
    with pytest.raises(SettingsError, match="STAFF_TOKEN"):
        load_settings({"STAFF_TOKEN": "short"})
    assert load_settings({"STAFF_TOKEN": "s" * 20}).effective_staff_token() == "s" * 20
    demo = load_settings({"CLINIC_VAR_DIR": str(tmp_path)})
    assert demo.effective_staff_token() is None  # no file yet: the page is off
    demo.staff_token_file.write_text("generated-token-0123456789\n")
    assert demo.effective_staff_token() == "generated-token-0123456789"
    production = load_settings({"CLINIC_VAR_DIR": str(tmp_path), "CLINIC_DEMO": "false", "ACTION_SERVER_TOKEN": "x"})
    assert production.effective_staff_token() is None  # the demo file never counts outside the demo
    with pytest.raises(SettingsError, match="STAFF_SESSION_MINUTES"):
        load_settings({"STAFF_SESSION_MINUTES": "0"})
