"""One real assistant for every conversation test (started like the e2e tests start theirs)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import RunningAssistant, start_assistant


@pytest.fixture(scope="session")
def conversation_assistant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningAssistant]:
    """Action server and Rasa server on free ports, with their own fresh SQLite files."""
    var_dir: Path = tmp_path_factory.mktemp("conversations-var")
    # `make test` trains before pytest; run alone, `bot run` may train first: allow for it.
    running = start_assistant(var_dir, timeout=900)
    try:
        yield running
    finally:
        running.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Success rate, false 911 answers and failing ids of the conversations that ran."""
    from tests.conversations.report import summary_lines
    from tests.conversations.test_conversations import RESULTS

    if RESULTS:
        terminalreporter.section("conversation tests")
        for line in summary_lines(list(RESULTS.values())):
            terminalreporter.write_line(line)
