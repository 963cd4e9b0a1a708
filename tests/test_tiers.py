"""The tier watch (tests/tiers.py) fails a test that needs something slow without saying so."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow  # runs an inner pytest in a fresh process

INNER_TESTS = """
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

MODELS = Path({root!r}) / "models" / "clinic.tar.gz"


def test_a_plain_unit_test() -> None:
    assert 1 + 1 == 2


def test_starts_a_process_unmarked() -> None:
    subprocess.run([sys.executable, "-c", "pass"], check=True)


@pytest.mark.slow
def test_starts_a_process_marked() -> None:
    subprocess.run([sys.executable, "-c", "pass"], check=True)


def test_talks_to_an_in_process_server() -> None:
    server = HTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    threading.Thread(target=server.handle_request, daemon=True).start()
    with socket.create_connection(server.server_address, timeout=5):
        pass
    server.server_close()


def test_talks_to_redis_unmarked() -> None:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        pass


@pytest.mark.redis
def test_talks_to_redis_marked() -> None:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        pass


def test_opens_the_model_unmarked() -> None:
    try:
        open(MODELS, "rb").close()
    except OSError:
        pass


@pytest.mark.e2e
def test_e2e_may_do_anything() -> None:
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    try:
        open(MODELS, "rb").close()
    except OSError:
        pass
"""


@pytest.fixture(autouse=True)
def _inner_runs_find_the_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    """The inner pytest imports ``tests.tiers`` from this checkout."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))


def test_the_watch_fails_exactly_the_unmarked_slow_tests(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('pytest_plugins = ["tests.tiers"]\n')
    pytester.makepyfile(test_inner=textwrap.dedent(INNER_TESTS.format(root=str(ROOT))))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", f"--rootdir={pytester.path}")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed") == 3, result.stdout.str()
    assert outcomes.get("passed") == 5, result.stdout.str()
    text = result.stdout.str()
    assert "test_starts_a_process_unmarked started a process" in text and "@pytest.mark.slow" in text
    assert "test_talks_to_redis_unmarked connected to Redis: mark the test @pytest.mark.redis" in text
    assert "test_opens_the_model_unmarked opened the trained model: mark the test @pytest.mark.model" in text


def test_the_fast_tier_deselects_every_slow_marker(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('pytest_plugins = ["tests.tiers"]\n')
    pytester.makepyfile(
        test_marks="""
import pytest

def test_fast() -> None: ...

@pytest.mark.e2e
def test_e2e() -> None: ...

@pytest.mark.postgres
def test_postgres() -> None: ...

@pytest.mark.model
def test_model() -> None: ...

@pytest.mark.browser
def test_browser() -> None: ...
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-m", "not slow")
    outcomes = result.parseoutcomes()
    assert (outcomes.get("passed"), outcomes.get("deselected"), outcomes.get("warnings")) == (1, 4, None)
