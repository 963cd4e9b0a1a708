"""Starting, probing, measuring and stopping the servers under benchmark.

Every server runs in its own session (process group) with its output in a log file;
``stop`` always ends the group and any descendant that left it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

POLL_INTERVAL_S = 0.1
PROBE_SENDER = "bench-startup-probe"


class BenchError(RuntimeError):
    """The benchmark cannot go on; the message says why (with a log tail if useful)."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def log_tail(path: Path, lines: int = 40) -> str:
    """The last ``lines`` lines of a log file, for error messages."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return f"(no log at {path}: {exc})"
    # Rasa's progress bars redraw with carriage returns; keep the last frame only.
    tail = [line.rsplit("\r", 1)[-1] for line in text.splitlines()[-lines:]]
    return "\n".join(tail)


def bench_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for every benchmarked process: telemetry off, logs unbuffered."""
    env = dict(os.environ)
    env.update(
        RASA_TELEMETRY_ENABLED="false",
        PYTHONUNBUFFERED="1",
        TF_CPP_MIN_LOG_LEVEL="2",
    )
    env.update(extra or {})
    return env


def run_timed(argv: Sequence[str], cwd: Path, log_path: Path, timeout_s: float) -> float:
    """Run a command to completion, its output to ``log_path``; return its wall time in s."""
    with log_path.open("wb") as log:
        started = time.perf_counter()
        try:
            proc = subprocess.run(
                list(argv),
                cwd=cwd,
                env=bench_env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=timeout_s,
                start_new_session=True,
            )
        except subprocess.TimeoutExpired as exc:
            raise BenchError(
                f"`{' '.join(argv)}` did not finish within {timeout_s:.0f} s; "
                f"log tail ({log_path}):\n{log_tail(log_path)}"
            ) from exc
        elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise BenchError(
            f"`{' '.join(argv)}` failed with exit code {proc.returncode}; log tail ({log_path}):\n{log_tail(log_path)}"
        )
    return elapsed


def _proc_stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, start time in clock ticks) of a live process, None if gone or a zombie."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may contain spaces; fields follow it.
    fields = raw[raw.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[1]), int(fields[19])


def _alive(pid: int, start: int) -> bool:
    """True while the process ``pid`` that started at ``start`` ticks still runs."""
    stat = _proc_stat(pid)
    return stat is not None and stat[1] == start


def process_tree(root: int) -> dict[int, int]:
    """The live processes under ``root`` (itself included), mapped to their start times."""
    children: dict[int, list[int]] = {}
    starts: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        stat = _proc_stat(int(entry.name))
        if stat is None:
            continue
        children.setdefault(stat[0], []).append(int(entry.name))
        starts[int(entry.name)] = stat[1]
    if root not in starts:
        return {}
    tree: dict[int, int] = {}
    pending = [root]
    while pending:
        pid = pending.pop()
        if pid in starts and pid not in tree:
            tree[pid] = starts[pid]
            pending.extend(children.get(pid, ()))
    return tree


def rss_kib(pid: int) -> int:
    """Resident set size (VmRSS) of one process in KiB, 0 if it is gone or a zombie."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def tree_rss_kib(root: int) -> int:
    """Summed VmRSS of ``root`` and all its descendants, in KiB."""
    return sum(rss_kib(pid) for pid in process_tree(root))


class RssSampler:
    """Samples a process tree's summed RSS on a background thread and keeps the peak."""

    def __init__(self, root: int, interval_s: float = 0.2) -> None:
        """Watch the tree under ``root`` every ``interval_s`` seconds once started."""
        self.root = root
        self.interval_s = interval_s
        self.peak_kib = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _run(self) -> None:
        """Sample until stopped."""
        while not self._stop.is_set():
            self.peak_kib = max(self.peak_kib, tree_rss_kib(self.root))
            self.samples += 1
            self._stop.wait(self.interval_s)

    def __enter__(self) -> RssSampler:
        """Start sampling."""
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop sampling and take one last sample."""
        self._stop.set()
        self._thread.join()
        self.peak_kib = max(self.peak_kib, tree_rss_kib(self.root))


def _http_ok(url: str, body: dict[str, str] | None = None, timeout_s: float = 30.0) -> bool:
    """True when a GET (or a JSON POST when ``body`` is given) answers 200."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    if data:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            response.read()
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


@dataclass
class ServerSpec:
    """How to start one assistant and how to tell it is ready to chat."""

    name: str
    argv: list[str]
    cwd: Path
    log_path: Path
    rasa_port: int
    env: dict[str, str] = field(default_factory=dict)
    health_urls: list[str] = field(default_factory=list)
    extra_log_dirs: list[Path] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        """The Rasa server's root address."""
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def webhook_url(self) -> str:
        """The REST channel's webhook."""
        return f"{self.base_url}/webhooks/rest/webhook"


class RunningServer:
    """A started assistant: its process, its spec, and how long it took to be ready."""

    def __init__(self, spec: ServerSpec) -> None:
        """Start the server's process in a new session, logging to its log file."""
        self.spec = spec
        self.startup_s: float | None = None
        self._log = spec.log_path.open("wb")
        self._started = time.perf_counter()
        self.proc = subprocess.Popen(
            spec.argv,
            cwd=spec.cwd,
            env=bench_env(spec.env),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def _fail(self, reason: str) -> BenchError:
        """A BenchError naming the server, the reason and its log tail."""
        parts = [f"{self.spec.name}: {reason}; log tail ({self.spec.log_path}):"]
        parts.append(log_tail(self.spec.log_path))
        for directory in self.spec.extra_log_dirs:
            for path in sorted(directory.glob("*.log")):
                parts += [f"--- log tail ({path}):", log_tail(path, lines=25)]
        return BenchError("\n".join(parts))

    def wait_ready(self, timeout_s: float) -> float:
        """Block until GET / and the health URLs answer and a first message gets a 200."""
        deadline = self._started + timeout_s
        pending = [f"{self.spec.base_url}/", *self.spec.health_urls]
        while True:
            if self.proc.poll() is not None:
                raise self._fail(f"exited with code {self.proc.returncode} before it was ready")
            if time.perf_counter() > deadline:
                waiting = ", ".join(f"GET {url}" for url in pending) or (f"a 200 from POST {self.spec.webhook_url}")
                raise self._fail(f"not ready within {timeout_s:.0f} s (still waiting for {waiting})")
            pending = [url for url in pending if not _http_ok(url, timeout_s=5.0)]
            if not pending and _http_ok(self.spec.webhook_url, {"sender": PROBE_SENDER, "message": "hi"}):
                self.startup_s = time.perf_counter() - self._started
                return self.startup_s
            time.sleep(POLL_INTERVAL_S)

    def stop(self, grace_s: float = 20.0) -> None:
        """SIGTERM the process group, then SIGKILL whatever of the tree is left."""
        tree = process_tree(self.proc.pid)
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            pass
        # Descendants that started their own session are not in our group.
        deadline = time.perf_counter() + 5.0
        while time.perf_counter() < deadline and any(_alive(pid, start) for pid, start in tree.items()):
            time.sleep(0.1)
        for pid, start in tree.items():
            if _alive(pid, start):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            pass
        self._log.close()
