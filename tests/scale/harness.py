"""The production shape as real processes, for the fault and load suite.

:class:`ScaleCluster` starts what ``python -m bot production`` starts (the
action server, two Rasa instances, HAProxy in front; :class:`bot.production.ProductionShape`)
with ``CLINIC_DEMO=false``, on stores of its own that a scenario may take away:

* the conversations in a throwaway PostgreSQL cluster (``initdb``/``pg_ctl``
  on a free port, :class:`tests.throwaway_postgres.ThrowawayPostgres`), so it
  can be stopped and started while the machine's PostgreSQL keeps running;
* the clinic in a fresh database on the machine's PostgreSQL (seeded with the
  demo clinic);
* the locks and the web chat's manager in a throwaway ``redis-server`` with a
  password (required outside the demo).

Patients talk through the portal channel (a JWT per conversation, a
``message_id`` per message, resent on failure as the widget would). What was
stored is read from the conversation store's ``events`` table afterwards.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bot.production import ProductionShape, find_haproxy
from bot.settings import load_settings
from tests.throwaway_postgres import ThrowawayPostgres

ROOT = Path(__file__).resolve().parents[2]
CLINIC_TODAY = "2026-12-02"
CLINIC_TIME = "10:00"
PORTAL_SECRET = "scale-portal-secret-" + "0" * 16
AUDIENCE = "patient-assistant"
TWILIO_TOKEN = "scale-twilio-auth-token"
PORTAL_PATH = "/webhooks/portal/webhook"

FAILURE_MARKERS = (
    "can't open our conversation",
    "can't answer right now",
    "cannot answer right now",
    "can't do that right now",
    "something went wrong on our side",
)
"""Words of the plain-language answers that tell the patient a message was not handled."""


class ClusterUnavailable(RuntimeError):
    """Something the suite needs is not on this machine (HAProxy, redis-server, PostgreSQL binaries)."""


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_port_run(length: int) -> int:
    """The first of ``length`` consecutive free ports (the load balancer's, then one per instance)."""
    for _ in range(200):
        first = free_port()
        if first + length < 65000 and all(_port_free(first + offset) for offset in range(length)):
            return first
    raise ClusterUnavailable(f"no run of {length} free ports")


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.3)
        return probe.connect_ex(("127.0.0.1", port)) != 0


class ThrowawayRedis:
    """A ``redis-server`` of our own with a password, on a free port; stop and start it at will."""

    def __init__(self, folder: Path) -> None:
        """Start it (no persistence: a restart is an empty Redis, as after a crash)."""
        if not _which("redis-server"):
            raise ClusterUnavailable("redis-server is not installed")
        self.port = free_port()
        self.password = secrets.token_hex(16)
        self.log = folder / f"redis-{self.port}.log"
        self.process: subprocess.Popen | None = None
        self.start()

    def url(self, db: int = 0) -> str:
        """``REDIS_URL`` for this server."""
        return f"redis://:{self.password}@127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        """Start the server and wait until it answers PING."""
        import redis

        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
            + ["--requirepass", self.password],
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        client = redis.Redis.from_url(self.url(), socket_timeout=1, socket_connect_timeout=1)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                client.ping()
                return
            except redis.RedisError:
                time.sleep(0.1)
        raise ClusterUnavailable("redis-server did not start")

    def stop(self) -> None:
        """Stop the server at once (SIGKILL: connections are cut, nothing is saved)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None


def _which(name: str) -> bool:
    return shutil.which(name) is not None


@dataclass
class Attempt:
    """One HTTP request for a message and what came back."""

    status: int
    kind: str
    """``ok``, ``plain_failure`` (answered in words that it failed), ``empty_200`` (``200 []``),
    ``error`` (non-2xx) or ``connection`` (no HTTP answer)."""
    seconds: float


@dataclass
class Sent:
    """One patient message and every attempt to get it answered."""

    conversation: str
    seq: int
    message_id: str
    text: str
    attempts: list[Attempt] = field(default_factory=list)
    first_sent: float = 0.0
    answered_at: float | None = None

    @property
    def answered(self) -> bool:
        """Whether a normal answer came back (the patient believes the message was handled)."""
        return self.answered_at is not None


def classify(status: int, body: Any) -> str:
    """What a portal answer means for the patient."""
    if status == 200:
        if not isinstance(body, list) or not body:
            return "empty_200"
        text = " ".join(str(m.get("text") or "") for m in body if isinstance(m, dict))
        if any(marker in text for marker in FAILURE_MARKERS):
            return "plain_failure"
        return "ok"
    return "error"


def portal_token(subject: str, expires_in: int = 3600) -> str:
    """A portal token for ``subject`` as the portal would issue it."""
    import datetime as dt

    import jwt

    now = dt.datetime.now(dt.timezone.utc)
    claims = {"sub": subject, "aud": AUDIENCE, "iat": now, "exp": now + dt.timedelta(seconds=expires_in)}
    return jwt.encode(claims, PORTAL_SECRET, algorithm="HS256")


def post_portal(base_url: str, token: str, text: str, message_id: str, timeout: float = 150) -> tuple[int, Any]:
    """POST one message; (status, decoded body), status 0 when no HTTP answer came."""
    request = urllib.request.Request(
        base_url + PORTAL_PATH,
        data=json.dumps({"message": text, "message_id": message_id}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            raw = answer.read()
            status = answer.status
    except urllib.error.HTTPError as error:
        raw, status = error.read(), error.code
    except (urllib.error.URLError, OSError):
        return 0, None
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


def send_until_answered(base_url: str, message: Sent, token: str, deadline: float, retry_seconds: float = 0.5) -> None:
    """Send ``message`` and resend it (same id) after each failure until it is answered or ``deadline``."""
    message.first_sent = message.first_sent or time.time()
    while True:
        started = time.monotonic()
        status, body = post_portal(base_url, token, message.text, message.message_id)
        kind = "connection" if status == 0 else classify(status, body)
        message.attempts.append(Attempt(status, kind, time.monotonic() - started))
        if kind == "ok":
            message.answered_at = time.time()
            return
        if time.monotonic() >= deadline:
            return
        time.sleep(retry_seconds)


def post_sms(base_url: str, sender: str, body: str, message_sid: str) -> tuple[int, str]:
    """POST one inbound text as Twilio would (signed for the load balancer's address); (status, TwiML)."""
    from urllib.parse import urlencode

    from tests.channels.fake_twilio import inbound_form, signature

    url = base_url + "/webhooks/sms/webhook"
    form = inbound_form(sender, body, message_sid)
    request = urllib.request.Request(
        url,
        data=urlencode(form).encode(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature(url, form, TWILIO_TOKEN),
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=150) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


@dataclass
class StoredEvent:
    """One row of the conversation store, as needed to judge order."""

    sender_id: str
    type_name: str
    timestamp: float
    message_id: str | None
    part_of_message: bool
    action: str | None


class ScaleCluster:
    """Stores, the production shape and the means to break them; see the module docstring."""

    def __init__(self, instances: int = 2, stock_lock_store: bool = False) -> None:
        """Plan a cluster; :meth:`start` creates the stores and starts the processes."""
        if find_haproxy() is None:
            raise ClusterUnavailable("HAProxy is not installed (make production installs it)")
        self.instances = instances
        self.stock_lock_store = stock_lock_store
        self.folder = Path(tempfile.mkdtemp(prefix="clinic-scale-"))
        self.postgres: ThrowawayPostgres | None = None
        self.redis: ThrowawayRedis | None = None
        self.clinic_url: str | None = None
        self.shape: ProductionShape | None = None

    @property
    def url(self) -> str:
        """The load balancer's address."""
        assert self.shape is not None
        return self.shape.url

    @property
    def tracker_url(self) -> str:
        """The conversation store's database."""
        assert self.postgres is not None
        return self.postgres.url

    def start(self) -> None:
        """Create the stores, seed the clinic and start the action server, the instances and HAProxy."""
        from bot.migrate import upgrade
        from bot.seed import seed_demo_clinic
        from tests.fixtures_db import create_pg_database

        self.postgres = ThrowawayPostgres()
        self.redis = ThrowawayRedis(self.folder)
        self.clinic_url = create_pg_database()
        upgrade(self.clinic_url)
        seed_demo_clinic(self.clinic_url)
        port = free_port_run(self.instances + 1)
        env = {
            "CLINIC_DOTENV": "0",
            "CLINIC_DEMO": "false",
            "CLINIC_VAR_DIR": str(self.folder / "var"),
            "CLINIC_TODAY": CLINIC_TODAY,
            "CLINIC_TIME": CLINIC_TIME,
            "CLINIC_DATABASE_URL": self.clinic_url,
            "TRACKER_STORE_URL": self.postgres.url,
            "REDIS_URL": self.redis.url(),
            "ACTION_SERVER_TOKEN": secrets.token_hex(16),
            "CHANNEL_ID_SECRET": secrets.token_hex(16),
            "PORTAL_JWT_SECRET": PORTAL_SECRET,
            "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
            "RASA_PORT": str(port),
            "ACTION_PORT": str(free_port()),
            "CLINIC_FALLBACK_PHONE": "(555) 010-2000",
            "RASA_TELEMETRY_ENABLED": "false",
        }
        settings = load_settings(env)
        endpoints = self._stock_endpoints() if self.stock_lock_store else None
        self.shape = ProductionShape(settings, instances=self.instances, port=port, extra_env=env, endpoints=endpoints)
        self.shape.start()

    def _stock_endpoints(self) -> Path:
        """``endpoints.yml`` with Rasa's stock ``RedisLockStore`` (for the comparison only)."""
        import yaml

        assert self.redis is not None
        endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text(encoding="utf-8"))
        endpoints["lock_store"] = {
            "type": "redis",
            "url": "127.0.0.1",
            "port": self.redis.port,
            "password": self.redis.password,
            "db": 0,
            "key_prefix": "stock",
        }
        path = self.folder / "endpoints-stock-lock.yml"
        path.write_text(yaml.safe_dump(endpoints, sort_keys=False), encoding="utf-8")
        return path

    def stop(self) -> None:
        """Stop every process and remove every store this cluster made."""
        from tests.fixtures_db import drop_pg_database

        if self.shape is not None:
            self.shape.stop()
        if self.redis is not None:
            self.redis.stop()
        if self.postgres is not None:
            self.postgres.remove()
        if self.clinic_url is not None:
            try:
                drop_pg_database(self.clinic_url)
            except sa.exc.SQLAlchemyError:
                pass
        if not os.environ.get("CLINIC_SCALE_KEEP_LOGS"):
            shutil.rmtree(self.folder, ignore_errors=True)  # CLINIC_SCALE_KEEP_LOGS=1 keeps var/log

    def logs(self) -> str:
        """Every server's log, for failure messages."""
        log_dir = self.folder / "var" / "log"
        return "\n".join(p.read_text(errors="replace")[-4000:] for p in sorted(log_dir.glob("*.log")))

    def health(self, instance: int | None = None) -> tuple[int, Any]:
        """``GET /webhooks/health/`` of one instance (or through the load balancer)."""
        assert self.shape is not None
        base = self.url if instance is None else self.shape.instance_urls[instance]
        try:
            with urllib.request.urlopen(base + "/webhooks/health/", timeout=10) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def stored_events(self) -> list[StoredEvent]:
        """Every event in the conversation store, in the order it was written."""
        engine = sa.create_engine(self.tracker_url)
        try:
            with engine.connect() as connection:
                rows = connection.execute(sa.text("SELECT sender_id, type_name, data FROM events ORDER BY id")).all()
        finally:
            engine.dispose()
        events = []
        for sender_id, type_name, data in rows:
            body = json.loads(data)
            events.append(
                StoredEvent(
                    sender_id,
                    type_name,
                    float(body.get("timestamp") or 0),
                    body.get("message_id") if type_name == "user" else None,
                    bool((body.get("metadata") or {}).get("part_of_message")),
                    body.get("name") if type_name == "action" else None,
                )
            )
        return events


@contextmanager
def running_cluster(instances: int = 2, stock_lock_store: bool = False) -> Iterator[ScaleCluster]:
    """A started :class:`ScaleCluster`, stopped and removed afterwards."""
    cluster = ScaleCluster(instances, stock_lock_store)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
