"""One place that reads the environment, once per process.

Every other module asks :func:`get_settings` instead of touching ``os.environ``,
so defaults, validation and the embedded (SQLite, one machine) mode live here.
Each setting is one field: its environment variable, default and description
are declared together, and the README's settings table is generated from them
(``python -m bot.schemas settings-table``). A new channel secret is one line:
``slack_signing_secret: str | None = secret("SLACK_SIGNING_SECRET", "...")``.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseSettings, Field, ValidationError, root_validator, validator

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"
DOTENV_FILE = PROJECT_ROOT / ".env"

MIN_STAFF_TOKEN_LENGTH = 16
_TRUE_WORDS = {"1", "true", "yes", "on"}
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class SettingsError(ValueError):
    """A setting has a value we cannot run with; the message names the setting."""


def setting(default: Any, env: str, description: str, unset: str | None = None, **extra: Any) -> Any:
    """A field read from ``env``; ``unset`` says in the README what an unset value means."""
    return Field(default, env=env, description=description, unset=unset, **extra)


def secret(env: str, description: str, unset: str = "unset") -> Any:
    """A secret: unset by default, never shown in ``repr`` or logs."""
    return Field(None, env=env, description=description, unset=unset, repr=False, secret=True)


class Settings(BaseSettings):
    """The assistant's configuration: the environment over an optional ``.env`` file."""

    clinic_database_url: str = setting(
        None,
        "CLINIC_DATABASE_URL",
        "clinic database (SQLAlchemy URL; `postgresql://…` in production)",
        "`sqlite:///var/clinic.db`",
    )
    tracker_store_url: str = setting(None, "TRACKER_STORE_URL", "Rasa conversation store", "`sqlite:///var/tracker.db`")
    redis_url: str | None = setting(
        None,
        "REDIS_URL",
        "Redis for conversation locks and web chat between Rasa instances; required for more than one. "
        "`redis://:password@host:6379/0`, or `rediss://` for TLS; outside the demo it must carry a password",
        "unset: in-memory locks",
        repr=False,
    )
    log_level: str = setting(
        "INFO",
        "LOG_LEVEL",
        "log level of every process (`DEBUG`, `INFO`, `WARNING`, `ERROR`); patient data is redacted at every level, "
        "and `DEBUG` outside the demo also needs `LOG_PATIENT_DATA`",
    )
    log_patient_data: str | None = setting(
        None,
        "LOG_PATIENT_DATA",
        "`accept` allows `LOG_LEVEL=DEBUG` outside the demo: Rasa's debug lines carry patient data, and the "
        "redaction filter is a safety net, not a promise",
        "unset: `DEBUG` is refused outside the demo",
    )
    clinic_today: dt.date | None = setting(
        None, "CLINIC_TODAY", 'fixes "today" (ISO date) for demos and tests', "the real date"
    )
    clinic_time: dt.time | None = setting(
        None,
        "CLINIC_TIME",
        "fixes the clinic's clock time (`HH:MM`, 24-hour) for demos and tests, like `CLINIC_TODAY` fixes the "
        'date: decides "open now" for the handoff',
        "the real time",
    )
    staff_token: str | None = secret(
        "STAFF_TOKEN",
        f"the staff page's login token (at least {MIN_STAFF_TOKEN_LENGTH} characters)",
        "unset: in the demo a generated token in `var/staff-token`, otherwise the staff page is off (503)",
    )
    staff_session_minutes: int = setting(
        480, "STAFF_SESSION_MINUTES", "how long a staff page login lasts (1 to 1440)", ge=1, le=1440
    )
    clinic_timezone: str = setting("America/New_York", "CLINIC_TIMEZONE", "the clinic's local time")
    public_url: str = setting(
        None, "CLINIC_PUBLIC_URL", "the address the outside world calls", "`http://localhost:$RASA_PORT`"
    )
    demo_mode: bool = setting(
        True,
        "CLINIC_DEMO",
        "demo mode: REST channel on, HTTP API open on loopback. Set `false` in production",
    )
    bind_host: str = setting("127.0.0.1", "CLINIC_BIND_HOST", "interface both servers listen on")
    rasa_port: int = setting(5005, "RASA_PORT", "the Rasa server's port", gt=0, lt=65536)
    action_port: int = setting(5055, "ACTION_PORT", "the action server's port", gt=0, lt=65536)
    action_server_url: str = setting(
        None, "ACTION_SERVER_URL", "where Rasa finds the action server", "`http://127.0.0.1:$ACTION_PORT/webhook`"
    )
    action_server_token: str | None = secret(
        "ACTION_SERVER_TOKEN",
        "shared secret between Rasa and the action server",
        "unset (required when `CLINIC_DEMO=false`)",
    )
    rasa_api_jwt_secret: str | None = secret(
        "RASA_API_JWT_SECRET", "turns on Rasa's HTTP API behind this JWT secret (HS256)"
    )
    rasa_workers: int = setting(
        1,
        "RASA_WORKERS",
        "Rasa server worker processes (1 to 16); above 1 requires `REDIS_URL` (refused otherwise)",
        ge=1,
        le=16,
    )
    backend_timeout_seconds: float = setting(
        10.0,
        "BACKEND_TIMEOUT_SECONDS",
        "timeout of every backend call (at most 30); Rasa waits for an action at most this + 10 s, "
        "well inside its 60 s conversation lock",
        "`10`",
        gt=0,
        le=30,
    )
    fallback_phone: str | None = setting(
        None,
        "CLINIC_FALLBACK_PHONE",
        "the number given to patients when the clinic database cannot be read (before any successful read)",
        "demo: the seed file's number; otherwise unset",
    )
    var_dir: Path = setting(VAR_DIR, "CLINIC_VAR_DIR", "run-time files, logs, SQLite databases", "`var/`")
    channel_id_secret: str | None = secret(
        "CHANNEL_ID_SECRET",
        "key for the opaque SMS and portal conversation ids and hashed numbers; the same on every Rasa instance",
        "demo: made once under `var/`; required when `CLINIC_DEMO=false`",
    )
    webchat_allowed_origins: tuple[str, ...] = setting(
        (),
        "WEBCHAT_ALLOWED_ORIGINS",
        "comma-separated origins (`https://www.example-clinic.org`) of the pages that may open a web chat or "
        "call the portal endpoint (CORS); others cannot connect. `*` only in the demo",
        "`CLINIC_PUBLIC_URL`'s origin, `http://localhost:$RASA_PORT`, `http://127.0.0.1:$RASA_PORT`",
    )
    twilio_auth_token: str | None = secret(
        "TWILIO_AUTH_TOKEN",
        "checks Twilio's signature on every inbound text",
        "unset: the SMS webhook answers 503 and logs why",
    )
    twilio_account_sid: str | None = setting(
        None,
        "TWILIO_ACCOUNT_SID",
        "staff replies and reminders through Twilio's REST API: the account",
        "unset: no outbound texts (`send_sms` says which is missing)",
    )
    twilio_from_number: str | None = setting(
        None,
        "TWILIO_FROM_NUMBER",
        "staff replies and reminders through Twilio's REST API: the sending number",
        "unset: no outbound texts (`send_sms` says which is missing)",
    )
    twilio_api_url: str = setting(
        "https://api.twilio.com",
        "TWILIO_API_URL",
        "Twilio's REST base URL (tests point it at a local stand-in; plain http only on loopback)",
    )
    portal_jwt_secret: str | None = secret(
        "PORTAL_JWT_SECRET",
        "the portal's token key, HS256 secret; set this or `PORTAL_JWT_PUBLIC_KEY`",
        "unset: the portal endpoint answers 503",
    )
    portal_jwt_public_key: str | None = setting(
        None,
        "PORTAL_JWT_PUBLIC_KEY",
        "the portal's token key, RS256 public key (PEM; `\\n` for line breaks); set this or `PORTAL_JWT_SECRET`",
        "unset: the portal endpoint answers 503",
    )
    portal_jwt_audience: str = setting(
        "patient-assistant", "PORTAL_JWT_AUDIENCE", "the `aud` every portal token must carry"
    )

    class Config:
        """Environment names are exact; ``.env`` is read by python-dotenv; values never change after loading."""

        env_file = DOTENV_FILE
        env_file_encoding = "utf-8"
        case_sensitive = True
        frozen = True
        extra = "forbid"

        @classmethod
        def parse_env_var(cls, field_name: str, raw_val: str) -> Any:
            """Every value is plain text (a comma list for origins), never JSON."""
            return raw_val

        @classmethod
        def customise_sources(cls, init_settings: Any, env_settings: Any, file_secret_settings: Any) -> Any:
            """Arguments, then the environment and ``.env``; no secrets directory."""
            return (init_settings, env_settings)

        @staticmethod
        def schema_extra(schema: dict[str, Any], model: type[Settings]) -> None:
            """The JSON Schema names settings as people set them: by environment variable."""
            names = {name: env_name(field) for name, field in model.__fields__.items()}
            schema["properties"] = {names[key]: value for key, value in schema["properties"].items()}
            for value in schema["properties"].values():
                value.pop("env", None)
                value.pop("env_names", None)
                default = value.get("default")
                if isinstance(default, str) and default.startswith(str(PROJECT_ROOT)):
                    # the same schema in every checkout: paths relative to the project
                    value["default"] = Path(default).relative_to(PROJECT_ROOT).as_posix()

    # -- reading values the way people write them

    @root_validator(pre=True)
    def _blank_is_unset(cls, values: dict[str, Any]) -> dict[str, Any]:
        """Surrounding spaces are dropped and an empty value counts as unset."""
        cleaned = {}
        for key, value in values.items():
            if isinstance(value, str):
                value = value.strip()
                if not value:
                    continue
            cleaned[key] = value
        return cleaned

    @validator("demo_mode", pre=True)
    def _flag(cls, value: Any) -> bool:
        """Yes/no the way people write it: 1, true, yes, on mean yes; anything else no."""
        return value if isinstance(value, bool) else str(value).lower() in _TRUE_WORDS

    @validator("log_level", pre=True)
    def _level(cls, value: Any) -> str:
        level = str(value).strip().upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"{value!r} is not a log level (DEBUG, INFO, WARNING, ERROR)")
        return level

    @validator("log_patient_data", pre=True)
    def _acceptance(cls, value: Any) -> str | None:
        if value is None:
            return None
        if str(value).strip().lower() != "accept":
            raise ValueError("must be 'accept' (or unset)")
        return "accept"

    @validator("clinic_timezone")
    def _known_zone(cls, value: str) -> str:
        """The time zone must exist in the tz database."""
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not a known time zone") from exc
        return value

    @validator("clinic_today", pre=True)
    def _iso_date(cls, value: Any) -> Any:
        """Only an ISO date: ``12/02/2026`` is ambiguous."""
        if value is None or isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError as exc:
            raise ValueError(f"{value!r} is not an ISO date (YYYY-MM-DD)") from exc

    @validator("clinic_time", pre=True)
    def _clock_time(cls, value: Any) -> Any:
        """Only ``H:MM`` or ``HH:MM``, 24-hour."""
        if value is None or isinstance(value, dt.time):
            return value
        match = re.fullmatch(r"(\d{1,2}):(\d{2})", str(value))
        try:
            if match is None:
                raise ValueError
            return dt.time(int(match.group(1)), int(match.group(2)))
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a clock time (HH:MM, 24-hour)") from exc

    @validator("staff_token")
    def _long_staff_token(cls, value: str | None) -> str | None:
        """The staff token is a password: short ones are refused."""
        if value is not None and len(value) < MIN_STAFF_TOKEN_LENGTH:
            raise ValueError(f"must be at least {MIN_STAFF_TOKEN_LENGTH} characters: it is the staff page's password")
        return value

    @validator("staff_session_minutes", "rasa_workers", pre=True)
    def _whole_number(cls, value: Any, field: Any) -> Any:
        """Digits only (no sign, no unit)."""
        if isinstance(value, str) and not value.isdigit():
            low, high = field.field_info.ge, field.field_info.le
            raise ValueError(f"{value!r} must be a number from {low} to {high}")
        return value

    @validator("rasa_port", "action_port", pre=True)
    def _port(cls, value: Any) -> int:
        """A TCP port number."""
        try:
            port = int(value)
        except (TypeError, ValueError):
            port = 0
        if not 0 < port < 65536:
            raise ValueError(f"{value!r} is not a port number")
        return port

    @validator("backend_timeout_seconds", pre=True)
    def _seconds(cls, value: Any) -> float:
        """A number of seconds."""
        try:
            return float(value)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{value!r} is not a number") from exc

    @validator("webchat_allowed_origins", pre=True)
    def _comma_list(cls, value: Any) -> Any:
        """``a, b`` -> ``("a", "b")`` without trailing slashes."""
        if isinstance(value, str):
            value = value.split(",")
        return tuple(str(item).strip().rstrip("/") for item in value if str(item).strip())

    @validator("public_url", "twilio_api_url")
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        """Paths are appended to these addresses."""
        return value.rstrip("/") if value else value

    @validator("twilio_api_url")
    def _https_api(cls, value: str) -> str:
        """Twilio's credentials never travel in clear text, except to a stand-in on loopback."""
        parts = urlsplit(value)
        if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in _LOOPBACK):
            raise ValueError("must be an https:// address (plain http only for a stand-in on loopback)")
        return value

    @validator("portal_jwt_public_key")
    def _pem_lines(cls, value: str | None) -> str | None:
        """A PEM key written on one line with ``\\n`` gets its line breaks back."""
        return value.replace("\\n", "\n") if value else value

    @root_validator(skip_on_failure=True)
    def _derived_and_combined(cls, values: dict[str, Any]) -> dict[str, Any]:
        """Defaults that follow from other settings, and rules that involve two settings."""
        var_dir, rasa_port, demo = values["var_dir"], values["rasa_port"], values["demo_mode"]
        values["clinic_database_url"] = values.get("clinic_database_url") or f"sqlite:///{var_dir / 'clinic.db'}"
        values["tracker_store_url"] = values.get("tracker_store_url") or f"sqlite:///{var_dir / 'tracker.db'}"
        values["public_url"] = values.get("public_url") or f"http://localhost:{rasa_port}"
        values["action_server_url"] = (
            values.get("action_server_url") or f"http://127.0.0.1:{values['action_port']}/webhook"
        )
        if values.get("fallback_phone") is None and demo:
            values["fallback_phone"] = _demo_clinic_phone()
        if not demo and not values.get("action_server_token"):
            raise ValueError(
                "ACTION_SERVER_TOKEN must be set outside the demo (CLINIC_DEMO=false): "
                "the action server only answers the Rasa server that knows it"
            )
        if values["rasa_workers"] > 1 and not values.get("redis_url"):
            raise ValueError(
                "RASA_WORKERS above 1 needs REDIS_URL: each worker would otherwise keep its own "
                "conversation locks and two messages of one conversation could run at once"
            )
        origins = values["webchat_allowed_origins"] or tuple(
            dict.fromkeys(
                [_origin_of(values["public_url"]), f"http://localhost:{rasa_port}", f"http://127.0.0.1:{rasa_port}"]
            )
        )
        for origin in origins:
            if origin != "*" and not re.fullmatch(r"https?://[^/\s]+", origin):
                raise ValueError(
                    f"WEBCHAT_ALLOWED_ORIGINS holds {origin!r}: each entry is a scheme and host, "
                    "like https://www.example-clinic.org"
                )
        if "*" in origins and not demo:
            raise ValueError("WEBCHAT_ALLOWED_ORIGINS may not be '*' outside the demo")
        values["webchat_allowed_origins"] = origins
        redis_url = values.get("redis_url")
        if redis_url:
            parts = urlsplit(redis_url)
            if parts.scheme not in {"redis", "rediss"}:
                raise ValueError("REDIS_URL must start with redis:// or rediss:// (TLS)")
            if not demo and not parts.password:
                raise ValueError(
                    "REDIS_URL must carry a password outside the demo (redis://:password@host:6379/0, or "
                    "rediss:// for TLS): whoever reaches that Redis reaches every conversation's lock and web chat"
                )
        if values["log_level"] == "DEBUG" and not demo and values.get("log_patient_data") != "accept":
            raise ValueError(
                "LOG_LEVEL=DEBUG is refused outside the demo: Rasa's debug lines carry message texts and patient "
                "data. Set LOG_PATIENT_DATA=accept to accept that (the redaction filter still runs)"
            )
        if values.get("portal_jwt_secret") and values.get("portal_jwt_public_key"):
            raise ValueError(
                "Set PORTAL_JWT_SECRET (HS256) or PORTAL_JWT_PUBLIC_KEY (RS256), not both: "
                "the portal's tokens use one algorithm"
            )
        return values

    # -- what the rest of the code asks

    @property
    def tz(self) -> ZoneInfo:
        """The clinic's time zone object."""
        return ZoneInfo(self.clinic_timezone)

    def today(self) -> dt.date:
        """The clinic's today: ``CLINIC_TODAY`` if set, else the real local date."""
        if self.clinic_today is not None:
            return self.clinic_today
        return dt.datetime.now(self.tz).date()

    def now(self) -> dt.datetime:
        """The clinic's current local time, on ``today()`` and at ``CLINIC_TIME`` when those are fixed."""
        real = dt.datetime.now(self.tz)
        if self.clinic_today is not None:
            real = real.replace(year=self.clinic_today.year, month=self.clinic_today.month, day=self.clinic_today.day)
        if self.clinic_time is not None:
            real = real.replace(hour=self.clinic_time.hour, minute=self.clinic_time.minute, second=0, microsecond=0)
        return real

    @property
    def staff_token_file(self) -> Path:
        """Where the demo keeps its generated staff page token."""
        return self.var_dir / "staff-token"

    def effective_staff_token(self) -> str | None:
        """``STAFF_TOKEN``, or in the demo the generated token under ``var/``; None: the staff page is off."""
        if self.staff_token:
            return self.staff_token
        if not self.demo_mode:
            return None
        try:
            token = self.staff_token_file.read_text(encoding="utf-8").strip()
        except OSError:
            return None
        return token if len(token) >= MIN_STAFF_TOKEN_LENGTH else None

    def uses_sqlite(self) -> bool:
        """Whether the clinic database is the embedded SQLite file."""
        return self.clinic_database_url.startswith("sqlite")

    def replace(self, **changes: Any) -> Settings:
        """A validated copy with some settings changed (by attribute name), e.g. from ``credentials.yml``."""
        return _validated(_GivenSettings, {**self.dict(), **changes})


class _GivenSettings(Settings):
    """Settings from an explicit mapping only: no ``.env`` file, no process environment (tests)."""

    class Config:
        """Only the values passed in count."""

        @classmethod
        def customise_sources(cls, init_settings: Any, env_settings: Any, file_secret_settings: Any) -> Any:
            """Arguments only."""
            return (init_settings,)

    def __repr_name__(self) -> str:
        """Shown as what it is: settings."""
        return "Settings"


def env_name(field: Any) -> str:
    """The environment variable a settings field is read from."""
    return str(field.field_info.extra["env"])


def _validated(model: type[Settings], values: Mapping[str, Any], **options: Any) -> Settings:
    """Build settings, turning pydantic's report into a ``SettingsError`` that names each setting."""
    try:
        return model(**options, **values)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = model.__fields__.get(str(error["loc"][0]))
            problems.append(f"{env_name(field)}: {error['msg']}" if field is not None else error["msg"])
        raise SettingsError("; ".join(problems)) from None


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings from ``environ`` (default: the real environment over ``.env``; ``CLINIC_DOTENV=0``: no file)."""
    if environ is None:
        use_dotenv = os.environ.get("CLINIC_DOTENV", "1") != "0"
        return _validated(Settings, {}, _env_file=DOTENV_FILE if use_dotenv else None)
    by_env = {env_name(field): name for name, field in Settings.__fields__.items()}
    return _validated(_GivenSettings, {by_env[key]: value for key, value in environ.items() if key in by_env})


def _demo_clinic_phone() -> str | None:
    """The demo clinic's phone from its seed file: the number to give when the database is down."""
    path = PROJECT_ROOT / "bot" / "seed_data" / "demo_clinic.yml"
    try:
        for line in path.read_text(encoding="utf-8").splitlines():
            match = re.match(r"^\s{2}phone:\s*(.+?)\s*$", line)
            if match:
                return match.group(1).strip("\"'")
    except OSError:
        return None
    return None


def _origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL, the form browsers send in ``Origin``."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read on first use."""
    return load_settings()


def reset_settings_cache() -> None:
    """Forget cached settings (tests change the environment between cases)."""
    get_settings.cache_clear()
