"""Command line: set up, train when needed, seed and run the assistant.

``make run`` ends in ``python -m bot run``; the other sub-commands exist so a
second Rasa instance, the benchmark and the tests can start exactly the same
processes with different settings.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from bot.settings import PROJECT_ROOT, Settings, SettingsError, get_settings

logger = logging.getLogger("bot.cli")

MODEL_NAME = "clinic"
TRAINING_INPUTS = ("config.yml", "domain", "data", "bot/nlu", "bot/policies")
STARTUP_TIMEOUT_SECONDS = 300
REST_CHANNELS = ("channels.rest.RestInput", "rest")
"""The REST channel's names in credentials.yml (ours, Rasa's): the demo's only."""


def training_fingerprint(root: Path = PROJECT_ROOT) -> str:
    """Hash every file that shapes the model, so training runs only when one changed."""
    digest = hashlib.sha256()
    for name in TRAINING_INPUTS:
        path = root / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if file.suffix == ".pyc" or "__pycache__" in file.parts:
                continue
            digest.update(str(file.relative_to(root)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def model_path(root: Path = PROJECT_ROOT) -> Path:
    """Where the trained model lives."""
    return root / "models" / f"{MODEL_NAME}.tar.gz"


def train_if_needed(force: bool = False, root: Path = PROJECT_ROOT) -> bool:
    """Train the model when data, config or NLU components changed; True if it trained."""
    fingerprint = training_fingerprint(root)
    stamp = root / "models" / f"{MODEL_NAME}.fingerprint"
    if not force and model_path(root).is_file() and stamp.is_file():
        if stamp.read_text().strip() == fingerprint:
            print("Model is up to date; skipping training.", flush=True)
            return False
    settings = get_settings()
    log = settings.var_dir / "log" / "train.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    print(f"Training the assistant (data or config changed; about a minute; log: {log})...", flush=True)
    started = time.monotonic()
    with log.open("wb") as output:
        result = subprocess.run(
            [
                _rasa_executable(),
                "train",
                "--domain",
                str(root / "domain"),
                "--fixed-model-name",
                MODEL_NAME,
                "--out",
                str(root / "models"),
                "--force",
            ],
            cwd=root,
            env=child_environment(settings),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    if result.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-30:]
        print("\n".join(tail), file=sys.stderr)
        raise SystemExit(f"Training failed (exit {result.returncode}); the full log is {log}")
    stamp.write_text(fingerprint)
    print(f"Trained in {time.monotonic() - started:.0f} s.", flush=True)
    return True


def _rasa_executable() -> str:
    """The ``rasa`` script of the running virtual environment."""
    candidate = Path(sys.executable).with_name("rasa")
    return str(candidate) if candidate.exists() else "rasa"


def child_environment(settings: Settings) -> dict[str, str]:
    """Environment for the servers: every ``${VAR}`` in the YAML files gets a value."""
    env = dict(os.environ)
    env.update(
        {
            "RASA_TELEMETRY_ENABLED": "false",
            "CLINIC_DATABASE_URL": settings.clinic_database_url,
            "TRACKER_STORE_URL": settings.tracker_store_url,
            "ACTION_SERVER_URL": settings.action_server_url,
            "ACTION_SERVER_TOKEN": settings.action_server_token or "",
            "CLINIC_TIMEZONE": settings.clinic_timezone,
            "CLINIC_VAR_DIR": str(settings.var_dir),
            # Every server process reads it (Rasa too) and redacts its logs at any level.
            "LOG_LEVEL": settings.log_level,
            "PYTHONPATH": os.pathsep.join(p for p in [str(PROJECT_ROOT), env.get("PYTHONPATH", "")] if p),
            # TensorFlow is imported by Rasa but not used by our pipeline: keep it quiet.
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONWARNINGS": "ignore",
        }
    )
    # credentials.yml names these as ${VAR}; Rasa expands them in the server
    # (an unset one would stop it), so they are always defined, empty when unset.
    env.update(
        {
            "TWILIO_AUTH_TOKEN": settings.twilio_auth_token or "",
            "TWILIO_ACCOUNT_SID": settings.twilio_account_sid or "",
            "TWILIO_FROM_NUMBER": settings.twilio_from_number or "",
            "PORTAL_JWT_SECRET": settings.portal_jwt_secret or "",
            "PORTAL_JWT_PUBLIC_KEY": (settings.portal_jwt_public_key or "").replace("\n", "\\n"),
            "PORTAL_JWT_AUDIENCE": settings.portal_jwt_audience,
        }
    )
    if settings.channel_id_secret:
        env["CHANNEL_ID_SECRET"] = settings.channel_id_secret
    if settings.log_patient_data:
        env["LOG_PATIENT_DATA"] = settings.log_patient_data
    if settings.clinic_today:
        env["CLINIC_TODAY"] = settings.clinic_today.isoformat()
    if settings.clinic_time:
        env["CLINIC_TIME"] = settings.clinic_time.strftime("%H:%M")
    # Rasa reads SANIC_WORKERS itself; only our checked setting may set it.
    env["SANIC_WORKERS"] = str(settings.rasa_workers)
    return env


def write_credentials(settings: Settings) -> Path:
    """Write the effective channel credentials: the REST channel only in the demo.

    ``${VAR}`` entries are kept as they are (read without Rasa's expansion), so
    no secret is written to disk; the Rasa server expands them from its environment.
    """
    import yaml

    credentials = yaml.safe_load((PROJECT_ROOT / "credentials.yml").read_text(encoding="utf-8")) or {}
    if not settings.demo_mode:
        for name in REST_CHANNELS:
            credentials.pop(name, None)
    run_dir = settings.var_dir / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    target = run_dir / f"credentials-{settings.rasa_port}.yml"
    target.write_text(yaml.safe_dump(credentials, sort_keys=False, default_flow_style=False), encoding="utf-8")
    return target


def rasa_server_command(settings: Settings) -> list[str]:
    """The ``rasa run`` command line for these settings (API only when safe)."""
    command = [
        sys.executable,
        "-m",
        "bot.rasa_server",
        "run",
        "--model",
        str(model_path()),
        "--endpoints",
        str(PROJECT_ROOT / "endpoints.yml"),
        "--credentials",
        str(write_credentials(settings)),
        "--interface",
        settings.bind_host,
        "--port",
        str(settings.rasa_port),
    ]
    if settings.rasa_api_jwt_secret:
        command += ["--enable-api", "--jwt-secret", settings.rasa_api_jwt_secret, "--jwt-method", "HS256"]
    elif settings.demo_mode and settings.bind_host in {"127.0.0.1", "localhost", "::1"}:
        command += ["--enable-api"]
    return command


def action_server_command(settings: Settings) -> list[str]:
    """The command that starts our hardened action server."""
    return [sys.executable, "-m", "bot.action_server"]


def worker_command(settings: Settings) -> list[str]:
    """The command that starts an outreach worker (reminders, offers, follow-ups by text)."""
    return [sys.executable, "-m", "bot", "worker"]


def outreach_line(settings: Settings) -> str:
    """What the banner says about texts the clinic sends first."""
    from bot.sms_gateway import missing_settings

    missing = missing_settings(settings)
    if missing:
        return f"  Reminders:     sent by the worker; they wait until {', '.join(missing)} are set\n"
    return "  Reminders:     sent by the worker through Twilio\n"


def prepare_database(settings: Settings, seed: bool = True) -> None:
    """Create or upgrade the clinic database schema and seed the demo clinic."""
    from bot.migrate import upgrade
    from bot.seed import seed_demo_clinic

    settings.var_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.clinic_database_url)
    if seed:
        seed_demo_clinic(settings.clinic_database_url)
    if seed:
        print("Clinic database ready (demo clinic seeded).", flush=True)


def ensure_demo_staff_token(settings: Settings) -> Path | None:
    """In the demo without ``STAFF_TOKEN``, create a random staff token under ``var/`` once; its file."""
    if settings.staff_token or not settings.demo_mode:
        return None
    import secrets

    path = settings.staff_token_file
    if settings.effective_staff_token() is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(24) + "\n")
    return path


def staff_page_line(settings: Settings, host: str) -> str:
    """Where staff log in, and where the demo's token is (never the token itself)."""
    url = f"http://{host}:{settings.rasa_port}/webhooks/staff/"
    if settings.staff_token:
        return f"  Staff page:    {url} (log in with STAFF_TOKEN)\n"
    if settings.demo_mode:
        return f"  Staff page:    {url} (token in {settings.staff_token_file})\n"
    return "  Staff page:    off (set STAFF_TOKEN to turn it on)\n"


def _wait_for(url: str, process: subprocess.Popen, name: str, log: Path) -> None:
    """Poll ``url`` until it answers 200, failing fast if the process dies."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the {name} stopped during start-up; see {log}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the {name} did not answer within {STARTUP_TIMEOUT_SECONDS} s; see {log}")


def _stop(process: subprocess.Popen | None) -> None:
    """Stop a server's whole process group: politely first, then firmly."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def port_in_use(host: str, port: int) -> bool:
    """Whether something already listens on ``host:port``."""
    import socket

    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1" if host in {"0.0.0.0", "::"} else host, port)) == 0


def serve(settings: Settings, with_actions: bool = True, quiet: bool = False) -> int:
    """Start the action server, the Rasa server and (with the actions) the outreach worker until stopped."""
    wanted = [("Rasa server", settings.rasa_port)] + ([("action server", settings.action_port)] if with_actions else [])
    for name, port in wanted:
        if port_in_use(settings.bind_host, port):
            print(
                f"Could not start: port {port} (for the {name}) is already in use. "
                "Is the assistant already running? Stop it, or set RASA_PORT / ACTION_PORT.",
                file=sys.stderr,
                flush=True,
            )
            return 1
    ensure_demo_staff_token(settings)
    env = child_environment(settings)
    log_dir = settings.var_dir / "log"
    log_dir.mkdir(parents=True, exist_ok=True)
    processes: list[subprocess.Popen] = []
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        if with_actions:
            action_log = log_dir / f"action-server-{settings.action_port}.log"
            actions = subprocess.Popen(
                action_server_command(settings),
                cwd=PROJECT_ROOT,
                env=env,
                stdout=action_log.open("ab"),
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            processes.append(actions)
            _wait_for(f"http://127.0.0.1:{settings.action_port}/health", actions, "action server", action_log)
        rasa_log = log_dir / f"rasa-{settings.rasa_port}.log"
        rasa = subprocess.Popen(
            rasa_server_command(settings),
            cwd=PROJECT_ROOT,
            env=env,
            stdout=rasa_log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        processes.append(rasa)
        host = "127.0.0.1" if settings.bind_host in {"0.0.0.0", "::"} else settings.bind_host
        _wait_for(f"http://{host}:{settings.rasa_port}/webhooks/chat/health", rasa, "Rasa server", rasa_log)
        if with_actions:
            worker_log = log_dir / "worker.log"
            processes.append(
                subprocess.Popen(
                    worker_command(settings),
                    cwd=PROJECT_ROOT,
                    env=env,
                    stdout=worker_log.open("ab"),
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        print(
            "\nThe clinic assistant is running.\n"
            f"  Chat page:     http://{host}:{settings.rasa_port}/webhooks/chat/\n"
            + staff_page_line(settings, host)
            + (outreach_line(settings) if with_actions else "")
            + f"  Logs:          {log_dir}\n"
            "Press Ctrl-C to stop.\n",
            flush=True,
        )
        while True:
            for process in processes:
                if process.poll() is not None:
                    print(f"A server stopped unexpectedly (exit {process.returncode}); see {log_dir}", flush=True)
                    return 1
            time.sleep(1)
    except KeyboardInterrupt:
        if not quiet:
            print("\nStopping...", flush=True)
        return 0
    except RuntimeError as exc:
        print(f"Could not start: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        for process in reversed(processes):
            _stop(process)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if stopping and not quiet:
            print("Stopped.", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m bot``."""
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="migrate, seed, train if needed, start both servers")
    train = sub.add_parser("train", help="train the model if data or config changed")
    train.add_argument("--force", action="store_true", help="train even if nothing changed")
    sub.add_parser("migrate", help="create or upgrade the clinic database")
    sub.add_parser("seed", help="seed the demo clinic (idempotent)")
    sub.add_parser("rasa-server", help="start only the Rasa server (e.g. a second instance)")
    sub.add_parser("worker", help="plan and send reminders, offers and follow-ups by text until stopped")
    production = sub.add_parser("production", help="action server, several Rasa instances and HAProxy")
    production.add_argument("--instances", type=int, default=2, help="Rasa instances (default 2)")
    production.add_argument("--port", type=int, default=None, help="load balancer port (default RASA_PORT)")
    production.add_argument("--seed", action="store_true", help="also seed the demo clinic")
    production.add_argument("--workers", type=int, default=1, help="outreach workers (default 1)")
    staff = sub.add_parser("staff", help="staff read-outs: stored intakes, open work items (see --help)")
    staff.add_argument("staff_args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)

    try:
        settings = get_settings()
    except SettingsError as exc:
        print(f"Configuration problem: {exc}", file=sys.stderr)
        return 2
    from bot.log_privacy import install_log_privacy

    install_log_privacy(settings, fmt="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    os.environ.update({"RASA_TELEMETRY_ENABLED": "false"})

    if args.command == "migrate":
        prepare_database(settings, seed=False)
        return 0
    if args.command == "seed":
        prepare_database(settings, seed=True)
        return 0
    if args.command == "train":
        train_if_needed(force=args.force)
        return 0
    if args.command == "rasa-server":
        return serve(settings, with_actions=False)
    if args.command == "worker":
        from bot.outreach.worker import run_worker

        return run_worker()
    if args.command == "production":
        from bot.production import main as production_main

        return production_main(settings, args.instances, args.port, args.seed, args.workers)
    if args.command == "staff":
        from bot.records import RecordsError
        from bot.staff import main as staff_main

        try:
            prepare_database(settings, seed=False)
            return staff_main(args.staff_args, sys.stdout)
        except RecordsError as exc:
            print(f"Could not read the records: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1
    # run
    prepare_database(settings, seed=True)
    train_if_needed()
    return serve(settings)
