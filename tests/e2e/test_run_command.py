"""`make run`'s command: prints the chat address, serves the page, stops cleanly on Ctrl-C."""

from __future__ import annotations

import socket
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.harness import start_assistant

pytestmark = pytest.mark.e2e


def _listening(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, int(port))) == 0


def test_run_prints_the_chat_page_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    assistant = start_assistant(tmp_path)
    try:
        output = next(tmp_path.glob("bot-run-*.out")).read_text()
        assert f"Chat page:     {assistant.rasa_url}/webhooks/chat/" in output
        with urllib.request.urlopen(f"{assistant.rasa_url}/webhooks/chat/", timeout=10) as page:
            html = page.read().decode()
            assert page.headers["Content-Type"].startswith("text/html")
            assert "Content-Security-Policy" in page.headers
        assert 'src="/webhooks/chat/widget.js"' in html  # the demo page embeds the chat widget
        with urllib.request.urlopen(f"{assistant.rasa_url}/webhooks/chat/widget.js") as script:
            assert b"ClinicChat" in script.read()
        with urllib.request.urlopen(f"{assistant.rasa_url}/webhooks/chat/static/vendor/socket.io.min.js") as script:
            assert b"Socket.IO" in script.read(200)
        assert _listening(assistant.rasa_url) and _listening(assistant.action_url)
    finally:
        assistant.stop()
    assert assistant.process.returncode == 0
    assert not _listening(assistant.rasa_url) and not _listening(assistant.action_url)
    assert "Stopped." in next(tmp_path.glob("bot-run-*.out")).read_text()
