"""Prints the fault and load suite's table at the end of the test run."""

from __future__ import annotations

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The table of every scenario that ran (sent, answered, stored, lost, doubled, out of order, 200 [])."""
    from tests.scale.report import table
    from tests.scale.test_scale import RESULTS

    if RESULTS:
        terminalreporter.write_line("\nFault and load suite (small numbers):\n" + table(RESULTS))
