"""Starts the real assistant (action server + Rasa server) for end-to-end tests.

The servers run exactly as ``make run`` starts them (``python -m bot run``),
on free loopback ports, with their own SQLite files in a temporary folder and a
fixed ``CLINIC_TODAY`` and ``CLINIC_TIME``, and are driven through Rasa's REST channel.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CLINIC_TODAY = "2026-12-02"  # a Wednesday
CLINIC_TIME = "10:00"  # the front desk is open (Mon-Fri 8:00-17:00)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RunningAssistant:
    """Handles to a running assistant: its URL, settings and log folder."""

    process: subprocess.Popen
    rasa_url: str
    action_url: str
    var_dir: Path
    env: dict[str, str]

    @property
    def clinic_database_url(self) -> str:
        """The SQLite clinic database the servers use."""
        return self.env["CLINIC_DATABASE_URL"]

    def logs(self) -> str:
        """Everything both servers have logged so far."""
        return "\n".join(p.read_text(errors="replace") for p in sorted((self.var_dir / "log").glob("*.log")))

    def stop(self) -> None:
        """Stop both servers like Ctrl-C would."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def start_assistant(
    var_dir: Path,
    extra_env: dict[str, str] | None = None,
    timeout: float = 240,
    command: str = "run",
) -> RunningAssistant:
    """Run ``python -m bot run`` (or ``rasa-server``) and wait until the chat page answers."""
    rasa_port, action_port = free_port(), free_port()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("CLINIC_", "TRACKER_", "REDIS_", "RASA_", "ACTION_"))
    }
    env.update(
        {
            "CLINIC_DOTENV": "0",
            "CLINIC_VAR_DIR": str(var_dir),
            "CLINIC_TODAY": CLINIC_TODAY,
            "CLINIC_TIME": CLINIC_TIME,
            "CLINIC_DATABASE_URL": f"sqlite:///{var_dir / 'clinic.db'}",
            "TRACKER_STORE_URL": f"sqlite:///{var_dir / 'tracker.db'}",
            "RASA_PORT": str(rasa_port),
            "ACTION_PORT": str(action_port),
            "RASA_TELEMETRY_ENABLED": "false",
        }
    )
    env.update(extra_env or {})
    output = var_dir / f"bot-{command}-{env['RASA_PORT']}.out"
    out = output.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", command],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    assistant = RunningAssistant(
        process, f"http://127.0.0.1:{env['RASA_PORT']}", f"http://127.0.0.1:{env['ACTION_PORT']}", var_dir, env
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                "assistant exited:\n" + output.read_text(errors="replace")[-4000:] + assistant_logs(var_dir)
            )
        if b"The clinic assistant is running" in output.read_bytes():
            return assistant
        time.sleep(0.5)
    assistant.stop()
    raise RuntimeError("assistant did not start in time:\n" + assistant.logs()[-4000:])


def assistant_logs(var_dir: Path) -> str:
    """The tail of the servers' logs, for failure messages."""
    return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted((var_dir / "log").glob("*.log")))


def post_json(url: str, body: Any, timeout: float = 60) -> Any:
    """POST JSON and decode the JSON answer."""
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"null")


def get_json(url: str, timeout: float = 30) -> Any:
    """GET and decode the JSON answer."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


@dataclass
class Conversation:
    """One patient's chat through the REST channel."""

    base_url: str
    sender: str = field(default_factory=lambda: "test-" + uuid.uuid4().hex)
    last: list[dict[str, Any]] = field(default_factory=list)

    def say(self, text: str) -> list[dict[str, Any]]:
        """Send a message and keep the replies."""
        self.last = post_json(f"{self.base_url}/webhooks/rest/webhook", {"sender": self.sender, "message": text})
        return self.last

    @property
    def text(self) -> str:
        """All reply texts of the last turn, joined."""
        return "\n".join(m.get("text", "") for m in self.last if m.get("text"))

    @property
    def buttons(self) -> list[dict[str, str]]:
        """All buttons of the last turn."""
        return [b for m in self.last for b in (m.get("buttons") or [])]

    def click(self, index: int = 0) -> list[dict[str, Any]]:
        """Tap a button of the last turn (sends its payload)."""
        buttons = self.buttons
        assert buttons, f"no buttons in: {self.text!r}"
        return self.say(buttons[index]["payload"])

    def tracker(self) -> dict[str, Any]:
        """The conversation's tracker through the HTTP API (on in the demo)."""
        return get_json(f"{self.base_url}/conversations/{self.sender}/tracker")
