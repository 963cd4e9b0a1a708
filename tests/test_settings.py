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


def test_settings_are_immutable_hashable_and_keep_secrets_out_of_repr() -> None:
    settings = load_settings({"TWILIO_AUTH_TOKEN": "twilio-secret-value", "CLINIC_DOTENV": "0"})
    with pytest.raises(TypeError):
        settings.demo_mode = False  # type: ignore[misc]
    assert hash(settings) == hash(load_settings({"TWILIO_AUTH_TOKEN": "twilio-secret-value"}))
    assert "twilio-secret-value" not in repr(settings)
    assert settings.twilio_auth_token == "twilio-secret-value"


def test_blank_values_count_as_unset_and_the_given_mapping_is_all_that_counts(monkeypatch) -> None:
    monkeypatch.setenv("CLINIC_TIMEZONE", "Europe/Paris")
    settings = load_settings({"REDIS_URL": "  ", "RASA_PORT": " 6006 "})
    assert settings.redis_url is None and settings.rasa_port == 6006
    assert settings.clinic_timezone == "America/New_York"  # the process environment is not read
    assert settings.public_url == "http://localhost:6006"
    assert settings.webchat_allowed_origins == ("http://localhost:6006", "http://127.0.0.1:6006")


def test_the_environment_and_dotenv_file(monkeypatch, tmp_path) -> None:
    """Without a mapping: the environment over ``.env``; ``CLINIC_DOTENV=0`` ignores the file."""
    import bot.settings as module

    dotenv = tmp_path / ".env"
    dotenv.write_text("CLINIC_TIMEZONE=America/Chicago\nexport RASA_PORT='6010'\n", encoding="utf-8")
    monkeypatch.setattr(module, "DOTENV_FILE", dotenv)
    for name in ("CLINIC_TIMEZONE", "RASA_PORT", "CLINIC_DOTENV", "CLINIC_DEMO", "CLINIC_TODAY", "CLINIC_TIME"):
        monkeypatch.delenv(name, raising=False)
    from_file = load_settings()
    assert (from_file.clinic_timezone, from_file.rasa_port) == ("America/Chicago", 6010)
    monkeypatch.setenv("RASA_PORT", "6020")
    assert load_settings().rasa_port == 6020
    monkeypatch.setenv("CLINIC_DOTENV", "0")
    assert load_settings().clinic_timezone == "America/New_York"


def test_replace_revalidates() -> None:
    settings = load_settings({})
    assert settings.replace(portal_jwt_audience="portal").portal_jwt_audience == "portal"
    with pytest.raises(SettingsError, match="PORTAL_JWT_SECRET"):
        settings.replace(portal_jwt_secret="a" * 32, portal_jwt_public_key="key")


@pytest.mark.parametrize(
    "environ, message",
    [
        ({"WEBCHAT_ALLOWED_ORIGINS": "example.org"}, "WEBCHAT_ALLOWED_ORIGINS"),
        ({"WEBCHAT_ALLOWED_ORIGINS": "*", "CLINIC_DEMO": "false", "ACTION_SERVER_TOKEN": "x"}, "'\\*' outside"),
        ({"TWILIO_API_URL": "http://api.example"}, "TWILIO_API_URL"),
        ({"PORTAL_JWT_SECRET": "a", "PORTAL_JWT_PUBLIC_KEY": "b"}, "not both"),
        ({"ACTION_PORT": "70000"}, "ACTION_PORT"),
    ],
)
def test_more_refusals_name_the_setting(environ: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(environ)


PRODUCTION = {"CLINIC_DEMO": "false", "ACTION_SERVER_TOKEN": "a-long-shared-secret"}


@pytest.mark.parametrize(
    "environ, message",
    [
        ({**PRODUCTION, "REDIS_URL": "redis://cache:6379/0"}, "REDIS_URL must carry a password"),
        ({"REDIS_URL": "http://cache:6379/0"}, "redis:// or rediss://"),
        ({**PRODUCTION, "LOG_LEVEL": "debug"}, "LOG_PATIENT_DATA=accept"),
        ({"LOG_LEVEL": "chatty"}, "LOG_LEVEL"),
        ({"LOG_PATIENT_DATA": "yes"}, "LOG_PATIENT_DATA"),
    ],
)
def test_redis_and_logging_refusals(environ: dict, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(environ)


def test_redis_with_a_password_or_tls_and_accepted_debug_are_allowed() -> None:
    with_password = load_settings({**PRODUCTION, "REDIS_URL": "rediss://:s3cret@cache:6380/0"})
    assert with_password.redis_url == "rediss://:s3cret@cache:6380/0"
    assert "s3cret" not in repr(with_password)
    assert load_settings({"REDIS_URL": "redis://127.0.0.1:6379/0"}).redis_url  # the demo may use a local Redis
    accepted = load_settings({**PRODUCTION, "LOG_LEVEL": "DEBUG", "LOG_PATIENT_DATA": "accept"})
    assert accepted.log_level == "DEBUG"
    assert load_settings({"LOG_LEVEL": "debug"}).log_level == "DEBUG"  # the demo may debug
