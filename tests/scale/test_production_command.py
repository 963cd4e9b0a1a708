"""``python -m bot production`` as an operator runs it: one command, the address printed, Ctrl-C stops all."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.scale.harness import PORTAL_SECRET, ROOT, ThrowawayRedis, free_port, free_port_run, portal_token, post_portal

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]


def test_one_command_starts_two_instances_behind_haproxy_and_ctrl_c_stops_all(tmp_path: Path) -> None:
    from bot.production import find_haproxy
    from tests.fixtures_db import create_pg_database, drop_pg_database

    if find_haproxy() is None:
        pytest.skip("HAProxy is not installed (make production installs it)")
    redis = ThrowawayRedis(tmp_path)
    clinic, tracker = create_pg_database(), create_pg_database()
    port = free_port_run(3)
    action_port = free_port()
    while port <= action_port <= port + 2:
        action_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLINIC_", "TRACKER_", "REDIS_", "RASA_"))}
    env.update(
        {
            "CLINIC_DOTENV": "0",
            "CLINIC_DEMO": "false",
            "CLINIC_VAR_DIR": str(tmp_path / "var"),
            "CLINIC_DATABASE_URL": clinic,
            "TRACKER_STORE_URL": tracker,
            "REDIS_URL": redis.url(),
            "ACTION_SERVER_TOKEN": "production-command-token",
            "CHANNEL_ID_SECRET": "production-command-secret",
            "PORTAL_JWT_SECRET": PORTAL_SECRET,
            "RASA_PORT": str(port),
            "ACTION_PORT": str(action_port),
            "CLINIC_TODAY": "2026-12-02",
        }
    )
    output = tmp_path / "production.out"
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "production", "--seed"],
        cwd=ROOT,
        env=env,
        stdout=output.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 400
        while b"The clinic assistant is running" not in output.read_bytes():
            assert process.poll() is None, output.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, output.read_text(errors="replace")[-3000:]
            time.sleep(0.5)
        printed = output.read_text()
        url = f"http://127.0.0.1:{port}"
        assert f"Address:       {url}" in printed
        with urllib.request.urlopen(url + "/webhooks/health/", timeout=10) as answer:
            assert json.loads(answer.read()) == {"status": "ok", "tracker_store": "ok", "lock_store": "ok"}
        status, body = post_portal(url, portal_token("P-COMMAND"), "what are your hours", "command-1")
        assert status == 200 and body and "text" in body[0], body
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=60) == 0
        assert "Stopping" in output.read_text()
        for offset in range(3):  # the load balancer and both instances are gone
            with pytest.raises(OSError):
                urllib.request.urlopen(f"http://127.0.0.1:{port + offset}/webhooks/health/live", timeout=2)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        redis.stop()
        drop_pg_database(clinic)
        drop_pg_database(tracker)
