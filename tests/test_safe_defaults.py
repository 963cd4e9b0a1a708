"""Safe defaults: loopback, no open HTTP API outside the demo, no REST channel
outside the demo, telemetry off, and an action server that leaks nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bot.cli import child_environment, rasa_server_command, write_credentials
from bot.settings import PROJECT_ROOT, load_settings
from tests.e2e.harness import free_port


def test_demo_rasa_server_binds_loopback_with_local_api(tmp_path: Path) -> None:
    settings = load_settings({"CLINIC_VAR_DIR": str(tmp_path)})
    command = rasa_server_command(settings)
    assert command[command.index("--interface") + 1] == "127.0.0.1"
    assert "--enable-api" in command
    assert "--jwt-secret" not in command


def test_production_api_is_off_without_a_jwt_secret(tmp_path: Path) -> None:
    settings = load_settings({"CLINIC_VAR_DIR": str(tmp_path), "CLINIC_DEMO": "false", "ACTION_SERVER_TOKEN": "s3cret"})
    assert "--enable-api" not in rasa_server_command(settings)


def test_production_api_requires_the_jwt_secret(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "CLINIC_VAR_DIR": str(tmp_path),
            "CLINIC_DEMO": "false",
            "ACTION_SERVER_TOKEN": "s",
            "RASA_API_JWT_SECRET": "j",
        }
    )
    command = rasa_server_command(settings)
    assert "--enable-api" in command
    assert command[command.index("--jwt-secret") + 1] == "j"


def test_demo_api_is_not_opened_on_a_public_interface(tmp_path: Path) -> None:
    settings = load_settings({"CLINIC_VAR_DIR": str(tmp_path), "CLINIC_BIND_HOST": "0.0.0.0"})
    assert "--enable-api" not in rasa_server_command(settings)


def read_effective_credentials(path: Path, settings_env: dict) -> dict:
    """Read the effective credentials the way the Rasa server does, in the server's environment."""
    from rasa.shared.utils.io import read_yaml_file

    env = child_environment(load_settings(settings_env))
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        return read_yaml_file(str(path))
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_rest_channel_only_in_the_demo(tmp_path: Path) -> None:
    demo_env = {"CLINIC_VAR_DIR": str(tmp_path)}
    demo = read_effective_credentials(write_credentials(load_settings(demo_env)), demo_env)
    assert "channels.rest.RestInput" in demo and "channels.webchat.WebChatInput" in demo
    production_env = {
        "CLINIC_VAR_DIR": str(tmp_path),
        "CLINIC_DEMO": "false",
        "ACTION_SERVER_TOKEN": "s",
        "RASA_PORT": "6006",
    }
    credentials = read_effective_credentials(write_credentials(load_settings(production_env)), production_env)
    assert "channels.webchat.WebChatInput" in credentials
    assert "channels.rest.RestInput" not in credentials and "rest" not in credentials


def test_channel_secrets_never_reach_the_effective_credentials_file(tmp_path: Path) -> None:
    env = {
        "CLINIC_VAR_DIR": str(tmp_path),
        "TWILIO_AUTH_TOKEN": "twilio-tok-123",
        "PORTAL_JWT_SECRET": "portal-sec-456",
    }
    path = write_credentials(load_settings(env))
    written = path.read_text()
    assert "twilio-tok-123" not in written and "portal-sec-456" not in written
    assert "${TWILIO_AUTH_TOKEN}" in written
    credentials = read_effective_credentials(path, env)
    assert credentials["channels.sms.SmsInput"]["auth_token"] == "twilio-tok-123"
    assert credentials["channels.portal.PortalInput"]["jwt_secret"] == "portal-sec-456"
    unset = read_effective_credentials(path, {"CLINIC_VAR_DIR": str(tmp_path)})
    assert unset["channels.sms.SmsInput"]["auth_token"] == ""


def test_telemetry_is_off_for_every_server(tmp_path: Path) -> None:
    env = child_environment(load_settings({"CLINIC_VAR_DIR": str(tmp_path)}))
    assert env["RASA_TELEMETRY_ENABLED"] == "false"


def test_every_server_gets_the_checked_log_level(tmp_path: Path) -> None:
    env = child_environment(load_settings({"CLINIC_VAR_DIR": str(tmp_path), "LOG_LEVEL": "warning"}))
    assert env["LOG_LEVEL"] == "WARNING" and "LOG_PATIENT_DATA" not in env
    accepted = {"CLINIC_VAR_DIR": str(tmp_path), "CLINIC_DEMO": "false", "ACTION_SERVER_TOKEN": "s"}
    accepted |= {"CHANNEL_ID_SECRET": "k" * 32, "LOG_LEVEL": "DEBUG", "LOG_PATIENT_DATA": "accept"}
    env = child_environment(load_settings(accepted))
    assert env["LOG_LEVEL"] == "DEBUG" and env["LOG_PATIENT_DATA"] == "accept"


@pytest.fixture
def production_action_server(tmp_path: Path):
    """The real action server process, outside the demo, with a shared secret."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLINIC_", "ACTION_"))}
    env.update(
        {
            "CLINIC_DOTENV": "0",
            "CLINIC_DEMO": "false",
            "ACTION_SERVER_TOKEN": "s3cret-token",
            "ACTION_PORT": str(port),
            "CLINIC_VAR_DIR": str(tmp_path),
            "PYTHONPATH": str(PROJECT_ROOT),
        }
    )
    log = (tmp_path / "actions.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.action_server"], cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/health", timeout=1)
            break
        except OSError:
            time.sleep(0.3)
    try:
        yield base, tmp_path / "actions.log"
    finally:
        process.terminate()
        process.wait(timeout=20)


def _post(url: str, body: dict) -> tuple[int, str]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


SECRET_TEXT = "my name is Jordan Rivera and my chest hurts"


def _action_call(next_action: str) -> dict:
    return {
        "next_action": next_action,
        "sender_id": "someone",
        "version": "3.6.21",
        "tracker": {
            "sender_id": "someone",
            "slots": {"patient_id": "P-1001"},
            "latest_message": {"text": SECRET_TEXT, "intent": {"name": "inform"}, "entities": []},
            "events": [],
            "active_loop": {},
        },
        "domain": {"responses": {"utter_x": [{"text": SECRET_TEXT}]}},
    }


@pytest.mark.e2e
def test_action_server_refuses_calls_without_the_shared_secret(production_action_server) -> None:
    base, _ = production_action_server
    status, body = _post(base + "/webhook", _action_call("action_clinic_location"))
    assert status == 401
    status, _ = _post(base + "/webhook?token=wrong", _action_call("action_clinic_location"))
    assert status == 401


@pytest.mark.e2e
def test_action_server_errors_never_echo_the_conversation(production_action_server) -> None:
    base, log = production_action_server
    call = _action_call("action_list_appointments")
    call["tracker"] = None  # makes rasa-sdk crash while reading the tracker
    status, body = _post(base + "/webhook?token=s3cret-token", call)
    assert status == 500
    assert "error_id" in json.loads(body)
    assert "Jordan" not in body and "chest" not in body and "request_body" not in body
    time.sleep(0.5)
    logged = log.read_text(errors="replace")
    assert "Jordan" not in logged and "chest" not in logged


def test_run_refuses_ports_already_in_use(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    import socket

    from bot.cli import serve

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        settings = load_settings({"CLINIC_VAR_DIR": str(tmp_path), "RASA_PORT": str(port)})
        assert serve(settings) == 1
    assert f"port {port}" in capsys.readouterr().err
