"""One place that reads the environment, once per process.

Every other module asks :func:`get_settings` instead of touching ``os.environ``,
so defaults, validation and the embedded (SQLite, one machine) mode live here.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"


MIN_STAFF_TOKEN_LENGTH = 16


class SettingsError(ValueError):
    """A setting has a value we cannot run with; the message names the setting."""


def _read_dotenv(path: Path) -> dict[str, str]:
    """Parse a minimal ``.env`` file (KEY=VALUE lines, # comments, optional quotes)."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip()
        if key.startswith("export "):
            key = key[len("export ") :].strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key] = value
    return values


def _flag(value: str | None, default: bool) -> bool:
    """Read a yes/no setting the way people write it."""
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """The assistant's configuration; see the settings table in the README."""

    clinic_database_url: str
    tracker_store_url: str
    redis_url: str | None
    clinic_timezone: str
    clinic_today: dt.date | None
    public_url: str
    demo_mode: bool
    bind_host: str
    rasa_port: int
    action_port: int
    action_server_url: str
    action_server_token: str | None
    rasa_api_jwt_secret: str | None
    backend_timeout_seconds: float
    rasa_workers: int = 1
    var_dir: Path = field(default=VAR_DIR)
    channel_id_secret: str | None = None
    webchat_allowed_origins: tuple[str, ...] = ()
    twilio_auth_token: str | None = None
    twilio_account_sid: str | None = None
    twilio_from_number: str | None = None
    twilio_api_url: str = "https://api.twilio.com"
    portal_jwt_secret: str | None = None
    portal_jwt_public_key: str | None = None
    portal_jwt_audience: str = "patient-assistant"
    fallback_phone: str | None = None
    clinic_time: dt.time | None = None
    staff_token: str | None = None
    staff_session_minutes: int = 480
    extra: Mapping[str, str] = field(default_factory=dict)

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


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings from ``environ`` (default: ``.env`` overlaid by the real environment)."""
    if environ is None:
        use_dotenv = os.environ.get("CLINIC_DOTENV", "1") != "0"
        env: dict[str, str] = _read_dotenv(PROJECT_ROOT / ".env") if use_dotenv else {}
        env.update(os.environ)
    else:
        env = dict(environ)
    var_dir = Path(env.get("CLINIC_VAR_DIR") or VAR_DIR)

    def get(name: str, default: str | None = None) -> str | None:
        value = env.get(name)
        if value is None or value.strip() == "":
            return default
        return value.strip()

    timezone = get("CLINIC_TIMEZONE", "America/New_York") or "America/New_York"
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SettingsError(f"CLINIC_TIMEZONE={timezone!r} is not a known time zone") from exc

    today_raw = get("CLINIC_TODAY")
    clinic_today = None
    if today_raw:
        try:
            clinic_today = dt.date.fromisoformat(today_raw)
        except ValueError as exc:
            raise SettingsError(f"CLINIC_TODAY={today_raw!r} is not an ISO date (YYYY-MM-DD)") from exc

    time_raw = get("CLINIC_TIME")
    clinic_time = None
    if time_raw:
        if not re.fullmatch(r"\d{1,2}:\d{2}", time_raw):
            raise SettingsError(f"CLINIC_TIME={time_raw!r} is not a clock time (HH:MM, 24-hour)")
        try:
            clinic_time = dt.time(int(time_raw.split(":")[0]), int(time_raw.split(":")[1]))
        except ValueError as exc:
            raise SettingsError(f"CLINIC_TIME={time_raw!r} is not a clock time (HH:MM, 24-hour)") from exc

    staff_token = get("STAFF_TOKEN")
    if staff_token is not None and len(staff_token) < MIN_STAFF_TOKEN_LENGTH:
        raise SettingsError(
            f"STAFF_TOKEN must be at least {MIN_STAFF_TOKEN_LENGTH} characters: it is the staff page's password"
        )
    session_raw = get("STAFF_SESSION_MINUTES", "480") or "480"
    if not session_raw.isdigit() or not 1 <= int(session_raw) <= 1440:
        raise SettingsError(f"STAFF_SESSION_MINUTES={session_raw!r} must be a number of minutes from 1 to 1440")

    def port(name: str, default: int) -> int:
        raw = get(name, str(default)) or str(default)
        try:
            value = int(raw)
        except ValueError as exc:
            raise SettingsError(f"{name}={raw!r} is not a port number") from exc
        if not 0 < value < 65536:
            raise SettingsError(f"{name}={raw!r} is not a port number")
        return value

    rasa_port = port("RASA_PORT", 5005)
    action_port = port("ACTION_PORT", 5055)
    bind_host = get("CLINIC_BIND_HOST", "127.0.0.1") or "127.0.0.1"
    demo_mode = _flag(get("CLINIC_DEMO"), True)
    action_token = get("ACTION_SERVER_TOKEN")
    if not demo_mode and not action_token:
        raise SettingsError(
            "ACTION_SERVER_TOKEN must be set outside the demo (CLINIC_DEMO=false): "
            "the action server only answers the Rasa server that knows it"
        )
    try:
        timeout = float(get("BACKEND_TIMEOUT_SECONDS", "10") or "10")
    except ValueError as exc:
        raise SettingsError(f"BACKEND_TIMEOUT_SECONDS is not a number: {exc}") from exc
    if not 0 < timeout <= 30:
        raise SettingsError("BACKEND_TIMEOUT_SECONDS must be between 0 and 30 (Rasa's lock lasts 60 s)")
    workers_raw = get("RASA_WORKERS", "1") or "1"
    if not workers_raw.isdigit() or not 1 <= int(workers_raw) <= 16:
        raise SettingsError(f"RASA_WORKERS={workers_raw!r} must be a number from 1 to 16")
    if int(workers_raw) > 1 and not get("REDIS_URL"):
        raise SettingsError(
            "RASA_WORKERS above 1 needs REDIS_URL: each worker would otherwise keep its own "
            "conversation locks and two messages of one conversation could run at once"
        )

    public_url = (get("CLINIC_PUBLIC_URL") or f"http://localhost:{rasa_port}").rstrip("/")
    origins_raw = get("WEBCHAT_ALLOWED_ORIGINS")
    if origins_raw:
        origins = tuple(o.strip().rstrip("/") for o in origins_raw.split(",") if o.strip())
    else:
        origins = tuple(
            dict.fromkeys([_origin_of(public_url), f"http://localhost:{rasa_port}", f"http://127.0.0.1:{rasa_port}"])
        )
    for origin in origins:
        if origin != "*" and not re.fullmatch(r"https?://[^/\s]+", origin):
            raise SettingsError(
                f"WEBCHAT_ALLOWED_ORIGINS holds {origin!r}: each entry is a scheme and host, "
                "like https://www.example-clinic.org"
            )
    if "*" in origins and not demo_mode:
        raise SettingsError("WEBCHAT_ALLOWED_ORIGINS may not be '*' outside the demo")
    twilio_api_url = (get("TWILIO_API_URL") or "https://api.twilio.com").rstrip("/")
    api_parts = urlsplit(twilio_api_url)
    if api_parts.scheme != "https" and not (
        api_parts.scheme == "http" and api_parts.hostname in {"127.0.0.1", "localhost", "::1"}
    ):
        raise SettingsError("TWILIO_API_URL must be an https:// address (plain http only for a stand-in on loopback)")
    portal_secret = get("PORTAL_JWT_SECRET")
    portal_public_key = get("PORTAL_JWT_PUBLIC_KEY")
    if portal_secret and portal_public_key:
        raise SettingsError(
            "Set PORTAL_JWT_SECRET (HS256) or PORTAL_JWT_PUBLIC_KEY (RS256), not both: "
            "the portal's tokens use one algorithm"
        )

    return Settings(
        clinic_database_url=get("CLINIC_DATABASE_URL") or f"sqlite:///{var_dir / 'clinic.db'}",
        tracker_store_url=get("TRACKER_STORE_URL") or f"sqlite:///{var_dir / 'tracker.db'}",
        redis_url=get("REDIS_URL"),
        clinic_timezone=timezone,
        clinic_today=clinic_today,
        public_url=public_url,
        demo_mode=demo_mode,
        bind_host=bind_host,
        rasa_port=rasa_port,
        action_port=action_port,
        action_server_url=get("ACTION_SERVER_URL") or f"http://127.0.0.1:{action_port}/webhook",
        action_server_token=action_token,
        rasa_api_jwt_secret=get("RASA_API_JWT_SECRET"),
        backend_timeout_seconds=timeout,
        rasa_workers=int(workers_raw),
        var_dir=var_dir,
        channel_id_secret=get("CHANNEL_ID_SECRET"),
        webchat_allowed_origins=origins,
        twilio_auth_token=get("TWILIO_AUTH_TOKEN"),
        twilio_account_sid=get("TWILIO_ACCOUNT_SID"),
        twilio_from_number=get("TWILIO_FROM_NUMBER"),
        twilio_api_url=twilio_api_url,
        portal_jwt_secret=portal_secret,
        portal_jwt_public_key=portal_public_key.replace("\\n", "\n") if portal_public_key else None,
        portal_jwt_audience=get("PORTAL_JWT_AUDIENCE", "patient-assistant") or "patient-assistant",
        fallback_phone=get("CLINIC_FALLBACK_PHONE") or (_demo_clinic_phone() if demo_mode else None),
        extra={k: v for k, v in env.items() if k.startswith(("TWILIO_", "PORTAL_"))},
        clinic_time=clinic_time,
        staff_token=staff_token,
        staff_session_minutes=int(session_raw),
    )


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
