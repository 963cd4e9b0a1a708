"""The fast tier stays fast: a test that needs something slow must say so.

``make test-fast`` runs ``pytest -m "not slow"``: the tests that need no server
process, no PostgreSQL or Redis, no browser and no trained model. Markers are
kept honest by this plugin, not by memory: while a test runs, a Python audit
hook watches what it does, and a test that

- starts a process (a Rasa or action server, ``initdb``, ``redis-server``, a
  browser, or just a fresh Python to check an import),
- connects to a server outside this Python process (on loopback or elsewhere),
- opens a PostgreSQL connection (``postgres``) or connects to Redis (``redis``), or
- opens the trained model under ``models/`` (``model``)

without a marker that allows it fails with a message saying which marker to add.
``slow`` alone allows processes and outside servers; ``e2e`` allows everything.
Servers a test starts inside its own process (a stand-in on a thread, Sanic's
test client) are fine: their ports are bound here.

``e2e``, ``browser``, ``postgres``, ``redis`` and ``model`` each imply ``slow``
(added at collection), so one ``-m "not slow"`` selects the fast tier.
"""

from __future__ import annotations

import socket
import sys
import threading
import weakref
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

SLOW_MARKERS = ("e2e", "browser", "postgres", "redis", "model")
"""Each of these means the test is slow; ``e2e`` allows everything the others do."""
ANY_SLOW = (*SLOW_MARKERS, "slow")

MODELS_DIR = str(Path(__file__).resolve().parents[1] / "models")
POSTGRES_PORT = 5432
REDIS_PORT = 6379


class _Watch:
    """What the running test is allowed to do, and what it did that it was not."""

    def __init__(self) -> None:
        self.item: pytest.Item | None = None
        self.allowed: frozenset[str] = frozenset()
        self.violations: list[str] = []
        self.bound: weakref.WeakSet[socket.socket] = weakref.WeakSet()
        self.local_ports: set[int] = set()
        self.main = threading.main_thread()

    def allows(self, *markers: str) -> bool:
        """Whether the running test carries ``e2e`` or one of ``markers``."""
        return "e2e" in self.allowed or any(marker in self.allowed for marker in markers)

    def refuse(self, what: str, marker: str) -> None:
        """Record that the running test did ``what`` without ``marker``."""
        message = f"{what}: mark the test @pytest.mark.{marker} (tests/tiers.py keeps the fast tier fast)"
        if message not in self.violations:
            self.violations.append(message)

    def bound_here(self, port: int) -> bool:
        """Whether a server of this process listens, or listened, on ``port`` (one a test stopped too)."""
        for sock in list(self.bound):
            try:
                if sock.fileno() != -1:
                    self.local_ports.add(sock.getsockname()[1])
            except OSError:
                continue
        return port in self.local_ports


WATCH = _Watch()


def _audit(event: str, args: tuple[Any, ...]) -> None:
    """Python's audit hook: check process starts, socket connects and model opens against the markers."""
    if WATCH.item is None or threading.current_thread() is not WATCH.main:
        return
    if event == "socket.bind":
        sock = args[0]
        if isinstance(sock, socket.socket):
            WATCH.bound.add(sock)
    elif event in ("subprocess.Popen", "os.posix_spawn", "os.system", "os.exec"):
        if not WATCH.allows(*ANY_SLOW):
            program = args[0] if args else "?"
            WATCH.refuse(f"started a process ({Path(str(program)).name})", "slow")
    elif event == "socket.connect":
        sock, address = args[0], args[1]
        if not isinstance(address, tuple) or len(address) < 2 or not isinstance(address[1], int):
            return  # a Unix socket or unresolved address
        if getattr(sock, "family", None) not in (socket.AF_INET, socket.AF_INET6):
            return
        port = address[1]
        if port == POSTGRES_PORT and not WATCH.allows("postgres"):
            WATCH.refuse("connected to PostgreSQL", "postgres")
        elif port == REDIS_PORT and not WATCH.allows("redis"):
            WATCH.refuse("connected to Redis", "redis")
        elif port not in (POSTGRES_PORT, REDIS_PORT) and not WATCH.bound_here(port) and not WATCH.allows(*ANY_SLOW):
            WATCH.refuse(f"connected to a server outside this process (port {port})", "e2e")
    elif event == "open":
        path = args[0]
        if isinstance(path, str) and path.startswith(MODELS_DIR) and not WATCH.allows("model"):
            WATCH.refuse("opened the trained model", "model")


def _postgres_connected(dbapi_connection: Any, _record: Any) -> None:
    """SQLAlchemy pool hook: libpq connects from C, out of the audit hook's sight."""
    if WATCH.item is not None and type(dbapi_connection).__module__.startswith("psycopg"):
        if not WATCH.allows("postgres"):
            WATCH.refuse("opened a PostgreSQL connection", "postgres")


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers and install the watchers once per test run."""
    for line in (
        "slow: not in the fast tier (added to every test with a slow marker); allows starting processes",
        "e2e: starts real Rasa and action servers (allows everything)",
        "postgres: needs PostgreSQL (the service at 127.0.0.1:5432, or a throwaway cluster)",
        "redis: needs a Redis server (the machine's, or a throwaway one)",
        "browser: drives a real headless Chromium (/usr/bin/chromium)",
        "model: loads or trains a Rasa model (models/clinic.tar.gz, or a small one in a temporary folder)",
    ):
        config.addinivalue_line("markers", line)
    sys.addaudithook(_audit)
    from sqlalchemy import event
    from sqlalchemy.pool import Pool

    event.listen(Pool, "connect", _postgres_connected)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test with a slow marker is also ``slow``."""
    for item in items:
        if any(item.get_closest_marker(name) for name in SLOW_MARKERS):
            item.add_marker(pytest.mark.slow)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, None, None]:
    """Watch the test's fixtures being set up."""
    yield from _watched(item)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """Watch the test itself."""
    yield from _watched(item)


def _watched(item: pytest.Item) -> Generator[None, None, None]:
    """Run one phase under the watch and fail it when it did something its markers do not allow."""
    WATCH.item = item
    WATCH.allowed = frozenset(mark.name for mark in item.iter_markers())
    WATCH.violations = []
    try:
        result = yield
    finally:
        WATCH.item = None
    if WATCH.violations:
        pytest.fail(f"{item.nodeid} " + "; ".join(WATCH.violations), pytrace=False)
    return result
