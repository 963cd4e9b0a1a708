"""One real assistant for the end-to-end tests of this folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import Conversation, RunningAssistant, start_assistant


@pytest.fixture(scope="session")
def assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAssistant]:
    """Action server and Rasa server on free ports with their own SQLite files."""
    var_dir: Path = tmp_path_factory.mktemp("assistant-var")
    running = start_assistant(var_dir)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def chat(assistant: RunningAssistant) -> Conversation:
    """A new conversation with a fresh, random sender id."""
    return Conversation(assistant.rasa_url)
